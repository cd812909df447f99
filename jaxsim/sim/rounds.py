"""The rounds clock: methods that run whole rounds on their own state (:class:`RoundMethod`).

A round method owns its models (per-worker copies, or one iterate of a method without
workers); there is no server model, point store or server optimizer. Round ``r`` starts
when round ``r - 1`` ends (round 0 at time 0), lasts ``method.duration(state, hp, env)``
seconds, computed from the state at its start, and its effect ``method.round(state, hp,
env)`` is applied at its end. Both read the run's :class:`~jaxsim.methods.base.RoundEnv`:
durations come from ``timing.draw(tkey, tau, w, j)`` at the job indices ``env.job`` (each
worker's next unused index; a round reports how many it consumed), gradients from
``grad_key(grad_root(seed), w, j)``, so a round method meets the same worker speeds and
the same samples as every other clock. No event loop is needed.

Runs are batched like :mod:`jaxsim.sim.allocation`: ``vmap`` over seeds x settings; per
recording interval a ``while_loop``, whose condition is one boolean for the batch,
completes one round of every run whose round in progress ends by the interval's end,
until none does.

Metrics: :data:`jaxsim.sweep.METRICS` except ``batch_loss``, evaluated at
``method.point(state)`` (``loss``, ``loss_gap``, ``grad_norm_sq``, ``diverged`` as on the
other clocks), plus the method's :attr:`~jaxsim.methods.base.RoundMethod.extras`.
``updates`` counts completed rounds; ``received = used`` the gradients they computed;
delays, ``cancelled`` and ``timeouts`` are 0; ``busy_time`` is the worker-seconds of
computing in completed rounds (a round's work counts when it ends).

Time (round starts and ends, the recording times, busy time) is kept by
:mod:`jaxsim.sim.clocktime` (float64 with x64, two float32 numbers without): each round's
duration, in the method's float type, is added exactly, with no drift over the horizon. Before
compiling, the rounds of a run are bounded by the horizon over the method's
:meth:`~jaxsim.methods.base.RoundMethod.min_round_time`.

State per run: the method's state, ``O(n)`` job counters and a few scalars; memory per
run is that state (twice: the loop's carry in and out) plus the method's
:meth:`~jaxsim.methods.base.RoundMethod.work_bytes`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..methods.base import RoundEnv, RoundMethod, SeedContext
from ..runtime.rng import grad_roots, time_keys
from . import clocktime as ct
from .kernel import MAX_EVENTS
from .setup import NextEndClock, Setup, check_events, loop_cap, stack_contexts, time_grid
from .server import Counters, ServerState, model_metrics


class RoundSeed(NamedTuple):
    ctx: SeedContext
    tkey: jax.Array
    root: jax.Array


class RoundRun(NamedTuple):
    state: Any  # the method's state after the completed rounds
    job: jax.Array  # int32[n] each worker's next unused job index
    r: jax.Array  # rounds completed
    start: ct.Time  # start of the round in progress
    end: ct.Time  # its end
    grads: jax.Array  # gradients computed by completed rounds
    busy: ct.Time  # worker-seconds of computing in completed rounds


@dataclasses.dataclass(frozen=True)
class RoundsClock(NextEndClock):
    method: RoundMethod
    timing: Any
    n: int
    split: bool = False  # time as two float32 numbers (x64 off; see :mod:`jaxsim.sim.clocktime`)

    @property
    def tdt(self):
        return jnp.float32 if self.split else jnp.float64

    def env(self, problem, seed: RoundSeed, job, r) -> RoundEnv:
        return RoundEnv(problem=problem, timing=self.timing, tkey=seed.tkey, root=seed.root, ctx=seed.ctx, job=job,
                        r=r)

    def init(self, problem, seed: RoundSeed, hp, x0=None):
        """A run at time 0: round 0 in progress."""
        x0 = problem.init() if x0 is None else x0
        state = self.method.init(x0, hp, seed.ctx, self.timing)
        job = jnp.zeros((self.n,), jnp.int32)
        zero_i = jnp.zeros((), jnp.int32)
        zero = ct.full((), 0.0, self.split)
        end = ct.add(zero, self.method.duration(state, hp, self.env(problem, seed, job, zero_i)).astype(self.tdt))
        return RoundRun(state=state, job=job, r=zero_i, start=zero, end=end, grads=zero_i, busy=zero)

    def step(self, problem, seed: RoundSeed, hp, t_end, c: RoundRun):
        """Complete the round in progress and start the next one (a no-op if it ends after ``t_end``)."""
        done = ct.le(c.end, t_end)
        res = self.method.round(c.state, hp, self.env(problem, seed, c.job, c.r))
        job, r = c.job + res.jobs.astype(jnp.int32), c.r + 1
        nxt = self.method.duration(res.state, hp, self.env(problem, seed, job, r)).astype(self.tdt)
        new = RoundRun(state=res.state, job=job, r=r, start=c.end, end=ct.add(c.end, nxt),
                       grads=c.grads + res.grads.astype(jnp.int32), busy=ct.add(c.busy, res.busy.astype(self.tdt)))
        return jax.tree.map(lambda p, q: jnp.where(done, p, q), new, c)

    def record(self, problem, seed, hp, c: RoundRun, t) -> dict:
        x = self.method.point(c.state)
        zero = jnp.zeros((), jnp.int32)
        # model_metrics reads the model, the update count and the counters of a server state
        srv = ServerState(x=x, k=c.r, s=(), store=(), pending=(), opt_state=(), method_state=(),
                          counters=Counters(c.grads, c.grads, zero, jnp.zeros((), x.dtype),
                                            jnp.full((), jnp.nan, x.dtype)))
        m = model_metrics(problem, srv)
        del m["batch_loss"]  # no job reports a sample loss
        return dict(busy_time=ct.to_float(c.busy), cancelled=zero, timeouts=zero, **m,
                    **self.method.metrics(c.state, hp, c.r))


def setup(method: RoundMethod, problem, timing, seeds, settings, horizon_time: float, num_points: int) -> Setup:
    """Batch inputs for round-based runs of ``seeds`` x ``settings`` over ``[0, horizon_time]``."""
    if timing.comm is not None:
        raise ValueError(f"timing.comm: {method.name} models its own communication per round; "
                         "job communication times are not used on the rounds clock")
    if timing.speed is not None:
        raise ValueError(f"timing.speed: {method.name} runs on the rounds clock, which draws nominal durations "
                         "without speed profiles")
    n, d = timing.n, problem.dim
    all_hp = {k: np.array([s[k] for s in settings]) for k in method.hparams}
    method.check_dims(all_hp, d)
    rounds = round_bound(method, all_hp, timing, horizon_time)
    if rounds is not None:
        check_events(method.name, rounds, f"rounds of at least {method.min_round_time(all_hp, timing):.3g} s "
                     f"over the horizon of {horizon_time:g} s")
    dtype = problem.dtype
    split = ct.split_mode()
    seed_data = RoundSeed(ctx=stack_contexts(timing, seeds, dtype), tkey=time_keys(seeds), root=grad_roots(seeds))
    intervals, t0, times = time_grid(horizon_time, num_points, len(seeds), split)
    return Setup(clock=RoundsClock(method, timing, n, split=split), seeds=seed_data, intervals=intervals, t0=t0,
                 time=times,
                 per_run_bytes=int(method.work_bytes(n, d, np.dtype(dtype).itemsize)),
                 info=dict(rounds=True, max_rounds=rounds),
                 max_steps=MAX_EVENTS if rounds is None else loop_cap(rounds))


def round_bound(method: RoundMethod, hp: dict, timing, horizon_time: float):
    """The most rounds a run completes in ``[0, horizon_time]``: the horizon over the method's
    shortest round (:meth:`~jaxsim.methods.base.RoundMethod.min_round_time`), plus one; ``None``
    when the method gives no positive bound."""
    shortest = float(method.min_round_time(hp, timing))
    if not shortest > 0:
        return None
    return int(min(np.floor(float(horizon_time) / shortest) + 1, 2 ** 62))


__all__ = ["RoundRun", "RoundSeed", "RoundsClock", "round_bound", "setup"]
