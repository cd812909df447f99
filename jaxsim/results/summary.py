"""Statistics over runs, and the flags of a best-of-grid pick, as every summary reports them.

* :func:`run_stats`: median, min, max (or quartiles) over the runs that did not diverge, with
  how many were left out; one diverged run never turns a statistic into NaN.
* :func:`stats_text`: those statistics as the line ``jaxsim run`` prints
  (``median 0.0094  min 0.0012  max 0.21  (3 of 27 runs diverged, left out)``).
* :func:`grid_edges`: the grid axes on whose first or last value a pick sits (the grid may not
  hold the best setting); :meth:`SweepResult.best <jaxsim.results.SweepResult.best>` and the
  figures' verdicts (:mod:`jaxsim.figures.verdict`) both use it.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

#: What each statistic of :func:`run_stats` computes from the kept values.
_REDUCERS = {
    "median": np.median, "mean": np.mean, "min": np.min, "max": np.max,
    "q25": lambda x: np.quantile(x, 0.25), "q75": lambda x: np.quantile(x, 0.75),
}


def run_stats(values, diverged=None, keys: Sequence[str] = ("median", "min", "max")) -> dict:
    """Statistics ``keys`` (``median``, ``mean``, ``min``, ``max``, ``q25``, ``q75``) of
    ``values`` over the runs that did not diverge, as floats, with ``runs`` (how many values)
    and ``left_out`` (how many were left out: flagged in ``diverged``, a boolean array of the
    same shape, or non-finite). Every statistic is NaN when every run was left out."""
    v = np.asarray(values, np.float64)
    bad = ~np.isfinite(v)
    if diverged is not None:
        bad = bad | np.broadcast_to(np.asarray(diverged, bool), v.shape)
    kept = v[~bad]
    unknown = sorted(set(keys) - set(_REDUCERS))
    if unknown:
        raise ValueError(f"run_stats: unknown statistic(s) {unknown}; choose from {sorted(_REDUCERS)}")
    out = {k: float(_REDUCERS[k](kept)) if kept.size else float("nan") for k in keys}
    out.update(runs=int(v.size), left_out=int(bad.sum()))
    return out


def left_out_text(stats: dict, what: str = "runs") -> str:
    """``"3 of 27 runs diverged, left out"`` (empty when none was left out)."""
    if not stats.get("left_out"):
        return ""
    return f"{stats['left_out']} of {stats['runs']} {what} diverged, left out"


def stats_text(stats: dict, fmt: str = ".6g", what: str = "runs") -> str:
    """The statistics of :func:`run_stats` on one line: ``median 0.0094  min 0.0012  max 0.21``,
    followed by ``(3 of 27 runs diverged, left out)`` when some were; ``every run diverged``
    when no value is left."""
    if stats["runs"] and stats["left_out"] == stats["runs"]:
        return f"every one of the {stats['runs']} {what} diverged: no statistics"
    shown = [k for k in stats if k in _REDUCERS]
    text = "  ".join(f"{k} {stats[k]:{fmt}}" for k in shown)
    note = left_out_text(stats, what)
    return f"{text}  ({note})" if note else text


def grid_edges(res, index: tuple, bounds: Optional[dict] = None) -> dict:
    """``{axis: "low" | "high"}`` for each grid axis of at least two values whose first or last
    value (in the grid's sorted order) ``index`` picks, unless that value is the axis' hard
    bound (``bounds[axis] = (lo, hi)``, e.g. a threshold ``R`` in ``[1, n]``: no grid can go
    past it, so a pick there is no sign of a grid too narrow). ``res``: a
    :class:`~jaxsim.results.SweepResult` (its ``grid_dims`` and ``coords``)."""
    out = {}
    for axis, i in zip(res.grid_dims, index):
        values = np.asarray(res.coords[axis], np.float64)
        lo, hi = (bounds or {}).get(axis, (None, None))
        if values.size < 2:
            continue
        if values[i] == values.min() and not (lo is not None and values[i] <= lo):
            out[axis] = "low"
        elif values[i] == values.max() and not (hi is not None and values[i] >= hi):
            out[axis] = "high"
    return out


def edges_text(edges: dict) -> str:
    """``"gamma high, R low"``: the axes of :func:`grid_edges` and their side."""
    return ", ".join(f"{axis} {side}" for axis, side in edges.items())


__all__ = ["edges_text", "grid_edges", "left_out_text", "run_stats", "stats_text"]
