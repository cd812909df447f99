"""The server of a live run: the method's reference rule, one real arrival at a time.

:class:`Core` is the server side of :func:`jaxsim.reference.loops.run_stream` and
:func:`~jaxsim.reference.loops.run_controlled` with the heap taken out: the same rule object
(:func:`~jaxsim.reference.loops.new_rule`), the same :class:`~jaxsim.reference.server.Server`,
the same bookkeeping of start points and delays, the same order of commands after an arrival
(the reporter, then the cancelled, then the woken workers). What the heap did, a *transport*
does: it hands the core each arrival with the time it came in, and carries out the dispatches
the core returns. Two transports drive it: real worker processes
(:func:`jaxsim.live.server.run_processes`) and a heap over given durations
(:func:`jaxsim.live.server.run_heap`, which gives the order a zero-overhead server would see).

Every job gets a row in the log: who, which job index, which dispatch (``version``), the
server's update count when it was sent, the sent, start, finish and received times (the run's
own clock: wall seconds for live runs), its nominal duration and what became of it
(:data:`STATUS`). Job indices advance as the clocks advance them (a cancelled job uses up its
index), and a job's nominal duration is the seed's draw ``D[w, j]``, so job ``(w, j)`` has the
same gradient key and the same drawn duration as in the simulator.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from ..reference.loops import Durations, new_rule
from ..reference.rules import NEW
from ..reference.server import Server
from ..runtime.rng import time_key

#: What became of a job: still running when the run ended, its result applied or batched
#: (``used``), its result received and not used, cancelled (replaced by a new job before its
#: result was received; a result arriving later is discarded), its attempt ran out its budget.
STATUS = ("running", "used", "unused", "cancelled", "timeout")
RUNNING, USED, UNUSED, CANCELLED, TIMEOUT = range(5)

#: Numbers of the iterates a run keeps (the model after each update, for comparing trajectories
#: update by update): the first ``ITERATES // d`` updates' models.
ITERATES = 4_000_000

#: The clocks a live run serves (the others run whole rounds or allocations, not arrivals).
CLOCKS = ("stream", "controlled")


class Dispatch(NamedTuple):
    """A job to send: worker, job index, dispatch number, start point(s), the seconds of the
    run's clock it should take (its nominal duration, capped by its budget) and whether it runs
    out its budget (then it computes nothing)."""

    w: int
    j: int
    version: int
    points: tuple
    seconds: float
    timed: bool


def check_method(method) -> None:
    """``ValueError`` unless ``method`` can run live: a stream or controlled clock, jobs that
    take their drawn duration once (no local-step jobs, whose time scales with their steps)."""
    if method.clock not in CLOCKS:
        raise ValueError(f"method: {method.name} runs on the {method.clock} clock; live runs serve arrivals one at a "
                         f"time, on the {' and '.join(CLOCKS)} clocks")
    if method.job.time_scale(np.ones(1)) is not None:
        raise ValueError(f"method: {method.name}'s jobs take a multiple of their drawn duration (local steps); "
                         "live runs take jobs of one drawn duration")


def check_timing(timing) -> None:
    """``ValueError`` unless ``timing`` can drive a live run: real communication replaces
    ``timing.comm``, and speed profiles are not modelled by the workers."""
    if timing.comm is not None:
        raise ValueError("timing.comm: a live run has real communication; give a timing model without comm")
    if timing.speed is not None:
        raise ValueError("timing.speed: live workers wait out nominal durations; give a timing model without a "
                         "speed profile")


class Core:
    """The server of one run (see the module docstring). ``scale``: seconds of the run's clock
    per simulated second (the live time scale; 1 on a heap of simulated durations)."""

    def __init__(self, method, problem, timing, hp: dict, seed: int, grid, scale: float = 1.0):
        check_method(method)
        check_timing(timing)
        self.method, self.problem, self.scale = method, problem, float(scale)
        self.stream = method.clock == "stream"
        n = self.n = timing.n
        tkey = time_key(seed)
        x0 = np.asarray(problem.init(), dtype=np.float64)
        if self.stream:
            mean, tau = timing.mean(tkey), timing.base_for(tkey)
            self.rule = new_rule(method, problem, dict(mean=np.asarray(mean, np.float64),
                                                       tau=np.asarray(tau, np.float64)), hp, n, x0.shape[0])
            self.limit = np.full(n, np.inf)
            self.steps = method.job.steps(self.rule.mean)
        else:
            tau = timing.base_for(tkey)
            mean = tau + timing.noise.mean(tau)
            self.rule = new_rule(method, problem, {}, hp, n, x0.shape[0], tau, mean, timing.noise)
            self.limit = tau + self.rule.budget()
            self.steps = method.job.steps(tau)
        self.durations = Durations(timing, tkey)
        self.srv = Server(x0)
        self.job = np.full(n, -1, dtype=np.int64)
        self.version = np.zeros(n, dtype=np.int64)
        self.s = np.zeros(n, dtype=np.int64)  # srv.k when the current job got its point
        self.busy = np.zeros(n, bool)
        self.timed = np.zeros(n, bool)
        self.point: list = [None] * n
        self.row = np.full(n, -1, dtype=np.int64)  # the log row of each worker's current job
        self.jobs = {k: [] for k in ("worker", "job", "version", "k", "sent", "start", "finish", "received",
                                     "status", "nominal")}
        self.arrivals = {k: [] for k in ("worker", "job", "received", "done", "updates")}
        self.updates: list = []  # the time of each update
        self.iterates: list = []  # the model after each update
        self.counts = dict(received=0, used=0, cancelled=0, timeouts=0)
        self.grid = np.asarray(grid, np.float64)  # recording times on the run's clock
        self.snapshots: list = []  # (model, counts, updates) in force at each recording time
        self.keep = ITERATES // max(1, x0.shape[0])  # iterates kept (the first ones)

    # -- dispatches ---------------------------------------------------------------------------

    def _start(self, w: int, t: float, new_point: bool = True) -> Dispatch:
        self.job[w] += 1
        self.version[w] += 1
        j = int(self.job[w])
        d = float(self.durations(w, j))
        timed = bool(d > self.limit[w])
        self.timed[w], self.busy[w] = timed, True
        if new_point or self.point[w] is None:
            self.s[w] = self.srv.k
            self.point[w] = (self.srv.x.copy(), self.srv.x_prev.copy())
        self.row[w] = self._new_row(w, j, t, d)
        return Dispatch(w, j, int(self.version[w]), self.point[w], min(d, float(self.limit[w])) * self.scale, timed)

    def _new_row(self, w, j, t, d) -> int:
        for k, v in (("worker", w), ("job", j), ("version", int(self.version[w])), ("k", int(self.s[w])),
                     ("sent", t), ("start", np.nan), ("finish", np.nan), ("received", np.nan), ("status", RUNNING),
                     ("nominal", d)):
            self.jobs[k].append(v)
        return len(self.jobs["worker"]) - 1

    def sent(self, w: int, t: float) -> None:
        """The transport sent worker ``w``'s current job at ``t`` (after the core returned it)."""
        self.jobs["sent"][self.row[w]] = t

    def begin(self, t: float = 0.0) -> list:
        """The first dispatches (every active worker, or the rule's initial ones)."""
        if self.stream:
            return [self._start(w, t) for w in range(self.n) if self.rule.active(self.rule.mean)[w]]
        return [self._start(w, t) for w in self.rule.initial()]

    # -- arrivals -----------------------------------------------------------------------------

    def current(self, w: int, j: int, version: int) -> bool:
        """Whether a result of job ``j`` (dispatch ``version``) of ``w`` is its current job's."""
        return self.busy[w] and version == self.version[w] and j == self.job[w]

    def discard(self, w: int, j: int, version: int, start: float, finish: float, t: float) -> None:
        """A result of a cancelled job came in at ``t``: logged in its row (which stays
        ``cancelled``, now with a receipt time), never applied."""
        rows = [i for i in range(len(self.jobs["worker"]) - 1, -1, -1)
                if self.jobs["worker"][i] == w and self.jobs["version"][i] == version]
        if rows:
            i = rows[0]
            self.jobs["start"][i], self.jobs["finish"][i], self.jobs["received"][i] = start, finish, t

    def arrival(self, w: int, g, start: float, finish: float, t: float) -> list:
        """Worker ``w``'s current job reported at ``t`` with result ``g`` (``None`` for an
        attempt out of budget): apply the rule, return the dispatches it commands."""
        i = self.row[w]
        self.jobs["start"][i], self.jobs["finish"][i], self.jobs["received"][i] = start, finish, t
        k0 = self.srv.k
        if self.stream:
            out = self._stream(w, g, t, i)
        else:
            out = self._controlled(w, g, t, i)
        if self.srv.k != k0:
            self.updates.append(t)
            if len(self.iterates) < self.keep:
                self.iterates.append(self.srv.x.copy())
        for k, v in (("worker", w), ("job", int(self.jobs["job"][i])), ("received", t), ("done", np.nan),
                     ("updates", self.srv.k)):
            self.arrivals[k].append(v)
        return out

    def done(self, t: float) -> None:
        """The transport finished the last arrival's dispatches at ``t`` (its server time ends)."""
        self.arrivals["done"][-1] = t

    def _stream(self, w, g, t, i) -> list:
        self.busy[w] = False
        delay = self.srv.k - self.s[w]
        out = self.rule.arrival(self.srv, w, delay, g if self.rule.needs_grad(delay) else None)
        used, command = out if isinstance(out, tuple) else (out, NEW)
        self.counts["received"] += 1
        self.counts["used"] += bool(used)
        self.jobs["status"][i] = USED if used else UNUSED
        return [self._start(w, t, new_point=command == NEW)]

    def _controlled(self, w, g, t, i) -> list:
        self.busy[w] = False
        delay = self.srv.k - self.s[w]
        timed = bool(self.timed[w])
        if timed:
            self.counts["timeouts"] += 1
            g = None
        else:
            self.counts["received"] += 1
        busy = self.busy | (np.arange(self.n) == w)
        used, command, cancel, wake = self.rule.arrival(self.srv, w, delay, g, timed, self.s, busy)
        self.counts["used"] += bool(used)
        self.jobs["status"][i] = TIMEOUT if timed else USED if used else UNUSED
        out = []
        if command == NEW:
            out.append(self._start(w, t))
        for j2 in cancel:
            self.counts["cancelled"] += 1
            self.jobs["status"][self.row[j2]] = CANCELLED
            out.append(self._start(j2, t))
        for j2 in wake:
            if not self.busy[j2]:
                out.append(self._start(j2, t))
        return out

    # -- the record -----------------------------------------------------------------------------

    def record_until(self, t: float) -> None:
        """Snapshot the model in force at every recording time before ``t`` not yet recorded
        (called before each arrival, as the reference loops record: a recording time sees every
        arrival up to and including it)."""
        while len(self.snapshots) < len(self.grid) and self.grid[len(self.snapshots)] < t:
            self.snapshots.append((self.srv.x.copy(), dict(self.counts), self.srv.k))

    def log(self) -> dict:
        """The log as arrays: ``jobs/*`` (one row per dispatch), ``arrivals/*`` (in the order the
        server took them), ``updates`` (times) and ``iterates`` (the model after each update)."""
        out = {f"jobs/{k}": np.asarray(v, dtype=np.float64 if k in ("sent", "start", "finish", "received", "nominal")
                                       else np.int64) for k, v in self.jobs.items()}
        out.update({f"arrivals/{k}": np.asarray(v, dtype=np.int64 if k in ("worker", "job", "updates")
                                                else np.float64) for k, v in self.arrivals.items()})
        out["updates"] = np.asarray(self.updates, np.float64)
        d = self.srv.x.shape[0]
        out["iterates"] = np.asarray(self.iterates, np.float64).reshape(-1, d)
        out["snapshots"] = np.asarray([x for x, _, _ in self.snapshots], np.float64).reshape(-1, d)
        for k in ("received", "used", "cancelled", "timeouts"):
            out[f"counts/{k}"] = np.asarray([c[k] for _, c, _ in self.snapshots], np.int64)
        out["counts/updates"] = np.asarray([u for _, _, u in self.snapshots], np.int64)
        return out


def order(log: dict) -> np.ndarray:
    """``[arrivals, 2]``: (worker, job) of each arrival in the order the server took it."""
    return np.stack([log["arrivals/worker"], log["arrivals/job"]], axis=1)


def first_divergence(a: np.ndarray, b: np.ndarray) -> Optional[int]:
    """The first index where two arrival orders differ (one running out counts), or ``None``."""
    m = min(len(a), len(b))
    diff = np.nonzero((a[:m] != b[:m]).any(axis=1))[0]
    if diff.size:
        return int(diff[0])
    return None if len(a) == len(b) else m


__all__ = ["CLOCKS", "Core", "Dispatch", "STATUS", "check_method", "check_timing", "first_divergence", "order"]
