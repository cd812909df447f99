"""Per-job noise laws: the random delay ``eta[w, j] >= 0`` (or ``+inf``, a job that never ends).

A :class:`Noise` law is the random part of a :class:`~jaxsim.timing.TimingModel`,
``D[w, j] = tau_w + eta[w, j]``; :data:`NOISE_LAWS` maps each law's ``name`` to its class
(``make_timing(n, base, "halfnormal")``). Every law draws one ``eta`` from a key (traceable in
the worker index ``w``) and gives its per-worker mean and CDF. Workers are 0-based; laws written
with a 1-based index ``i = w + 1`` in the papers are documented as such. Tuple-valued
parameters are per worker. Error messages name the field as ``timing.noise.<field>``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Union

import jax
import jax.numpy as jnp
import jax.scipy.special
import numpy as np

__all__ = [
    "AlphaBernoulli",
    "ExpLevyMix",
    "Exponential",
    "HalfCauchy",
    "HalfNormal",
    "InfBernoulli",
    "Levy",
    "LogCauchy",
    "LogNormal",
    "NOISE_LAWS",
    "NoNoise",
    "Noise",
    "Pareto",
    "Uniform",
]


def _per_worker(value, n: int, field: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)) if np.ndim(value) == 0 \
        else np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.shape[0] != n:
        raise ValueError(f"{field}: got {arr.shape[0]} values for n={n} workers")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{field}: values must be finite and >= 0")
    return np.array(arr)


def _pw(value, w):
    """Parameter ``value`` (scalar or per-worker tuple) for worker ``w`` (traced)."""
    return jnp.asarray(value)[w] if np.ndim(value) > 0 else jnp.asarray(value)


def _check_pos(value, field, allow_zero=False):
    arr = np.asarray(value, dtype=np.float64)
    ok = np.all(np.isfinite(arr)) and (np.all(arr >= 0) if allow_zero else np.all(arr > 0))
    if not ok:
        raise ValueError(f"timing.noise.{field} must be finite and {'>=' if allow_zero else '>'} 0, got {value!r}")


def _check_len(value, n, field):
    if np.ndim(value) > 0 and np.asarray(value).reshape(-1).shape[0] != n:
        raise ValueError(f"timing.noise.{field}: got {np.asarray(value).size} values for n={n} workers")


def _u01(key, dtype):
    """Uniform in (0, 1), never exactly 0 (so ``1/u`` and ``log u`` stay finite)."""
    return jax.random.uniform(key, (), dtype, minval=jnp.finfo(dtype).tiny, maxval=1.0)


@dataclasses.dataclass(frozen=True)
class Noise:
    """A law for the per-job delay ``eta[w, j] >= 0``; one subclass per law.

    ``draw(key, w, tau_w)`` returns one ``eta`` (traceable in ``w``); ``mean(tau)`` is a
    per-worker NumPy array (``inf`` for laws without a mean); ``cdf(t, tau)`` is
    ``P(eta_w <= t)`` per worker, traceable (MindFlayer's ``p_i = F_i(t_i)`` uses it
    with a traced clip ``t``).
    Tuple-valued parameters are per worker.
    """

    name = "none"

    def draw(self, key, w, tau_w, dtype=jnp.float32):
        return jnp.zeros((), dtype)

    def mean(self, tau: np.ndarray) -> np.ndarray:
        return np.zeros_like(tau)

    def cdf(self, t, tau: np.ndarray) -> np.ndarray:
        return jnp.where(jnp.asarray(t) >= 0, 1.0, 0.0) * jnp.ones(jnp.shape(tau))

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
    ``var="i-1"`` is variance ``w``; a float or a per-worker tuple gives it directly.
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

    def _std(self, w, dtype):
        if self.var == "i":
            return jnp.sqrt((w + 1).astype(dtype))
        if self.var == "i-1":
            return jnp.sqrt(w.astype(dtype))
        return jnp.sqrt(_pw(self.var, w).astype(dtype))

    def draw(self, key, w, tau_w, dtype=jnp.float32):
        return self._std(jnp.asarray(w), dtype) * jnp.abs(jax.random.normal(key, (), dtype))

    def mean(self, tau):
        return np.sqrt(self.variance(tau.shape[0])) * math.sqrt(2.0 / math.pi)

    def cdf(self, t, tau):
        s = jnp.sqrt(self.variance(tau.shape[0]))
        return jnp.where(s > 0, _erf(jnp.maximum(t, 0) / (jnp.maximum(s, 1e-300) * jnp.sqrt(2))), 1.0)


@dataclasses.dataclass(frozen=True)
class Exponential(Noise):
    """``eta ~ Exp`` with mean ``scale``; ``scale="base"`` uses ``tau_w`` (the ATA law)."""

    scale: Union[str, float, tuple] = 1.0
    name = "exponential"

    def means(self, tau):
        if isinstance(self.scale, str):
            return np.array(tau)
        return _per_worker(self.scale, tau.shape[0], "timing.noise.scale")

    def validate(self, n):
        if isinstance(self.scale, str):
            if self.scale != "base":
                raise ValueError(f"timing.noise.scale: unknown value {self.scale!r} (use 'base' or numbers)")
        else:
            _per_worker(self.scale, n, "timing.noise.scale")

    def draw(self, key, w, tau_w, dtype=jnp.float32):
        theta = tau_w if isinstance(self.scale, str) else _pw(self.scale, w)
        return theta.astype(dtype) * jax.random.exponential(key, (), dtype)

    def mean(self, tau):
        return self.means(tau)

    def cdf(self, t, tau):
        th = self.means(tau)
        return jnp.where(th > 0, 1 - jnp.exp(-jnp.maximum(t, 0) / jnp.maximum(th, 1e-300)), 1.0)


@dataclasses.dataclass(frozen=True)
class LogNormal(Noise):
    """``eta = exp(sigma Z)`` (scipy's ``lognorm(sigma)``, scale 1)."""

    sigma: float = 1.0
    name = "lognormal"

    def validate(self, n):
        _check_pos(self.sigma, "sigma")

    def draw(self, key, w, tau_w, dtype=jnp.float32):
        return jnp.exp(self.sigma * jax.random.normal(key, (), dtype))

    def mean(self, tau):
        return np.full_like(tau, math.exp(self.sigma ** 2 / 2))

    def cdf(self, t, tau):
        t = jnp.maximum(jnp.asarray(t), 1e-300)
        return jnp.ones(jnp.shape(tau)) * 0.5 * (1 + _erf(jnp.log(t) / (self.sigma * jnp.sqrt(2))))


@dataclasses.dataclass(frozen=True)
class Uniform(Noise):
    """``eta ~ Uniform(low, high)``."""

    low: float = 0.0
    high: float = 1.0
    name = "uniform"

    def validate(self, n):
        if not (np.isfinite(self.low) and np.isfinite(self.high) and 0 <= self.low <= self.high):
            raise ValueError(f"timing.noise: need 0 <= low <= high (finite), got low={self.low}, high={self.high}")

    def draw(self, key, w, tau_w, dtype=jnp.float32):
        return jax.random.uniform(key, (), dtype, minval=self.low, maxval=self.high)

    def mean(self, tau):
        return np.full_like(tau, (self.low + self.high) / 2)

    def cdf(self, t, tau):
        width = max(self.high - self.low, 1e-300)
        return jnp.ones(jnp.shape(tau)) * jnp.clip((jnp.asarray(t) - self.low) / width, 0.0, 1.0)


@dataclasses.dataclass(frozen=True)
class HalfCauchy(Noise):
    """``eta = |loc + scale C|``, ``C`` standard Cauchy (heavy tail, no mean)."""

    loc: float = 0.0
    scale: float = 1.0
    name = "halfcauchy"

    def validate(self, n):
        _check_pos(self.scale, "scale")
        if not np.isfinite(self.loc):
            raise ValueError(f"timing.noise.loc must be finite, got {self.loc}")

    def draw(self, key, w, tau_w, dtype=jnp.float32):
        return jnp.abs(self.loc + self.scale * jax.random.cauchy(key, (), dtype))

    def mean(self, tau):
        return np.full_like(tau, np.inf)

    def cdf(self, t, tau):
        t = jnp.maximum(jnp.asarray(t), 0)
        return jnp.ones(jnp.shape(tau)) * (jnp.arctan((t - self.loc) / self.scale)
                                    + jnp.arctan((t + self.loc) / self.scale)) / jnp.pi


@dataclasses.dataclass(frozen=True)
class LogCauchy(Noise):
    """``eta = exp(loc + scale C)``; overflow is a hang (``+inf``), harmless in any horizon."""

    loc: float = 0.0
    scale: float = 1.0
    name = "logcauchy"

    def validate(self, n):
        _check_pos(self.scale, "scale")
        if not np.isfinite(self.loc):
            raise ValueError(f"timing.noise.loc must be finite, got {self.loc}")

    def draw(self, key, w, tau_w, dtype=jnp.float32):
        return jnp.exp(self.loc + self.scale * jax.random.cauchy(key, (), dtype))

    def mean(self, tau):
        return np.full_like(tau, np.inf)

    def cdf(self, t, tau):
        t = jnp.maximum(jnp.asarray(t), 1e-300)
        return jnp.ones(jnp.shape(tau)) * (0.5 + jnp.arctan((jnp.log(t) - self.loc) / self.scale) / jnp.pi)


@dataclasses.dataclass(frozen=True)
class Levy(Noise):
    """``eta = loc + scale / Z^2`` (Lévy; no mean). MindFlayer's example: ``loc=0, scale=1/2``."""

    loc: float = 0.0
    scale: float = 0.5
    name = "levy"

    def validate(self, n):
        _check_pos(self.scale, "scale")
        _check_pos(self.loc, "loc", allow_zero=True)

    def draw(self, key, w, tau_w, dtype=jnp.float32):
        z = jax.random.normal(key, (), dtype)
        return self.loc + self.scale / (z * z)  # z == 0 gives +inf: a hang

    def mean(self, tau):
        return np.full_like(tau, np.inf)

    def cdf(self, t, tau):
        x = jnp.asarray(t) - self.loc
        safe = jnp.where(x > 0, x, 1.0)
        return jnp.ones(jnp.shape(tau)) * jnp.where(x > 0, _erfc(jnp.sqrt(self.scale / (2 * safe))), 0.0)


@dataclasses.dataclass(frozen=True)
class ExpLevyMix(Noise):
    """``Exp(mean theta)`` with probability ``p``, else ``Levy(loc, scale)``."""

    p: float = 0.5
    theta: float = 1.0
    loc: float = 0.0
    scale: float = 0.5
    name = "exp_levy_mix"

    def validate(self, n):
        if not (0 <= self.p <= 1):
            raise ValueError(f"timing.noise.p must lie in [0, 1], got {self.p}")
        _check_pos(self.theta, "theta")
        Levy(self.loc, self.scale).validate(n)

    def draw(self, key, w, tau_w, dtype=jnp.float32):
        k1, k2, k3 = jax.random.split(key, 3)
        e = self.theta * jax.random.exponential(k2, (), dtype)
        lev = Levy(self.loc, self.scale).draw(k3, w, tau_w, dtype)
        return jnp.where(_u01(k1, dtype) < self.p, e, lev)

    def mean(self, tau):
        return np.full_like(tau, self.theta if self.p == 1 else np.inf)

    def cdf(self, t, tau):
        fe = jnp.where(jnp.asarray(t) >= 0, 1 - jnp.exp(-jnp.maximum(t, 0) / self.theta), 0.0)
        return self.p * fe + (1 - self.p) * Levy(self.loc, self.scale).cdf(t, tau)


@dataclasses.dataclass(frozen=True)
class InfBernoulli(Noise):
    """A job ends on time (``eta = 0``) with probability ``p``, else never (``+inf``): a hang."""

    p: float = 0.9
    name = "inf_bernoulli"

    def validate(self, n):
        if isinstance(self.p, bool) or not isinstance(self.p, (int, float, np.integer, np.floating)) \
                or not 0 < self.p <= 1:
            raise ValueError(f"timing.noise.p must lie in (0, 1], got {self.p!r}")

    def draw(self, key, w, tau_w, dtype=jnp.float32):
        return jnp.where(_u01(key, dtype) < self.p, jnp.zeros((), dtype), jnp.asarray(jnp.inf, dtype))

    def mean(self, tau):
        return np.full_like(tau, 0.0 if self.p == 1 else np.inf)

    def cdf(self, t, tau):
        return jnp.ones(jnp.shape(tau)) * jnp.where(jnp.asarray(t) >= 0, self.p, 0.0)


@dataclasses.dataclass(frozen=True)
class AlphaBernoulli(Noise):
    """``eta = (alpha - 1) tau_w`` with probability ``1 - p``, else 0 (a job is ``alpha`` times slower)."""

    alpha: float = 2.0
    p: float = 0.9
    name = "alpha_bernoulli"

    def validate(self, n):
        if not (np.isfinite(self.alpha) and self.alpha >= 1):
            raise ValueError(f"timing.noise.alpha must be finite and >= 1, got {self.alpha}")
        if not (0 <= self.p <= 1):
            raise ValueError(f"timing.noise.p must lie in [0, 1], got {self.p}")

    def draw(self, key, w, tau_w, dtype=jnp.float32):
        slow = _u01(key, dtype) >= self.p
        return jnp.where(slow, (self.alpha - 1) * tau_w.astype(dtype), jnp.zeros((), dtype))

    def mean(self, tau):
        return (1 - self.p) * (self.alpha - 1) * tau

    def cdf(self, t, tau):
        t = jnp.asarray(t)
        return jnp.where(t >= (self.alpha - 1) * tau, 1.0, jnp.where(t >= 0, self.p, 0.0))


@dataclasses.dataclass(frozen=True)
class Pareto(Noise):
    """``eta = x_m U^{-1/a}`` (Pareto; mean ``a x_m/(a-1)`` for ``a > 1``)."""

    a: float = 1.5
    xm: float = 1.0
    name = "pareto"

    def validate(self, n):
        _check_pos(self.a, "a")
        _check_pos(self.xm, "xm")

    def draw(self, key, w, tau_w, dtype=jnp.float32):
        return self.xm * _u01(key, dtype) ** (-1.0 / self.a)

    def mean(self, tau):
        return np.full_like(tau, self.a * self.xm / (self.a - 1) if self.a > 1 else np.inf)

    def cdf(self, t, tau):
        t = jnp.asarray(t)
        p = jnp.where(t >= self.xm, 1 - (self.xm / jnp.maximum(t, self.xm)) ** self.a, 0.0)
        return jnp.ones(jnp.shape(tau)) * p


def _erf(x):
    return jax.scipy.special.erf(x)


def _erfc(x):
    return jax.scipy.special.erfc(x)


NOISE_LAWS: dict[str, type[Noise]] = {
    cls.name: cls for cls in (NoNoise, HalfNormal, Exponential, LogNormal, Uniform, HalfCauchy,
                              LogCauchy, Levy, ExpLevyMix, InfBernoulli, AlphaBernoulli, Pareto)
}
