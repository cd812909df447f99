"""The controlled clock: methods that cancel, idle or synchronize workers.

When a method decides *when workers work* (Ringmaster with stops cancels stale jobs,
Rennala restarts everyone each round, Minibatch SGD waits at a barrier, MindFlayer
abandons attempts that exceed a time budget), arrival order depends on the method's
state and cannot be pre-sampled. This clock runs inside the scan instead: each worker
has its current job's index, start time and finish time; the next event is the
earliest finisher (``argmin``; ties to the lowest worker index). The server
(:func:`jaxsim.sim.server.serve`) applies each arrival; this module only keeps time.

Durations come from the same counter-based draws as the pre-sampled streams
(:meth:`jaxsim.timing.TimingModel.draw`, keyed by ``(seed, worker, job)``), so every
method of a comparison meets the same worker speeds. A job started by a *bulk*
command (cancel-and-restart, wake) gets only a lower bound on its finish time,
``finish(start, tau_w)``; its random part is drawn when that bound becomes the
earliest, in a step of its own. Cancelling thousands of jobs per update therefore
costs a few vector operations over ``n`` and no random draws: most such jobs are
cancelled again before anyone needs their duration.

Each step handles one event of every run in the batch, after a loop of cheap draw steps
that resolves the lower bounds in its way; a recording interval takes as many steps as its
busiest run needs (a ``while_loop`` whose condition is one boolean for the batch), so the
driver batches settings of one cost group together. The earliest finisher comes from
per-block minima (:class:`Blocks`, O(sqrt n) per step), and a step writes each per-worker
vector once, in place. Runs keep a ring of the last ``W`` iterates (the method must bound its
delays), so cancelling a job never copies a point.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..methods.base import IDLE, Arrival, ControlledMethod, SeedContext, Workers
from ..noise import NoNoise
from ..rng import comm_key, grad_key, grad_root, time_key
from ..timing import TimingModel
from .driver import LoopClock, Setup, batched, job_steps, job_time_scale, stack_contexts
from .server import Layout, ServerState, after_masks, init_server, job_points, model_metrics, serve


class ControlledSeed(NamedTuple):
    ctx: SeedContext
    tkey: jax.Array  # durations
    ckey: jax.Array  # communication times
    root: jax.Array  # job randomness
    steps: jax.Array  # int32[n] local steps per job
    scale: jax.Array  # [n] multiple of the drawn duration a job takes (``Job.time_scale``)


class CTRun(NamedTuple):
    srv: ServerState
    job: jax.Array  # int32[n] index of each worker's current (or last) job; -1 before the first
    start: jax.Array  # [n] start time of the current job
    finish: jax.Array  # [nb * K] finish time (a lower bound while not drawn); inf when idle and past n
    bmin: jax.Array  # [nb] the minimum of each block of K finish times (see :class:`Blocks`)
    drawn: jax.Array  # bool[n] finish is exact
    busy: jax.Array  # bool[n]
    cap: jax.Array  # [n] the most compute an attempt may take: tau + the method's budget (inf = none)
    busy_acc: jax.Array  # busy time of finished or cancelled jobs
    cancelled: jax.Array
    timeouts: jax.Array


class Blocks(NamedTuple):
    """The earliest of ``n`` finish times in O(sqrt n) per step: the times are kept in ``nb`` blocks
    of ``K ~ sqrt(n)`` (padded with ``inf``) next to each block's minimum. A step changes one
    worker's time, so it refreshes one block's minimum; the earliest is the lowest block's
    lowest entry (ties to the lowest worker index, as ``argmin``). A full ``argmin`` over ``n``
    per step is a scalar reduction loop in XLA's CPU code, which dominated the controlled loop at
    thousands of workers."""

    K: int
    nb: int

    @classmethod
    def of(cls, n: int) -> "Blocks":
        K = max(1, math.isqrt(n - 1) + 1) if n > 1 else 1
        return cls(K, -(-n // K))

    def pad(self, v):
        return jnp.concatenate([v, jnp.full((self.nb * self.K - v.shape[0],), jnp.inf, v.dtype)])

    def mins(self, finish):
        return jnp.min(finish.reshape(self.nb, self.K), axis=-1)

    def earliest(self, finish, bmin):
        """``(e, finish[e])`` of the earliest worker."""
        b = jnp.argmin(bmin)
        block = jax.lax.dynamic_slice(finish, (b * self.K,), (self.K,))
        return b * self.K + jnp.argmin(block).astype(b.dtype), bmin[b]

    def set(self, finish, bmin, e, v):
        """``finish[e] = v`` with its block's minimum refreshed."""
        finish = finish.at[e].set(v)
        b = e // self.K
        return finish, bmin.at[b].set(jnp.min(jax.lax.dynamic_slice(finish, (b * self.K,), (self.K,))))


class Bulk(NamedTuple):
    """Workers to restart (``cancel``: busy; ``wake``: idle) at time ``t`` from the current model."""

    cancel: jax.Array
    wake: jax.Array
    t: jax.Array


@dataclasses.dataclass(frozen=True)
class ControlledClock(LoopClock):
    method: ControlledMethod
    optimizer: Any
    timing: TimingModel
    layout: Layout
    n: int
    lazy: bool  # bulk restarts keep lower bounds (the noise law is random)

    @property
    def blocks(self) -> Blocks:
        return Blocks.of(self.n)

    def _nominal(self, seed: ControlledSeed, w, j, dtype):
        """Nominal compute time of job ``j`` of worker ``w`` (all its local steps; a pair's cost)."""
        d = self.timing.draw(seed.tkey, seed.ctx.tau, w, j, dtype)
        return d * seed.scale[w] if self._scaled else d

    @property
    def _budgeted(self) -> bool:
        """The method may abandon attempts (it overrides :meth:`ControlledMethod.budget`)."""
        return type(self.method).budget is not ControlledMethod.budget

    @property
    def _scaled(self) -> bool:
        return self.method.job.time_scale(np.ones(self.n)) is not None

    def _attempt_end(self, seed, c: CTRun, w, j, start, nominal):
        """When attempt ``j`` of worker ``w`` with this nominal duration ends (its budget caps the
        compute; communication, if any, comes on top)."""
        return self.timing.job_end(seed.ckey, w, j, start, jnp.minimum(nominal, c.cap[w]))

    def _start_jobs(self, seed, c: CTRun, mask, t, exact: bool):
        """Start a new job at the current model on every worker in ``mask`` at time ``t``.

        ``exact``: draw the durations now (cheap only for a single worker); otherwise keep
        lower bounds and let the loop draw them when needed."""
        dt = c.srv.x.dtype
        job = jnp.where(mask, c.job + 1, c.job)
        ws = jnp.arange(self.n)
        if exact:
            D = jax.vmap(lambda w, j: self._nominal(seed, w, j, dt))(ws, job)
            fin = jax.vmap(lambda w, j, d: self._attempt_end(seed, c, w, j, t, d))(ws, job, D)
        else:
            fin = self.timing.finish(ws, t, seed.ctx.tau.astype(dt))
        srv = c.srv._replace(s=jnp.where(mask, c.srv.k, c.srv.s))
        finish = c.finish.at[:self.n].set(jnp.where(mask, fin, c.finish[:self.n]))
        return c._replace(srv=srv, job=job, start=jnp.where(mask, t, c.start), finish=finish,
                          bmin=self.blocks.mins(finish), drawn=jnp.where(mask, exact, c.drawn), busy=c.busy | mask)

    def init(self, problem, seed: ControlledSeed, hp, x0=None):
        srv = init_server(self.method, problem, self.optimizer, self.layout, self.n, hp, seed.ctx, self.timing, x0)
        dt = srv.x.dtype
        zero = jnp.zeros((), jnp.int32)
        c = CTRun(srv=srv, job=jnp.full((self.n,), -1, jnp.int32), start=jnp.zeros((self.n,), dt),
                  finish=jnp.full((self.blocks.nb * self.blocks.K,), jnp.inf, dt),
                  bmin=jnp.full((self.blocks.nb,), jnp.inf, dt), drawn=jnp.ones((self.n,), bool),
                  busy=jnp.zeros((self.n,), bool),
                  cap=seed.ctx.tau.astype(dt) + jnp.asarray(self.method.budget(hp, seed.ctx), dt),
                  busy_acc=jnp.zeros((), dt), cancelled=zero, timeouts=zero)
        start = jnp.asarray(self.method.initial_workers(hp, seed.ctx, srv.method_state), bool)
        return self._start_jobs(seed, c, start, jnp.zeros((), dt), exact=True)

    def draw(self, seed: ControlledSeed, t_end, c: CTRun):
        """Draw the duration of the run's earliest job if its finish is only a lower bound (a job
        started by a bulk command) and falls in the interval; else nothing. O(sqrt n)."""
        e, t = self.blocks.earliest(c.finish, c.bmin)
        do = (t <= t_end) & ~c.drawn[e]
        fin = self._attempt_end(seed, c, e, c.job[e], c.start[e], self._nominal(seed, e, c.job[e], c.srv.x.dtype))
        finish, bmin = self.blocks.set(c.finish, c.bmin, e, jnp.where(do, fin, t))
        return c._replace(finish=finish, bmin=bmin, drawn=c.drawn.at[e].set(c.drawn[e] | do))

    def undrawn(self, t_end, c: CTRun):
        """The run's earliest job falls in the interval and its finish is only a lower bound."""
        e, t = self.blocks.earliest(c.finish, c.bmin)
        return (t <= t_end) & ~c.drawn[e]

    def step(self, problem, seed: ControlledSeed, hp, t_end, c: CTRun):
        """One event of one run, whose earliest finish is drawn (:meth:`draw`); a no-op if its
        next event is after ``t_end``.

        Returns the new state and the bulk commands of the event (see :meth:`bulk`). The
        per-worker vectors change only at the reporter ``e``: each gets one indexed write (in
        place; a masked ``where`` would be a pass over ``n``)."""
        dt = c.srv.x.dtype
        e, t = self.blocks.earliest(c.finish, c.bmin)
        ev = (t <= t_end) & c.drawn[e]
        j = c.job[e]

        # Worker e reports (or its attempt timed out: only methods with budgets abandon attempts).
        timed_out = self._nominal(seed, e, j, dt) > c.cap[e] if self._budgeted else jnp.zeros((), bool)
        srv, points = job_points(self.layout, c.srv, e)
        noise = self.method.job.sample_noise(problem, grad_key(seed.root, e, j), e)
        loss, out = self.method.job.evaluate(problem, points, noise, e, hp, seed.steps[e])
        a = Arrival(worker=e, job=j, time=t, delay=srv.k - srv.s[e], grad=out, x=srv.x, n=self.n,
                    workers=Workers(s=srv.s, busy=c.busy, k=srv.k), ctx=seed.ctx, valid=ev, timed_out=timed_out,
                    params=problem.params, flat=problem.flat, loss=loss)
        srv, dec = serve(self.method, self.optimizer, self.layout, srv, a, hp, points[0])

        # The reporter's next job (the server set its start counter), its duration drawn now.
        ctl = dec.commands
        restart = ev & (jnp.asarray(ctl.reporter) != IDLE)
        next_fin = self._attempt_end(seed, c, e, j + 1, t, self._nominal(seed, e, j + 1, dt))
        finish, bmin = self.blocks.set(c.finish, c.bmin, e, jnp.where(restart, next_fin, jnp.where(ev, jnp.inf, t)))
        busy = c.busy.at[after_masks(e, ctl)].set(restart | (c.busy[e] & ~ev))
        c = c._replace(
            srv=srv, timeouts=c.timeouts + (ev & timed_out).astype(jnp.int32),
            busy_acc=c.busy_acc + jnp.where(ev, t - c.start[e], 0), finish=finish, bmin=bmin,
            job=c.job.at[e].set(jnp.where(restart, j + 1, j)),
            start=c.start.at[e].set(jnp.where(restart, t, c.start[e])),
            drawn=c.drawn.at[e].set(c.drawn[e] | restart), busy=busy)
        # Bulk commands concern the other workers, whose entries this step left as they were (so the
        # updated vectors serve: reading the old ones after an in-place write would cost a copy).
        others = jnp.arange(self.n) != e
        none = jnp.zeros((self.n,), bool)
        cancel = none if ctl.cancel is None else ev & ctl.cancel & busy & others
        wake = none if ctl.wake is None else ev & ctl.wake & ~busy & others
        return c, Bulk(cancel=cancel, wake=wake, t=t)

    def bulk(self, seed, c: CTRun, b: Bulk):
        """Apply one step's bulk commands (O(n); the batch skips it when no run has any)."""
        c = c._replace(busy_acc=c.busy_acc + jnp.sum(jnp.where(b.cancel, b.t - c.start, 0)),
                       cancelled=c.cancelled + jnp.sum(b.cancel, dtype=jnp.int32))
        return self._start_jobs(seed, c, b.cancel | b.wake, b.t, exact=not self.lazy)

    def advance(self, problem, seeds, hp, c, t_end):
        """Every run's events up to ``t_end``, a batch-wide loop of: the draws the earliest jobs
        need (a loop of cheap steps, none when durations are fixed), one event, its bulk commands."""
        draw = batched(self.draw, (0, 0, 0), (None, None, 0))
        undrawn = batched(self.undrawn, (0, 0), (None, 0))
        event = batched(self.step, (None, 0, None, 0, 0), (None, None, 0, None, 0))
        bulk = batched(self.bulk, (0, 0, 0), (None, 0, 0))

        def step(c):
            if self.lazy:
                c = jax.lax.while_loop(lambda c: jnp.any(undrawn(t_end, c)), lambda c: draw(seeds, t_end, c), c)
            c, b = event(problem, seeds, hp, t_end, c)
            # Most events command no bulk restart: skip the O(n) pass for the whole batch then, with a
            # loop of zero or one iteration: XLA updates a loop's carry in place, where a
            # conditional's outputs cost a copy of every per-worker vector per step.
            todo = jnp.any(b.cancel | b.wake)
            return jax.lax.while_loop(lambda cf: cf[1], lambda cf: (bulk(seeds, cf[0], b), False), (c, todo))[0]

        def pending(c):
            return jnp.any(jnp.min(c.bmin, axis=-1) <= t_end[:, None])

        return jax.lax.while_loop(pending, step, c)

    def record(self, problem, seed, hp, c: CTRun, t_end) -> dict:
        return dict(busy_time=c.busy_acc + jnp.sum(jnp.where(c.busy, t_end - c.start, 0)),
                    cancelled=c.cancelled, timeouts=c.timeouts, **model_metrics(problem, c.srv))




def setup(method: ControlledMethod, problem, timing: TimingModel, seeds, settings, horizon_time: float,
          num_points: int, *, optimizer, window=None) -> Setup:
    """Batch inputs for controlled runs of ``seeds`` x ``settings`` over ``[0, horizon_time]``."""
    n, d = timing.n, problem.dim
    dtype = jnp.asarray(problem.init()).dtype
    all_hp = {k: np.array([s[k] for s in settings]) for k in method.hparams}
    w = method.window(all_hp)
    if w is None:
        raise ValueError(f"{method.name}: a controlled method must bound the delays it applies (window)")
    need = max(int(w), 1) + int(method.job.pair)
    # No delay can exceed the number of updates in the horizon: at most one per arrival, and a
    # worker completes at most ``timing.jobs_to_cover(horizon)`` jobs (each lasts at least its
    # base time), so a larger ring (Ringmaster with a huge R) would never be used. Twice that
    # bound leaves room for the float rounding of finish times.
    if np.min(timing.tau) > 0:
        need = min(need, 2 * n * timing.jobs_to_cover(horizon_time) + 1 + int(method.job.pair))
    W = int(window) if window is not None else 1 << (need - 1).bit_length()
    if W < need:
        raise ValueError(f"window={window} is smaller than the {need} past iterates {method.name} can need")
    grid = np.linspace(0.0, horizon_time, num_points + 1)
    S = len(seeds)
    ctx = stack_contexts(timing, seeds, dtype)
    seed_data = ControlledSeed(ctx=ctx, tkey=jnp.stack([time_key(s) for s in seeds]),
                               ckey=jnp.stack([comm_key(s) for s in seeds]),
                               root=jnp.stack([grad_root(s) for s in seeds]), steps=job_steps(method, ctx),
                               scale=job_time_scale(method, ctx, dtype))
    # transients of one step (the job's result, the new model) besides the state the driver sizes
    per_run = 4 * d * np.dtype(dtype).itemsize
    clock = ControlledClock(method, optimizer, timing, Layout(W, pair=method.job.pair), n,
                            lazy=not isinstance(timing.noise, NoNoise))
    times = np.tile(grid, (S, 1))
    return Setup(clock=clock, seeds=seed_data, intervals=jnp.asarray(times[:, 1:].T, dtype),
                 t0=jnp.asarray(times[:, 0], dtype), time=times, per_run_bytes=per_run,
                 info=dict(window=W, store="ring", controlled=True))


__all__ = ["Blocks", "Bulk", "CTRun", "ControlledClock", "ControlledSeed", "setup"]
