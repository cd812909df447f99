"""Event streams: sampled durations turned into a time-sorted order of arrivals.

For *free-running* methods every active worker starts its next job the moment it
reports, so the arrival order depends only on the durations and can be computed
before the simulation: job ``j`` of worker ``w`` finishes at
``sum(D[w, :j+1])``. Events are sorted stably by ``(time, worker)`` (ties go to
the lower worker index, as in a heap ordered by ``(time, worker)``).

The stream is cut into ``num_points`` chunks, one per recording interval, and each
chunk is padded to the same length ``C`` with invalid events, so the engine can
run a ``lax.scan`` over chunks (recording metrics after each) of a ``lax.scan``
over the events in a chunk. With a horizon in seconds, metrics at grid point ``g``
describe the model after every event with ``time <= grid_time[g]``; with a horizon
in events, chunk ``g`` holds events ``ceil((g-1)K/G) .. ceil(gK/G) - 1`` and
``grid_time[g]`` is the time of its last event (events tied with it may fall in
the next chunk).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

import jax
import numpy as np

from ..timing.speed import chained_finish
from ..timing import TimingModel, validate_durations


@dataclasses.dataclass(frozen=True)
class Horizon:
    """How long to simulate: ``time`` in simulated seconds, or a number of ``events``."""

    time: Optional[float] = None
    events: Optional[int] = None

    def __post_init__(self):
        if (self.time is None) == (self.events is None):
            raise ValueError("horizon: give exactly one of time= (seconds) or events= (count)")
        if self.time is not None and not (np.isfinite(self.time) and self.time > 0):
            raise ValueError(f"horizon.time must be positive and finite, got {self.time}")
        if self.events is not None and (not isinstance(self.events, (int, np.integer)) or self.events <= 0):
            raise ValueError(f"horizon.events must be a positive integer, got {self.events!r}")


def as_horizon(h) -> Horizon:
    """Accept a :class:`Horizon`, or a number meaning simulated seconds."""
    if isinstance(h, Horizon):
        return h
    if isinstance(h, (int, float, np.integer, np.floating)) and not isinstance(h, bool):
        return Horizon(time=float(h))
    raise ValueError(f"horizon must be a Horizon or a number of seconds, got {h!r}")


@dataclasses.dataclass(frozen=True)
class EventStream:
    """One seed's free-running arrivals, chunked per recording interval.

    Attributes:
      worker, job: ``int32[G, C]`` who reports and which of its jobs (0-based).
      time: ``float64[G, C]`` arrival time.
      valid: ``bool[G, C]`` false on padding.
      grid_time: ``float64[G + 1]`` recording times; ``grid_time[0] = 0``.
      busy_time: ``float64[G + 1]`` total worker busy time at each grid time.
      max_delay: the largest number of arrivals that happen while one job runs; no
        gradient of this stream can be staler than that.
      n: number of workers (active or not).
      active: ``bool[n]`` the workers that run.
    """

    worker: np.ndarray
    job: np.ndarray
    time: np.ndarray
    valid: np.ndarray
    grid_time: np.ndarray
    busy_time: np.ndarray
    max_delay: int
    n: int
    active: np.ndarray

    @property
    def num_events(self) -> int:
        return int(self.valid.sum())

    @property
    def shape(self):
        return self.worker.shape

    def flat(self):
        """Valid events in processing order as ``(worker, job, time)`` arrays."""
        m = self.valid.reshape(-1)
        return (self.worker.reshape(-1)[m], self.job.reshape(-1)[m], self.time.reshape(-1)[m])

    def padded_chunk(self) -> int:
        """A chunk length ``>= C`` rounded so that streams of other seeds usually share it
        (and with it the compiled kernel); the padding costs at most ~3%."""
        C = self.shape[1]
        q = max(8, (1 << max(C.bit_length() - 1, 0)) // 32)
        return -(-C // q) * q

    def pad_to(self, chunk: int) -> "EventStream":
        """The same stream with chunks padded to length ``chunk`` (for stacking seeds)."""
        G, C = self.shape
        if chunk < C:
            raise ValueError(f"cannot pad chunks of {C} events to {chunk}")
        if chunk == C:
            return self
        pad = ((0, 0), (0, chunk - C))
        return dataclasses.replace(
            self, worker=np.pad(self.worker, pad), job=np.pad(self.job, pad),
            time=np.pad(self.time, pad, constant_values=np.inf), valid=np.pad(self.valid, pad))


def free_running(durations, horizon, num_points: int = 100, active=None,
                 timing: Optional[TimingModel] = None) -> EventStream:
    """Arrivals of free-running workers for the given durations ``D[n, J]``.

    Args:
      durations: job durations per worker (``+inf`` = a job that never ends).
      horizon: a :class:`Horizon` (or seconds).
      num_points: number of recording intervals ``G``.
      active: optional boolean mask of the workers that run at all (others stay idle).
      timing: optional timing model; with a speed profile (README §5.4) job ``j`` of
        worker ``w`` ends at ``timing.finish_np(w, e[w, j-1], D[w, j])`` (``e[w, -1] = 0``)
        instead of ``sum(D[w, :j+1])``.

    Raises ``ValueError`` if the durations do not cover the horizon for some worker.
    """
    D = validate_durations(durations).astype(np.float64)
    horizon = as_horizon(horizon)
    if not isinstance(num_points, (int, np.integer)) or num_points <= 0:
        raise ValueError(f"num_points must be a positive integer, got {num_points!r}")
    n, J = D.shape
    act = np.ones(n, bool) if active is None else np.asarray(active, bool).reshape(-1)
    if act.shape[0] != n:
        raise ValueError(f"active: mask has {act.shape[0]} entries for n={n} workers")
    if not act.any():
        raise ValueError("active: no worker is active")

    if timing is not None and timing.speed is not None:
        if timing.n != n:
            raise ValueError(f"durations: has {n} workers but the timing model has n={timing.n}")
        finish = chained_finish(timing.finish_np, D)  # back to back under time-varying speed
    else:
        finish = np.cumsum(D, axis=1)  # sequential sums, as a heap loop adds them
    covered = finish[:, -1]  # each worker's stream is complete up to this time
    t_cover = float(np.min(covered[act]))

    w_idx, j_idx = np.nonzero(act[:, None] & np.isfinite(finish))
    t = finish[w_idx, j_idx]
    if horizon.time is not None:
        T = horizon.time
        if t_cover < T:
            raise ValueError(
                f"durations: {J} jobs per worker do not cover the horizon of {T} s "
                f"(some active worker finishes its last sampled job at {t_cover:.6g} s)")
        keep = t <= T
    else:
        keep = t <= t_cover
    w_idx, j_idx, t = w_idx[keep], j_idx[keep], t[keep]
    order = np.lexsort((w_idx, t))
    w_idx, j_idx, t = w_idx[order], j_idx[order], t[order]
    if horizon.events is not None:
        K = horizon.events
        if t.shape[0] < K:
            raise ValueError(f"durations: {J} jobs per worker give only {t.shape[0]} complete events, "
                             f"fewer than horizon.events={K}")
        w_idx, j_idx, t = w_idx[:K], j_idx[:K], t[:K]
        T = float(t[-1])

    G = int(num_points)
    grid = np.linspace(0.0, T, G + 1)
    if horizon.time is not None:
        chunk_of = np.searchsorted(grid[1:], t, side="left")
    else:  # equal numbers of events per chunk; grid time = time of the chunk's last event
        K = t.shape[0]
        bounds = np.ceil(np.arange(1, G + 1) * K / G).astype(int)
        chunk_of = np.searchsorted(bounds, np.arange(K), side="right")
        grid = np.concatenate([[0.0], np.where(bounds > 0, t[np.maximum(bounds - 1, 0)], 0.0)])
    chunk_of = np.minimum(chunk_of, G - 1)
    counts = np.bincount(chunk_of, minlength=G)
    C = max(int(counts.max()), 1)
    pos = np.arange(t.shape[0]) - np.concatenate([[0], np.cumsum(counts)[:-1]])[chunk_of]

    def scatter(vals, fill, dtype):
        out = np.full((G, C), fill, dtype=dtype)
        out[chunk_of, pos] = vals
        return out

    return EventStream(
        worker=scatter(w_idx, 0, np.int32),
        job=scatter(j_idx, 0, np.int32),
        time=scatter(t, np.inf, np.float64),
        valid=scatter(True, False, bool),
        grid_time=grid,
        busy_time=act.sum() * grid,  # free-running: every active worker is always busy
        max_delay=_max_delay(w_idx, n),
        n=n,
        active=act,
    )


def _max_delay(worker: np.ndarray, n: int) -> int:
    """Largest number of arrivals between two consecutive arrivals of one worker.

    A job's gradient can be at most that many updates stale (for a first job, the
    count of arrivals before it).
    """
    if worker.size == 0:
        return 0
    idx = np.arange(worker.size)
    order = np.lexsort((idx, worker))
    w_sorted, i_sorted = worker[order], idx[order]
    prev = np.where(np.r_[True, w_sorted[1:] != w_sorted[:-1]], -1, np.r_[-1, i_sorted[:-1]])
    return int(np.max(i_sorted - prev - 1))


def cycle_times(durations, scale=None, comm=None) -> np.ndarray:
    """Each job's time from dispatch to report (float64): ``down + scale * D + up``.

    ``scale``: optional [n] multiple of the drawn duration per job (``Job.time_scale``: a job
    of ``H`` local steps takes ``H`` times it); ``comm``: optional ``[2, n, J]`` download and
    upload seconds."""
    D = np.asarray(durations, dtype=np.float64)
    if scale is not None:
        D = D * np.asarray(scale, dtype=np.float64)[:, None]
    if comm is not None:
        down, up = (np.asarray(c, dtype=np.float64)[:, :D.shape[1]] for c in comm)
        D = down + D + up
    return D


#: Host bytes per sampled job while a stream is built (the duration table, the noise draws,
#: finish times, event indices and their sort; measured 60-80).
SAMPLE_BYTES_PER_JOB = 96


def check_sample_memory(timing: TimingModel, num_jobs: int, memory_budget=None, dtype=None, why: str = "") -> None:
    """Raise ``ValueError`` (before anything is sampled) if building a stream of ``num_jobs``
    jobs per worker would need more host memory than ``memory_budget`` (``None``: the
    default; never more than :func:`jaxsim.runtime.memory.host_memory_budget`)."""
    from ..runtime.memory import default_memory_budget, fmt_bytes, host_memory_budget

    limit = min(float(default_memory_budget() if memory_budget is None else memory_budget), host_memory_budget())
    need = timing.n * num_jobs * SAMPLE_BYTES_PER_JOB
    if need > limit:
        item = np.dtype(dtype or (np.float64 if jax.config.jax_enable_x64 else np.float32)).itemsize
        raise ValueError(
            f"memory: the free-running stream needs {num_jobs} jobs per worker x n={timing.n} workers{why}: "
            f"a duration table of {fmt_bytes(timing.n * num_jobs * item)} and about {fmt_bytes(need)} of host memory "
            f"to build it, more than the budget of {fmt_bytes(limit)}; shorten the horizon or use larger base "
            "times (base_scale)")


def sample_stream(timing: TimingModel, key, horizon, num_points: int = 100, active=None,
                  dtype=None, cycle=None, memory_budget=None) -> tuple[EventStream, np.ndarray]:
    """Sample durations with ``timing`` and build the free-running stream for ``horizon``.

    ``cycle`` (optional) maps sampled durations ``D[n, J]`` to the jobs' full cycle times
    (see :func:`cycle_times`). Returns ``(stream, durations)``; the job count grows (by
    whole blocks, keeping the jobs already drawn) until the horizon is covered. The host
    memory of each draw is checked first (:func:`check_sample_memory`, ``memory_budget``).
    """
    horizon = as_horizon(horizon)
    act = None if active is None else np.asarray(active, bool)
    if horizon.time is not None:
        J = timing.jobs_to_cover(horizon.time, act)
        tau = timing.tau if act is None else timing.tau[act]
        why = (f" (the horizon of {horizon.time:g} s over the smallest base time {float(np.min(tau)):.3g} s)"
               if tau.size else "")
    else:
        J = max(16, int(math.ceil(4 * horizon.events / max(1, int(np.sum(act)) if act is not None else timing.n))))
        why = f" (horizon of {horizon.events} events)"
    while True:
        check_sample_memory(timing, J, memory_budget, dtype, why)
        D = timing.sample(key, J, dtype=dtype)
        try:
            return free_running(D if cycle is None else cycle(D), horizon, num_points, act, timing=timing), D
        except ValueError as e:
            if "do not cover" not in str(e) and "fewer than horizon" not in str(e):
                raise
            if J > 50_000_000 // max(timing.n, 1):
                raise
            J *= 2
