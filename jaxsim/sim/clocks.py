"""The clock registry: which clock runs a method, what it accepts and how its batch is set up.

A method names its clock (``Method.clock``, set by its kind); :func:`jaxsim.sweep.sweep` looks
it up in :data:`CLOCKS`, calls :meth:`Clock.check` on the sweep's options and
:meth:`Clock.setup` for the batch inputs, and hands those to the one batch runner
(:func:`jaxsim.sim.runner.run_setup`), whatever the clock. Nothing outside this registry
branches on a method's kind. The reference side mirrors it: :data:`jaxsim.reference.loops.LOOPS`
maps the same names to the plain heap loops.

========== ============================================ ========= ========= ======= =========
name       methods                                      horizon   durations window  optimizer
========== ============================================ ========= ========= ======= =========
stream     free-running workers (never cancel or idle)  s/events  yes       yes     yes
controlled cancel, idle, barriers, attempt budgets      seconds   no        yes     yes
allocation per-iteration task allocation (ATA family)   seconds   no        no      yes
rounds     whole rounds on the method's own models      seconds   no        no      no
========== ============================================ ========= ========= ======= =========
"""

from __future__ import annotations

import dataclasses
from typing import Callable


from ..runtime.rng import comm_key, time_keys
from ..timing import validate_durations
from . import allocation, controlled, rounds, stream
from .setup import Setup
from .events import EventStream, cycle_times, free_running, sample_stream
from .server import SGD


@dataclasses.dataclass(frozen=True)
class Clock:
    """One clock's entry: its name, how its methods run (for messages), what it accepts, and its
    ``build(method, problem, timing, seeds, settings, horizon, num_points, *, optimizer, window,
    durations, memory_budget) -> Setup``."""

    name: str
    runs: str  # how its methods run, e.g. "runs on controlled events"
    build: Callable[..., Setup]
    event_horizon: bool = False  # accepts a horizon in events (else seconds only)
    durations: bool = False  # accepts given durations (else draws them inside the simulation)
    window: bool = True  # keeps past iterates (``window=`` means something)
    optimizer: bool = True  # applies a server optimizer
    timings_per_seed: bool = False  # ``timing`` may be one model per seed

    def check(self, method, horizon, *, durations=None, window=None, optimizer=None) -> None:
        """Refuse (``ValueError`` naming the field) what this clock cannot run, before anything
        is sampled or compiled."""
        if horizon.time is None and not self.event_horizon:
            raise ValueError(f"horizon: {method.name} {self.runs} and needs a horizon in seconds")
        if horizon.time is None and getattr(method, "selects_workers", False):
            raise ValueError(f"horizon: {method.name} picks its workers per setting; give the horizon in seconds")
        if durations is not None and not self.durations:
            raise ValueError(f"durations: {method.name} draws its durations inside the simulation "
                             "(counter-based, per worker and job); pass a timing model instead")
        if window is not None and not self.window:
            raise ValueError(f"window: {method.name} keeps no past iterates (every gradient is fresh)")
        if optimizer is not None and not self.optimizer:
            raise ValueError(f"optimizer: {method.name} {self.runs} and updates its own models; "
                             "it takes no server optimizer")

    def setup(self, method, problem, timing, seeds, settings, horizon, num_points: int, *, optimizer=None,
              window=None, durations=None, memory_budget=None) -> Setup:
        """The batch inputs of ``seeds`` x ``settings`` (validated hyperparameter dicts); the
        recording times are ``Setup.time`` (``[S, num_points + 1]``)."""
        self.check(method, horizon, durations=durations, window=window, optimizer=optimizer)
        return self.build(method, problem, timing, list(seeds), list(settings), horizon, int(num_points),
                          optimizer=SGD if optimizer is None and self.optimizer else optimizer, window=window,
                          durations=durations, memory_budget=memory_budget)


def build_streams(method, timing, seeds, horizon, num_points: int, durations=None,
                  memory_budget=None) -> list[EventStream]:
    """One free-running stream per seed, chunk lengths padded to a common size.

    ``timing`` is one model or one per seed. ``durations`` (optional, one ``[n, J]`` array of
    compute times per seed) replaces sampling. A job's cycle adds its communication times
    (``timing.comm``) and scales with its cost (``method.job.time_scale``: local steps, a pair's
    cost). ``memory_budget`` (bytes; ``None``: the default) bounds the host memory of sampling
    each seed's durations (see :func:`~jaxsim.sim.events.sample_stream`)."""
    timings = list(timing) if isinstance(timing, (list, tuple)) else [timing] * len(seeds)
    if len(timings) != len(seeds):
        raise ValueError(f"timing: got {len(timings)} models for {len(seeds)} seeds")
    if durations is not None and len(durations) != len(seeds):
        raise ValueError(f"durations: got {len(durations)} arrays for {len(seeds)} seeds")
    streams = []
    keys = time_keys(seeds)  # one call for every seed (bit-identical to time_key per seed)
    for i, (s, tm) in enumerate(zip(seeds, timings)):
        if tm.comm is not None and tm.speed is not None:
            raise ValueError("timing.comm: free-running streams with both communication times and a speed "
                             "profile are not supported; use one of them")
        mean = tm.mean(keys[i])
        active = method.active_workers(mean)
        scale = method.job.time_scale(mean)
        cycle = None
        if scale is not None or tm.comm is not None:
            def cycle(D, scale=scale, s=s, tm=tm):
                comm = None if tm.comm is None else tm.comm_sample(comm_key(s), D.shape[1])
                return cycle_times(D, scale, comm)
        if durations is None:
            st, _ = sample_stream(tm, keys[i], horizon, num_points, active, cycle=cycle, memory_budget=memory_budget)
        else:
            D = validate_durations(durations[i], tm.n)
            st = free_running(D if cycle is None else cycle(D), horizon, num_points, active, timing=tm)
        streams.append(st)
    C = max(st.shape[1] for st in streams)
    return [st.pad_to(C) for st in streams]


def _stream(method, problem, timing, seeds, settings, horizon, num_points, *, optimizer, window, durations,
            memory_budget):
    streams = build_streams(method, timing, seeds, horizon, num_points, durations, memory_budget)
    return stream.setup(method, problem, timing, streams, seeds, settings, optimizer=optimizer, window=window)


def _controlled(method, problem, timing, seeds, settings, horizon, num_points, *, optimizer, window, **_):
    return controlled.setup(method, problem, timing, seeds, settings, horizon.time, num_points, optimizer=optimizer,
                            window=window)


def _allocation(method, problem, timing, seeds, settings, horizon, num_points, *, optimizer, **_):
    return allocation.setup(method, problem, timing, seeds, settings, horizon.time, num_points, optimizer=optimizer)


def _rounds(method, problem, timing, seeds, settings, horizon, num_points, **_):
    return rounds.setup(method, problem, timing, seeds, settings, horizon.time, num_points)


#: Every clock by name (the values of ``Method.clock``).
CLOCKS: dict[str, Clock] = {
    "stream": Clock("stream", "runs on pre-sampled free-running streams", _stream, event_horizon=True,
                    durations=True, timings_per_seed=True),
    "controlled": Clock("controlled", "runs on controlled events", _controlled),
    "allocation": Clock("allocation", "allocates tasks per iteration", _allocation, window=False),
    "rounds": Clock("rounds", "runs in rounds", _rounds, window=False, optimizer=False),
}


def clock_of(method) -> Clock:
    """The registry entry of ``method``'s clock (``ValueError`` naming the method otherwise)."""
    name = getattr(method, "clock", None)
    if name not in CLOCKS:
        raise ValueError(f"method: {getattr(method, 'name', method)!r} names no registered clock "
                         f"({name!r}; registered: {sorted(CLOCKS)})")
    return CLOCKS[name]


__all__ = ["CLOCKS", "Clock", "build_streams", "clock_of"]
