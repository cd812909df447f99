"""The record of a live run: its event log, its metrics over wall time, its configuration.

A :class:`LiveLog` is saved as one ``.npz`` (written atomically; nothing in it is pickled):
a JSON ``header`` (the configuration that makes the run again and lets :func:`jaxsim.live.replay`
rebuild the problem and timing, the outcome, the measured startup, and the provenance of
:func:`jaxsim.runtime.provenance.provenance`) and the arrays:

* ``jobs/*``: one row per dispatch (:data:`jaxsim.live.core.STATUS` for ``status``); times in
  wall seconds from the first dispatch: ``sent`` (server), ``start`` / ``finish`` (worker),
  ``received`` (server); ``nominal`` is the drawn duration in simulated seconds;
* ``arrivals/*``: the results the server took, in its order, with ``received`` and ``done``
  (when it had sent what the arrival commanded) and the update count after it;
* ``updates``: the wall time of each update; ``iterates``: the model after each (the first
  :data:`jaxsim.live.core.ITERATES` numbers' worth);
* ``metric/*`` and ``time``: the metrics at the recording times (``time`` in simulated seconds,
  wall seconds divided by the time scale), as a :class:`~jaxsim.results.SweepResult` gives them
  (:meth:`LiveLog.result`).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from ..results import SweepResult, jsonable
from ..runtime.checkpoint import atomic_savez


@dataclasses.dataclass
class LiveLog:
    """A live run's arrays (see the module docstring) and its JSON ``header``: ``config``
    (method, options, hyperparameters, problem, timing, seed, horizon, time scale, points),
    ``error`` (why it ended early, or ``None``), ``startup`` (seconds until every worker was
    ready), ``provenance``."""

    arrays: dict
    header: dict

    @property
    def config(self) -> dict:
        return self.header["config"]

    @property
    def error(self):
        return self.header.get("error")

    @property
    def scale(self) -> float:
        """Wall seconds per simulated second."""
        return float(self.config["time_scale"])

    def jobs(self, key: str) -> np.ndarray:
        return self.arrays[f"jobs/{key}"]

    def save(self, path) -> Path:
        """Write the log to ``path`` (``.npz`` appended when missing), atomically."""
        path = Path(path)
        if not path.name.endswith(".npz"):
            path = path.with_name(path.name + ".npz")
        return atomic_savez(path, header=np.array(json.dumps(self.header, default=jsonable)),
                            **{f"log/{k}": v for k, v in self.arrays.items()})

    @classmethod
    def load(cls, path) -> "LiveLog":
        """Read a log written by :meth:`save`; ``ValueError`` naming the file if it is not one."""
        path = Path(path)
        if not path.exists() and path.with_name(path.name + ".npz").exists():
            path = path.with_name(path.name + ".npz")
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        try:
            with np.load(path, allow_pickle=False) as z:
                header = json.loads(str(z["header"]))
                arrays = {k[4:]: z[k] for k in z.files if k.startswith("log/")}
        except Exception as e:  # noqa: BLE001  a damaged or foreign file
            raise ValueError(f"{path}: not a live-run log written by LiveLog.save ({type(e).__name__}: {e})") from None
        if not isinstance(header, dict) or "config" not in header or "jobs/worker" not in arrays:
            raise ValueError(f"{path}: not a live-run log written by LiveLog.save")
        return cls(arrays, header)

    @classmethod
    def finished(cls, log, who: str) -> "LiveLog":
        """``log`` (a :class:`LiveLog` or a path to one) if its run reached its horizon, else
        ``ValueError`` naming ``who``: a run that ended early is kept for reading, not compared."""
        if not isinstance(log, LiveLog):
            log = cls.load(log)
        if log.error is not None:
            raise ValueError(f"{who}: this live run ended early ({log.error}); its log is kept for reading, but "
                             "only a run that reached its horizon is compared")
        return log

    def result(self) -> SweepResult:
        """The metrics over time as a one-seed :class:`~jaxsim.results.SweepResult` (``time`` in
        simulated seconds), with the configuration, outcome and provenance in ``info``."""
        cfg = self.config
        metrics = {k[7:]: v[None] for k, v in self.arrays.items() if k.startswith("metric/")}
        info = dict(live=True, config=cfg, error=self.error, startup=self.header.get("startup"),
                    overheads=self.header.get("overheads"), provenance=self.header.get("provenance"))
        return SweepResult(method=cfg["method"], dims=("seed", "point"), coords={"seed": np.array([cfg["seed"]])},
                           metrics=metrics, time=self.arrays["time"][None], fixed=cfg["hparams"], info=info)


__all__ = ["LiveLog"]
