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

A method's stops (:meth:`~jaxsim.methods.base.ControlledMethod.stop_threshold`: after each update,
restart the jobs ``R`` updates stale) cost O(1) per event instead of a mask over ``n``: the clock
counts busy jobs per start counter (and sums their workers' indices), so it knows at once whether
an update made any job stale (all started at ``k - R``, the threshold never falling) and, when only
one did, which: that one is restarted in the event's own step, like the reporter; several, by the
bulk step.

Each step handles one event of every run in the batch, after a loop of cheap draw steps
that resolves the lower bounds in its way; a recording interval takes as many steps as its
busiest run needs (a ``while_loop`` whose condition is one boolean for the batch), so the
runner batches settings of one cost group together. The earliest finisher comes from
per-block minima (:class:`Blocks`, O(sqrt n) per step), and a step writes each per-worker
vector once, in place. Runs keep a ring of the last ``W`` iterates (the method must bound its
delays), so cancelling a job never copies a point.

Time (starts, finishes, the recording times) is kept by :mod:`jaxsim.sim.clocktime`, apart from
the problem's float type: float64 with x64 (the reference loop's arithmetic, event for event),
two float32 numbers without; durations are drawn in that type (float32 or float64), never in
the model's (a float16 model meets the same worker speeds as a float32 one). With two floats,
a bulk restart's lower bounds are plain float32 sums taken a few ulps down (a two-float sum per
worker costs several plain ones). Busy time is kept as ``busy_acc + t * (running jobs)`` (see :class:`CTRun`), so a
bulk restart adds nothing to it. Before compiling, :func:`setup` bounds each run's arrivals from
the horizon and each worker's shortest possible job (:func:`~jaxsim.sim.setup.jobs_bound`); a
run past the event budget is refused (:func:`~jaxsim.sim.setup.check_events`), and the loop
stops at the bound.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..methods.base import IDLE, Arrival, ControlledMethod, SeedContext, Workers
from ..timing.noise import NoNoise
from ..runtime.rng import comm_keys, grad_key, grad_roots, time_keys
from ..timing import TimingModel
from . import clocktime as ct
from .blocks import Blocks
from .kernel import batched
from .setup import LoopClock, Setup, check_events, host_time_scale, job_steps, jobs_bound, loop_cap, stack_contexts, \
    time_base, time_grid
from .server import Layout, ServerState, after_masks, init_server, job_points, model_metrics, serve


class ControlledSeed(NamedTuple):
    ctx: SeedContext
    tkey: jax.Array  # durations
    ckey: jax.Array  # communication times
    root: jax.Array  # job randomness
    steps: jax.Array  # int32[n] local steps per job
    scale: jax.Array  # [n] multiple of the drawn duration a job takes (``Job.time_scale``), in the time's type
    tau: jax.Array  # [n] base times in the time's type (``ctx.tau`` is in the model's)


class CTRun(NamedTuple):
    srv: ServerState
    job: jax.Array  # int32[n] index of each worker's current (or last) job; -1 before the first
    start: ct.Time  # [n] start time of the current job
    finish: ct.Time  # [nb * K] finish time (a lower bound while not drawn); inf when idle and past n
    bmin: ct.Time  # [nb] the minimum of each block of K finish times (see :class:`Blocks`)
    drawn: jax.Array  # bool[n] finish is exact
    busy: jax.Array  # bool[n]
    cap: jax.Array  # [n] the most compute an attempt may take: tau + the method's budget (inf = none)
    # busy time of finished or cancelled jobs minus the start of each running job: the busy time at
    # ``t`` is ``busy_acc + t * (running jobs)``, and a job cancelled and restarted at one instant
    # leaves it as it is (a bulk restart costs no pass over the workers for it)
    busy_acc: ct.Time
    cancelled: jax.Array
    timeouts: jax.Array
    # for the method's stops (:meth:`ControlledMethod.stop_threshold`; ``()`` without): per start
    # counter modulo ``slots``, the number of busy jobs and the sum of their workers' indices (modulo
    # 2**32: the worker itself when it is the only one), int32[2, slots]
    started: Any = ()


class Bulk(NamedTuple):
    """Workers to restart (``cancel``: busy; ``wake``: idle; a scalar: all of them but the
    reporter ``e``; ``None``: nobody) at time ``t`` from the current model; ``stop``: some busy job
    has become ``R`` updates stale (``None``: the method has no stops)."""

    cancel: Any
    wake: Any
    stop: Any
    R: Any
    t: ct.Time
    e: jax.Array

    def any(self):
        """Whether some run of the batch has workers to restart."""
        flags = [jnp.any(m) for m in (self.cancel, self.wake, self.stop) if m is not None]
        return jnp.any(jnp.stack(flags)) if flags else jnp.zeros((), bool)


def _move(started, src, dst, jobs):
    """``started`` (:class:`CTRun`) after busy jobs restart: ``jobs`` (int32[2]: how many, the sum
    of their workers' indices) leave start counter slot ``src`` for ``dst``."""
    return started.at[:, jnp.stack([src, dst])].add(jobs[:, None] * jnp.array([-1, 1], jnp.int32))


@dataclasses.dataclass(frozen=True)
class ControlledClock(LoopClock):
    method: ControlledMethod
    optimizer: Any
    timing: TimingModel
    layout: Layout
    n: int
    lazy: bool  # bulk restarts keep lower bounds (the noise law is random)
    split: bool = False  # time as two float32 numbers (x64 off; see :mod:`jaxsim.sim.clocktime`)
    #: length of the ring of busy-job counts per start counter (a power of two above every
    #: threshold the method's stops use); 0: the method has no stops
    slots: int = 0

    @property
    def blocks(self) -> Blocks:
        return Blocks.of(self.n)

    @property
    def tdt(self):
        """The float type of durations (float64 with x64, else float32)."""
        return jnp.float32 if self.split else jnp.float64

    def _nominal(self, seed: ControlledSeed, w, j):
        """Nominal compute time of job ``j`` of worker ``w`` (all its local steps; a pair's cost)."""
        d = self.timing.draw(seed.tkey, seed.tau, w, j, self.tdt)
        return d * seed.scale[w] if self._scaled else d

    @property
    def _budgeted(self) -> bool:
        """The method may abandon attempts (it overrides :meth:`ControlledMethod.budget`)."""
        return type(self.method).budget is not ControlledMethod.budget

    @property
    def _scaled(self) -> bool:
        return self.method.job.time_scale(np.ones(self.n)) is not None

    def _inf(self):
        return ct.full((), jnp.inf, self.split)

    def _attempt_end(self, seed, c: CTRun, w, j, start, nominal):
        """When attempt ``j`` of worker ``w`` with this nominal duration ends (its budget caps the
        compute; communication, if any, comes on top)."""
        return ct.job_end(self.timing, seed.ckey, w, j, start, jnp.minimum(nominal, c.cap[w]))

    def _lower_bound(self, w, t, tau):
        """A lower bound on the finish of the job(s) worker(s) ``w`` (base time(s) ``tau``) start at
        ``t``, the duration not drawn yet."""
        if self.split and self.timing.speed is None:
            # a lower bound need not be exact, only never above the finish: a float32 sum (within one
            # ulp of the exact one) scaled down by two to three ulps, instead of a two-float sum per
            # worker (nextafter costs more than the sum here)
            return ct.Split((t.hi + tau) * jnp.float32(1.0 - 2.0 ** -22), jnp.zeros_like(tau))
        return ct.finish(self.timing, w, t, tau)

    def _start_jobs(self, seed, c: CTRun, mask, t, exact: bool, started=None):
        """Start a new job at the current model on every worker in ``mask`` at time ``t``.

        ``exact``: draw the durations now (cheap only for a single worker); otherwise keep
        lower bounds and let the loop draw them when needed. ``started``: the counts of busy
        jobs per start counter afterwards, if the caller knows them (else counted here, O(n))."""
        ws = jnp.arange(self.n)
        if self.slots and started is None:
            M, gone, wi = self.slots, (mask & c.busy).astype(jnp.int32), jnp.arange(self.n, dtype=jnp.int32)
            moved = jnp.stack([jnp.sum(mask, dtype=jnp.int32), jnp.sum(jnp.where(mask, wi, 0), dtype=jnp.int32)])
            started = c.started.at[:, c.srv.s % M].add(-jnp.stack([gone, gone * wi])).at[:, c.srv.k % M].add(moved)
        job = jnp.where(mask, c.job + 1, c.job)
        if exact:
            D = jax.vmap(lambda w, j: self._nominal(seed, w, j))(ws, job)
            if self.timing.comm is None and self.timing.speed is None:
                fin = ct.add(t, jnp.minimum(D, c.cap))  # _attempt_end, for every worker at once
            else:
                fin = jax.vmap(lambda w, j, d: self._attempt_end(seed, c, w, j, t, d))(ws, job, D)
        else:
            fin = self._lower_bound(ws, t, seed.tau)
        srv = c.srv._replace(s=jnp.where(mask, c.srv.k, c.srv.s))
        head = ct.tmap(lambda a: a[:self.n], c.finish)
        finish = ct.tmap(lambda a, v: a.at[:self.n].set(v), c.finish, ct.where(mask, fin, head))
        woken = jnp.sum(mask & ~c.busy, dtype=jnp.int32)  # idle workers that start: their start counts
        return c._replace(srv=srv, job=job, start=ct.where(mask, t, c.start), finish=finish,
                          bmin=self.blocks.mins(finish), drawn=jnp.where(mask, exact, c.drawn), busy=c.busy | mask,
                          busy_acc=ct.add(c.busy_acc, ct.negate(ct.times(t, woken))),
                          started=c.started if started is None else started)

    def init(self, problem, seed: ControlledSeed, hp, x0=None):
        srv = init_server(self.method, problem, self.optimizer, self.layout, self.n, hp, seed.ctx, self.timing, x0)
        zero = jnp.zeros((), jnp.int32)
        c = CTRun(srv=srv, job=jnp.full((self.n,), -1, jnp.int32), start=ct.full((self.n,), 0.0, self.split),
                  finish=ct.full((self.blocks.nb * self.blocks.K,), jnp.inf, self.split),
                  bmin=ct.full((self.blocks.nb,), jnp.inf, self.split), drawn=jnp.ones((self.n,), bool),
                  busy=jnp.zeros((self.n,), bool),
                  cap=seed.tau + jnp.asarray(self.method.budget(hp, seed.ctx), self.tdt),
                  busy_acc=ct.full((), 0.0, self.split), cancelled=zero, timeouts=zero,
                  started=jnp.zeros((2, self.slots), jnp.int32) if self.slots else ())
        start = jnp.asarray(self.method.initial_workers(hp, seed.ctx, srv.method_state), bool)
        return self._start_jobs(seed, c, start, ct.full((), 0.0, self.split), exact=True)

    def earliest(self, c: CTRun):
        """``(e, finish[e])`` of the run's earliest worker (O(sqrt n), see :class:`Blocks`)."""
        return self.blocks.earliest(c.finish, c.bmin)

    def draw(self, seed: ControlledSeed, t_end, c: CTRun, e, t):
        """Draw the duration of the run's earliest job ``e`` (finishing at ``t``, see
        :meth:`earliest`) if its finish is only a lower bound (a job started by a bulk command)
        and falls in the interval; else nothing. O(sqrt n)."""
        do = ct.le(t, t_end) & ~c.drawn[e]
        start = ct.tmap(lambda a: a[e], c.start)
        fin = self._attempt_end(seed, c, e, c.job[e], start, self._nominal(seed, e, c.job[e]))
        finish, bmin = self.blocks.set(c.finish, c.bmin, e, ct.where(do, fin, t))
        return c._replace(finish=finish, bmin=bmin, drawn=c.drawn.at[e].set(c.drawn[e] | do))

    def undrawn(self, t_end, c: CTRun, e, t):
        """The run's earliest job ``e`` falls in the interval and its finish is only a lower bound."""
        return ct.le(t, t_end) & ~c.drawn[e]

    def step(self, problem, seed: ControlledSeed, hp, t_end, c: CTRun, e, t):
        """One event of one run, whose earliest job ``e`` (finishing at ``t``) is drawn
        (:meth:`draw`); a no-op if that is after ``t_end``.

        Returns the new state and the bulk commands of the event (see :meth:`bulk`). The
        per-worker vectors change only at the reporter ``e`` (and, with stops, at the one job the
        update made stale, if only one)."""
        dt = c.srv.x.dtype
        ev = ct.le(t, t_end) & c.drawn[e]
        j = c.job[e]
        s_e = c.srv.s[e]
        start_e = ct.tmap(lambda a: a[e], c.start)

        # Worker e reports (or its attempt timed out: only methods with budgets abandon attempts).
        timed_out = self._nominal(seed, e, j) > c.cap[e] if self._budgeted else jnp.zeros((), bool)
        srv, points = job_points(self.layout, c.srv, e)
        noise = self.method.job.sample_noise(problem, grad_key(seed.root, e, j), e)
        loss, out = self.method.job.evaluate(problem, points, noise, e, hp, seed.steps[e])
        a = Arrival(worker=e, job=j, time=ct.to_float(t, dt), delay=srv.k - srv.s[e], grad=out, x=srv.x, n=self.n,
                    workers=Workers(s=srv.s, busy=c.busy, k=srv.k), ctx=seed.ctx, valid=ev, timed_out=timed_out,
                    params=problem.params, flat=problem.flat, loss=loss)
        srv, dec = serve(self.method, self.optimizer, self.layout, srv, a, hp, points[0])

        # The reporter's next job (the server set its start counter), its duration drawn now.
        ctl = dec.commands
        restart = ev & (jnp.asarray(ctl.reporter) != IDLE)
        next_fin = self._attempt_end(seed, c, e, j + 1, t, self._nominal(seed, e, j + 1))
        # What the per-worker vectors get at the reporter (and, with stops, at one stale worker):
        # one indexed write each, in place (a masked ``where`` would be a pass over ``n``).
        at, fin = e, ct.where(restart, next_fin, ct.where(ev, self._inf(), t))
        job, start, drawn = jnp.where(restart, j + 1, j), ct.where(restart, t, start_e), c.drawn[e] | restart
        stop = R = None
        if self.slots:
            # Every earlier arrival stopped the jobs it made stale and R never falls, so the jobs
            # stale now all started at k - R: their count says whether any is. One is restarted
            # here, as the bulk step would (a lower bound of its finish when durations are random:
            # drawing it at every event would cost more than the loop's draw when it is needed);
            # several, by the bulk step.
            M, k = self.slots, srv.k
            R = jnp.asarray(self.method.stop_threshold(hp, k), jnp.int32)
            change = jnp.stack([-ev.astype(jnp.int32), restart.astype(jnp.int32)])  # e leaves s_e, joins s[e]
            ids = change * e.astype(jnp.int32)
            started = c.started.at[:, jnp.stack([s_e, srv.s[e]]) % M].add(jnp.stack([change, ids]))
            i = (k - R) % M
            stale = ev & (started[0, i] > 0)
            one = stale & (started[0, i] == 1)
            w = jnp.where(one, started[1, i], 0)
            jw = c.job[w] + 1
            fw = (self._lower_bound(w, t, seed.tau[w]) if self.lazy
                  else self._attempt_end(seed, c, w, jw, t, self._nominal(seed, w, jw)))
            # not ``one``: an index past every end, whose writes drop (writing back the old entries
            # would read the vectors between two in-place writes: a copy of each, per event)
            at = jnp.stack([e, jnp.where(one, w, jnp.iinfo(jnp.int32).max)])
            fin = ct.tmap(lambda a, b: jnp.stack([a, b]), fin, fw)
            job, start, drawn = jnp.stack([job, jw]), ct.tmap(lambda a, b: jnp.stack([a, b]), start, t), \
                jnp.stack([drawn, not self.lazy])
            srv = srv._replace(s=srv.s.at[at[1]].set(k))
            c = c._replace(started=_move(started, i, k % M, jnp.stack([one, one * w]).astype(jnp.int32)),
                           cancelled=c.cancelled + one.astype(jnp.int32))
            stop = stale & ~one
        finish, bmin = self.blocks.set(c.finish, c.bmin, at, fin)
        busy = c.busy.at[after_masks(e, ctl)].set(restart | (c.busy[e] & ~ev))
        c = c._replace(
            srv=srv, timeouts=c.timeouts + (ev & timed_out).astype(jnp.int32),
            busy_acc=ct.add(c.busy_acc, ct.where(ev & ~restart, t, ct.full((), 0.0, self.split))), finish=finish,
            bmin=bmin, job=c.job.at[at].set(job), start=ct.tmap(lambda a, v: a.at[at].set(v), c.start, start),
            drawn=c.drawn.at[at].set(drawn), busy=busy)
        # Bulk commands concern the other workers, whose entries this step left as they were (so the
        # updated vectors serve: reading the old ones after an in-place write would cost a copy). A
        # command for all of them (a scalar) stays one flag until the bulk step.
        others = jnp.arange(self.n) != e
        cancel = wake = None
        if ctl.cancel is not None:
            cancel = ev & ctl.cancel if jnp.ndim(ctl.cancel) == 0 else ev & ctl.cancel & busy & others
        if ctl.wake is not None:
            wake = ev & ctl.wake if jnp.ndim(ctl.wake) == 0 else ev & ctl.wake & ~busy & others
        return c, Bulk(cancel=cancel, wake=wake, stop=stop, R=R, t=t, e=e)

    def bulk(self, seed, c: CTRun, b: Bulk):
        """Apply one step's bulk commands (O(n); the batch skips it when no run has any)."""
        exact = not self.lazy
        others = jnp.arange(self.n) != b.e
        cancel = b.cancel if b.cancel is None or jnp.ndim(b.cancel) else b.cancel & c.busy & others
        b = b._replace(wake=b.wake if b.wake is None or jnp.ndim(b.wake) else b.wake & ~c.busy & others)
        if b.stop is not None:
            M, k = self.slots, c.srv.k
            stale = b.stop & c.busy & (k - c.srv.s >= b.R)
            if cancel is None and b.wake is None:  # the stale jobs are those counted at k - R
                i = (k - b.R) % M
                moved = jnp.where(b.stop, c.started[:, i], 0)
                c = c._replace(cancelled=c.cancelled + moved[0])
                return self._start_jobs(seed, c, stale, b.t, exact, started=_move(c.started, i, k % M, moved))
            cancel = stale if cancel is None else cancel | stale
        if cancel is None:
            return self._start_jobs(seed, c, b.wake, b.t, exact)
        c = c._replace(cancelled=c.cancelled + jnp.sum(cancel, dtype=jnp.int32))
        return self._start_jobs(seed, c, cancel if b.wake is None else cancel | b.wake, b.t, exact)

    def advance(self, problem, seeds, hp, c, t_end, limit):
        """Every run's events up to ``t_end``, at most ``limit`` steps (``(c, steps, done)``, as
        :func:`~jaxsim.sim.kernel.bounded_loop`): a batch-wide loop of the draws the earliest jobs
        need (a loop of cheap steps, none when durations are fixed), one event, its bulk commands.
        Each run's earliest job is found once per step and carried into the next."""
        earliest = batched(self.earliest, (0,), (0,))
        draw = batched(self.draw, (0, 0, 0, 0, 0), (None, None, 0, 0, 0))
        undrawn = batched(self.undrawn, (0, 0, 0, 0), (None, 0, 0, 0))
        event = batched(self.step, (None, 0, None, 0, 0, 0, 0), (None, None, 0, None, 0, 0, 0))
        bulk = batched(self.bulk, (0, 0, 0), (None, 0, 0))
        t_run = ct.tmap(lambda a: a[:, None], t_end)

        def step(s):
            c, e, t, k = s
            if self.lazy:  # at most n draws: each marks one more job drawn
                def redraw(s):
                    c = draw(seeds, t_end, *s)
                    return (c, *earliest(c))

                c, e, t = jax.lax.while_loop(lambda s: jnp.any(undrawn(t_end, *s)), redraw, (c, e, t))
            c, b = event(problem, seeds, hp, t_end, c, e, t)
            if (b.cancel, b.wake, b.stop) != (None, None, None):
                # Most events command no bulk restart: skip the O(n) pass for the whole batch then,
                # with a loop of zero or one iteration: XLA updates a loop's carry in place, where a
                # conditional's outputs cost a copy of every per-worker vector per step.
                c = jax.lax.while_loop(lambda cf: cf[1], lambda cf: (bulk(seeds, cf[0], b), False), (c, b.any()))[0]
            return (c, *earliest(c), k + 1)

        e, t = earliest(c)
        c, e, t, k = jax.lax.while_loop(lambda s: (s[3] < limit) & jnp.any(ct.le(s[2], t_run)), step,
                                        (c, e, t, jnp.zeros((), jnp.int32)))
        return c, k, ~jnp.any(ct.le(t, t_run))

    def record(self, problem, seed, hp, c: CTRun, t_end) -> dict:
        running = ct.times(t_end, jnp.sum(c.busy, dtype=jnp.int32))
        return dict(busy_time=ct.to_float(ct.add(c.busy_acc, running)), cancelled=c.cancelled, timeouts=c.timeouts,
                    **model_metrics(problem, c.srv))


def setup(method: ControlledMethod, problem, timing: TimingModel, seeds, settings, horizon_time: float,
          num_points: int, *, optimizer, window=None) -> Setup:
    """Batch inputs for controlled runs of ``seeds`` x ``settings`` over ``[0, horizon_time]``.

    Raises ``ValueError`` (before anything is compiled) when a run could see more arrivals than
    an int32 counts (:func:`~jaxsim.sim.setup.jobs_bound`)."""
    n, d = timing.n, problem.dim
    dtype = problem.dtype
    split = ct.split_mode()
    tdt = ct.time_dtype()
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
    # stops: busy jobs are counted per start counter modulo a power of two above every threshold
    slots = 0
    if method.stop_threshold(all_hp, np.int32(0)) is not None:
        top = int(np.max(np.asarray(method.stop_threshold(all_hp, np.int32(2 ** 30)))))  # never falls
        if top > int(w):
            raise ValueError(f"{method.name}: stop_threshold reaches {top}, above the window {int(w)} "
                             "(the largest delay it applies, hence its largest threshold)")
        slots = 1 << int(w).bit_length()
    ctx = stack_contexts(timing, seeds, dtype)
    tau = time_base(timing, seeds, ctx)
    scale = host_time_scale(method, ctx)
    # shortest job: its nominal time (a multiple of a draw >= tau) or its budget's cap (> tau)
    shortest = tau * np.minimum(1.0, scale)
    events = jobs_bound(timing, horizon_time, shortest)
    check_events(method.name, events, f"n={n} workers over the horizon of {horizon_time:g} s; the shortest job "
                 f"takes {float(np.min(shortest)):.3g} s")
    seed_data = ControlledSeed(ctx=ctx, tkey=time_keys(seeds), ckey=comm_keys(seeds), root=grad_roots(seeds),
                               steps=job_steps(method, ctx), scale=jnp.asarray(scale, tdt), tau=jnp.asarray(tau, tdt))
    # transients of one step (the job's result, the new model) besides the state the plan sizes
    per_run = 4 * d * np.dtype(dtype).itemsize + 4 * slots
    clock = ControlledClock(method, optimizer, timing, Layout(W, pair=method.job.pair), n,
                            lazy=not isinstance(timing.noise, NoNoise), split=split, slots=slots)
    intervals, t0, times = time_grid(horizon_time, num_points, len(seeds), split)
    return Setup(clock=clock, seeds=seed_data, intervals=intervals, t0=t0, time=times, per_run_bytes=per_run,
                 info=dict(window=W, store="ring", controlled=True, max_events=events),
                 max_steps=loop_cap(events))


__all__ = ["Bulk", "CTRun", "ControlledClock", "ControlledSeed", "setup"]
