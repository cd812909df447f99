"""Validation helpers shared by the :mod:`jaxsim.theory` modules.

Bad inputs raise ``ValueError`` whose message starts with the offending argument's name
(homogeneous.md §11 conventions). ``TIE_RTOL`` is the relative tolerance of "ties -> smallest
index" minimisers (:func:`argmin_first`). Project code, no paper source.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "TIE_RTOL",
    "argmin_first",
    "ceil_count",
    "check_at_least_one",
    "check_choice",
    "check_counts",
    "check_nonneg",
    "check_per_worker",
    "check_pos_int",
    "check_positive",
    "check_problem",
    "check_scalar",
    "check_tau",
    "check_vector",
    "sorted_tau",
]


TIE_RTOL = 1e-12


def check_scalar(name: str, x) -> float:
    if isinstance(x, bool):
        raise ValueError(f"{name} must be a real number, got {x!r}")  # noqa: TRY004 (spec: ValueError)
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {x!r}") from None
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {arr.shape}")
    v = float(arr)
    if math.isnan(v):
        raise ValueError(f"{name} must not be NaN")
    return v


def check_positive(name: str, x) -> float:
    v = check_scalar(name, x)
    if not (v > 0 and math.isfinite(v)):
        raise ValueError(f"{name} must be a finite number > 0, got {x!r}")
    return v


def check_nonneg(name: str, x) -> float:
    v = check_scalar(name, x)
    if not (v >= 0 and math.isfinite(v)):
        raise ValueError(f"{name} must be a finite number >= 0, got {x!r}")
    return v


def check_at_least_one(name: str, x) -> float:
    v = check_scalar(name, x)
    if not (v >= 1 and math.isfinite(v)):
        raise ValueError(f"{name} must be a finite number >= 1, got {x!r}")
    return v


def check_vector(name: str, x) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of real numbers") from None
    if arr.ndim > 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    arr = arr.reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} must not contain NaN")
    return arr


def check_tau(tau) -> np.ndarray:
    """Validated per-worker times (original order). ``+inf`` (a hung worker) is allowed."""
    t = check_vector("tau", tau)
    if np.any(t <= 0):
        raise ValueError("tau: times must be > 0")
    if not np.isfinite(t.min()):
        raise ValueError("tau: at least one time must be finite")
    return t


def sorted_tau(tau) -> np.ndarray:
    return np.sort(check_tau(tau), kind="stable")


def check_per_worker(name: str, x, n: int) -> np.ndarray:
    arr = check_vector(name, x)
    if arr.size == 1 and n != 1:
        arr = np.full(n, arr[0])
    if arr.size != n:
        raise ValueError(f"{name}: got {arr.size} values for n={n} workers")
    return arr


def argmin_first(values: np.ndarray) -> int:
    """Index of the minimum; near-ties (relative 1e-12) resolve to the smallest index."""
    best = np.min(values)
    if not np.isfinite(best):
        return int(np.argmin(values))
    ok = values <= best + TIE_RTOL * abs(best)
    return int(np.argmax(ok))


def ceil_count(ratio: float) -> int:
    """``max(1, ceil(ratio))`` robust to float noise: 1.1/0.1 = 11.000000000000002 -> 11."""
    r = round(ratio)
    if abs(ratio - r) <= 1e-12 * max(1.0, abs(ratio)):
        return max(1, int(r))
    return max(1, math.ceil(ratio))


def check_pos_int(name: str, x) -> int:
    """A positive integer (integral floats accepted, ``bool`` rejected)."""
    v = check_scalar(name, x)
    if not (math.isfinite(v) and v >= 1 and v == math.floor(v)):
        raise ValueError(f"{name} must be an integer >= 1, got {x!r}")
    return int(v)


def check_counts(name: str, x) -> np.ndarray:
    """Per-worker counts: finite, integer-valued, ``>= 0``; returned as int64."""
    arr = check_vector(name, x)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.floor(arr)):
        raise ValueError(f"{name} must hold finite integer counts >= 0")
    return arr.astype(np.int64)


def check_choice(name: str, value, options) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value


def check_problem(L, Delta, sigma2, eps):
    """Validated ``(L, Delta, sigma2, eps)``: ``L, eps > 0`` and ``Delta, sigma2 >= 0``."""
    return (check_positive("L", L), check_nonneg("Delta", Delta), check_nonneg("sigma2", sigma2),
            check_positive("eps", eps))
