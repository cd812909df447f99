"""One driver for every clock: a loop over recording intervals of batched runs, in compiled segments.

A batch is ``S`` seeds x ``P`` settings. A clock supplies per-run ``init`` and ``record``
(the driver vmaps them over settings inside a vmap over seeds) and ``advance``, which
moves runs towards the end of one recording interval: per run for a clock of independent
runs (a scan over a piece of the interval's pre-sampled events), or for the whole batch (a
``while_loop`` whose condition is one boolean for the batch, at most a given number of steps).
Metrics come back as ``[S, P, G + 1]`` (point 0 = the start).

The loop runs in segments of about :data:`SEGMENT_SECONDS`, each one call of one compiled
kernel that carries the batch's state (:data:`run_batch`): the host sees Ctrl-C between two,
and the numbers do not depend on where the segments end. A loop clock's loop is bounded before
compiling (:func:`check_events`): no batch loops forever.
"""

from __future__ import annotations

import collections
import functools
import math
import time
import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec

from ..runtime.checkpoint import as_checkpoint, config_components
from ..runtime.memory import default_memory_budget, fmt_bytes
from ..methods.base import SeedContext
from ..runtime.rng import method_key, method_keys, time_key

#: A compiled batch never has an axis (seeds, settings) of size 1: with a size-1 axis XLA
#: fuses differently (broadcasting one seed's shared work over the settings becomes free, so
#: it fuses into each run's loop, where LLVM contracts ``a * b + c`` into one FMA, and
#: reductions are emitted another way), which changes a run's results by rounding. Batches
#: are padded with copies to at least this many seeds and settings, so a run's numbers do not
#: depend on what else shares its batch (the copies are dropped before their metrics leave
#: the device). Only a memory budget too small for that batch runs size-1 axes (with a warning).
MIN_AXIS = 2

#: Bytes per run and recorded point (the metrics, with room for a clock's extra ones).
METRIC_BYTES_PER_POINT = 16 * 8


def batched(f, seed_axes, hp_axes):
    """``f`` vmapped over settings (``hp_axes``) inside a vmap over seeds (``seed_axes``)."""
    return jax.vmap(jax.vmap(f, in_axes=hp_axes), in_axes=seed_axes)


def resolve_devices(devices=None) -> list:
    """The devices a sweep shards over: ``None``, every device of the default backend
    (``jax.devices()``: with :func:`jax.distributed.initialize`, every host's); an integer
    ``k``, the first ``k`` of them; or a sequence of :class:`jax.Device`. Raises ``ValueError``
    naming ``devices`` otherwise."""
    every = jax.devices()
    if devices is None:
        return list(every)
    if isinstance(devices, (int, np.integer)) and not isinstance(devices, (bool, np.bool_)):
        if not 1 <= devices <= len(every):
            raise ValueError(f"devices: {int(devices)} requested, but the {jax.default_backend()} backend has "
                             f"{len(every)} (1 to {len(every)}, or None for all)")
        return list(every[:int(devices)])
    if isinstance(devices, (str, bytes)) or not hasattr(devices, "__iter__"):
        raise ValueError(f"devices: expected None, a count or a list of jax devices, got {devices!r}")
    out = list(devices)
    if not out or not all(isinstance(d, jax.Device) for d in out):
        raise ValueError(f"devices: expected a non-empty list of jax devices, got {devices!r}")
    if len({d.id for d in out}) != len(out):
        raise ValueError(f"devices: the same device is listed twice in {out}")
    if len({d.platform for d in out}) != 1:
        raise ValueError(f"devices: all must be of one platform, got {sorted({d.platform for d in out})}")
    return out


def mesh_shape(S: int, P: int, k: int) -> tuple[int, int]:
    """How ``k`` devices split a sweep of ``S`` seeds x ``P`` settings: ``(ds, dp)`` devices over
    seeds and settings, ``ds * dp = k``, the split that computes the fewest runs when every
    device gets at least :data:`MIN_AXIS` of each (ties: more devices over settings, whose
    seeds' shared inputs are then copied to fewer devices)."""
    def cost(ds):
        dp = k // ds
        return (max(math.ceil(S / ds), MIN_AXIS) * max(math.ceil(P / dp), MIN_AXIS), ds)

    ds = min((ds for ds in range(1, k + 1) if k % ds == 0), key=cost)
    return ds, k // ds


def make_mesh(devices: list, shape: tuple[int, int]) -> Mesh:
    """A ``("seed", "setting")`` mesh of ``devices`` (row-major: a seed group's devices adjacent)."""
    return Mesh(np.asarray(devices, dtype=object).reshape(shape), ("seed", "setting"))


def _in_specs(clock) -> tuple:
    """How :func:`run_batch`'s inputs ``(problem, seeds, hp, intervals, t0, x0)`` lie on the mesh."""
    spec = PartitionSpec
    iv = spec("seed") if clock.independent else spec(None, "seed")  # loop clocks: intervals [G, S]
    return spec(), spec("seed"), spec("setting"), iv, spec("seed"), spec()


#: Wall seconds a segment of a batch's loop aims at: between two segments the host sees Ctrl-C.
SEGMENT_SECONDS = 0.25
#: Work (runs x events x d) of a batch's first segment: small, since nothing is known yet of the
#: machine's speed; later segments grow or shrink towards :data:`SEGMENT_SECONDS`.
FIRST_WORK = 2 ** 22
#: A piece of a stream's recording interval holds at most this many events x d per run (at
#: least one event): no unit of the loop is long, however few the recording intervals.
PIECE_WORK = 2 ** 20
#: The most arrivals a run may count (its counters and job indices are int32).
MAX_EVENTS = 2 ** 31 - 1
#: The most arrivals (iterations, rounds) a loop clock's run may be *able* to see, bounded before
#: compiling from the horizon and the shortest possible durations (:func:`check_events`): a run
#: past it is refused, as a stream too large for memory is. Raise it (up to :data:`MAX_EVENTS`)
#: for longer runs: Ctrl-C stops any run between two segments of its loop.
EVENT_BUDGET = 10 ** 9


def _intervals_count(clock, iv) -> int:
    leaf = jax.tree.leaves(iv)[0]
    return int(leaf.shape[1] if clock.independent else leaf.shape[0])


def _pieces(iv, d: int):
    """A stream's event arrays ``[S, G, C, ...]`` cut into ``Q`` pieces ``[S, G, Q, C/Q, ...]``
    (padded with no-op events: ``valid`` false), ``C * d / Q <= PIECE_WORK``; per-interval
    arrays (``[S, G]``) as they are."""
    leaves = [a for a in jax.tree.leaves(iv) if a.ndim >= 3]
    C = leaves[0].shape[2]
    Q = max(1, min(C, -(-C * max(int(d), 1) // PIECE_WORK)))
    Cq = -(-C // Q)

    def cut(a):
        if a.ndim < 3:
            return a
        if jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key):  # typed keys: pad their words
            return jax.random.wrap_key_data(cut(jax.random.key_data(a)), impl=jax.random.key_impl(a))
        a = jnp.pad(a, [(0, 0), (0, 0), (0, Q * Cq - C)] + [(0, 0)] * (a.ndim - 3))
        return a.reshape(a.shape[:2] + (Q, Cq) + a.shape[3:])

    return jax.tree.map(cut, iv)


def _run_batch_start(clock, problem, seeds, hp, intervals, t0, x0):
    """A batch at time 0: ``(prepared intervals, first record, states, recs)``, ``recs`` the
    metrics ``[G, S, P]`` to be filled at the ends of the recording intervals."""
    iv = clock.prepare(problem, seeds, intervals)
    if clock.independent:
        point = jax.eval_shape(problem.init) if x0 is None else x0
        iv = _pieces(iv, sum(math.prod(a.shape) for a in jax.tree.leaves(point)))
    c0 = batched(clock.init, (None, 0, None, None), (None, None, 0, None))(problem, seeds, hp, x0)
    record = batched(clock.record, (None, 0, None, 0, 0), (None, None, 0, 0, None))
    first = record(problem, seeds, hp, c0, t0)
    G = _intervals_count(clock, iv)
    recs = jax.tree.map(lambda a: jnp.zeros((G,) + a.shape, a.dtype), first)
    return iv, first, c0, recs


def _run_batch_segment(clock, problem, seeds, hp, iv, c, recs, u, limit):
    """Up to ``limit`` units of a batch's loop from unit ``u``: ``(c, recs, u, units taken)``.

    A unit is one step of a loop clock's batch-wide loop (every run's next event, iteration or
    round), or one piece of a recording interval of pre-sampled events. Whatever ``limit`` is,
    each unit computes the same thing, so cutting the loop into segments changes no number."""
    record = batched(clock.record, (None, 0, None, 0, 0), (None, None, 0, 0, None))

    def store(recs, c, t, g, done):
        # a loop of zero or one iteration, not a conditional: its carry is updated in place
        def rec(x):
            r = record(problem, seeds, hp, c, t)
            return jax.tree.map(lambda b, v: b.at[g].set(v), x[0], r), False

        return jax.lax.while_loop(lambda x: x[1], rec, (recs, done))[0]

    zero = jnp.zeros((), jnp.int32)
    if clock.independent:
        lead = [a for a in jax.tree.leaves(iv) if a.ndim >= 4][0]
        G, Q = lead.shape[1], lead.shape[2]
        adv = batched(lambda seed, h, c, p: clock.advance(problem, seed, h, c, p), (0, None, 0, 0), (None, 0, 0, None))

        def body(s):
            c, recs, u, k = s
            g, q = u // Q, u % Q
            piece = jax.tree.map(lambda a: a[:, g, q] if a.ndim >= 4 else a[:, g], iv)
            c = adv(seeds, hp, c, piece)
            return c, store(recs, c, clock.end_time(piece), g, q == Q - 1), u + 1, k + 1

        units = G * Q
    else:
        units = _intervals_count(clock, iv)

        def body(s):
            c, recs, u, k = s
            t_end = jax.tree.map(lambda a: a[u], iv)
            c, steps, done = clock.advance(problem, seeds, hp, c, t_end, limit - k)
            return c, store(recs, c, t_end, u, done), u + done.astype(jnp.int32), k + steps

    c, recs, u, k = jax.lax.while_loop(lambda s: (s[2] < units) & (s[3] < limit), body,
                                       (c, recs, u.reshape(()), zero))
    return c, recs, u.reshape(1, 1), k.reshape(1, 1)


_start = jax.jit(_run_batch_start, static_argnames=("clock",))
_segment = jax.jit(_run_batch_segment, static_argnames=("clock",), donate_argnames=("c", "recs"))


def bounded_loop(pending, step, c, limit):
    """``while pending(c)``, at most ``limit`` times: ``c = step(c)``. Returns ``(c, steps,
    done)``, ``done`` when nothing is pending (a loop clock's ``advance``; the driver gives each
    segment its ``limit`` and the whole batch a bound fixed before compiling)."""
    c, k = jax.lax.while_loop(lambda s: (s[1] < limit) & pending(s[0]), lambda s: (step(s[0]), s[1] + 1),
                              (c, jnp.zeros((), jnp.int32)))
    return c, k, ~pending(c)


def _run_specs(clock):
    spec = PartitionSpec
    iv = spec("seed") if clock.independent else spec(None, "seed")
    run, recs = spec("seed", "setting"), spec(None, "seed", "setting")
    return iv, run, recs


@functools.lru_cache(maxsize=None)
def _sharded_kernels(clock, mesh: Mesh):
    """The batch kernels with a batch's seeds sharded over the mesh's ``"seed"`` axis and its
    settings over ``"setting"``: each device runs the same loop on its local runs, with no
    communication (a loop clock's condition is per device, so a device steps only until its own
    runs are done; the host goes on until every device is). Cached per clock and mesh, so a sweep
    compiles once per batch shape."""
    spec = PartitionSpec
    in_specs = _in_specs(clock)
    iv, run, recs = _run_specs(clock)
    shard = lambda sp: jax.sharding.NamedSharding(mesh, sp)  # noqa: E731
    start_local = jax.shard_map(functools.partial(_run_batch_start, clock), mesh=mesh, in_specs=in_specs,
                                out_specs=(iv, run, run, recs), check_vma=False)
    seg_in = (spec(), spec("seed"), spec("setting"), iv, run, recs, run, spec())
    segment_local = jax.shard_map(functools.partial(_run_batch_segment, clock), mesh=mesh, in_specs=seg_in,
                                  out_specs=(run, recs, run, run), check_vma=False)

    def run_batch_sharded_start(*args):  # named: compile logs say run_batch
        return start_local(*args)

    def run_batch_sharded_segment(*args):
        return segment_local(*args)

    start = jax.jit(run_batch_sharded_start, in_shardings=tuple(shard(sp) for sp in in_specs),
                    out_shardings=(shard(iv), shard(run), shard(run), shard(recs)))
    # the unit counts come back replicated: every host reads them to decide on the next segment
    segment = jax.jit(run_batch_sharded_segment, in_shardings=tuple(shard(sp) for sp in seg_in),
                      out_shardings=(shard(run), shard(recs), shard(spec()), shard(spec())), donate_argnums=(4, 5))
    gather = jax.jit(lambda first, recs: (first, recs), out_shardings=shard(spec()))
    return start, segment, gather


class _BatchRunner:
    """Simulate a batch: ``seeds`` (leaves with leading axis ``S``), ``hp`` (leaves with
    leading axis ``P``), ``intervals`` (the clock's per-interval inputs: leading axes ``[S, G]`` for a clock of
    independent runs, ``[G]`` then ``S`` otherwise),
    ``t0[S]`` the first recording time. Returns metrics ``[S, P, G + 1]`` (NumPy arrays).

    ``x0``: the starting point, ``problem.init()`` computed outside the kernel (:func:`run_setup`
    passes it), so the point store built from it is a run-time value: as a literal, XLA would
    constant-fold ``d``-sized scatters at compile time (minutes at ``d = 10**7``).

    A clock whose runs advance independently (``clock.independent``: pre-sampled events) scans
    each run's events, piece after piece of each recording interval; the others advance the batch
    together (their ``advance`` loops until no run has an event left in the interval). Either way
    the loop runs in *segments*, one compiled call each, that carry the batch's state: a segment
    takes about :data:`SEGMENT_SECONDS` (its unit count adapts; ``first_segment`` fixes it), so
    Ctrl-C is seen between two of them, and since every unit computes the same thing whatever the
    segment's length, the numbers are those of one unsegmented loop. ``max_steps`` bounds a loop
    clock's steps over the whole batch (fixed before compiling, from the horizon and the shortest
    durations: see :func:`check_events`); reaching it with events left raises ``RuntimeError``.
    ``mesh``: shard the batch over it (:func:`make_mesh`; the inputs laid out by
    :func:`_global_inputs`).

    ``run_batch.lower(...)`` lowers the kernel that builds a batch's state (for inspection);
    ``run_batch.clear_cache()`` drops the compiled kernels."""

    def __call__(self, clock, problem, seeds, hp, intervals, t0, x0=None, *, max_steps=None, mesh=None,
                 first_segment=None):
        if mesh is None:
            iv, first, c, recs = _start(clock, problem, seeds, hp, intervals, t0, x0)
            segment = functools.partial(_segment, clock)
        else:
            start, segment, gather = _sharded_kernels(clock, mesh)
            iv, first, c, recs = start(problem, seeds, hp, intervals, t0, x0)
        lead = [a for a in jax.tree.leaves(iv) if a.ndim >= (4 if clock.independent else 1)][0]
        units = lead.shape[1] * lead.shape[2] if clock.independent else lead.shape[0]
        point = jax.eval_shape(problem.init) if x0 is None else x0
        d = sum(math.prod(a.shape) for a in jax.tree.leaves(point))
        runs = math.prod(jax.tree.leaves(first)[0].shape[:2])
        per_unit = runs * (lead.shape[3] * d if clock.independent else d + int(getattr(clock, "n", 0)))
        bound = units if clock.independent else int(min(MAX_EVENTS if max_steps is None else max_steps, MAX_EVENTS))
        u = np.zeros((1, 1) if mesh is None else mesh.devices.shape, np.int32)  # units done, per device
        limit = int(first_segment or max(1, FIRST_WORK // max(per_unit, 1)))
        total, calls = 0, 0
        while True:
            limit = max(1, min(limit, bound - total, 2 ** 30))
            tic = time.perf_counter()
            c, recs, u, k = segment(problem, seeds, hp, iv, c, recs, _host_input(mesh, u),
                                    _host_input(mesh, np.int32(limit)))
            u = np.asarray(u, np.int32)  # waits for the segment: Ctrl-C is seen here
            total += int(np.max(np.asarray(k)))
            calls += 1
            if np.all(u >= units):
                break
            if total >= bound:
                raise RuntimeError(f"{type(clock).__name__}: the batch took {total} loop steps, its bound, with "
                                   f"recording intervals left (at {int(np.min(u))} of {units}); the bound comes from "
                                   "the horizon and the shortest possible durations, so this is a bug")
            if first_segment is None and calls > 1:  # the first call compiled: its time says nothing
                took = max(time.perf_counter() - tic, 1e-4)
                limit = int(limit * min(8.0, max(0.25, SEGMENT_SECONDS / took)))
        if mesh is not None:
            first, recs = gather(first, recs)
        return {k: np.concatenate([np.asarray(first[k])[..., None], np.moveaxis(np.asarray(recs[k]), 0, -1)], axis=-1)
                for k in first}

    def lower(self, clock, problem, seeds, hp, intervals, t0, x0=None):
        return _start.lower(clock, problem, seeds, hp, intervals, t0, x0)

    def clear_cache(self):
        _start.clear_cache()
        _segment.clear_cache()
        _sharded_kernels.cache_clear()


def _host_input(mesh, value):
    """A small host value for a kernel on ``mesh`` (a global array when there are several processes)."""
    if mesh is None or jax.process_count() == 1:
        return value
    host = np.asarray(value)
    sp = PartitionSpec("seed", "setting") if host.ndim == 2 else PartitionSpec()
    return jax.make_array_from_callback(host.shape, jax.sharding.NamedSharding(mesh, sp), lambda i: host[i])


#: The one batch runner (see :class:`_BatchRunner`).
run_batch = _BatchRunner()


def _global_inputs(mesh: Mesh, args: tuple, clock) -> tuple:
    """With several processes (:func:`jax.distributed.initialize`), host values as global arrays
    laid out for the sharded kernels of :data:`run_batch` (every host holds the same values)."""
    if jax.process_count() == 1:
        return args
    specs = _in_specs(clock)

    def put(a, sp):
        if jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key):  # typed keys travel as their words
            return jax.random.wrap_key_data(put(jax.random.key_data(a), sp), impl=jax.random.key_impl(a))
        host = np.asarray(a)
        return jax.make_array_from_callback(host.shape, jax.sharding.NamedSharding(mesh, sp), lambda i: host[i])

    return tuple(jax.tree.map(lambda a, sp=sp: put(a, sp), arg) for arg, sp in zip(args, specs))


class LoopClock:
    """Base of the clocks whose batch advances together: a ``while_loop`` per recording
    interval, whose inputs are just the intervals' end times ``[G, S]`` (times of
    :mod:`jaxsim.sim.clocktime`). ``advance(problem, seeds, hp, c, t_end, limit)`` takes at most
    ``limit`` steps and returns ``(c, steps, done)`` (see :func:`bounded_loop`)."""

    independent = False

    def prepare(self, problem, seeds, t_ends):
        return t_ends

    @staticmethod
    def end_time(t_end):
        return t_end


class NextEndClock(LoopClock):
    """A loop clock whose runs each have one pending step, ending at ``c.end`` (an iteration or
    a round in progress): :meth:`advance` applies, batch-wide, every run's step that ends by the
    interval's end until none does. Subclasses define ``step(problem, seed, hp, t_end, c)``, a
    no-op for a run whose step ends after ``t_end``."""

    def advance(self, problem, seeds, hp, c, t_end, limit):
        from . import clocktime as ct

        step = batched(self.step, (None, 0, None, 0, 0), (None, None, 0, None, 0))

        def pending(c):
            return jnp.any(ct.le(c.end, ct.tmap(lambda a: a[:, None], t_end)))

        return bounded_loop(pending, lambda c: step(problem, seeds, hp, t_end, c), c, limit)


def check_events(name: str, events: int, why: str) -> None:
    """Refuse (``ValueError``, before anything is compiled) a run that could see more than
    :data:`EVENT_BUDGET` (and :data:`MAX_EVENTS`) arrivals, iterations or rounds (``why``: the
    sizes behind ``events``)."""
    budget = min(int(EVENT_BUDGET), MAX_EVENTS)
    if events > budget:
        raise ValueError(f"events: a {name} run can see up to {events:,} arrivals ({why}), more than the event "
                         f"budget of {budget:,} per run (jaxsim.sim.driver.EVENT_BUDGET; at most {MAX_EVENTS:,}, "
                         "what its int32 counters hold); shorten the horizon or use larger base times (base_scale)")


def jobs_bound(timing, horizon_time: float, shortest) -> int:
    """The most jobs a run's workers complete in ``[0, horizon_time]``, the largest over seeds:
    worker ``w`` completes at most ``W_w(horizon) / m_w + 1``, ``m_w`` its shortest possible job
    (``shortest``: ``[S, n]`` seconds of work per seed) and ``W_w`` its work (the horizon at fixed
    speed, :meth:`~jaxsim.timing.speed.SpeedProfile.integral` under a speed profile)."""
    work = np.full(timing.n, float(horizon_time)) if timing.speed is None else \
        np.asarray(timing.speed.integral(np.arange(timing.n), float(horizon_time)), np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        jobs = np.floor(work[None, :] / np.asarray(shortest, np.float64)) + 1
    jobs = np.where(work[None, :] > 0, jobs, 1)
    return int(min(np.max(np.sum(jobs, axis=-1)), 2 ** 62)) if np.all(np.isfinite(jobs)) else 2 ** 62


def loop_cap(events: int) -> int:
    """A loop clock's bound on its batch-wide steps for runs of at most ``events`` events each:
    twice that and some (room for rounding at the horizon), at most :data:`MAX_EVENTS`."""
    return int(min(2 * int(events) + 64, MAX_EVENTS))


def time_base(timing, seeds, ctx: SeedContext) -> np.ndarray:
    """float64 ``[S, n]`` base times of each seed's workers, as exact as the clocks' time type
    needs (:func:`jaxsim.sim.clocktime.time_dtype`): ``ctx.tau`` when its float type is at least
    that precise, else drawn again from each seed's key (a float16 model's ``ctx.tau`` is rounded
    to float16)."""
    from . import clocktime as ct

    if np.finfo(np.dtype(ctx.tau.dtype)).bits >= np.finfo(np.dtype(ct.time_dtype())).bits:
        return np.asarray(ctx.tau, np.float64)
    timings = timing if isinstance(timing, (list, tuple)) else [timing] * len(seeds)
    return np.stack([t.base_for(time_key(s)) for t, s in zip(timings, seeds, strict=True)]).astype(np.float64)


def host_time_scale(method, ctx: SeedContext) -> np.ndarray:
    """float64 ``[S, n]`` multiple of the drawn duration each job takes (``Job.time_scale``)."""
    means = np.asarray(ctx.mean, np.float64)
    scales = [method.job.time_scale(m) for m in means]
    return np.stack([np.ones(m.shape) if sc is None else np.asarray(sc, np.float64) for sc, m in zip(scales, means)])


class Setup(NamedTuple):
    """A clock's batch inputs, prepared on the host (see :func:`run_setup`)."""

    clock: Any  # hashable: the compile key with the shapes
    seeds: Any  # per-seed inputs (leading axis S)
    intervals: Any  # per-interval inputs (leading axis G)
    t0: Any  # [S] first recording time
    time: np.ndarray  # [S, G + 1] recording times
    per_run_bytes: int  # a run's transient memory besides its state (job results, gradients of a step)
    info: dict
    per_seed_bytes: int = 0  # a seed's memory besides its inputs (e.g. the events' pre-drawn noise)
    max_steps: Any = None  # a loop clock's bound on a batch's loop steps (see :func:`check_events`)


def seed_context(timing, seed: int, dtype) -> SeedContext:
    """Base times, mean durations, speed ranks and the method key of one seed's workers."""
    key = time_key(seed)
    tau = timing.base_for(key)
    mean = tau + timing.noise.mean(tau)
    rank = np.empty(timing.n, np.int32)
    rank[np.lexsort((np.arange(timing.n), mean))] = np.arange(timing.n)
    return SeedContext(tau=jnp.asarray(tau, dtype), mean=jnp.asarray(mean, dtype), rank=jnp.asarray(rank),
                       key=method_key(seed))


def stack_contexts(timing, seeds, dtype) -> SeedContext:
    """Per-seed worker facts, stacked; ``timing`` is one model or one per seed. One model whose
    base times are not permuted gives every seed the same facts: they are built once (thousands
    of seeds cost one context, not thousands of eager draws and a stack of as many operands)."""
    if not isinstance(timing, (list, tuple)) and not timing.permute_base:
        one, S = seed_context(timing, seeds[0], dtype), len(seeds)
        return SeedContext(tau=jnp.broadcast_to(one.tau, (S,) + one.tau.shape),
                           mean=jnp.broadcast_to(one.mean, (S,) + one.mean.shape),
                           rank=jnp.broadcast_to(one.rank, (S,) + one.rank.shape), key=method_keys(seeds))
    timings = timing if isinstance(timing, (list, tuple)) else [timing] * len(seeds)
    ctxs = [seed_context(t, s, dtype) for t, s in zip(timings, seeds, strict=True)]
    return jax.tree.map(lambda *a: jnp.stack(a), *ctxs)


def job_steps(method, ctx: SeedContext) -> jax.Array:
    """int32[S, n] local steps per job of each seed's workers (1 unless the job runs several)."""
    means = np.asarray(ctx.mean, np.float64)
    steps = [method.job.steps(m) for m in means]
    return jnp.asarray(np.stack([np.ones(m.shape, np.int32) if s is None else s for s, m in zip(steps, means)]))


def job_time_scale(method, ctx: SeedContext, dtype) -> jax.Array:
    """[S, n] multiple of the drawn duration each job of each seed's workers takes
    (``Job.time_scale``: local steps, a pair job's cost; 1 for one gradient)."""
    means = np.asarray(ctx.mean, np.float64)
    scales = [method.job.time_scale(m) for m in means]
    return jnp.asarray(np.stack([np.ones(m.shape) if s is None else s for s, m in zip(scales, means)]), dtype)


def state_bytes(method, problem, hp: dict, ctx: SeedContext, timing) -> int:
    """Bytes of one run's method state (tables of per-worker gradients can dominate)."""
    one_hp = {k: v[0] for k, v in hp.items()}
    one_ctx = jax.tree.map(lambda a: a[0], ctx)
    shapes = jax.eval_shape(lambda h, c: method.init(problem.init(), h, c, timing), one_hp, one_ctx)
    return int(sum(np.prod(s.shape) * np.dtype(s.dtype).itemsize for s in jax.tree.leaves(shapes)))


def hp_arrays(method, settings: list[dict], dtype) -> dict:
    """Settings as traced arrays: counts int32, the rest in the run's float dtype."""
    out = {}
    for name, spec in method.hparams.items():
        vals = np.array([s[name] for s in settings])
        out[name] = jnp.asarray(vals, jnp.int32 if spec.kind == "count" else dtype)
    return out


def _itemsize(dtype) -> int:
    if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):  # a typed key: its words of uint32
        try:
            return 4 * math.prod(dtype._impl.key_shape)
        except AttributeError:
            return 16
    return np.dtype(dtype).itemsize


def tree_bytes(tree) -> int:
    """Bytes of the arrays (or shape structs) of a pytree (typed PRNG keys included)."""
    return int(sum(math.prod(np.shape(a)) * _itemsize(a.dtype) for a in jax.tree.leaves(tree)))


class Memory(NamedTuple):
    """Estimated bytes of a batch: ``fixed + s * per_seed + s * p * per_run`` for ``s`` seeds x
    ``p`` settings (see :func:`memory_estimate`)."""

    per_run: int  # two copies of a run's state (a loop's carry in and out), its metrics, transients
    per_seed: int  # a seed's inputs: event tensors, pre-drawn noise, worker facts, keys
    fixed: int  # shared by every run: the problem's arrays and x^0
    state: int  # one run's state: model, point store, optimizer and method state, per-worker vectors

    def batch(self, s: int, p: int) -> int:
        return self.fixed + s * self.per_seed + s * p * self.per_run


def memory_estimate(setup: Setup, problem, x0, hp: dict) -> Memory:
    """The memory of ``setup``'s batches, from the exact shapes of one run's state
    (``jax.eval_shape`` of the clock's ``init``: nothing is allocated or compiled)."""
    S = setup.time.shape[0]
    G = setup.time.shape[1] - 1
    seed0 = jax.tree.map(lambda a: a[0], setup.seeds)
    hp0 = {k: v[0] for k, v in hp.items()}
    state = tree_bytes(jax.eval_shape(lambda s, h, x: setup.clock.init(problem, s, h, x), seed0, hp0, x0))
    per_run = 2 * state + (G + 1) * METRIC_BYTES_PER_POINT + int(setup.per_run_bytes)
    per_seed = -(-tree_bytes((setup.seeds, setup.intervals, setup.t0)) // S) + int(setup.per_seed_bytes)
    return Memory(per_run=per_run, per_seed=per_seed, fixed=tree_bytes(problem) + tree_bytes(x0), state=state)


class BatchPlan(NamedTuple):
    """How ``S`` seeds x ``P`` settings run: ``len(seed_groups) x len(chunks)`` calls of one
    compiled kernel of ``seeds_per_batch x settings_per_batch`` runs."""

    chunks: list  # settings of each batch, padded with copies of its last setting
    real: list  # real settings in each chunk (the rest is padding)
    seed_groups: list  # seed indices of each batch, padded with copies of the group's last seed
    seeds_real: list  # real seeds in each group
    settings_per_batch: int
    seeds_per_batch: int
    bytes_per_batch: int  # the estimate of one batch (of one device's part when sharded)
    mesh: tuple = (1, 1)  # devices over (seeds, settings) of a batch

    @property
    def num_batches(self) -> int:
        return len(self.chunks) * len(self.seed_groups)

    @property
    def padding(self) -> float:
        """Fraction of the computed runs that are padding."""
        real = sum(self.real) * sum(self.seeds_real)
        return 1.0 - real / (self.num_batches * self.settings_per_batch * self.seeds_per_batch)


def _split(items: list, n: int, size: int):
    """``items`` in ``n`` contiguous parts of balanced lengths, each padded to ``size`` with
    copies of its last item; returns ``(parts, real lengths)``."""
    base, extra = divmod(len(items), n)
    parts, real, i = [], [], 0
    for g in range(n):
        k = base + (g < extra)
        part = list(items[i:i + k])
        i += k
        parts.append(part + [part[-1]] * (size - k))
        real.append(k)
    return parts, real


def _count(total: int, cap: int, q: int) -> int:
    """How many batches of at most ``cap`` items (at least ``q`` each, padding included) carry
    ``total`` items with the least padding (ties: fewer batches). Balanced batches of
    ``ceil(total / k)`` pad fewer than ``k`` items; trying up to twice the fewest batches
    keeps the padding small whatever the cap."""
    k_min = math.ceil(total / cap)
    return min(range(k_min, max(k_min, min(2 * k_min, total)) + 1),
               key=lambda k: (k * max(math.ceil(total / k), q) - total, k))


def batches(settings: list, per_run_bytes: int, S: int, batch_size, memory_budget, *, per_seed_bytes: int = 0,
            fixed_bytes: int = 0, describe: str = "", mesh: tuple = (1, 1)) -> BatchPlan:
    """Plan the batches of ``S`` seeds x ``settings`` under ``memory_budget`` bytes (a batch of
    ``s`` seeds x ``p`` settings is estimated at ``fixed + s * per_seed + s * p * per_run``).

    Every batch has the same shape (one compilation) and at least :data:`MIN_AXIS` seeds and
    settings (padded with copies). All seeds share a batch unless ``MIN_AXIS`` settings of all
    of them do not fit (then the seeds are split too); the number of batches is the fewest
    that fit (and at most ``batch_size`` settings each), adjusted to pad as little as
    possible; the settings are then split evenly, so the padding is less than one run per
    batch. Raises ``ValueError`` before anything is allocated or compiled when a single run
    does not fit (``describe`` names the sizes).

    ``mesh = (ds, dp)``: a batch is sharded over ``ds x dp`` devices, its seeds over ``ds`` and
    its settings over ``dp`` (see :func:`mesh_shape`). The budget, the ``MIN_AXIS`` floor and the
    estimate are then per device: each device runs a local batch of ``s x p`` runs, and a batch
    has ``ds * s`` seeds and ``dp * p`` settings (``batch_size`` caps the settings of a whole batch)."""
    P = len(settings)
    budget = float(default_memory_budget() if memory_budget is None else memory_budget)

    def need(s, p):
        return fixed_bytes + s * per_seed_bytes + s * p * per_run_bytes

    for q in (MIN_AXIS, 1):
        if need(q, q) <= budget:
            break
    else:
        raise ValueError(
            f"memory: one run needs an estimated {fmt_bytes(need(1, 1))} (per run {fmt_bytes(per_run_bytes)}, "
            f"per seed {fmt_bytes(per_seed_bytes)}, shared {fmt_bytes(fixed_bytes)}"
            f"{'; ' + describe if describe else ''}), more than the memory budget of {fmt_bytes(budget)}: "
            "reduce the sizes (or raise memory_budget if the device has more)")
    if q < MIN_AXIS:
        warnings.warn(f"memory: a batch of {MIN_AXIS} seeds x {MIN_AXIS} settings ({fmt_bytes(need(q + 1, q + 1))}) "
                      f"exceeds the memory budget of {fmt_bytes(budget)}; running one run per batch, whose results "
                      "may differ by rounding from the same run in a larger batch", stacklevel=3)
    ds, dp = mesh
    S_loc, P_loc = math.ceil(S / ds), math.ceil(P / dp)  # per device, in one batch
    s_fit = int((budget - fixed_bytes) // (per_seed_bytes + q * per_run_bytes))
    n_groups = _count(S_loc, min(S_loc, s_fit), q) if S_loc > s_fit else 1
    s_b = max(math.ceil(S_loc / n_groups), q)
    p_fit = int((budget - fixed_bytes - s_b * per_seed_bytes) // (s_b * per_run_bytes))
    cap = max(1, min(P_loc, p_fit, P_loc if batch_size is None else math.ceil(int(batch_size) / dp)))
    n_chunks = _count(P_loc, cap, q)
    p_b = max(math.ceil(P_loc / n_chunks), q)
    chunks, real = _split(list(settings), n_chunks, dp * p_b)
    groups, seeds_real = _split(list(range(S)), n_groups, ds * s_b)
    return BatchPlan(chunks=chunks, real=real, seed_groups=groups, seeds_real=seeds_real,
                     settings_per_batch=dp * p_b, seeds_per_batch=ds * s_b, bytes_per_batch=int(need(s_b, p_b)),
                     mesh=(ds, dp))


def seed_inputs(setup: Setup, idx):
    """``(seeds, intervals, t0)`` of ``setup`` for the seeds ``idx`` (indices, repeats allowed)."""
    idx = np.asarray(idx)
    seeds = jax.tree.map(lambda a: a[idx], setup.seeds)
    if setup.clock.independent:  # intervals [S, G, ...]
        intervals = jax.tree.map(lambda a: a[idx], setup.intervals)
    else:  # intervals [G, S]
        intervals = jax.tree.map(lambda a: a[:, idx], setup.intervals)
    return seeds, intervals, jax.tree.map(lambda a: a[idx], setup.t0)


def describe_sizes(setup: Setup, method, problem, mem: Memory) -> str:
    """The sizes behind a memory estimate, for error messages."""
    info = setup.info
    n = int(np.shape(setup.seeds.ctx.tau)[-1])
    parts = [f"{method.name}: n={n} workers, d={problem.dim}"]
    if "window" in info:
        parts.append(f"point store W={info['window']} x d ({info.get('store', 'ring')})")
    if "events_per_seed" in info:
        parts.append(f"up to {max(info['events_per_seed'])} events per seed in {setup.time.shape[1] - 1} "
                     f"chunks of {info.get('chunk')}")
    if "slots" in info:
        parts.append(f"{info['slots']} gradient slots per iteration")
    parts.append(f"state {fmt_bytes(mem.state)} per run")
    return ", ".join(parts)


def cost_group_size(method, settings: list) -> int | None:
    """Settings per batch for a clock whose batch steps together (a loop runs as many steps as
    its busiest run needs): the largest group of settings sharing a cost key (e.g. Ringmaster's
    ``R``: the stepsizes of one threshold see the same events), so a batch does not make runs of
    a cheap key wait on a costly one. ``None`` (no cap) when every setting has the same key."""
    sizes = collections.Counter(method.cost_key(s) for s in settings)
    return None if len(sizes) == 1 else max(sizes.values())


def run_setup(setup: Setup, method, problem, settings, *, batch_size=None, memory_budget=None, progress=False,
              dtype=None, checkpoint=None, devices=None):
    """The one batch runner: every clock's settings in equal-size batches, grouped by the
    method's cost key (an in-scan loop runs as many steps as its busiest run needs).
    Returns ``(metrics [S, P, G + 1] in the caller's order, info)``.

    Batches are planned by :func:`batches` from :func:`memory_estimate` before anything is
    compiled: they fit ``memory_budget`` bytes (``None``: what the device has,
    :func:`jaxsim.runtime.memory.default_memory_budget`), and a run that cannot fit raises
    ``ValueError`` naming the sizes. ``info`` reports the plan (``batch_size`` settings x
    ``seeds_per_batch`` seeds per call, ``batches`` calls, ``padded_runs``) and the estimate
    in bytes (``memory_per_batch``, ``memory_budget`` and the parts ``memory_per_run``,
    ``memory_per_seed``, ``memory_shared``: see :class:`Memory`). A clock whose batch steps
    together gets batches of at most one cost group (:func:`cost_group_size`) unless
    ``batch_size`` is given.

    ``checkpoint`` (a directory or a :class:`~jaxsim.runtime.checkpoint.Checkpoint`): each finished
    batch is saved there atomically under a hash of its configuration, and batches already
    there are loaded instead of computed (``info["batches_loaded"]`` /
    ``info["batches_computed"]``: batch indices); another configuration's directory is refused.

    ``devices`` (see :func:`resolve_devices`; default: all of the default backend's): with more
    than one, each batch is sharded over a ``("seed", "setting")`` mesh of them
    (:func:`mesh_shape`, :data:`run_batch`), padded with masked copies to a multiple of the
    mesh; ``memory_budget`` is then per device. A run's numbers do not depend on the devices."""
    order = sorted(range(len(settings)), key=lambda i: method.cost_key(settings[i]))  # stable
    S = setup.time.shape[0]
    devs = resolve_devices(devices)
    budget = default_memory_budget(devs) if memory_budget is None else memory_budget
    # sized from shapes: the starting point is built only once the plan fits the budget
    mem = memory_estimate(setup, problem, jax.eval_shape(problem.init), hp_arrays(method, list(settings)[:1], dtype))
    shape = mesh_shape(S, len(settings), len(devs))
    if batch_size is None and not setup.clock.independent:
        batch_size = cost_group_size(method, settings)
    plan = batches([settings[i] for i in order], mem.per_run, S, batch_size, budget, per_seed_bytes=mem.per_seed,
                   fixed_bytes=mem.fixed, describe=describe_sizes(setup, method, problem, mem), mesh=shape)
    x0 = jnp.asarray(problem.init())  # a run-time input of the kernel, never a foldable literal
    mesh = make_mesh(devs, shape) if len(devs) > 1 else None
    ckpt = as_checkpoint(checkpoint)
    if ckpt is not None:
        ckpt.open(config_components(setup, problem, settings, dtype))
    work = [(g, c) for g in range(len(plan.seed_groups)) for c in range(len(plan.chunks))]
    outs, t_first, loaded, computed = {}, None, [], []
    inputs = None
    bar = ProgressBar(S * len(settings), method.name, progress)
    for b, (g, c) in enumerate(work):
        tb = time.perf_counter()
        hp = hp_arrays(method, plan.chunks[c], dtype)
        rs, rp = plan.seeds_real[g], plan.real[c]
        key = None if ckpt is None else ckpt.key(hp if len(plan.seed_groups) == 1 else
                                                 dict(hp, seed_group=np.asarray(plan.seed_groups[g])))
        out = None if ckpt is None else ckpt.load(key)
        if out is not None:
            outs[g, c] = out
            loaded.append(b)
            bar.update(outs[g, c])
            continue
        if inputs is None or inputs[0] != g:
            whole = plan.seed_groups[g] == list(range(S))
            inputs = (g, (setup.seeds, setup.intervals, setup.t0) if whole else seed_inputs(setup, plan.seed_groups[g]))
        args = (problem, inputs[1][0], hp, inputs[1][1], inputs[1][2], x0)
        if mesh is not None:
            args = _global_inputs(mesh, args, setup.clock)
        out = run_batch(setup.clock, *args, max_steps=setup.max_steps, mesh=mesh)
        outs[g, c] = {k: np.asarray(v)[:rs, :rp] for k, v in out.items()}  # padded runs dropped
        if ckpt is not None:
            ckpt.save(key, b, outs[g, c])
        computed.append(b)
        t_first = t_first or (time.perf_counter() - tb)
        bar.update(outs[g, c])
    bar.close()
    back = np.argsort(order)
    keys = outs[0, 0].keys()
    metrics = {k: np.concatenate([np.concatenate([outs[g, c][k] for c in range(len(plan.chunks))], axis=1)
                                  for g in range(len(plan.seed_groups))], axis=0)[:, back] for k in keys}
    info = dict(setup.info, batch_size=plan.settings_per_batch, seeds_per_batch=plan.seeds_per_batch,
                batches=plan.num_batches, padded_runs=plan.num_batches * plan.settings_per_batch * plan.seeds_per_batch
                - S * len(settings), memory_per_batch=plan.bytes_per_batch, memory_budget=int(budget),
                memory_per_run=mem.per_run, memory_per_seed=mem.per_seed, memory_shared=mem.fixed,
                seconds_first_batch=t_first, devices=len(devs), mesh=list(plan.mesh))
    if ckpt is not None:
        info.update(checkpoint_dir=str(ckpt.dir), config_hash=ckpt.config_hash, batches_loaded=loaded,
                    batches_computed=computed)
    return metrics, info


class ProgressBar:
    """A tqdm bar over a sweep's runs, advanced per batch: runs done, run-events per second
    (gradients received, summed over the batch's runs, per wall second) and the ETA. A no-op
    when disabled (the library's default; the CLI enables it when stderr is a terminal)."""

    def __init__(self, runs: int, desc: str, enabled: bool):
        self.bar, self.events, self.t0 = None, 0, time.perf_counter()
        if enabled:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=runs, desc=desc, unit="run", dynamic_ncols=True)

    def update(self, out: dict) -> None:
        if self.bar is None:
            return
        received = out.get("received")
        runs = int(np.prod(np.shape(received)[:2])) if received is not None else 0
        if received is not None:
            self.events += int(np.asarray(received)[..., -1].astype(np.int64).sum())
        rate = self.events / max(time.perf_counter() - self.t0, 1e-9)
        self.bar.set_postfix_str(f"{rate:.3g} run-events/s", refresh=False)
        self.bar.update(runs)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


__all__ = ["EVENT_BUDGET", "MAX_EVENTS", "MIN_AXIS", "BatchPlan", "LoopClock", "Memory", "NextEndClock", "Setup",
           "batched", "batches", "bounded_loop", "check_events", "describe_sizes", "host_time_scale", "hp_arrays",
           "job_steps", "job_time_scale", "jobs_bound", "loop_cap", "make_mesh", "memory_estimate", "mesh_shape",
           "ProgressBar", "resolve_devices", "run_batch", "run_setup", "seed_context", "seed_inputs", "stack_contexts",
           "state_bytes", "time_base", "tree_bytes"]
