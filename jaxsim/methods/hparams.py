"""Hyperparameters: each one's domain, default, and the range the oracle test draws from.

A method declares ``hparams = {"gamma": GAMMA, "R": HParam(1, "count", ...), ...}``; a sweep
checks every value against its :class:`HParam` before anything is compiled (naming the field)
and runs them as traced arrays (counts ``int32``, the rest in the run's float type).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Union

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class HParam:
    """A hyperparameter.

    ``kind``: ``"positive"`` (finite float > 0), ``"fraction"`` (float in ``(0, 1]``, e.g. a
    momentum weight), ``"budget"`` (float > 0, ``inf`` allowed), ``"nonnegative"`` (finite
    float >= 0, e.g. a communication time) or ``"count"`` (integer >= 1; ``>= 0`` with
    ``zero=True``, where 0 is a documented "off" or "same as" value).
    ``draw``: the range the oracle test samples from, ``(low, high)`` or a function of the
    worker count ``n`` returning it (floats: log-uniform; counts: uniform integers, both ends
    included); ``None`` takes the kind's default (floats ``(0.01, 0.25)``, fractions
    ``(0.05, 1)``, counts ``(1, n + 2)``, budgets ``(0.05, 3.0)`` or ``inf``; non-negative
    floats are ``0`` a fifth of the time).
    """

    default: float
    kind: str = "positive"
    doc: str = ""
    draw: Union[None, tuple, Callable[[int], tuple]] = None
    zero: bool = False  # counts: 0 is a valid value

    def check(self, name: str, values, dtype=None) -> np.ndarray:
        """Validate ``values`` (scalar or 1-D) and return them as a NumPy array.

        Counts must fit the engine's ``int32`` (at most :data:`COUNT_MAX`). Floats are
        checked against ``dtype``, the run's float type (default ``float32``, or ``float64``
        with x64 enabled): a finite value that overflows to ``inf`` or falls below the
        smallest normal number of that type (so that it would run as ``0`` or a subnormal)
        is rejected, naming the field.
        """
        try:
            arr = np.atleast_1d(np.asarray(values))
        except (ValueError, TypeError) as e:  # ragged nested lists
            raise ValueError(f"hyperparameter {name}: expected a number or a 1-D list of numbers, "
                             f"got {values!r}") from e
        if arr.ndim > 1:
            raise ValueError(f"hyperparameter {name}: expected a number or a 1-D list of numbers, "
                             f"got an array of shape {arr.shape}")
        if arr.size == 0:
            raise ValueError(f"hyperparameter {name}: empty grid")
        if (arr.dtype == object or not np.issubdtype(arr.dtype, np.number)
                or np.issubdtype(arr.dtype, np.complexfloating)):
            raise ValueError(f"hyperparameter {name}: values must be real numbers, got {values!r}")
        arr = arr.astype(np.float64)
        if self.kind == "positive":
            if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise ValueError(f"hyperparameter {name} must be positive and finite, got {arr.tolist()}")
            _check_float_range(name, arr, dtype)
            return arr
        if self.kind == "fraction":
            if not np.all(np.isfinite(arr)) or np.any(arr <= 0) or np.any(arr > 1):
                raise ValueError(f"hyperparameter {name} must be in (0, 1], got {arr.tolist()}")
            _check_float_range(name, arr, dtype)
            return arr
        if self.kind == "nonnegative":
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise ValueError(f"hyperparameter {name} must be finite and >= 0, got {arr.tolist()}")
            _check_float_range(name, arr[arr > 0], dtype)
            return arr
        if self.kind == "budget":  # a time budget: > 0, +inf allowed ("none")
            if np.any(np.isnan(arr)) or np.any(arr <= 0):
                raise ValueError(f"hyperparameter {name} (a time budget) must be > 0 (inf allowed), "
                                 f"got {arr.tolist()}")
            _check_float_range(name, arr, dtype, inf_hint=" (use inf for no budget)")
            return arr
        if self.kind == "count":
            low = 0 if self.zero else 1
            if not np.all(np.isfinite(arr)) or np.any(arr < low) or np.any(arr != np.round(arr)):
                raise ValueError(f"hyperparameter {name} must be an integer >= {low}, got {arr.tolist()}")
            if np.any(arr > COUNT_MAX):
                big = [int(v) for v in np.asarray(values).reshape(-1) if v > COUNT_MAX]
                raise ValueError(f"hyperparameter {name} must be at most 2**31 - 1 = {COUNT_MAX} "
                                 f"(counts run as int32), got {big}")
            return arr.astype(np.int64)
        raise AssertionError(self.kind)

    def sample(self, rng: np.random.Generator, n: int):
        """A random valid value for ``n`` workers (the oracle test's configurations)."""
        rng_range = self.draw(n) if callable(self.draw) else self.draw
        if self.kind == "count":
            lo, hi = rng_range or (0 if self.zero else 1, n + 2)
            return int(rng.integers(lo, hi + 1))
        if self.kind == "budget" and rng_range is None:  # a time budget: sometimes none
            return float("inf") if rng.random() < 0.2 else float(rng.uniform(0.05, 3.0))
        if self.kind == "nonnegative" and rng.random() < 0.2:  # the edge of the domain
            return 0.0
        lo, hi = rng_range or ((0.05, 1.0) if self.kind == "fraction" else (0.01, 0.25))
        return float(np.exp(rng.uniform(math.log(lo), math.log(hi))))


#: The largest count hyperparameter: counts run as ``int32``.
COUNT_MAX = 2 ** 31 - 1


def _check_float_range(name: str, arr: np.ndarray, dtype, inf_hint: str = "") -> None:
    """Raise if a finite positive value of ``arr`` becomes ``inf``, ``0`` or a subnormal
    in ``dtype`` (``None``: the default float type, ``float32`` unless x64 is enabled)."""
    dtype = jnp.dtype(jax.dtypes.canonicalize_dtype(np.float64) if dtype is None else dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        return
    fin = jnp.finfo(dtype)
    finite = arr[np.isfinite(arr)]
    with np.errstate(over="ignore", under="ignore"):
        cast = finite.astype(dtype).astype(np.float64)
    over = finite[~np.isfinite(cast)]
    if over.size:
        raise ValueError(f"hyperparameter {name}: {over.tolist()} overflows {dtype.name} (the run's float type; "
                         f"largest {float(fin.max):.4g}){inf_hint}")
    under = finite[np.abs(cast) < float(fin.tiny)]
    if under.size:
        raise ValueError(f"hyperparameter {name}: {under.tolist()} is below the smallest normal {dtype.name} "
                         f"({float(fin.tiny):.4g}; the run's float type) and would run as 0 or a subnormal")


GAMMA = HParam(0.01, "positive", "stepsize")


__all__ = ["COUNT_MAX", "GAMMA", "HParam"]
