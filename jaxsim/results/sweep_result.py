"""Labeled results of a sweep: :class:`SweepResult`, its selection protocol, and its files.

``metrics[name]`` has axes ``dims = ("seed", *grid axes, "point")``; :meth:`SweepResult.best`
is the papers' best-of-grid protocol (diverged runs excluded); :meth:`SweepResult.save` writes
an ``.npz`` atomically and :meth:`SweepResult.load` reads one back, naming the file and what is
wrong when it is damaged (nothing in it is unpickled).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Optional

import numpy as np

from ..runtime.checkpoint import atomic_savez
from .summary import grid_edges, run_stats


@dataclasses.dataclass
class SweepResult:
    """Labeled results of a sweep.

    ``metrics[name]`` has axes ``dims = ("seed", *grid axes, "point")`` with coordinate
    values in ``coords`` (names in :data:`jaxsim.sim.server.METRICS`); ``time`` is ``[seed, point]``.
    ``diverged`` is ``[seed, *grid]``.
    """

    method: str
    dims: tuple
    coords: dict
    metrics: dict
    time: np.ndarray
    fixed: dict = dataclasses.field(default_factory=dict)
    info: dict = dataclasses.field(default_factory=dict)

    @property
    def grid_dims(self) -> tuple:
        return self.dims[1:-1]

    @property
    def diverged(self) -> np.ndarray:
        """``[seed, *grid]``: the run's model or a recorded metric was non-finite at some point
        (the one definition used by :meth:`best` and the CLI summary). ``batch_loss`` is NaN until
        the first job arrives, so only its values after that count."""
        return self._diverged(None)

    def _diverged(self, point) -> np.ndarray:
        """:attr:`diverged` counting only the points up to ``point`` (all when ``None``)."""
        cut = slice(None) if point is None else slice(0, point + 1)
        m = {k: v[..., cut] for k, v in self.metrics.items()}
        bad = m["diverged"].any(axis=-1)
        for k, v in m.items():
            if k == "batch_loss":
                bad = bad | np.isinf(v).any(axis=-1) | (np.isnan(v) & (m["received"] > 0)).any(axis=-1)
            elif np.issubdtype(v.dtype, np.floating):
                bad = bad | ~np.isfinite(v).all(axis=-1)
        return bad

    def final(self, metric: str = "loss_gap") -> np.ndarray:
        """The metric at the horizon, ``[seed, *grid]``."""
        return self._metric(metric)[..., -1]

    def point_at(self, at: float) -> int:
        """The last recording point at or before time ``at`` (seconds; the median over seeds of
        each point's time, which is the same for every seed under a time horizon)."""
        t = np.median(self.time, axis=0)
        p = int(np.searchsorted(t, at, side="right")) - 1
        if p < 0:
            raise ValueError(f"at: {at} is before the first recording point ({t[0]:g} s)")
        return p

    def _metric(self, metric: str) -> np.ndarray:
        """``metrics[metric]``, or a ``ValueError`` naming what was recorded. ``loss_gap``
        (f - f*) is recorded only for problems with a known ``f*``; ``loss`` (f) always."""
        if metric in self.metrics:
            return self.metrics[metric]
        hint = (" (the problem has no known f*, so f - f* was not recorded; 'loss' is f(x), "
                "and its best setting is the same)") if metric == "loss_gap" and "loss" in self.metrics else ""
        raise ValueError(f"metric {metric!r}: not recorded{hint}; recorded: {sorted(self.metrics)}")

    def best(self, metric: str = "loss_gap", reduce: str = "median", at: Optional[float] = None,
             bounds: Optional[dict] = None) -> dict:
        """Best-of-grid (the papers' protocol): the setting whose ``metric`` at the horizon
        (or at time ``at``, see :meth:`point_at`), reduced over seeds (median by default), is
        smallest.

        Settings with a diverged run (:attr:`diverged`: a non-finite model or recorded metric,
        up to the point selected on) on any seed are excluded. Returns a dict with the chosen
        ``hparams``, its grid ``index``, the reduced ``value``, the ``point`` selected on and the
        number of settings ``excluded``; raises ``ValueError`` if every setting diverged,
        or if ``metric`` was not recorded: ``loss_gap`` (f - f*) exists only for problems with
        a known ``f*``; otherwise select on ``loss`` (f), which picks the same setting.

        A suspect pick is flagged: ``edges`` (:func:`~jaxsim.results.summary.grid_edges`)
        names each grid axis of two or more values whose first (``"low"``) or last
        (``"high"``) value was picked, unless ``bounds[axis] = (lo, hi)`` says that value is
        the axis' hard bound: the grid may not hold the best setting; ``start`` is ``metric`` at
        the first recorded point of the chosen setting, reduced over seeds the same way, and
        ``improved`` whether ``value`` is below it (``False``: no setting ends below its start,
        the grid learned nothing; ``None`` when the start is not a finite number, e.g. a
        minibatch loss before the first arrival).
        """
        point = self.time.shape[-1] - 1 if at is None else self.point_at(at)
        values = self._metric(metric).astype(np.float64)
        final = values[..., point]
        bad_setting = self._diverged(point).any(axis=0)
        reducer = {"median": np.median, "mean": np.mean, "max": np.max}[reduce]
        red = reducer(final, axis=0)
        red = np.where(bad_setting, np.inf, red)
        if not np.isfinite(red).any():
            raise ValueError(f"{self.method}: every setting of the grid diverged")
        idx = np.unravel_index(int(np.argmin(red)), red.shape)
        hp = {d: self.coords[d][i].item() for d, i in zip(self.grid_dims, idx)}
        hp.update(self.fixed)
        start = float(reducer(values[(slice(None),) + tuple(idx) + (0,)]))
        start = start if np.isfinite(start) else None
        return {"hparams": hp, "index": idx, "value": float(red[idx]), "point": point,
                "excluded": int(bad_setting.sum()), "edges": grid_edges(self, idx, bounds),
                "start": start, "improved": None if start is None else bool(red[idx] < start)}

    def final_stats(self, metric: str = "loss_gap", at: Optional[float] = None,
                    keys=("median", "min", "max")) -> dict:
        """Statistics of ``metric`` at the horizon (or at time ``at``) over every seed and
        setting, diverged runs left out and counted (:func:`~jaxsim.results.summary.run_stats`:
        ``{median, min, max, runs, left_out}``)."""
        point = self.time.shape[-1] - 1 if at is None else self.point_at(at)
        return run_stats(self._metric(metric)[..., point], self._diverged(point), keys)

    def index_of(self, **hparams) -> tuple:
        """The grid index of the setting with these values (every grid axis named; a value
        matches its coordinate to float32 rounding), e.g. the paper's stated setting."""
        missing = [d for d in self.grid_dims if d not in hparams]
        if missing:
            raise ValueError(f"index_of: give a value for every grid axis; missing {missing}")
        idx = []
        for d in self.grid_dims:
            hit = np.flatnonzero(np.isclose(np.asarray(self.coords[d], np.float64), hparams[d], rtol=1e-6, atol=0))
            if hit.size == 0:
                raise ValueError(f"index_of: {d}={hparams[d]} is not on the grid {np.asarray(self.coords[d]).tolist()}")
            idx.append(int(hit[0]))
        return tuple(idx)

    def to_xarray(self):
        """An ``xarray.Dataset``: one variable per metric over ``dims`` with their coordinates,
        ``time`` over ``(seed, point)``, ``diverged`` over ``(seed, *grid)``; ``method``, ``fixed``
        and ``info`` (as JSON) in ``attrs``. Needs ``xarray`` (``pip install xarray``)."""
        try:
            import xarray as xr
        except ImportError as e:
            raise ImportError("to_xarray needs xarray: pip install xarray") from e
        coords = {d: np.asarray(self.coords[d]) for d in self.dims[:-1]}
        coords["point"] = np.arange(self.time.shape[-1])
        data = {k: (self.dims, v) for k, v in self.metrics.items()}
        data["time"] = (("seed", "point"), self.time)
        data["run_diverged"] = (self.dims[:-1], self.diverged)
        return xr.Dataset(data, coords=coords, attrs=dict(
            method=self.method, fixed=json.dumps(self.fixed, default=jsonable),
            info=json.dumps(self.info, default=jsonable)))

    def to_dataframe(self):
        """Tidy rows (a ``pandas.DataFrame``): one per seed, grid setting and recording point,
        with columns ``method``, ``seed``, the grid axes, ``point``, ``time``, every metric and
        the fixed hyperparameters. Needs ``pandas``."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("to_dataframe needs pandas: pip install pandas") from e
        shape = self.time.shape[:1] + tuple(len(self.coords[d]) for d in self.grid_dims) + self.time.shape[-1:]
        grids = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
        cols = {"method": np.full(grids[0].size, self.method)}
        for d, g in zip(self.dims, grids):
            cols[d] = np.arange(shape[-1])[g.ravel()] if d == "point" else np.asarray(self.coords[d])[g.ravel()]
        cols["time"] = self.time[grids[0].ravel(), grids[-1].ravel()]
        for k, v in self.metrics.items():
            cols[k] = v.ravel()
        for k, v in self.fixed.items():
            cols[k] = np.full(grids[0].size, v)
        return pd.DataFrame(cols)

    def curve(self, index: tuple, metric: str = "grad_norm_sq") -> np.ndarray:
        """``metric[seed, point]`` of one grid setting."""
        return self._metric(metric)[(slice(None),) + tuple(index)]

    def save(self, path) -> Path:
        """Write the arrays, coordinates and a JSON header to ``path`` and return the path
        written: ``.npz`` is appended when ``path`` does not end with it (as NumPy does), so
        ``SweepResult.load(res.save("x"))`` works. The write is atomic (a temporary file in
        the same directory, renamed over ``path``): a crash mid-save leaves the previous
        file intact."""
        path = Path(path)
        if not path.name.endswith(".npz"):
            path = path.with_name(path.name + ".npz")
        header = dict(method=self.method, dims=list(self.dims), fixed=self.fixed,
                      info=self.info, metrics=sorted(self.metrics), coords=sorted(self.coords))
        arrays = {f"metric/{k}": v for k, v in self.metrics.items()}
        arrays.update({f"coord/{k}": v for k, v in self.coords.items()})
        return atomic_savez(path, header=np.array(json.dumps(header, default=jsonable)), time=self.time, **arrays)

    @classmethod
    def load(cls, path) -> "SweepResult":
        """Read a file written by :meth:`save` (``path`` with or without its ``.npz``).

        Nothing in the file is unpickled. A missing file raises ``FileNotFoundError``; one that
        is not such a file (empty, truncated, other bytes, another program's archive, entries
        whose shapes disagree) raises ``ValueError`` naming the file and what is wrong."""
        path = Path(path)
        if not path.exists() and not path.name.endswith(".npz") and path.with_name(path.name + ".npz").exists():
            path = path.with_name(path.name + ".npz")
        if not path.is_file():
            if path.exists():
                raise ValueError(f"{path}: is not a file (expected a .npz written by SweepResult.save)")
            raise FileNotFoundError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise ValueError(f"{path}: is empty (0 bytes), not a saved jaxsim result")
        try:
            z = np.load(path, allow_pickle=False)
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise _Damaged("is a single NumPy array, not a .npz archive written by SweepResult.save")
            with z:
                if "header" not in z.files:
                    raise _Damaged("has no 'header' entry: not a .npz written by SweepResult.save")
                h = json.loads(str(z["header"]))
                if not isinstance(h, dict):
                    raise _Damaged("its header is not a JSON object")
                entries = {"time"} | {f"coord/{k}" for k in h.get("coords", ())} | {
                    f"metric/{k}" for k in h.get("metrics", ())}
                missing = sorted(entries - set(z.files))
                if missing:
                    raise _Damaged(f"entries named by its header are missing: {missing}")
                res = cls(method=h["method"], dims=tuple(h["dims"]),
                          coords={k: z[f"coord/{k}"] for k in h["coords"]},
                          metrics={k: z[f"metric/{k}"] for k in h["metrics"]},
                          time=z["time"], fixed=h["fixed"], info=h["info"])
        except _Damaged as e:
            raise ValueError(f"{path}: {e}") from None
        except KeyError as e:
            raise ValueError(f"{path}: its header lacks the field {e} (not written by SweepResult.save, "
                             "or by an incompatible version)") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: its header is not valid JSON ({e})") from None
        except Exception as e:  # noqa: BLE001  zipfile, zlib, EOF, pickle refusals: the file is damaged
            raise ValueError(f"{path}: cannot be read as a saved jaxsim result ({_reason(e)})") from None
        res._check_shapes(path)
        return res

    def _check_shapes(self, path) -> None:
        """``ValueError`` naming ``path`` unless the arrays fit ``dims`` and ``coords``."""
        if not self.dims or self.dims[0] != "seed" or self.dims[-1] != "point" or len(set(self.dims)) != len(self.dims):
            raise ValueError(f"{path}: bad axes {list(self.dims)} (expected seed, grid axes..., point)")
        missing = [d for d in self.dims[:-1] if d not in self.coords]
        if missing:
            raise ValueError(f"{path}: no coordinates for the axes {missing}")
        if self.time.ndim != 2 or self.time.shape[0] != len(self.coords["seed"]):
            raise ValueError(f"{path}: time has shape {self.time.shape}, expected "
                             f"({len(self.coords['seed'])} seeds, points)")
        shape = tuple(len(self.coords[d]) for d in self.dims[:-1]) + self.time.shape[-1:]
        for k, v in self.metrics.items():
            if v.shape != shape:
                raise ValueError(f"{path}: metric {k!r} has shape {v.shape}, but its axes {list(self.dims)} "
                                 f"give {shape}")


class _Damaged(Exception):
    """What is wrong with a file :meth:`SweepResult.load` refuses (the message names the file)."""


def _reason(e: BaseException) -> str:
    """One line on why NumPy or ``zipfile`` could not read a file, without NumPy's advice to
    unpickle it (``allow_pickle``), which would run code from the file."""
    import zipfile
    import zlib

    text = " ".join(str(e).split())
    if "allow_pickle" in text or "pickle" in text.lower():
        return "not a NumPy .npz archive (its bytes are neither a zip archive nor a .npy array)"
    if isinstance(e, (EOFError, zipfile.BadZipFile, zlib.error)):
        return f"truncated or damaged: not a complete .npz archive ({type(e).__name__}: {text or 'no data'})"
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def jsonable(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


__all__ = ["SweepResult", "jsonable"]
