"""Computation-time models: how long job ``j`` of worker ``w`` takes.

A :class:`TimingModel` is a base time per worker plus an optional per-job random
delay, ``D[w, j] = tau_w + eta[w, j]`` with ``eta >= 0``. :meth:`TimingModel.sample`
is the only place in jaxsim that draws compute times; everything downstream
(event streams, the engine, the reference oracle) consumes the returned array.

Workers are 0-based (``w = 0..n-1``) in code. Profiles written with a 1-based
index ``i = w + 1`` in the papers are documented as such below.

The per-job noise laws (:class:`~jaxsim.timing.noise.Noise`, :data:`NOISE_LAWS`) live in
:mod:`jaxsim.timing.noise` and speed profiles in :mod:`jaxsim.timing.speed`; :mod:`jaxsim.timing`
exports all three modules' public names.

Each duration ``D[w, j]`` is drawn from its own key ``job_key(key, w, j)``, so asking
for more jobs extends the array without changing the jobs already drawn, and the
controlled engine can draw a restarted job's duration lazily inside the scan and get
the same value a pre-sampled array holds.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np

from .noise import NOISE_LAWS, Noise, NoNoise
from .speed import SpeedProfile


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
    if not np.all(np.isfinite(tau)) or np.any(tau <= 0):
        # Durations must be > 0: a zero-length job would report and restart forever at one instant.
        raise ValueError("timing.base: base times must be finite and > 0")
    return tau


def _check_n(n):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n (number of workers) must be a positive integer, got {n!r}")


# --------------------------------------------------------------------------------------
# Timing model
# --------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Comm:
    """Per-worker communication times of every job: a download before it computes and an
    upload after, each ``base[w] + eta`` with ``eta`` from ``noise`` (any :class:`Noise`
    law; default none: fixed times). Drawn from their own counter keys
    (``rng.comm_key(seed)``, then worker, job and direction), so they never disturb the
    compute-time draws. ``down``/``up``: seconds, a scalar or ``n`` values, ``>= 0``.
    """

    down: Union[float, tuple] = 0.0
    up: Union[float, tuple] = 0.0
    noise: Noise = NoNoise()

    def __post_init__(self):
        for field in ("down", "up"):
            v = getattr(self, field)
            arr = np.asarray(v, dtype=np.float64)
            if arr.ndim > 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise ValueError(f"timing.comm.{field} must be finite seconds >= 0 (a scalar or one per worker), "
                                 f"got {v!r}")
            if arr.ndim == 1:
                object.__setattr__(self, field, tuple(arr.tolist()))
        if not isinstance(self.noise, Noise):
            raise ValueError(f"timing.comm.noise must be a Noise law, got {type(self.noise).__name__}")

    def validate(self, n: int) -> None:
        for field in ("down", "up"):
            v = getattr(self, field)
            if isinstance(v, tuple) and len(v) != n:
                raise ValueError(f"timing.comm.{field} has {len(v)} entries for n={n} workers")
        self.noise.validate(n)

    def bases(self, n: int) -> np.ndarray:
        """``[2, n]`` base seconds: download, upload."""
        return np.stack([np.broadcast_to(np.asarray(getattr(self, f), np.float64), (n,)) for f in ("down", "up")])


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
      speed: optional :class:`~jaxsim.timing.speed.SpeedProfile` (universal computation model,
        README §5.4): time-varying speed factors, tied to the worker index; sampled
        durations are then nominal and :meth:`finish` turns them into finish times.
      comm: optional :class:`Comm`: a download before and an upload after every job, in
        wall-clock seconds (speed profiles slow the compute only). ``None``: none (the
        same results, bit for bit, as zero times).
    """

    n: int
    base: Union[str, tuple] = "one_plus_sqrt"
    scale: float = 1.0
    noise: Noise = NoNoise()
    permute_base: bool = False
    speed: Optional[SpeedProfile] = None
    comm: Optional[Comm] = None

    def __post_init__(self):
        if not isinstance(self.base, str):
            object.__setattr__(self, "base", tuple(np.asarray(self.base, dtype=np.float64).reshape(-1).tolist()))
        if isinstance(self.noise, Noise):  # array parameters become tuples: the model stays hashable
            fixed = {f.name: tuple(np.asarray(v, dtype=np.float64).reshape(-1).tolist())
                     for f in dataclasses.fields(self.noise)
                     if isinstance(v := getattr(self.noise, f.name), (list, np.ndarray))}
            if fixed:
                object.__setattr__(self, "noise", dataclasses.replace(self.noise, **fixed))
        self.validate()

    def validate(self) -> None:
        _check_n(self.n)
        base_times(self.base, self.n, self.scale)
        if not isinstance(self.noise, Noise):
            raise ValueError(f"timing.noise must be a Noise law, got {type(self.noise).__name__}")
        self.noise.validate(self.n)
        if self.speed is not None:
            if not isinstance(self.speed, SpeedProfile):
                raise ValueError(f"timing.speed must be a SpeedProfile or None, got {type(self.speed).__name__}")
            if self.speed.n != self.n:
                raise ValueError(f"timing.speed: profile has {self.speed.n} workers but n={self.n}")
        if self.comm is not None:
            if not isinstance(self.comm, Comm):
                raise ValueError(f"timing.comm must be a Comm or None, got {type(self.comm).__name__}")
            self.comm.validate(self.n)

    @property
    def tau(self) -> np.ndarray:
        """Unpermuted base times ``tau[n]``."""
        return base_times(self.base, self.n, self.scale)

    def base_for(self, key) -> np.ndarray:
        """Base times as used with ``key`` (permuted when ``permute_base``)."""
        tau = self.tau
        if self.permute_base:
            perm = np.asarray(jax.random.permutation(jax.random.fold_in(key, _PERM), self.n))
            tau = tau[perm]
        return tau

    def mean(self, key=None) -> np.ndarray:
        """Expected duration per worker, ``tau_w + E eta_w`` (base times for ``key``)."""
        tau = self.base_for(key) if (self.permute_base and key is not None) else self.tau
        return tau + self.noise.mean(tau)

    def draw(self, key, tau, w, j, dtype=jnp.float32):
        """Duration of job ``j`` of worker ``w`` (traceable; ``tau`` = :meth:`base_for`).

        Equals ``sample(key, J, dtype)[w, j]`` bit for bit (same key, same arithmetic)."""
        return self.draw_at(key, jnp.asarray(tau, dtype)[w], w, j, dtype)

    def draw_at(self, key, tau_w, w, j, dtype=jnp.float32):
        """:meth:`draw` given worker ``w``'s base time ``tau_w`` (a loop that already holds it
        skips the lookup)."""
        tau_w = jnp.asarray(tau_w, dtype)
        return tau_w + self.noise.draw(job_key(key, w, j), w, tau_w, dtype)

    def sample(self, key, num_jobs: int, dtype=None) -> np.ndarray:
        """Durations ``D[n, num_jobs]`` for one seed (a NumPy array).

        ``D[w, j]`` depends only on ``(key, w, j)``, so a longer draw extends a shorter
        one and a simulation may draw jobs lazily (e.g. after cancellations) and get the
        same values.
        """
        if isinstance(num_jobs, bool) or not isinstance(num_jobs, (int, np.integer)) or num_jobs <= 0:
            raise ValueError(f"num_jobs must be a positive integer, got {num_jobs!r}")
        jdt = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
        dtype = np.dtype(dtype or jdt)
        tau = self.base_for(key)
        eta = np.asarray(_sample_noise_grid(self.noise, key, jnp.asarray(tau, jdt), n=self.n, num_jobs=int(num_jobs),
                                            dtype=jdt))
        # NumPy's add in ``dtype`` is the same IEEE operation as :meth:`draw`'s in JAX.
        return tau.astype(dtype)[:, None] + eta.astype(dtype)

    def finish(self, w, start, duration):
        """When a job of nominal ``duration`` started at ``start`` by worker ``w`` ends
        (traceable, elementwise). Fixed speed: ``start + duration``; with a speed profile,
        ``inf{t >= start: W_w(t) - W_w(start) >= duration}`` (README §5.4)."""
        if self.speed is not None:
            return self.speed.finish(w, start, duration)
        return start + duration

    def finish_np(self, w, start, duration):
        """NumPy twin of :meth:`finish` (float64), for streams and the reference."""
        if self.speed is not None:
            return self.speed.finish_np(w, start, duration)
        return np.asarray(start, dtype=np.float64) + np.asarray(duration, dtype=np.float64)

    def comm_draw(self, ckey, w, j, dtype=jnp.float32):
        """``(down, up)`` seconds of job ``j`` of worker ``w`` (traceable; ``ckey = rng.comm_key(seed)``).

        Equals ``comm_sample(ckey, J, dtype)[:, w, j]`` bit for bit."""
        base = jnp.asarray(self.comm.bases(self.n), dtype)
        key = job_key(ckey, w, j)
        return tuple(base[i, w] + self.comm.noise.draw(jax.random.fold_in(key, i), w, base[i, w], dtype)
                     for i in (0, 1))

    def comm_sample(self, ckey, num_jobs: int, dtype=None) -> np.ndarray:
        """``[2, n, num_jobs]`` download and upload seconds (NumPy); zeros without :attr:`comm`."""
        jdt = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
        dtype = np.dtype(dtype or jdt)
        if self.comm is None:
            return np.zeros((2, self.n, num_jobs), dtype)
        one = lambda w, j: jnp.stack(self.comm_draw(ckey, w, j, jdt))  # noqa: E731
        out = jax.vmap(jax.vmap(one, (None, 0)), (0, None))(jnp.arange(self.n), jnp.arange(num_jobs))
        return np.moveaxis(np.asarray(out), -1, 0).astype(dtype)

    def job_end(self, ckey, w, j, start, compute):
        """When job ``j`` of worker ``w`` started at ``start`` ends: its download, ``compute``
        nominal seconds of work (:meth:`finish`), its upload (traceable)."""
        if self.comm is None:
            return self.finish(w, start, compute)
        down, up = self.comm_draw(ckey, w, j, jnp.result_type(start))
        return self.finish(w, start + down, compute) + up

    def jobs_to_cover(self, horizon_time: float, active=None) -> int:
        """A job count that surely covers ``horizon_time`` (noise is non-negative).

        With a speed profile, a worker does at most ``W_w(horizon_time) / tau_min`` jobs."""
        tau = self.tau if active is None else self.tau[np.asarray(active)]
        tmin = float(np.min(tau)) if tau.size else 1.0
        if tmin <= 0:
            return 256
        if self.speed is not None:
            work = self.speed.integral(np.arange(self.n), float(horizon_time))
            work = work if active is None else work[np.asarray(active)]
            return int(math.ceil(float(np.max(work, initial=0.0)) / tmin)) + 1
        return int(math.ceil(horizon_time / tmin)) + 1


_JOBS, _PERM = 0, 1


def job_key(key, w, j):
    """Key of the duration of job ``j`` of worker ``w`` (traceable)."""
    return jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, _JOBS), w), j)


@functools.partial(jax.jit, static_argnames=("noise", "n", "num_jobs", "dtype"))
def _sample_noise_grid(noise, key, tau, n, num_jobs, dtype):
    # Compiled once per law, size and dtype (laws are frozen dataclasses, hashable): the seeds of
    # a sweep then cost one call each instead of one eager trace of the vmapped draw each.
    one = lambda w, j: noise.draw(job_key(key, w, j), w, tau[w], dtype)  # noqa: E731
    return jax.vmap(jax.vmap(one, (None, 0)), (0, None))(jnp.arange(n), jnp.arange(num_jobs))


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
    """Check a user-given ``durations[n, J]`` array and return it: real numbers (integers are
    returned as float64), of shape ``(n, J)`` with ``J >= 1``, each ``> 0`` and finite or
    ``+inf`` (a job that never ends). Anything else raises ``ValueError`` naming ``durations``."""
    try:
        d = np.asarray(durations)
    except (ValueError, TypeError) as e:  # ragged nested lists
        raise ValueError(f"durations: expected a 2-D array [n, jobs] of seconds, got a ragged or "
                         f"non-numeric {type(durations).__name__} ({e})") from None
    if d.dtype == bool or not (np.issubdtype(d.dtype, np.integer) or np.issubdtype(d.dtype, np.floating)):
        kind = ("complex" if np.issubdtype(d.dtype, np.complexfloating) else "text" if d.dtype.kind in "US"
                else "Python object" if d.dtype == object else d.dtype.name)
        raise ValueError(f"durations: must be real numbers of seconds, got an array of {kind} values "
                         f"(dtype {d.dtype})")
    if d.ndim != 2:
        raise ValueError(f"durations must be a 2-D array [n, jobs], got shape {d.shape}")
    if n is not None and d.shape[0] != n:
        raise ValueError(f"durations: has {d.shape[0]} workers but the method/problem expects n={n}")
    if d.shape[1] == 0:
        raise ValueError(f"durations: has no jobs (shape {d.shape}); give at least one duration per worker")
    if np.issubdtype(d.dtype, np.integer):
        d = d.astype(np.float64)
    if np.any(np.isnan(d)):
        raise ValueError("durations: contains NaN")
    if np.any(d <= 0):
        raise ValueError("durations: every duration must be > 0 (found negative or zero values, -inf included)")
    return d
