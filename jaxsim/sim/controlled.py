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

Each step handles one draw or one event of every run in the batch; a recording
interval takes as many steps as its busiest run needs (a ``while_loop`` whose
condition is one boolean for the batch). Runs keep a ring of the last ``W`` iterates
(the method must bound its delays), so cancelling a job never copies a point.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..methods.base import IDLE, Arrival, ControlledMethod, SeedContext, Workers
from ..noise import NoNoise
from ..rng import comm_key, grad_key, grad_root, time_key
from ..timing import TimingModel
from .driver import LoopClock, Setup, batched, job_steps, job_time_scale, stack_contexts
from .server import Layout, ServerState, init_server, job_points, model_metrics, serve


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
    finish: jax.Array  # [n] finish time (a lower bound while not drawn); inf when idle
    drawn: jax.Array  # bool[n] finish is exact
    busy: jax.Array  # bool[n]
    budget: jax.Array  # [n] attempt budget beyond tau (inf = none)
    busy_acc: jax.Array  # busy time of finished or cancelled jobs
    cancelled: jax.Array
    timeouts: jax.Array


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

    def _nominal(self, seed: ControlledSeed, w, j, dtype):
        """Nominal compute time of job ``j`` of worker ``w`` (all its local steps; a pair's cost)."""
        d = self.timing.draw(seed.tkey, seed.ctx.tau, w, j, dtype)
        return d * seed.scale[w] if self._scaled else d

    @property
    def _scaled(self) -> bool:
        return self.method.job.time_scale(np.ones(self.n)) is not None

    def _attempt_end(self, seed, c: CTRun, w, start, nominal):
        """When an attempt of worker ``w`` with this nominal duration ends (its budget caps the
        compute; communication, if any, comes on top)."""
        return self.timing.job_end(seed.ckey, w, c.job[w], start,
                                   jnp.minimum(nominal, seed.ctx.tau[w] + c.budget[w]))

    def _start_jobs(self, seed, c: CTRun, mask, t, exact: bool):
        """Start a new job at the current model on every worker in ``mask`` at time ``t``.

        ``exact``: draw the durations now (cheap only for a single worker); otherwise keep
        lower bounds and let the loop draw them when needed."""
        dt = c.srv.x.dtype
        job = jnp.where(mask, c.job + 1, c.job)
        ws = jnp.arange(self.n)
        if exact:
            D = jax.vmap(lambda w, j: self._nominal(seed, w, j, dt))(ws, job)
            cj = c._replace(job=job)
            fin = jax.vmap(lambda w, d: self._attempt_end(seed, cj, w, t, d))(ws, D)
        else:
            fin = self.timing.finish(ws, t, seed.ctx.tau.astype(dt))
        srv = c.srv._replace(s=jnp.where(mask, c.srv.k, c.srv.s))
        return c._replace(srv=srv, job=job, start=jnp.where(mask, t, c.start), finish=jnp.where(mask, fin, c.finish),
                          drawn=jnp.where(mask, exact, c.drawn), busy=c.busy | mask)

    def _start_one(self, seed, c: CTRun, w, t, do):
        """Start a job on worker ``w`` (if ``do``) with its duration drawn now (a scalar draw)."""
        j = c.job[w] + 1
        cj = c._replace(job=c.job.at[w].set(j))
        fin = self._attempt_end(seed, cj, w, t, self._nominal(seed, w, j, c.srv.x.dtype))
        upd = lambda a, v: a.at[w].set(jnp.where(do, v, a[w]))  # noqa: E731
        return c._replace(job=upd(c.job, j), start=upd(c.start, t), finish=upd(c.finish, fin),
                          drawn=upd(c.drawn, True), busy=upd(c.busy, True))

    def init(self, problem, seed: ControlledSeed, hp, x0=None):
        srv = init_server(self.method, problem, self.optimizer, self.layout, self.n, hp, seed.ctx, self.timing, x0)
        dt = srv.x.dtype
        zero = jnp.zeros((), jnp.int32)
        c = CTRun(srv=srv, job=jnp.full((self.n,), -1, jnp.int32), start=jnp.zeros((self.n,), dt),
                  finish=jnp.full((self.n,), jnp.inf, dt), drawn=jnp.ones((self.n,), bool),
                  busy=jnp.zeros((self.n,), bool), budget=jnp.asarray(self.method.budget(hp, seed.ctx), dt),
                  busy_acc=jnp.zeros((), dt), cancelled=zero, timeouts=zero)
        start = jnp.asarray(self.method.initial_workers(hp, seed.ctx, srv.method_state), bool)
        return self._start_jobs(seed, c, start, jnp.zeros((), dt), exact=True)

    def step(self, problem, seed: ControlledSeed, hp, t_end, c: CTRun):
        """One draw or one event of one run (a no-op if its next event is after ``t_end``).

        Returns the new state and the bulk commands of the event (see :meth:`bulk`)."""
        dt = c.srv.x.dtype
        e = jnp.argmin(c.finish)
        t = c.finish[e]
        in_chunk = t <= t_end
        do_draw = in_chunk & ~c.drawn[e]
        ev = in_chunk & c.drawn[e]
        j = c.job[e]
        nominal = self._nominal(seed, e, j, dt)  # worker e's current job, either way

        # A draw step: the earliest finish is only a lower bound; draw the job's duration.
        if self.lazy:
            fin = self._attempt_end(seed, c, e, c.start[e], nominal)
            c = c._replace(finish=c.finish.at[e].set(jnp.where(do_draw, fin, t)),
                           drawn=c.drawn.at[e].set(c.drawn[e] | do_draw))

        # An event step: worker e reports (or its attempt timed out).
        timed_out = nominal > seed.ctx.tau[e] + c.budget[e]
        srv, points = job_points(self.layout, c.srv, e)
        noise = self.method.job.sample_noise(problem, grad_key(seed.root, e, j), e)
        loss, out = self.method.job.evaluate(problem, points, noise, e, hp, seed.steps[e])
        a = Arrival(worker=e, job=j, time=t, delay=srv.k - srv.s[e], grad=out, x=srv.x, n=self.n,
                    workers=Workers(s=srv.s, busy=c.busy, k=srv.k), ctx=seed.ctx, valid=ev, timed_out=timed_out,
                    params=problem.params, flat=problem.flat, loss=loss)
        srv, dec = serve(self.method, self.optimizer, self.layout, srv, a, hp, points[0])
        c = c._replace(
            srv=srv, timeouts=c.timeouts + (ev & timed_out).astype(jnp.int32),
            busy_acc=c.busy_acc + jnp.where(ev, t - c.start[e], 0),
            busy=c.busy.at[e].set(c.busy[e] & ~ev), finish=c.finish.at[e].set(jnp.where(ev, jnp.inf, c.finish[e])))

        # The reporter's next job (the server set its start counter); bulk commands are returned.
        ctl = dec.commands
        c = self._start_one(seed, c, e, t, ev & (jnp.asarray(ctl.reporter) != IDLE))
        others = jnp.arange(self.n) != e
        none = jnp.zeros((self.n,), bool)
        cancel = none if ctl.cancel is None else ev & ctl.cancel & c.busy & others
        wake = none if ctl.wake is None else ev & ctl.wake & ~c.busy & others
        return c, Bulk(cancel=cancel, wake=wake, t=t)

    def bulk(self, seed, c: CTRun, b: Bulk):
        """Apply one step's bulk commands (O(n); the batch skips it when no run has any)."""
        c = c._replace(busy_acc=c.busy_acc + jnp.sum(jnp.where(b.cancel, b.t - c.start, 0)),
                       cancelled=c.cancelled + jnp.sum(b.cancel, dtype=jnp.int32))
        return self._start_jobs(seed, c, b.cancel | b.wake, b.t, exact=not self.lazy)

    def advance(self, problem, seeds, hp, c, t_end):
        event = batched(self.step, (None, 0, None, 0, 0), (None, None, 0, None, 0))
        bulk = batched(self.bulk, (0, 0, 0), (None, 0, 0))

        def step(c):
            c, b = event(problem, seeds, hp, t_end, c)
            # Most events command no bulk restart: skip the O(n) pass for the whole batch then.
            return jax.lax.cond(jnp.any(b.cancel | b.wake), lambda: bulk(seeds, c, b), lambda: c)

        def pending(c):
            return jnp.any(jnp.min(c.finish, axis=-1) <= t_end[:, None])

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


__all__ = ["Bulk", "CTRun", "ControlledClock", "ControlledSeed", "setup"]
