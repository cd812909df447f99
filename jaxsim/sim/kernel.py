"""The compiled kernel every clock runs: a loop over recording intervals of batched runs, in segments.

A batch is ``S`` seeds x ``P`` settings. A clock supplies per-run ``init`` and ``record``
(the kernel vmaps them over settings inside a vmap over seeds) and ``advance``, which
moves runs towards the end of one recording interval: per run for a clock of independent
runs (a scan over a piece of the interval's pre-sampled events), or for the whole batch (a
``while_loop`` whose condition is one boolean for the batch, at most a given number of steps:
:func:`bounded_loop`). Metrics come back as ``[S, P, G + 1]`` (point 0 = the start).

The loop runs in segments of about :data:`SEGMENT_SECONDS`, each one call of one compiled
kernel that carries the batch's state (:data:`run_batch`): the host sees Ctrl-C between two,
and the numbers do not depend on where the segments end. With several devices the same
kernels run sharded over a ``("seed", "setting")`` mesh (:func:`_sharded_kernels`). What a
batch holds and how many there are is :mod:`jaxsim.sim.plan`'s business; running them,
:mod:`jaxsim.sim.runner`'s.
"""

from __future__ import annotations

import functools
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec


def batched(f, seed_axes, hp_axes):
    """``f`` vmapped over settings (``hp_axes``) inside a vmap over seeds (``seed_axes``)."""
    return jax.vmap(jax.vmap(f, in_axes=hp_axes), in_axes=seed_axes)


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


def _in_specs(clock) -> tuple:
    """How :func:`run_batch`'s inputs ``(problem, seeds, hp, intervals, t0, x0)`` lie on the mesh."""
    spec = PartitionSpec
    iv = spec("seed") if clock.independent else spec(None, "seed")  # loop clocks: intervals [G, S]
    return spec(), spec("seed"), spec("setting"), iv, spec("seed"), spec()


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
    done)``, ``done`` when nothing is pending (a loop clock's ``advance``; the kernel gives each
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

    ``x0``: the starting point, ``problem.init()`` computed outside the kernel (:func:`~jaxsim.sim.runner.run_setup`
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
    durations: see :func:`~jaxsim.sim.setup.check_events`); reaching it with events left raises ``RuntimeError``.
    ``mesh``: shard the batch over it (:func:`~jaxsim.sim.plan.make_mesh`; the inputs laid out by
    :func:`global_inputs`).

    ``on_segment``: called after each segment (the host has its results then, so this costs no
    wait) as ``on_segment(done, recorded, received)``: ``done`` the fraction of the batch's loop
    units taken (pieces of recording intervals for a clock of independent runs, recording
    intervals otherwise), ``recorded`` the recording intervals every run has finished,
    ``received`` the metric ``received`` (``[S, P]``, NumPy) at the last of them, or ``None`` (no
    interval finished, no such metric, or a batch spread over several processes). It only reads:
    the numbers do not depend on it. :mod:`jaxsim.sim.runner`'s progress bar is one.

    ``run_batch.lower(...)`` lowers the kernel that builds a batch's state (for inspection),
    ``run_batch.memory(...)`` gives both kernels' compiled memory statistics;
    ``run_batch.clear_cache()`` drops the compiled kernels."""

    def __call__(self, clock, problem, seeds, hp, intervals, t0, x0=None, *, max_steps=None, mesh=None,
                 first_segment=None, on_segment=None):
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
            if on_segment is not None:
                _report(on_segment, clock, recs, int(np.min(u)), units, units // _intervals_count(clock, iv))
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

    def memory(self, clock, problem, seeds, hp, intervals, t0, x0=None) -> dict:
        """XLA's compiled memory statistics of a one-device batch's two kernels (``{"start": ...,
        "segment": ...}``, ``Compiled.memory_analysis()``; ``None`` where the backend has none):
        read from JAX's cache after a batch of the same shapes ran, compiled otherwise. For
        inspection (``jaxsim bench``); nothing runs."""
        iv, _, c, recs = jax.eval_shape(functools.partial(_start, clock), problem, seeds, hp, intervals, t0, x0)
        seg = _segment.lower(clock, problem, seeds, hp, iv, c, recs, jax.ShapeDtypeStruct((1, 1), jnp.int32),
                             jax.ShapeDtypeStruct((), jnp.int32))
        return {"start": self.lower(clock, problem, seeds, hp, intervals, t0, x0).compile().memory_analysis(),
                "segment": seg.compile().memory_analysis()}

    def clear_cache(self):
        _start.clear_cache()
        _segment.clear_cache()
        _sharded_kernels.cache_clear()


def _report(on_segment, clock, recs, u: int, units: int, per_interval: int) -> None:
    """Call ``on_segment`` after a segment that left every run at unit ``u`` of ``units``."""
    recorded = u // per_interval
    received = recs.get("received") if isinstance(recs, dict) else None
    if received is None or recorded < 1 or not getattr(received, "is_fully_addressable", True):
        on_segment(u / units, recorded, None)
        return
    # a copy of one recorded row, made before the next segment takes ``recs`` over (donated)
    on_segment(u / units, recorded, np.asarray(received[recorded - 1]))


def _host_input(mesh, value):
    """A small host value for a kernel on ``mesh`` (a global array when there are several processes)."""
    if mesh is None or jax.process_count() == 1:
        return value
    host = np.asarray(value)
    sp = PartitionSpec("seed", "setting") if host.ndim == 2 else PartitionSpec()
    return jax.make_array_from_callback(host.shape, jax.sharding.NamedSharding(mesh, sp), lambda i: host[i])


#: The one batch runner (see :class:`_BatchRunner`).
run_batch = _BatchRunner()


def global_inputs(mesh: Mesh, args: tuple, clock) -> tuple:
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


__all__ = ["FIRST_WORK", "MAX_EVENTS", "PIECE_WORK", "SEGMENT_SECONDS", "batched", "bounded_loop", "global_inputs",
           "run_batch"]
