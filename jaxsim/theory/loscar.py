"""LOSCAR-SGD's round time in the fixed computation model (lmo_vr_local.md §4.3).

LOSCAR-SGD: arXiv 2605.20866. **[uncertain]**: the
paper's time model is not known; these are the spec's proposal, which
:class:`jaxsim.methods.loscar.LoscarSGD` simulates. Worker ``i`` takes ``tau_i`` seconds per
local step; a round sends ``K`` coordinates in ``T_comm = latency + per_float * K`` seconds.

* ``mode="window"``: compute window ``T``; ``N_i = floor(T / tau_i)`` steps before sending,
  ``Q_i = floor(T_comm / tau_i)`` overlap steps (``0`` without overlap); a round lasts
  ``T + T_comm`` either way (overlap only adds steps).
* ``mode="fixed_steps"``: ``N_i = N``; the transfer starts when the slowest worker is done,
  a round lasts ``N max_i tau_i + T_comm``; ``Q_i = floor(T_comm / tau_i)``.

Floors are exact-arithmetic counts; a simulation summing float step times may land one step
lower at an exact boundary (e.g. ``T = 0.3``, ``tau = 0.1``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .validation import check_choice, check_nonneg, check_pos_int, check_positive, check_tau

__all__ = ["LoscarRound", "loscar_comm_time", "loscar_round"]


class LoscarRound(NamedTuple):
    """One round in the fixed model: its length, the communication time, ``N_i`` and ``Q_i``
    per worker (original order), local steps of all workers and floats sent up and down."""

    time: float
    comm: float
    compute_steps: np.ndarray
    overlap_steps: np.ndarray
    local_steps: int
    floats: int


def loscar_comm_time(K, latency, per_float) -> float:
    """``T_comm = latency + per_float * K`` [uncertain: spec §4.3 proposal]."""
    K = check_pos_int("K", K)
    return check_nonneg("latency", latency) + check_nonneg("per_float", per_float) * K


def _floor_ratio(t: float, tau: np.ndarray) -> np.ndarray:
    """``floor(t / tau)`` robust to float noise in the division (``0.3 / 0.1``)."""
    q = t / tau
    r = np.round(q)
    return np.where(np.abs(q - r) <= 1e-12 * np.maximum(1.0, np.abs(q)), r, np.floor(q)).astype(np.int64)


def loscar_round(tau, K, latency, per_float, *, mode: str = "window", compute_time=None, N=None,
                 overlap: bool = True) -> LoscarRound:
    """LOSCAR's round in the fixed model (module docstring) [uncertain: spec §4.3 proposal].

    ``tau``: seconds per local step of each worker; ``K``: coordinates sent per round; ``mode``
    ``"window"`` needs ``compute_time`` (``T``), ``"fixed_steps"`` needs ``N``. Rounds by time
    ``t``: ``floor(t / time)``."""
    t = check_tau(tau)
    mode = check_choice("mode", mode, ("window", "fixed_steps"))
    comm = loscar_comm_time(K, latency, per_float)
    if mode == "window":
        if compute_time is None:
            raise ValueError("compute_time is required in mode 'window'")
        T = check_positive("compute_time", compute_time)
        n_steps, length = _floor_ratio(T, t), T + comm
    else:
        if N is None:
            raise ValueError("N is required in mode 'fixed_steps'")
        N = check_pos_int("N", N)
        n_steps, length = np.full(t.shape, N, np.int64), N * float(np.max(t)) + comm
    q = _floor_ratio(comm, t) if overlap else np.zeros(t.shape, np.int64)
    return LoscarRound(time=float(length), comm=float(comm), compute_steps=n_steps, overlap_steps=q,
                       local_steps=int(np.sum(n_steps) + np.sum(q)), floats=2 * t.size * int(K))

