"""The allocation clock: methods that assign ``B`` tasks per iteration (the ATA family).

An iteration of an :class:`~jaxsim.methods.base.AllocationMethod` gives worker
``i`` ``a_i`` tasks (``sum(a) = B``), all gradients at the current model ``x^k``. Worker
``i`` runs its tasks one after the other; task ``u`` consumes the worker's next job
index, so its nominal duration is ``timing.draw(tkey, tau, i, j_i + u)`` (the same
counter-based draws as the other engines: every method meets the same worker speeds)
and its finish time comes from ``timing.finish`` applied task after task (speed
profiles work). The iteration ends when the last assigned task is done:
``T_{k+1} = T_k + max_{a_i > 0} (finish of worker i)``. No event loop is needed.

A *race* method (``method.race``) chooses no allocation: every worker computes from ``T_k``, task
after task, the iteration ends at the ``B``-th completion and the allocation is what the race
realized (:func:`race`). Its times are those of a controlled method that collects ``B`` arrivals
and then restarts every worker, one iteration per loop step instead of one step per arrival.

At the end of an iteration the server's one model update (:func:`~jaxsim.sim.server.apply_update`;
there are no arrivals to :func:`~jaxsim.sim.server.serve`) steps with the mean of the ``B`` gradients,
``x <- x - gamma * optimizer(g)``; slot ``b`` (slots are ordered by worker) draws its
noise from ``grad_key(grad_root(seed), b, k)``, so on a homogeneous problem the
trajectory ``x^k`` is the same for every allocation policy. Then the
method observes each worker's total time ``T_i`` (semi-bandit feedback), allocates the
next iteration (randomness from ``fold_in(method_key(seed), k)``, :func:`jaxsim.runtime.rng.method_key`) and its
``B`` durations are drawn.

State per run: the model, optimizer state, ``k``, and ``O(n)`` numbers (allocation,
per-worker times and job counters of the iteration in progress, the method's
statistics); no past iterates. Memory per run is ``O(d + n)`` plus, transiently, the
``B`` gradients of one iteration (a ``vmap`` over ``B_max`` slots) and ``O(B_max)``
durations.

Runs are batched like :mod:`jaxsim.sim.controlled`: ``vmap`` over seeds x settings; per
recording interval a ``while_loop`` whose condition is one boolean for the batch
completes one iteration of every run whose iteration in progress ends by the
interval's end, until none does.

Time (the iteration's start and end, the recording times, busy time) is kept by
:mod:`jaxsim.sim.clocktime` (float64 with x64, two float32 numbers without), durations are
drawn in that type whatever the model's, and each run's iterations are bounded before compiling
(:func:`iteration_bound`).

Metrics (all of :data:`jaxsim.sweep.METRICS`, plus ``proxy_regret``): ``received =
used = B k``, delays 0, ``cancelled = timeouts = 0``; ``busy_time`` is the total worker
time ``sum_k sum_i T_{i,k}`` of completed iterations plus ``sum_i min(t - start, T_i)``
of the iteration in progress (idle workers cost nothing); ``proxy_regret`` is
``sum_k [l(a^k, mu) - v_B(mu)]`` over completed iterations, ``l(a, mu) = max_{a_i > 0}
a_i mu_i`` with the true means ``mu`` and ``v_B`` its minimum over allocations
(``nan`` when the means are infinite); divide by ``k`` for the paper's average. A race keeps
every worker busy (``busy_time = n t``), counts the ``n - 1`` tasks it stops per iteration as
``cancelled`` and records no ``proxy_regret`` (it chooses no allocation).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..methods.base import AllocationMethod, SeedContext
from ..runtime.rng import grad_key, grad_roots, time_keys
from ..runtime.threefry import unrolled
from . import clocktime as ct
from .blocks import Blocks
from .setup import NextEndClock, Setup, check_events, jobs_bound, loop_cap, stack_contexts, time_base, time_grid
from .server import Counters, Layout, ServerState, apply_update, init_server, model_metrics


#: Slots per trip of the loop that sums each worker's task times (:func:`launch`).
SCAN_UNROLL = 32


def proxy_loss(a, mean) -> jax.Array:
    """``l(a, mu) = max_{a_i > 0} a_i mu_i`` (traceable)."""
    return jnp.max(jnp.where(a > 0, a.astype(mean.dtype) * mean, -jnp.inf))


class AllocSeed(NamedTuple):
    ctx: SeedContext
    tkey: jax.Array
    root: jax.Array
    tau: jax.Array  # [n] base times in the time's type (``ctx.tau`` is in the model's)


def unrolled_keys(seed: AllocSeed) -> AllocSeed:
    """``seed`` with its keys under :data:`~jaxsim.runtime.threefry.UNROLLED`: the same draws bit
    for bit, without a hash loop per key on CPU (an iteration derives a few dozen small keys)."""
    return seed._replace(tkey=unrolled(seed.tkey), root=unrolled(seed.root),
                         ctx=seed.ctx._replace(key=unrolled(seed.ctx.key)))


class AllocRun(NamedTuple):
    srv: ServerState  # no point store: every task starts from x^k
    job: jax.Array  # int32[n] next job index of each worker
    a: jax.Array  # int32[n] allocation of the iteration in progress
    T: jax.Array  # [n] each worker's time on its tasks of the iteration in progress (a duration)
    start: ct.Time  # start of the iteration in progress
    end: ct.Time  # its end
    busy_acc: ct.Time  # worker time of completed iterations
    regret: jax.Array  # cumulative proxy regret
    v_opt: jax.Array  # v_B(mu), the optimal proxy loss
    started: jax.Array  # the first iteration has been allocated


def slots(a, Bmax: int):
    """``(worker, first, valid)`` per slot ``b < Bmax``: slots are ordered by worker,
    worker ``i`` holds slots ``[first_i, first_i + a_i)``."""
    n = a.shape[0]
    cs = jnp.cumsum(a)
    b = jnp.arange(Bmax, dtype=cs.dtype)
    # the default method is a loop of log2(n) trips; the same counts without one
    method = "compare_all" if n * Bmax <= 2 ** 16 else "sort"
    w = jnp.minimum(jnp.searchsorted(cs, b, side="right", method=method), n - 1).astype(jnp.int32)
    return w, b - (cs[w] - a[w]), b < cs[-1]


def launch(timing, tkey, tau, a, job, start, Bmax: int, split: bool):
    """Draw an iteration with allocation ``a`` starting at ``start`` (a time): ``(T[n], end, job')``,
    ``T`` in the time's float type (see :mod:`~jaxsim.sim.clocktime`; ``split``: two float32s).

    Per worker, times are accumulated task after task (a scan over the slots), so the
    sums are the same floating-point operations as a sequential loop."""
    dtype = jnp.float32 if split else jnp.float64
    w, u, valid = slots(a, Bmax)
    d = jax.vmap(lambda wi, j: timing.draw(tkey, tau, wi, j, dtype))(w, job[w] + u)
    d = jnp.where(valid, d, 0).astype(dtype)
    speed = timing.speed is not None

    def seq(carry, xs):
        tsum, tend = carry
        wi, di, first, ok = xs
        tsum = jnp.where(first, jnp.zeros((), dtype), tsum) + di
        if speed:
            tend = ct.where(ok, ct.finish(timing, wi, ct.where(first, start, tend), di), tend)
        return (tsum, tend), (tsum, tend)

    zero = jnp.zeros((), dtype)
    # unrolled: a trip of XLA's CPU loop costs more than its few scalar operations; not under a speed
    # profile, whose finish time is no few operations (unrolled, the oracle's `uta` check compiled in
    # 40 s instead of 4, and a run at n = 17 took 0.87 s instead of 0.67)
    unroll = 1 if speed else min(Bmax, SCAN_UNROLL)
    _, (sums, ends) = jax.lax.scan(seq, (zero, start), (w, d, u == 0, valid), unroll=unroll)
    last = jnp.maximum(jnp.cumsum(a) - 1, 0)
    busy = a > 0
    never = ct.full(a.shape, -jnp.inf, split)
    if speed:
        done = ct.tmap(lambda e: e[last], ends)
        T = jnp.where(busy, ct.sub(done, start), 0)
        fin = ct.where(busy, done, never)
    else:
        T = jnp.where(busy, sums[last], 0)
        fin = ct.where(busy, ct.add(start, T), never)
    return T.astype(dtype), ct.amax(fin), job + a


def _take(t: ct.Time, i) -> ct.Time:
    return ct.tmap(lambda x: x[i], t)


#: Up to this many workers the race merges one row of heads; above, blocks of about ``sqrt(n)``
#: (per iteration with ``B = 23``, one row against blocks: 32 vs 37 us at ``n = 5``, 36 vs 48 at
#: ``n = 9``, 52 vs 50 at ``n = 17``, 82 vs 54 at ``n = 51``; 2026-12-08, load about 1.5).
FLAT_MERGE_MAX = 16


def _merge(timing, tkey, tau, first: ct.Time, job, B, Bmax: int, dtype, blocks: Blocks):
    """The race's merge: ``(task each worker runs, B-th end, its worker)``.

    The heads are kept in ``blocks`` (one block: a row) next to each block's minimum. A step
    reduces the block minima, then the chosen block, with its workers' task indices and base times
    carried out of the reduce; one draw; selects for the writes. (Gathers after the reductions and
    scatters into the heads took about twice the kernels: per iteration at ``B = 23``, 64 -> 52 us
    for one row at ``n = 17`` and 98-102 -> 81-85 us for blocks at ``n = 153``.) Unrolled, except
    under a speed profile, whose finish is no few operations: a loop there."""
    K, nb = blocks.K, blocks.nb
    pad = functools.partial(jnp.pad, pad_width=(0, nb * K - job.shape[0]))
    slots, rows = jnp.arange(nb * K), jnp.arange(nb)

    def step(b, carry, draw=True):  # step b: the (b + 1)-th completion
        heads, bmin, doing, end, last = carry
        r = ct.min_argmin(bmin)[1] if nb > 1 else 0  # ties: the lowest block, then the lowest worker

        def at(v):
            return jax.lax.dynamic_slice(v, (r * K,), (K,)) if nb > 1 else v

        e, i, j, tau_w = ct.min_argmin(ct.tmap(at, heads), at(doing) + 1, at(taus))
        w = (r * K + i).astype(jnp.int32)
        end, last = ct.where(b == B - 1, e, end), jnp.where(b == B - 1, w, last)
        if draw:  # the worker's next task, while a later completion still counts
            go = b + 1 < B
            nxt = ct.where(go, ct.finish(timing, w, e, timing.draw_at(tkey, tau_w, w, j, dtype)), e)
            hit = slots == w
            heads, doing = ct.where(hit, nxt, heads), jnp.where(hit, jnp.where(go, j, j - 1), doing)
            if nb > 1:
                bmin = ct.where(rows == r, ct.min_argmin(ct.tmap(at, heads))[0], bmin)
        return heads, bmin, doing, end, last

    heads = blocks.pad(first)
    taus = pad(jnp.asarray(tau, dtype))
    carry = (heads, blocks.mins(heads) if nb > 1 else None, pad(job), _take(first, 0), jnp.zeros((), jnp.int32))
    if timing.speed is not None:
        carry = jax.lax.fori_loop(0, Bmax, step, carry)  # the last step's draw is not kept (go is false)
    else:
        for b in range(Bmax):
            carry = step(b, carry, draw=b + 1 < Bmax)
    return carry[2][:job.shape[0]], carry[3], carry[4]


def race(timing, tkey, tau, job, start, B, Bmax: int, split: bool):
    """An iteration realized by a race from ``start`` (a time): ``(a[n], T[n], end, job')``.

    Every worker computes from ``start``, its tasks back to back (task ``u`` takes job index
    ``job_i + u``; its finish is ``finish(previous finish, duration)``, absolute time after absolute
    time as on the controlled clock), and the iteration ends at the ``B``-th completion in the
    order ``(finish, worker, task)``, the controlled reference loop's heap order. ``a_i`` counts
    worker ``i``'s completions among the first ``B``. The worker of the ``B``-th completion starts
    its next task afterwards; every other worker's task in progress is stopped and it restarts
    with a fresh job index: ``job'_i = job_i + a_i + [i != w]``. Every worker is busy the whole
    iteration (``T_i = end - start``).

    After the ``n`` first draws the race is a merge: ``Bmax`` unrolled steps, each taking the
    earliest head (ties: the lower worker) and drawing that worker's next task (over blocks of
    heads above :data:`FLAT_MERGE_MAX` workers). Sorting the ``min(B, n) x B`` candidate finishes
    once instead cost 5 to 16 times more on XLA:CPU, where a sort of a few hundred keys takes tens
    of microseconds per run, and a scan costs a kernel launch per step."""
    dtype = jnp.float32 if split else jnp.float64
    n = job.shape[0]
    B = jnp.asarray(B, jnp.int32)
    workers = jnp.arange(n, dtype=jnp.int32)
    first = ct.finish(timing, workers, start, jax.vmap(lambda i, j: timing.draw(tkey, tau, i, j, dtype))(workers, job))
    blocks = Blocks(n, 1) if n <= FLAT_MERGE_MAX else Blocks.of(n)
    doing, end, last = _merge(timing, tkey, tau, first, job, B, Bmax, dtype, blocks)
    a = doing - job + (workers == last).astype(jnp.int32)  # the last completion's worker has not moved on
    T = jnp.broadcast_to(ct.sub(end, start), (n,)).astype(dtype)
    return a, T, end, doing + 1  # everyone starts a fresh task: the last one's next, the others' restart


@dataclasses.dataclass(frozen=True)
class AllocationClock(NextEndClock):
    method: AllocationMethod
    optimizer: Any
    timing: Any
    n: int
    Bmax: int  # gradient slots per iteration (>= every B of the batch)
    split: bool = False  # time as two float32 numbers (x64 off; see :mod:`jaxsim.sim.clocktime`)

    def _bound(self) -> dict:
        """``max_B`` for :meth:`~jaxsim.methods.base.AllocationMethod.allocate`, where the method
        takes it (a method written before it was added keeps its five arguments)."""
        takes = "max_B" in inspect.signature(self.method.allocate).parameters
        return {"max_B": self.Bmax} if takes else {}

    def init(self, problem, seed: AllocSeed, hp, x0=None):
        """A run before its first iteration: an empty allocation ending at time 0, so the first
        loop step allocates and draws iteration 1 (one copy of the step in the compiled code)."""
        seed = unrolled_keys(seed)
        srv = init_server(self.method, problem, self.optimizer, Layout(0), self.n, hp, seed.ctx, self.timing, x0)
        dt = srv.x.dtype
        # v_B(mu): the B-th smallest of {j mu_i} (the products the solver forms, bit for bit).
        prods = jnp.arange(1, self.Bmax + 1, dtype=jnp.int32).astype(dt)[:, None] * seed.ctx.mean.astype(dt)[None, :]
        v_opt = jnp.sort(prods.ravel())[hp["B"] - 1]
        zero = jnp.zeros((), dt)
        n = self.n
        t0 = ct.full((), 0.0, self.split)
        return AllocRun(srv=srv, job=jnp.zeros((n,), jnp.int32), a=jnp.zeros((n,), jnp.int32),
                        T=jnp.zeros((n,), jnp.float32 if self.split else jnp.float64), start=t0, end=t0, busy_acc=t0,
                        regret=zero, v_opt=v_opt, started=jnp.zeros((), bool))

    def step(self, problem, seed: AllocSeed, hp, t_end, c: AllocRun):
        """Complete the iteration in progress and start the next one (a no-op if it ends after
        ``t_end``; before the first iteration, only start it)."""
        seed = unrolled_keys(seed)
        done = ct.le(c.end, t_end)
        upd = c.started
        srv = c.srv
        dt = srv.x.dtype
        w, _, valid = slots(c.a, self.Bmax)
        def one(b, wi):
            return problem.value_and_grad_from_noise(
                srv.x, problem.sample_noise(grad_key(seed.root, b, srv.k), wi), wi)

        losses, grads = jax.vmap(one)(jnp.arange(self.Bmax, dtype=jnp.int32), w)
        g = jnp.sum(jnp.where(valid[:, None], grads, 0), axis=0) / hp["B"].astype(dt)
        # the iteration's minibatch loss: the mean over its B samples, at x^k
        batch_loss = jnp.where(upd, jnp.sum(jnp.where(valid, losses, 0)) / hp["B"].astype(dt),
                               srv.counters.batch_loss)
        srv = apply_update(self.optimizer, srv, g, hp["gamma"], upd)
        ms = jax.tree.map(lambda p, q: jnp.where(upd, p, q), self.method.observe(srv.method_state, c.a, c.T.astype(dt)),
                          srv.method_state)
        k = srv.k
        if self.method.race:
            a, T, end, job = race(self.timing, seed.tkey, seed.tau, c.job, c.end, hp["B"], self.Bmax, self.split)
        else:
            key = jax.random.fold_in(seed.ctx.key, k + 1)
            a = self.method.allocate(ms, k + 1, key, hp, seed.ctx, **self._bound()).astype(jnp.int32)
            T, end, job = launch(self.timing, seed.tkey, seed.tau, a, c.job, c.end, self.Bmax, self.split)
        regret = jnp.where(upd, c.regret + (proxy_loss(c.a, seed.ctx.mean) - c.v_opt), c.regret)
        used = hp["B"] * k
        srv = srv._replace(method_state=ms, counters=Counters(used, used, srv.counters.max_delay,
                                                              srv.counters.sum_delay, batch_loss))
        new = AllocRun(srv=srv, job=job, a=a, T=T, start=c.end, end=end, busy_acc=ct.add(c.busy_acc, jnp.sum(c.T)),
                       regret=regret, v_opt=c.v_opt, started=jnp.ones((), bool))
        return jax.tree.map(lambda p, q: jnp.where(done, p, q), new, c)

    def record(self, problem, seed, hp, c: AllocRun, t) -> dict:
        zero = jnp.zeros((), jnp.int32)
        running = jnp.sum(jnp.minimum(ct.sub(t, c.start), c.T))
        if self.method.race:  # it stops the n - 1 tasks in progress at each iteration's end and chooses no allocation
            return dict(busy_time=ct.to_float(ct.add(c.busy_acc, running)), cancelled=(self.n - 1) * c.srv.k,
                        timeouts=zero, **model_metrics(problem, c.srv))
        return dict(busy_time=ct.to_float(ct.add(c.busy_acc, running)), cancelled=zero, timeouts=zero,
                    proxy_regret=c.regret, **model_metrics(problem, c.srv))




def iteration_bound(timing, horizon_time: float, tau, B: int = 1) -> int:
    """The most iterations of ``B`` tasks a run completes in ``[0, horizon_time]`` (``tau``: ``[S, n]``
    base times).

    At fixed speed a task of worker ``i`` lasts at least ``tau_i``, so in ``x`` seconds worker ``i``
    completes at most ``x / tau_i`` of an iteration's tasks (assigned or raced): an iteration lasts at
    least ``max(min_i tau_i, B / sum_i (1 / tau_i))``. Under a speed profile some worker does a task's
    work in each iteration, so at most ``sum_w W_w(H) / tau_w`` of them
    (:func:`~jaxsim.sim.setup.jobs_bound`)."""
    if timing.speed is not None:
        return jobs_bound(timing, horizon_time, tau)
    tau = np.atleast_2d(np.asarray(tau, np.float64))
    shortest = np.maximum(np.min(tau, axis=1), B / np.sum(1.0 / tau, axis=1))
    return int(min(np.floor(float(horizon_time) / float(np.min(shortest))) + 1, 2 ** 62))


def setup(method: AllocationMethod, problem, timing, seeds, settings, horizon_time: float, num_points: int, *,
          optimizer) -> Setup:
    """Batch inputs for task-allocation runs of ``seeds`` x ``settings`` over ``[0, horizon_time]``.

    Raises ``ValueError`` (before anything is compiled) when a run could count more gradients
    than an int32 holds (``B`` per iteration, :func:`iteration_bound` iterations)."""
    if timing.comm is not None:
        raise ValueError(f"timing.comm: {method.name} allocates tasks per iteration; communication times are "
                         "not modelled on the allocation clock")
    n, d = timing.n, problem.dim
    dtype = problem.dtype
    split = ct.split_mode()
    Bmax = max(int(s["B"]) for s in settings)  # gradient slots per iteration
    ctx = stack_contexts(timing, seeds, dtype)
    tau = time_base(timing, seeds, ctx)
    # the most gradients a run counts: the setting whose B x (its iteration bound) is largest
    B_top = max({int(s["B"]) for s in settings}, key=lambda B: B * iteration_bound(timing, horizon_time, tau, B))
    top = iteration_bound(timing, horizon_time, tau, B_top)
    check_events(method.name, B_top * top, f"up to {top:,} iterations of B={B_top} gradients over the "
                 f"horizon of {horizon_time:g} s; the shortest task takes {float(np.min(tau)):.3g} s")
    iterations = iteration_bound(timing, horizon_time, tau, min(int(s["B"]) for s in settings))
    seed_data = AllocSeed(ctx=ctx, tkey=time_keys(seeds), root=grad_roots(seeds), tau=jnp.asarray(tau, ct.time_dtype()))
    per_run = (Bmax + 4) * d * np.dtype(dtype).itemsize  # the B gradients of an iteration, besides the state
    intervals, t0, times = time_grid(horizon_time, num_points, len(seeds), split)
    return Setup(clock=AllocationClock(method, optimizer, timing, n, Bmax, split=split), seeds=seed_data,
                 intervals=intervals, t0=t0, time=times,
                 per_run_bytes=per_run, info=dict(slots=Bmax, allocation=True, max_iterations=iterations),
                 max_steps=loop_cap(iterations + 1))


__all__ = ["SCAN_UNROLL", "AllocRun", "AllocSeed", "AllocationClock", "FLAT_MERGE_MAX", "iteration_bound", "launch",
           "proxy_loss", "race", "setup", "slots"]
