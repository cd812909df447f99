"""What a clock hands the kernel, prepared on the host: :class:`Setup`, the loop clocks' bases
and the small helpers every clock's ``setup`` shares.

* :class:`Setup` -- a clock's batch inputs (per seed, per recording interval), its sizes and
  its loop bound.
* :class:`LoopClock`, :class:`NextEndClock` -- bases of the clocks whose batch advances
  together (controlled, allocation, rounds).
* Per-seed worker facts (:func:`stack_contexts`), per-job steps and time scales
  (:func:`job_steps`, :func:`host_time_scale`), exact base times (:func:`time_base`),
  settings as traced arrays (:func:`hp_arrays`).
* Event bounds, fixed before compiling: :func:`jobs_bound`, :func:`loop_cap`, and
  :func:`check_events`, which refuses a run past :data:`EVENT_BUDGET`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..methods.base import SeedContext
from ..runtime.rng import method_key, method_keys, time_key
from .kernel import MAX_EVENTS, batched, bounded_loop


#: The most arrivals (iterations, rounds) a loop clock's run may be *able* to see, bounded before
#: compiling from the horizon and the shortest possible durations (:func:`check_events`): a run
#: past it is refused, as a stream too large for memory is. Raise it (up to
#: :data:`~jaxsim.sim.kernel.MAX_EVENTS`) for longer runs: Ctrl-C stops any run between two
#: segments of its loop.
EVENT_BUDGET = 10 ** 9


class Setup(NamedTuple):
    """A clock's batch inputs, prepared on the host (see :func:`~jaxsim.sim.runner.run_setup`)."""

    clock: Any  # hashable: the compile key with the shapes
    seeds: Any  # per-seed inputs (leading axis S)
    intervals: Any  # per-interval inputs (leading axis G)
    t0: Any  # [S] first recording time
    time: np.ndarray  # [S, G + 1] recording times
    per_run_bytes: int  # a run's transient memory besides its state (job results, gradients of a step)
    info: dict
    per_seed_bytes: int = 0  # a seed's memory besides its inputs (e.g. the events' pre-drawn noise)
    max_steps: Any = None  # a loop clock's bound on a batch's loop steps (see :func:`check_events`)


class LoopClock:
    """Base of the clocks whose batch advances together: a ``while_loop`` per recording
    interval, whose inputs are just the intervals' end times ``[G, S]`` (times of
    :mod:`jaxsim.sim.clocktime`). ``advance(problem, seeds, hp, c, t_end, limit)`` takes at most
    ``limit`` steps and returns ``(c, steps, done)`` (see :func:`~jaxsim.sim.kernel.bounded_loop`)."""

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
    :data:`EVENT_BUDGET` (and :data:`~jaxsim.sim.kernel.MAX_EVENTS`) arrivals, iterations or
    rounds (``why``: the sizes behind ``events``)."""
    budget = min(int(EVENT_BUDGET), MAX_EVENTS)
    if events > budget:
        raise ValueError(f"events: a {name} run can see up to {events:,} arrivals ({why}), more than the event "
                         f"budget of {budget:,} per run (jaxsim.sim.setup.EVENT_BUDGET; at most {MAX_EVENTS:,}, "
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
    twice that and some (room for rounding at the horizon), at most
    :data:`~jaxsim.sim.kernel.MAX_EVENTS`."""
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


def time_grid(horizon_time: float, num_points: int, S: int, split: bool):
    """A loop clock's recording times: ``(intervals [G, S], t0 [S], time [S, G + 1])``, the first
    two as times of :mod:`~jaxsim.sim.clocktime` (``split``: two float32 parts)."""
    from . import clocktime as ct

    times = np.tile(np.linspace(0.0, horizon_time, num_points + 1), (S, 1))
    return ct.host(times[:, 1:].T, split), ct.host(times[:, 0], split), times


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


def hp_arrays(method, settings: list[dict], dtype) -> dict:
    """Settings as traced arrays: counts int32, the rest in the run's float dtype."""
    out = {}
    for name, spec in method.hparams.items():
        vals = np.array([s[name] for s in settings])
        out[name] = jnp.asarray(vals, jnp.int32 if spec.kind == "count" else dtype)
    return out


__all__ = ["EVENT_BUDGET", "LoopClock", "NextEndClock", "Setup", "check_events", "host_time_scale", "hp_arrays",
           "job_steps", "jobs_bound", "loop_cap", "seed_context", "stack_contexts", "time_base", "time_grid"]
