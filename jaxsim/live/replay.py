"""Replay a live run in the simulator with its own measured durations, and say how far apart they are.

**Which interval is a job's duration.** A completed job's replayed duration is the server's
view of it: from the server's send to the server's receipt, ``(received - sent) / time_scale``
simulated seconds. It holds the job's download, its computation and wait, its upload and the
server's wait before taking the result; it leaves out the server's own work between taking a
result and sending the next job (applying the rule, sending). So with zero server time the
replay is the live run, event for event, and what the server really took shows up as the
difference (:mod:`jaxsim.live.calibration` measures it).

In the simulator a job is its drawn duration (capped by its budget, for methods that abandon
attempts) with the rest of the measured time as communication: ``down`` (send to the worker's
start) before it and ``up`` (everything after, the wait's overrun included) after it, so an
attempt that ran out its budget live runs it out in the replay too, at its measured length. A
job cancelled before it reported lasts twice as long as it ran before the cancel (the replay
cancels it too); a job still running at the horizon lasts past it; the indices no live job
reached keep their draws.

**The engine.** Free-running methods take the totals as the stream clock's ``durations=``
input; controlled methods draw their durations inside the simulation, so the replay gives them a
:class:`RecordedTiming`: the run's timing model whose draws read the compute table and whose
communication times read the ``down`` / ``up`` tables (the same base times and noise law for
everything else the method reads, e.g. budgets and success probabilities).

**The order.** The engine records metrics, not events, so the replay's arrival order comes from
the live server's own core (:class:`jaxsim.live.core.Core`) driven by a heap over the same
tables with zero server time (:func:`jaxsim.live.server.run_heap`). :func:`replay` reports
whether it is the live order (else the first divergence, with both sides' times and how much
later the live server had sent each of the two jobs than the replay: its own time, accumulated),
the update counts, the metrics' largest relative difference on the recording times (``timed``: what
the overheads move), and at equal update counts (``by_update``: the replay's value after ``k``
updates against the live model after ``k`` updates, float rounding when the order is the same).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from ..timing import TimingModel
from .core import CANCELLED, RUNNING, Core, first_divergence, order

#: Extra job indices past the last live one per worker (restarts the replay may reach first).
PAD = 8


@dataclasses.dataclass(frozen=True)
class RecordedTiming(TimingModel):
    """A timing model whose job ``(w, j)`` computes for ``table[w][j]`` seconds, with ``down`` /
    ``up`` tables of communication seconds before and after it (indices past a table take its
    last column); everything else is the model's it was made from (:meth:`of`)."""

    table: tuple = ()
    down: tuple = ()
    up: tuple = ()

    @classmethod
    def of(cls, timing: TimingModel, table, down=None, up=None) -> "RecordedTiming":
        """``timing`` reading ``table`` (and, given both, the ``down`` / ``up`` tables: the model's
        communication path then reads them)."""
        from ..timing import Comm

        def rows(a):
            return tuple(tuple(float(v) for v in row) for row in np.asarray(a, np.float64))

        fields = {f.name: getattr(timing, f.name) for f in dataclasses.fields(TimingModel)}
        if down is not None:
            fields["comm"] = Comm()  # the engine's communication path, fed by the tables below
            return cls(**fields, table=rows(table), down=rows(down), up=rows(up))
        return cls(**fields, table=rows(table))

    @staticmethod
    def _at(rows, w, j, dtype):
        t = jnp.asarray(np.asarray(rows, np.float64), dtype)
        return t[w, jnp.minimum(j, t.shape[1] - 1)]

    def draw(self, key, tau, w, j, dtype=jnp.float32):
        return self._at(self.table, w, j, dtype)

    def sample(self, key, num_jobs: int, dtype=None) -> np.ndarray:
        t = np.asarray(self.table, np.float64)
        return t[:, np.minimum(np.arange(num_jobs), t.shape[1] - 1)].astype(dtype or np.float64)

    def comm_draw(self, ckey, w, j, dtype=jnp.float32):
        return self._at(self.down, w, j, dtype), self._at(self.up, w, j, dtype)

    def comm_sample(self, ckey, num_jobs: int, dtype=None) -> np.ndarray:
        idx = np.minimum(np.arange(num_jobs), len(self.down[0]) - 1)
        return np.stack([np.asarray(self.down, np.float64)[:, idx],
                         np.asarray(self.up, np.float64)[:, idx]]).astype(dtype or np.float64)


def durations(log, timing) -> tuple:
    """``(compute, down, up)``, each ``[n, J]`` simulated seconds, replaying the live run (see the
    module docstring): a completed job computes for its drawn duration (an attempt out of budget:
    over it, so the simulator caps it there) and its communication tables hold the rest of its
    measured duration, before the worker started (``down``) and after (``up``); so that job
    ``(w, j)`` lasts ``down + min(compute, budget) + up = (received - sent) / time_scale``."""
    from ..reference.loops import Durations
    from ..runtime.rng import time_key

    scale, n = log.scale, timing.n
    w, j, status = log.jobs("worker"), log.jobs("job"), log.jobs("status")
    sent, start, received = log.jobs("sent"), log.jobs("start"), log.jobs("received")
    limit = np.asarray(log.header.get("limits", [np.inf] * n), np.float64)
    ended = log.header.get("ended")
    end = float(ended) if ended is not None and np.isfinite(ended) else log.config["horizon"] * scale
    J = (int(j.max()) + 1 if j.size else 1) + PAD
    draws = Durations(timing, time_key(log.config["seed"]))
    compute = np.array([[float(draws(a, b)) for b in range(J)] for a in range(n)])  # every job: its own draw
    down, up = np.zeros((n, J)), np.zeros((n, J))
    for i in range(w.size):
        a, b = int(w[i]), int(j[i])
        nominal = min(compute[a, b], limit[a])
        if status[i] == CANCELLED:  # lasts twice as long as it ran: the replay cancels it too
            later = sent[(w == a) & (j > b)]
            up[a, b] = max(0.0, 2.0 * ((later.min() if later.size else end) - sent[i]) / scale - nominal)
        elif status[i] == RUNNING:  # still running at the horizon: past it in the replay too
            up[a, b] = max(0.0, (end - sent[i]) / scale + 1.0 - nominal)
        else:
            down[a, b] = max(0.0, (start[i] - sent[i]) / scale)
            up[a, b] = max(0.0, (received[i] - sent[i]) / scale - down[a, b] - nominal)
    return compute, down, up


def _total(compute, down, up, limit) -> np.ndarray:
    """Each job's replayed duration: ``down + min(compute, budget) + up``."""
    return down + np.minimum(compute, np.asarray(limit, np.float64)[:, None]) + up


def _sweep(method, problem, timing, tables, cfg):
    from ..sweep import sweep

    hp = cfg["hparams"]
    compute, down, up = tables
    if method.clock == "stream":  # free-running: the stream clock's durations input, whole
        return sweep(method, problem, timing, seeds=[cfg["seed"]], grid=hp, horizon=cfg["horizon"],
                     num_points=cfg["num_points"], durations=[compute + down + up])
    return sweep(method, problem, RecordedTiming.of(timing, compute, down, up), seeds=[cfg["seed"]], grid=hp,
                 horizon=cfg["horizon"], num_points=cfg["num_points"])


def rebuild(log, problem=None, timing=None):
    """``(method, problem, timing)`` of a live run, from its log (or the ones given)."""
    from ..methods import make_method
    from ..results.recipe import timing_from_config
    from .run import build_problem

    cfg = log.config
    method = make_method(cfg["method"], **cfg.get("method_options", {}))
    if timing is None:
        timing = timing_from_config(cfg["timing"])
    if problem is None:
        recipe = cfg.get("problem_recipe")
        if recipe is None:
            raise ValueError("problem: the live run was given a problem object, not a registered name; pass the "
                             "same problem to replay")
        problem = build_problem(recipe["name"], recipe["options"])
    return method, problem, timing


def heap_order(log, method, problem, timing, tables) -> Core:
    """The live server's core run on a heap over ``table`` with zero server time."""
    from ..reference.loops import JobRunner, Oracle
    from ..runtime.rng import grad_root
    from ..methods.jobs import Job
    from .server import run_heap

    cfg = log.config
    grid = np.linspace(0.0, cfg["horizon"], cfg["num_points"] + 1)
    core = Core(method, problem, timing, cfg["hparams"], cfg["seed"], grid)
    root = grad_root(cfg["seed"])
    total = _total(*tables, core.limit)
    oracle = Oracle(problem, root, timing.n, total.shape[1]) if type(method.job) is Job else None
    runner = JobRunner(method.job, problem, root, cfg["hparams"], core.steps, oracle)
    run_heap(core, lambda w, j, d: total[w, min(j, total.shape[1] - 1)], cfg["horizon"], runner)
    return core


def dispatch_lag(log, heap_log: dict) -> dict:
    """``{(worker, job): s}``: how much later (simulated seconds) the live server sent each job
    than the zero-overhead replay did: the server's own time accumulated before that job (the
    reason a replay's order departs from the live one)."""
    replay_sent = {(int(w), int(j)): t for w, j, t in zip(heap_log["jobs/worker"], heap_log["jobs/job"],
                                                           heap_log["jobs/sent"])}
    live_sent = zip(log.jobs("worker"), log.jobs("job"), log.jobs("sent"))
    return {(int(w), int(j)): float(t / log.scale - replay_sent[(int(w), int(j))])
            for w, j, t in live_sent if (int(w), int(j)) in replay_sent}


def _rel(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)))


def by_update(log, problem, sim_metrics: dict, metric: str = "loss") -> dict:
    """The replay's ``metric`` at each recording time against the live model after the same
    number of updates (``max_rel``; ``points``: recording times compared, those whose update
    count is past the iterates the log kept are left out)."""
    import jax

    from .run import metrics_at

    idx = {"loss": 0, "loss_gap": 1, "grad_norm_sq": 2}[metric]
    its = log.arrays["iterates"]
    ks = np.asarray(sim_metrics["updates"]).reshape(-1).astype(int)
    live_v, sim_v = [], []
    with jax.enable_x64(True):
        x0 = np.asarray(problem.init(), np.float64)
        for g, k in enumerate(ks):
            if k > its.shape[0]:
                continue
            x = x0 if k == 0 else its[k - 1]
            live_v.append(metrics_at(problem, x)[idx])
            sim_v.append(float(np.asarray(sim_metrics[metric]).reshape(-1)[g]))
    return dict(max_rel=_rel(live_v, sim_v), points=len(live_v))


def replay(log, problem=None, timing=None) -> dict:
    """Replay a live run (a :class:`~jaxsim.live.log.LiveLog` or its file) in the jitted engine
    with its measured durations and compare (see the module docstring). Returns a JSON-ready
    dict: ``order`` (``identical``, ``first_divergence`` with both sides, arrival counts),
    ``updates`` (live, replay engine, replay heap), ``timed`` and ``by_update`` (largest
    relative difference per metric), ``durations`` (the table's shape) and ``result`` (the
    engine's :class:`~jaxsim.results.SweepResult`, not JSON)."""
    import jax

    from .log import LiveLog

    log = LiveLog.finished(log, "replay")
    method, problem, timing = rebuild(log, problem, timing)
    with jax.enable_x64(True):
        tables = durations(log, timing)
        res = _sweep(method, problem, timing, tables, log.config)
        core = heap_order(log, method, problem, timing, tables)
    sim = {k: v[0] for k, v in res.metrics.items()}
    heap_log = core.log()
    live_o, heap_o = order(log.arrays), order(heap_log)
    i = first_divergence(live_o, heap_o)
    div = None
    if i is not None:
        late = dispatch_lag(log, heap_log)

        def side(o, t):
            if i >= len(o):
                return None
            w, j = int(o[i][0]), int(o[i][1])
            return dict(worker=w, job=j, time=float(t[i]), dispatch_lag=late.get((w, j)))
        div = dict(index=i, live=side(live_o, log.arrays["arrivals/received"] / log.scale),
                   replay=side(heap_o, heap_log["arrivals/received"]))
    metrics = [m for m in ("loss", "loss_gap", "grad_norm_sq") if m in sim and f"metric/{m}" in log.arrays]
    live_m = {m: log.arrays[f"metric/{m}"] for m in metrics + ["updates"]}
    return dict(
        method=method.name,
        order=dict(identical=i is None, first_divergence=div, arrivals_live=int(len(live_o)),
                   arrivals_replay=int(len(heap_o))),
        updates=dict(live=int(live_m["updates"][-1]), replay=int(np.asarray(sim["updates"])[-1]),
                     heap=int(core.srv.k)),
        timed={m: _rel(live_m[m], sim[m]) for m in metrics},
        by_update={m: by_update(log, problem, sim, m) for m in metrics},
        durations=list(tables[0].shape),
        result=res)


__all__ = ["PAD", "RecordedTiming", "by_update", "dispatch_lag", "durations", "heap_order", "rebuild", "replay"]
