"""Computation-time models: how long job ``j`` of worker ``w`` takes.

A :class:`TimingModel` is a base time per worker plus an optional per-job random
delay, ``D[w, j] = tau_w + eta[w, j]`` with ``eta >= 0``. :meth:`TimingModel.sample`
is the only place in jaxsim that draws compute times; everything downstream
(event streams, the engine, the reference oracle) consumes the returned array.

Workers are 0-based (``w = 0..n-1``) in code. Profiles written with a 1-based
index ``i = w + 1`` in the papers are documented as such below.

Durations are drawn in fixed blocks of :data:`BLOCK` jobs, block ``b`` from
``fold_in(key, b)``, so asking for more jobs extends the array without changing
the jobs already drawn (a prefix property the tests rely on).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Union

import jax
import jax.numpy as jnp
import numpy as np

BLOCK = 256

ArrayLike = Union[float, np.ndarray, list, tuple]


# --------------------------------------------------------------------------------------
# Base times
# --------------------------------------------------------------------------------------

def _profile_sqrt(n):  # tau_i = sqrt(i), i = 1..n
    return np.sqrt(np.arange(1, n + 1, dtype=np.float64))


def _profile_one_plus_sqrt(n):  # tau_w = 1 + sqrt(w), w = 0..n-1 (Ringmaster experiments)
    return 1.0 + np.sqrt(np.arange(n, dtype=np.float64))


def _profile_linear(n):  # tau_i = i, i = 1..n (Ringleader experiments)
    return np.arange(1, n + 1, dtype=np.float64)


def _profile_constant(n):
    return np.ones(n, dtype=np.float64)


BASE_PROFILES: dict[str, Callable[[int], np.ndarray]] = {
    "sqrt": _profile_sqrt,
    "one_plus_sqrt": _profile_one_plus_sqrt,
    "linear": _profile_linear,
    "constant": _profile_constant,
}


def base_times(profile: str | ArrayLike, n: int, scale: float = 1.0) -> np.ndarray:
    """Per-worker base times ``tau[n]`` (float64) from a profile name or a user array."""
    _check_n(n)
    if isinstance(profile, str):
        if profile not in BASE_PROFILES:
            raise ValueError(
                f"timing.base: unknown profile {profile!r}; choose one of {sorted(BASE_PROFILES)} "
                "or pass an array of n base times")
        tau = BASE_PROFILES[profile](n)
    else:
        tau = np.asarray(profile, dtype=np.float64).reshape(-1)
        if tau.shape[0] != n:
            raise ValueError(f"timing.base: got {tau.shape[0]} base times for n={n} workers")
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)) \
            or not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"timing.scale (base-time multiplier) must be a positive finite number, got {scale!r}")
    tau = tau * scale
    if not np.all(np.isfinite(tau)) or np.any(tau < 0):
        raise ValueError("timing.base: base times must be finite and >= 0")
    return tau


def _check_n(n):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n (number of workers) must be a positive integer, got {n!r}")


def _per_worker(value, n: int, field: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)) if np.ndim(value) == 0 \
        else np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.shape[0] != n:
        raise ValueError(f"{field}: got {arr.shape[0]} values for n={n} workers")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{field}: values must be finite and >= 0")
    return np.array(arr)


# --------------------------------------------------------------------------------------
# Per-job noise laws (eta >= 0)
# --------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Noise:
    """A law for the per-job delay ``eta[w, j] >= 0``; subclasses define one law each."""

    name = "none"

    def sample(self, key, tau: np.ndarray, shape) -> jax.Array:
        """``eta`` of the given ``(n, jobs)`` shape (``tau`` is the base time per worker)."""
        return jnp.zeros(shape)

    def mean(self, tau: np.ndarray) -> np.ndarray:
        """``E eta`` per worker (``inf`` for laws without a mean)."""
        return np.zeros_like(tau)

    def validate(self, n: int) -> None:
        """Raise ``ValueError`` naming the field for bad parameters."""


@dataclasses.dataclass(frozen=True)
class NoNoise(Noise):
    """Fixed computation model: ``D[w, j] = tau_w``."""

    name = "none"


@dataclasses.dataclass(frozen=True)
class HalfNormal(Noise):
    """``eta = s_w |Z|`` with variance ``s_w^2`` given by ``var``.

    ``var="i"`` (default) is variance ``w + 1`` (1-based ``i``), the law of the
    Ringmaster ASGD (``|N(0, w+1)|``) and Ringleader ASGD (``|N(0, i)|``) papers;
    ``var="i-1"`` is variance ``w``; a float or an array gives it directly.
    """

    var: Union[str, float, tuple] = "i"
    name = "halfnormal"

    def variance(self, n):
        if isinstance(self.var, str):
            if self.var == "i":
                return np.arange(1, n + 1, dtype=np.float64)
            if self.var == "i-1":
                return np.arange(n, dtype=np.float64)
            raise ValueError(f"timing.noise.var: unknown profile {self.var!r} (use 'i', 'i-1' or numbers)")
        return _per_worker(self.var, n, "timing.noise.var")

    def validate(self, n):
        self.variance(n)

    def sample(self, key, tau, shape):
        s = jnp.sqrt(jnp.asarray(self.variance(shape[0])))[:, None]
        return s * jnp.abs(jax.random.normal(key, shape))

    def mean(self, tau):
        return np.sqrt(self.variance(tau.shape[0])) * math.sqrt(2.0 / math.pi)


@dataclasses.dataclass(frozen=True)
class Exponential(Noise):
    """``eta ~ Exp`` with the given mean; ``mean="base"`` uses ``tau_w`` (the ATA law)."""

    scale: Union[str, float, tuple] = 1.0
    name = "exponential"

    def means(self, tau):
        if isinstance(self.scale, str):
            if self.scale != "base":
                raise ValueError(f"timing.noise.scale: unknown value {self.scale!r} (use 'base' or numbers)")
            return np.array(tau)
        return _per_worker(self.scale, tau.shape[0], "timing.noise.scale")

    def validate(self, n):
        if not isinstance(self.scale, str):
            _per_worker(self.scale, n, "timing.noise.scale")
        elif self.scale != "base":
            raise ValueError(f"timing.noise.scale: unknown value {self.scale!r} (use 'base' or numbers)")

    def sample(self, key, tau, shape):
        return jnp.asarray(self.means(tau))[:, None] * jax.random.exponential(key, shape)

    def mean(self, tau):
        return self.means(tau)


@dataclasses.dataclass(frozen=True)
class LogNormal(Noise):
    """``eta = exp(sigma Z)`` (scipy's ``lognorm(sigma)``, scale 1)."""

    sigma: float = 1.0
    name = "lognormal"

    def validate(self, n):
        if not (np.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"timing.noise.sigma must be positive and finite, got {self.sigma}")

    def sample(self, key, tau, shape):
        return jnp.exp(self.sigma * jax.random.normal(key, shape))

    def mean(self, tau):
        return np.full_like(tau, math.exp(self.sigma ** 2 / 2))


@dataclasses.dataclass(frozen=True)
class Uniform(Noise):
    """``eta ~ Uniform(low, high)``."""

    low: float = 0.0
    high: float = 1.0
    name = "uniform"

    def validate(self, n):
        if not (np.isfinite(self.low) and np.isfinite(self.high) and 0 <= self.low <= self.high):
            raise ValueError(f"timing.noise: need 0 <= low <= high (finite), got low={self.low}, high={self.high}")

    def sample(self, key, tau, shape):
        return jax.random.uniform(key, shape, minval=self.low, maxval=self.high)

    def mean(self, tau):
        return np.full_like(tau, (self.low + self.high) / 2)


NOISE_LAWS: dict[str, type[Noise]] = {
    cls.name: cls for cls in (NoNoise, HalfNormal, Exponential, LogNormal, Uniform)
}


# --------------------------------------------------------------------------------------
# Timing model
# --------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class TimingModel:
    """Per-worker base times plus a per-job noise law.

    Args:
      n: number of workers.
      base: a profile name from :data:`BASE_PROFILES` or an array of ``n`` base times.
      scale: multiplies the base times (seconds per gradient).
      noise: a :class:`Noise` law (default: none, the fixed model).
      permute_base: randomly permute the base times across workers, per seed, while the
        noise law stays tied to the worker index (the Ringleader scripts' option).
    """

    n: int
    base: Union[str, tuple] = "one_plus_sqrt"
    scale: float = 1.0
    noise: Noise = NoNoise()
    permute_base: bool = False

    def __post_init__(self):
        if not isinstance(self.base, str):
            object.__setattr__(self, "base", tuple(np.asarray(self.base, dtype=np.float64).reshape(-1).tolist()))
        self.validate()

    def validate(self) -> None:
        _check_n(self.n)
        base_times(self.base, self.n, self.scale)
        if not isinstance(self.noise, Noise):
            raise ValueError(f"timing.noise must be a Noise law, got {type(self.noise).__name__}")
        self.noise.validate(self.n)

    @property
    def tau(self) -> np.ndarray:
        """Unpermuted base times ``tau[n]``."""
        return base_times(self.base, self.n, self.scale)

    def base_for(self, key) -> np.ndarray:
        """Base times as used with ``key`` (permuted when ``permute_base``)."""
        tau = self.tau
        if self.permute_base:
            perm = np.asarray(jax.random.permutation(jax.random.fold_in(key, 0x9E37), self.n))
            tau = tau[perm]
        return tau

    def mean(self, key=None) -> np.ndarray:
        """Expected duration per worker, ``tau_w + E eta_w`` (base times for ``key``)."""
        tau = self.base_for(key) if (self.permute_base and key is not None) else self.tau
        return tau + self.noise.mean(tau)

    def sample(self, key, num_jobs: int, dtype=None) -> np.ndarray:
        """Durations ``D[n, num_jobs]`` for one seed (a NumPy array).

        Blocks of :data:`BLOCK` jobs are drawn from ``fold_in(key, block)``, so a longer
        draw extends a shorter one without changing it.
        """
        if num_jobs <= 0:
            raise ValueError(f"num_jobs must be positive, got {num_jobs}")
        dtype = dtype or (jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)
        tau = self.base_for(key)
        blocks = -(-num_jobs // BLOCK)
        keys = jax.vmap(lambda b: jax.random.fold_in(key, b))(jnp.arange(blocks))
        eta = _sample_blocks(self.noise, keys, tau, self.n)
        eta = np.asarray(eta, dtype=np.float64)
        eta = np.moveaxis(eta, 0, 1).reshape(self.n, blocks * BLOCK)[:, :num_jobs]
        return (tau[:, None] + eta).astype(dtype)

    def jobs_to_cover(self, horizon_time: float, active=None) -> int:
        """A job count that surely covers ``horizon_time`` (noise is non-negative)."""
        tau = self.tau if active is None else self.tau[np.asarray(active)]
        tmin = float(np.min(tau)) if tau.size else 1.0
        if tmin <= 0:
            return BLOCK
        return int(math.ceil(horizon_time / tmin)) + 1


def _sample_blocks(noise: Noise, keys, tau: np.ndarray, n: int):
    """``eta[blocks, n, BLOCK]``: one block per key."""
    return jax.vmap(lambda k: noise.sample(k, tau, (n, BLOCK)))(keys)


def make_timing(n: int, base: str | ArrayLike = "one_plus_sqrt", noise: str = "none", *,
                base_scale: float = 1.0, permute_base: bool = False, **noise_params) -> TimingModel:
    """Build a :class:`TimingModel` from names, e.g. ``make_timing(6174, "one_plus_sqrt", "halfnormal")``.

    ``base_scale`` multiplies the base times; other keywords go to the noise law
    (``make_timing(n, "linear", "exponential", scale="base")`` is the ATA law).
    """
    if noise not in NOISE_LAWS:
        raise ValueError(f"timing.noise: unknown law {noise!r}; choose one of {sorted(NOISE_LAWS)}")
    try:
        law = NOISE_LAWS[noise](**noise_params)
    except TypeError as e:
        raise ValueError(f"timing.noise: bad parameters for {noise!r}: {e}") from None
    return TimingModel(n=n, base=base, scale=base_scale, noise=law, permute_base=permute_base)


def validate_durations(durations, n: int | None = None) -> np.ndarray:
    """Check a user-given ``durations[n, J]`` array: positive (``+inf`` allowed), no NaN."""
    d = np.asarray(durations)
    if d.ndim != 2:
        raise ValueError(f"durations must be a 2-D array [n, jobs], got shape {d.shape}")
    if n is not None and d.shape[0] != n:
        raise ValueError(f"durations: has {d.shape[0]} workers but the method/problem expects n={n}")
    if np.any(np.isnan(d)):
        raise ValueError("durations: contains NaN")
    if np.any(d <= 0):
        raise ValueError("durations: every duration must be > 0 (found negative or zero values)")
    return d
