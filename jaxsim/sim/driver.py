"""One driver for every clock: ``jit`` of a scan over recording intervals of batched runs.

A batch is ``S`` seeds x ``P`` settings. A clock supplies per-run ``init`` and ``record``
(the driver vmaps them over settings inside a vmap over seeds) and ``advance``, which
moves runs to the end of one recording interval: per run for a clock of independent
runs (a scan over the interval's pre-sampled events), or for the whole batch (a
``while_loop`` whose condition is one boolean for the batch). Metrics come back as
``[S, P, G + 1]`` (point 0 = the start).
"""

from __future__ import annotations

import functools
import math
import time
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..methods.base import SeedContext
from ..rng import method_key, time_key


def batched(f, seed_axes, hp_axes):
    """``f`` vmapped over settings (``hp_axes``) inside a vmap over seeds (``seed_axes``)."""
    return jax.vmap(jax.vmap(f, in_axes=hp_axes), in_axes=seed_axes)


@functools.partial(jax.jit, static_argnames=("clock",))
def run_batch(clock, problem, seeds, hp, intervals, t0):
    """Simulate a batch: ``seeds`` (leaves with leading axis ``S``), ``hp`` (leaves with
    leading axis ``P``), ``intervals`` (the clock's per-interval inputs: leading axes ``[S, G]`` for a clock of
    independent runs, ``[G]`` then ``S`` otherwise),
    ``t0[S]`` the first recording time. Returns metrics ``[S, P, G + 1]``.

    A clock whose runs advance independently (``clock.independent``: pre-sampled events)
    is vmapped whole, one scan per run; the others advance the batch together (their
    ``advance`` loops until no run has an event left in the interval)."""
    intervals = clock.prepare(problem, seeds, intervals)
    if clock.independent:
        def one(seed, hp, iv, t0):
            c0 = clock.init(problem, seed, hp)

            def interval(c, xs):
                c = clock.advance(problem, seed, hp, c, xs)
                return c, clock.record(problem, seed, hp, c, clock.end_time(xs))

            _, recs = jax.lax.scan(interval, c0, iv)
            first = clock.record(problem, seed, hp, c0, t0)
            return jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), first, recs)

        return batched(one, (0, None, 0, 0), (None, 0, None, None))(seeds, hp, intervals, t0)

    c0 = batched(clock.init, (None, 0, None), (None, None, 0))(problem, seeds, hp)
    record = batched(clock.record, (None, 0, None, 0, 0), (None, None, 0, 0, None))

    def interval(c, xs):
        c = clock.advance(problem, seeds, hp, c, xs)
        return c, record(problem, seeds, hp, c, clock.end_time(xs))

    _, recs = jax.lax.scan(interval, c0, intervals)
    first = record(problem, seeds, hp, c0, t0)
    return jax.tree.map(lambda a, b: jnp.concatenate([a[..., None], jnp.moveaxis(b, 0, -1)], axis=-1), first, recs)


class LoopClock:
    """Base of the clocks whose batch advances together: a ``while_loop`` per recording
    interval, whose inputs are just the intervals' end times ``[G, S]``."""

    independent = False

    def prepare(self, problem, seeds, t_ends):
        return t_ends

    @staticmethod
    def end_time(t_end):
        return t_end


class Setup(NamedTuple):
    """A clock's batch inputs, prepared on the host (see :func:`run_setup`)."""

    clock: Any  # hashable: the compile key with the shapes
    seeds: Any  # per-seed inputs (leading axis S)
    intervals: Any  # per-interval inputs (leading axis G)
    t0: Any  # [S] first recording time
    time: np.ndarray  # [S, G + 1] recording times
    per_run_bytes: int  # memory of one run (state, store, method tables)
    info: dict


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
    """Per-seed worker facts, stacked; ``timing`` is one model or one per seed."""
    timings = timing if isinstance(timing, (list, tuple)) else [timing] * len(seeds)
    ctxs = [seed_context(t, s, dtype) for t, s in zip(timings, seeds, strict=True)]
    return jax.tree.map(lambda *a: jnp.stack(a), *ctxs)


def job_steps(method, ctx: SeedContext) -> jax.Array:
    """int32[S, n] local steps per job of each seed's workers (1 unless the job runs several)."""
    means = np.asarray(ctx.mean, np.float64)
    steps = [method.job.steps(m) for m in means]
    return jnp.asarray(np.stack([np.ones(m.shape, np.int32) if s is None else s for s, m in zip(steps, means)]))


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


def batches(settings: list, per_run_bytes: int, S: int, batch_size, memory_budget):
    """Equal-size batches of settings (the last padded with copies): one compilation."""
    P = len(settings)
    if batch_size is None:
        batch_size = max(1, int(memory_budget // (per_run_bytes * S)))
    batch_size = int(min(batch_size, P))
    n_batches = math.ceil(P / batch_size)
    padded = list(settings) + [settings[-1]] * (n_batches * batch_size - P)
    return [padded[b * batch_size:(b + 1) * batch_size] for b in range(n_batches)], batch_size


def run_setup(setup: Setup, method, problem, settings, *, batch_size=None, memory_budget: int, progress=False,
              dtype=None):
    """The one batch runner: every clock's settings in equal-size batches, grouped by the
    method's cost key (an in-scan loop runs as many steps as its busiest run needs).
    Returns ``(metrics [S, P, G + 1] in the caller's order, info)``."""
    order = sorted(range(len(settings)), key=lambda i: method.cost_key(settings[i]))  # stable
    S = setup.time.shape[0]
    chunks, batch_size = batches([settings[i] for i in order], setup.per_run_bytes, S, batch_size, memory_budget)
    outs, t_first = [], None
    for chunk in progress_bar(chunks, method.name, progress):
        tb = time.perf_counter()
        out = run_batch(setup.clock, problem, setup.seeds, hp_arrays(method, chunk, dtype), setup.intervals, setup.t0)
        outs.append(jax.tree.map(np.asarray, out))
        t_first = t_first or (time.perf_counter() - tb)
    back = np.argsort(order)
    metrics = {k: np.concatenate([o[k] for o in outs], axis=1)[:, :len(settings)][:, back] for k in outs[0]}
    return metrics, dict(setup.info, batch_size=batch_size, batches=len(chunks), seconds_first_batch=t_first)


def progress_bar(items, desc: str, enabled: bool):
    if enabled:
        from tqdm import tqdm
        return tqdm(items, desc=desc)
    return items


__all__ = ["LoopClock", "Setup", "batched", "batches", "hp_arrays", "job_steps", "progress_bar", "run_batch",
           "run_setup", "seed_context", "stack_contexts", "state_bytes"]
