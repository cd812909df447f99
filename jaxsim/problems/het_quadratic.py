"""Separable quadratics with a different minimizer per worker (heterogeneous data).

Worker ``i`` holds ``f_i(x) = 1/2 sum_c h_ic (x_c - a_ic)^2`` and the objective is
``f = (1/n) sum_i f_i``. Everything has a closed form, which makes this the test bed
for the bias of asynchronous methods under data heterogeneity:

* ``x*_c = sum_i h_ic a_ic / sum_i h_ic`` (the equal-weight minimizer);
* a method that visits worker ``i`` with frequency ``p_i`` and steps with its
  gradient settles near ``sum_i p_i h_ic a_ic / sum_i p_i h_ic`` instead
  (:func:`jaxsim.theory.quadratic_minimizers`).

Gradient noise as in :mod:`jaxsim.problems.quadratic`: ``"isotropic"`` adds
``s N(0, I_d)``, ``"scalar"`` adds one ``s z`` to every coordinate.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from ..runtime.pytree import pytree_dataclass, static_field
from .base import Problem, default_dtype
from .options import Option, command_line
from .quadratic import NOISE_KINDS, scalar_noise_table


@pytree_dataclass
class HeterogeneousQuadratic(Problem):
    """See the module docstring; ``h``, ``a`` are ``[n, d]``, ``x0`` is ``[d]``."""

    h: jax.Array
    a: jax.Array
    x0: jax.Array
    noise_scale: jax.Array
    noise: str = static_field(default="isotropic")

    name = "het_quadratic"

    @property
    def dim(self):
        return self.a.shape[1]

    @property
    def num_workers(self):
        return self.a.shape[0]

    def init(self):
        return self.x0

    def local_grad(self, x, worker):
        """``grad f_i(x)`` of one worker."""
        return self.h[worker] * (x - self.a[worker])

    def loss(self, x):
        return 0.5 * jnp.mean(jnp.sum(self.h * (x - self.a) ** 2, axis=1))

    def full_grad(self, x):
        return jnp.mean(self.h * (x - self.a), axis=0)

    def sample_noise(self, key, worker):
        if self.noise == "scalar":  # one draw per call: precomputed per event by the engine
            return jax.random.normal(key, (), self.x0.dtype)
        return key

    def grad_from_noise(self, x, noise, worker):
        g = self.local_grad(x, worker)
        if self.noise == "scalar":
            return g + self.noise_scale * noise
        return g + self.noise_scale * jax.random.normal(noise, x.shape, x.dtype)

    def x_star(self) -> jax.Array:
        """The minimizer of ``f`` (traceable)."""
        return jnp.sum(self.h * self.a, axis=0) / jnp.sum(self.h, axis=0)

    @property
    def f_star(self):
        return self.loss(self.x_star())

    @property
    def sigma2(self) -> float:
        return float(self.noise_scale) ** 2 * self.dim

    def numpy_oracle(self, root, n, num_jobs):
        if self.noise != "scalar":
            return super().numpy_oracle(root, n, num_jobs)
        z = np.asarray(scalar_noise_table(root, n, num_jobs, self.x0.dtype), dtype=np.float64)
        h, a, s = np.asarray(self.h, np.float64), np.asarray(self.a, np.float64), float(self.noise_scale)
        return lambda x, w, j: h[w] * (x - a[w]) + s * z[w, j]


def from_command_line(num_workers: int, d: int = 100, heterogeneity: float = 1.0, seed: int = 0,
                      noise_scale: float = 0.0) -> HeterogeneousQuadratic:
    """``het_quadratic`` from the command line: worker ``i``'s minimizer ``a_i ~ heterogeneity *
    N(0, I_d)`` (seeded by ``seed``), unit curvatures, start at 0."""
    if not (math.isfinite(heterogeneity) and heterogeneity >= 0):
        raise ValueError(f"heterogeneity must be finite and >= 0, got {heterogeneity}")
    a = heterogeneity * np.random.default_rng(seed).standard_normal((num_workers, d))
    return heterogeneous_quadratic(a, noise_scale=noise_scale)


@command_line(
    Option("d", "d", "dimension (default: 100)", kind="count", default=100),
    Option("noise_scale", "noise_scale", "gradient noise scale (default: 0.01)", default=0.01),
    Option("heterogeneity", "heterogeneity", "the workers' minimizers are heterogeneity * N(0, I) (default: 1.0)"),
    Option("data_seed", "seed", "seed of the workers' minimizers (default: 0)", kind="seed"),
    workers="num_workers",
    build=from_command_line,
)
def heterogeneous_quadratic(a, h=1.0, x0=None, noise_scale: float = 0.0, noise: str = "isotropic",
                            dtype=None) -> HeterogeneousQuadratic:
    """Build ``f_i(x) = 1/2 sum_c h_ic (x_c - a_ic)^2``, ``i < n``.

    ``a``: minimizers, ``[n]`` (1-D problem) or ``[n, d]``; ``h``: curvatures (scalar,
    ``[n]`` or ``[n, d]``, all > 0); ``x0``: start (default zeros).
    """
    a_np = np.asarray(a, dtype=np.float64)
    if a_np.ndim == 1:
        a_np = a_np[:, None]
    if a_np.ndim != 2 or a_np.size == 0:
        raise ValueError(f"problem.a must be [n] or [n, d] with n, d >= 1, got shape {np.shape(a)}")
    if not np.all(np.isfinite(a_np)):
        raise ValueError("problem.a must be finite")
    h_np = np.asarray(h, dtype=np.float64)
    if h_np.ndim == 1:
        h_np = h_np[:, None]
    try:
        h_np = np.broadcast_to(h_np, a_np.shape)
    except ValueError:
        raise ValueError(f"problem.h: shape {np.shape(h)} does not fit a of shape {a_np.shape}") from None
    if not np.all(np.isfinite(h_np)) or np.any(h_np <= 0):
        raise ValueError("problem.h (curvatures) must be positive and finite")
    x0_np = np.zeros(a_np.shape[1]) if x0 is None else np.atleast_1d(np.asarray(x0, dtype=np.float64))
    if x0_np.shape != (a_np.shape[1],) or not np.all(np.isfinite(x0_np)):
        raise ValueError(f"problem.x0 must be a finite vector of length {a_np.shape[1]}, got {np.shape(x0)}")
    if not (np.isfinite(noise_scale) and noise_scale >= 0):
        raise ValueError(f"problem.noise_scale must be finite and >= 0, got {noise_scale}")
    if noise not in NOISE_KINDS:
        raise ValueError(f"problem.noise must be one of {NOISE_KINDS}, got {noise!r}")
    dtype = default_dtype(dtype)
    return HeterogeneousQuadratic(h=jnp.asarray(h_np, dtype), a=jnp.asarray(a_np, dtype),
                                  x0=jnp.asarray(x0_np, dtype), noise_scale=jnp.asarray(noise_scale, dtype),
                                  noise=noise)
