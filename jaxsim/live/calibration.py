"""What a live run spent besides computing, and a communication model fitted to it.

A job's life in a live run, from the server's clock and the worker's (one clock for both:
:func:`time.monotonic`)::

    sent ── down ──> start ── compute + wait ──> finish ── up ──> received ── server ──> next sent

``down`` (pipe, unpickling, the worker's wake-up), the *overrun* (``finish - start`` beyond the
nominal ``min(D, budget) * time_scale``: the gradient's computation when it outlasts the wait,
and the sleep's own lateness), ``up`` (pipe and the server's wait before taking the result) and
the *server* time (applying the rule and sending what it commands; for the reporter's own next
job, ``next sent - received``) are the overheads. :func:`overheads` measures them;
:func:`calibrated_timing` puts their means into the simulator's communication model
(:class:`~jaxsim.timing.Comm`): ``down`` before each job, ``overrun + up + server`` after it, in
simulated seconds; :func:`distance` measures how far a simulation is from the live run.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .core import CANCELLED, RUNNING, TIMEOUT


def _stats(x: np.ndarray, scale: float) -> dict:
    """Mean, median and 90th percentile of wall seconds ``x``, in milliseconds and in simulated seconds."""
    x = np.asarray(x, np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return dict(count=0, mean_ms=float("nan"), median_ms=float("nan"), p90_ms=float("nan"), mean_sim=float("nan"))
    return dict(count=int(x.size), mean_ms=float(1e3 * x.mean()), median_ms=float(1e3 * np.median(x)),
                p90_ms=float(1e3 * np.quantile(x, 0.9)), mean_sim=float(x.mean() / scale))


def _parts(log) -> dict:
    """Per completed job (received, not cancelled): down, overrun, up and the lag until the same
    worker's next job was sent (``nan`` when it was not sent by this arrival), in wall seconds."""
    scale = log.scale
    status = log.jobs("status")
    done = (status != RUNNING) & (status != CANCELLED) & np.isfinite(log.jobs("received"))
    sent, start, finish, received = (log.jobs(k) for k in ("sent", "start", "finish", "received"))
    limit = _limits(log)
    w = log.jobs("worker")
    nominal = np.minimum(log.jobs("nominal"), limit[w]) * scale
    arr = log.arrays
    done_at = {(int(a), int(b)): t
               for a, b, t in zip(arr["arrivals/worker"], arr["arrivals/job"], arr["arrivals/done"])}
    lag = np.full(sent.shape, np.nan)
    rows = np.arange(sent.size)
    for worker in np.unique(w):
        mine = rows[w == worker]
        for i, i2 in zip(mine[:-1], mine[1:]):
            end = done_at.get((int(worker), int(log.jobs("job")[i])), np.nan)
            if received[i] <= sent[i2] <= end:  # sent while serving this result (not woken later from idle)
                lag[i] = sent[i2] - received[i]
    return dict(down=(start - sent)[done], overrun=(finish - start - nominal)[done], up=(received - finish)[done],
                lag=lag[done], timeout=(status == TIMEOUT)[done])


def _limits(log) -> np.ndarray:
    """Each worker's cap on a job's nominal seconds (``inf``: none), as the run recorded it."""
    return np.asarray(log.header.get("limits", [np.inf] * int(log.config["n"])), np.float64)


def overheads(log) -> dict:
    """The measured overheads of a live run (see the module docstring), each with ``count``,
    ``mean_ms``, ``median_ms``, ``p90_ms`` (wall milliseconds) and ``mean_sim`` (simulated
    seconds): ``down``, ``overrun``, ``up``, ``server`` (per arrival, received to done) and
    ``lag`` (a result's receipt to its worker's next dispatch, when serving that result sent it:
    time spent idle is no overhead)."""
    scale = log.scale
    parts = _parts(log)
    arr = log.arrays
    server = arr["arrivals/done"] - arr["arrivals/received"]
    out = {k: _stats(parts[k], scale) for k in ("down", "overrun", "up", "lag")}
    out["server"] = _stats(server, scale)
    return out


def calibrated_timing(log, timing):
    """``timing`` with a :class:`~jaxsim.timing.Comm` fitted to the live run: per worker, the
    mean ``down`` before each job and the mean ``overrun + up + lag`` after it (simulated
    seconds; a worker with no completed job gets the mean over all)."""
    from ..timing import Comm

    parts = _parts(log)
    scale = log.scale
    status = log.jobs("status")
    w = log.jobs("worker")[(status != RUNNING) & (status != CANCELLED) & np.isfinite(log.jobs("received"))]
    after = parts["overrun"] + parts["up"] + np.nan_to_num(parts["lag"], nan=0.0)
    down_all, after_all = float(np.mean(parts["down"])) / scale, float(np.mean(after)) / scale
    n = timing.n
    down = [float(np.mean(parts["down"][w == i])) / scale if (w == i).any() else down_all for i in range(n)]
    up = [float(np.mean(after[w == i])) / scale if (w == i).any() else after_all for i in range(n)]
    return dataclasses.replace(timing, comm=Comm(down=tuple(max(0.0, d) for d in down),
                                                 up=tuple(max(0.0, u) for u in up)))


def distance(live_metrics: dict, sim_metrics: dict, metric: str = None) -> dict:
    """How far a simulated run is from the live one on the same recording times: ``max_rel``,
    the largest relative difference of ``metric`` (default ``loss_gap`` where both have it, else
    ``loss``, which may cross zero); ``mean_log``, the mean absolute difference of its log10 over
    the positive values; ``updates_rel``, the relative difference of the final update counts."""
    if metric is None:
        metric = "loss_gap" if "loss_gap" in live_metrics and "loss_gap" in sim_metrics else "loss"
    a = np.asarray(live_metrics[metric], np.float64).reshape(-1)
    b = np.asarray(sim_metrics[metric], np.float64).reshape(-1)
    rel = np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)
    ua = float(np.asarray(live_metrics["updates"]).reshape(-1)[-1])
    ub = float(np.asarray(sim_metrics["updates"]).reshape(-1)[-1])
    pos = (a > 0) & (b > 0)
    mean_log = float(np.mean(np.abs(np.log10(a[pos]) - np.log10(b[pos])))) if pos.any() else float("nan")
    return dict(metric=metric, max_rel=float(rel.max()), mean_log=mean_log, updates_live=ua, updates_sim=ub,
                updates_rel=abs(ua - ub) / max(ua, 1.0))


def band_overlap(live_curve, sim_curves) -> dict:
    """The share of recording times at which the live curve lies within the simulated seeds'
    range (``range``) and within their inter-quartile band (``iqr``)."""
    y = np.asarray(live_curve, np.float64).reshape(-1)
    s = np.asarray(sim_curves, np.float64).reshape(-1, y.size)
    lo, hi = s.min(axis=0), s.max(axis=0)
    q25, q75 = np.quantile(s, [0.25, 0.75], axis=0)
    return dict(range=float(np.mean((y >= lo) & (y <= hi))), iqr=float(np.mean((y >= q25) & (y <= q75))),
                seeds=int(s.shape[0]))


__all__ = ["band_overlap", "calibrate", "calibrated_timing", "distance", "overheads"]


def calibrate(log, problem=None, timing=None) -> dict:
    """The simulator's prediction of a live run (the same seed's draws, from the timing model
    alone) before and after calibrating its communication model to the run
    (:func:`calibrated_timing`): ``{"before": distance, "after": distance, "comm": {"down",
    "up"}}`` (:func:`distance`)."""
    import jax

    from ..sweep import sweep
    from .log import LiveLog
    from .replay import rebuild

    log = LiveLog.finished(log, "calibrate")
    method, problem, timing = rebuild(log, problem, timing)
    cfg = log.config
    cal = calibrated_timing(log, timing)
    live = {k[7:]: v for k, v in log.arrays.items() if k.startswith("metric/")}
    out = {}
    with jax.enable_x64(True):
        for name, tm in (("before", timing), ("after", cal)):
            res = sweep(method, problem, tm, seeds=[cfg["seed"]], grid=cfg["hparams"], horizon=cfg["horizon"],
                        num_points=cfg["num_points"])
            out[name] = distance(live, {k: v[0] for k, v in res.metrics.items()})
    out["comm"] = dict(down=list(cal.comm.down), up=list(cal.comm.up))
    return out
