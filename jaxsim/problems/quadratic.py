"""The worst-case tridiagonal quadratic of the Ringmaster / Rennala experiments.

``f(x) = 1/2 x^T A x - b^T x`` with ``A = (L/4) tridiag(-1, 2, -1)``,
``b = -(L/4) e_1`` and ``x^0 = sqrt(d) e_1``. Closed forms: ``x*_i = i/(d+1) - 1``
(1-based ``i``) and ``f* = -(L/8) d/(d+1)``.

Gradient noise, keyed per call:

* ``"scalar"`` (the papers' code): ``grad f(x) + s z 1`` with one ``z ~ N(0, 1)``
  added to every coordinate, so ``sigma^2 = s^2 d``;
* ``"isotropic"``: ``grad f(x) + s N(0, I_d)``, so ``sigma^2 = s^2 d`` as well.

Sample-dependent curvature (``curvature = c > 0``, either kind): the sample's matrix is
``A_xi = A + c Diag(u)``, ``u ~ N(0, I_d)``, so ``grad f(x; xi) = grad f(x) + c u * x`` plus
the additive noise above. With additive noise alone, ``grad f(x; xi) - grad f(y; xi) =
A (x - y)`` exactly and a momentum-variance-reduction correction carries no noise (a
degenerate benchmark); the curvature term makes it sample-dependent: mean-squared
smoothness ``Lbar^2 = ||A||^2 + c^2`` in the worst case (``E||(A_xi - A) v||^2 = c^2 ||v||^2``).
[project choice: lmo_vr_local.md §3.4 asks for sample-dependent curvature, e.g. ``A + diag(noise)``.]
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from ..runtime.pytree import pytree_dataclass, static_field
from ..runtime.rng import grad_key
from .base import Problem, default_dtype
from .options import Option, command_line

NOISE_KINDS = ("scalar", "isotropic")


def _tridiag_apply(x, L, before=0):
    """The tridiagonal product with ``before`` as coordinate 0's left neighbour: ``A x`` for 0,
    ``A x - b`` for -1 (see ``WorstCaseQuadratic._event_grad``)."""
    left = jnp.concatenate([jnp.full_like(x[:1], before), x[:-1]])
    right = jnp.concatenate([x[1:], jnp.zeros_like(x[:1])])
    return (L / 4) * (2 * x - left - right)


@pytree_dataclass
class WorstCaseQuadratic(Problem):
    """See the module docstring. ``noise_scale`` is a traced leaf (sweepable)."""

    noise_scale: jax.Array
    d: int = static_field()
    L: float = static_field(default=1.0)
    noise: str = static_field(default="scalar")
    curvature: jax.Array = None  # c of A_xi = A + c Diag(u); None: additive noise only

    name = "quadratic"

    @property
    def dim(self):
        return self.d

    def init(self):
        dtype = jnp.asarray(self.noise_scale).dtype
        return jnp.zeros(self.d, dtype).at[0].set(math.sqrt(self.d))

    # b = -(L/4) e_1 is applied to x's first coordinate only (the same IEEE operations as
    # subtracting the vector b), never built as a d-vector: a constant that size would be
    # folded by XLA at compile time (slow at large d).
    def loss(self, x):
        return 0.5 * jnp.dot(x, _tridiag_apply(x, self.L)) + (self.L / 4) * x[0]

    def full_grad(self, x):
        return _tridiag_apply(x, self.L).at[0].add(self.L / 4)

    def _event_grad(self, x):
        """``full_grad`` for the per-event job, one fused pass over ``x``: ``b`` enters as the
        left neighbour of coordinate 0, ``x_0 := -1`` (``(L/4)(2 x_0 + 1 - x_1) = (A x)_0 + L/4``),
        so the product is the plain tridiagonal one. The indexed add of ``full_grad`` splits it in
        two passes and costs 4x the gradient's time at d = 1729 on XLA:CPU; the metrics keep it
        (evaluated once per recording point)."""
        return _tridiag_apply(x, self.L, before=-1)

    def sample_noise(self, key, worker):
        if self.curvature is not None:  # d curvature draws: drawn inside the scan
            return key
        if self.noise == "scalar":  # one draw per call: precomputed per event by the engine
            return jax.random.normal(key, (), jnp.asarray(self.noise_scale).dtype)
        return key  # d draws per call: drawn inside the scan

    def grad_from_noise(self, x, noise, worker):
        g = self._event_grad(x)
        if self.curvature is not None:  # the additive draw from the key as without curvature
            u = jax.random.normal(jax.random.fold_in(noise, 1), x.shape, x.dtype)
            g = g + self.curvature * (u * x)
            noise = jax.random.normal(noise, (), x.dtype) if self.noise == "scalar" else noise
        if self.noise == "scalar":
            return g + self.noise_scale * noise
        return g + self.noise_scale * jax.random.normal(noise, x.shape, x.dtype)

    @property
    def f_star(self):
        return -(self.L / 8) * self.d / (self.d + 1)

    @property
    def sigma2(self) -> float:
        """Variance ``E||g - grad f||^2`` of both noise kinds: ``s^2 d``. With curvature it is
        ``s^2 d + c^2 ||x||^2`` at ``x`` (no uniform bound); this returns its value at ``x*``."""
        extra = 0.0 if self.curvature is None else float(self.curvature) ** 2 * float(np.sum(self.x_star() ** 2))
        return float(self.noise_scale) ** 2 * self.d + extra

    @property
    def lbar(self) -> float:
        """Mean-squared smoothness ``Lbar = sqrt(lambda_max(A)^2 + c^2)`` (``E||grad f(x; xi) -
        grad f(y; xi)||^2 <= Lbar^2 ||x - y||^2``, tight); ``lambda_max(A) = (L/2)(1 + cos(pi/(d+1)))``."""
        lam = 0.5 * self.L * (1 + math.cos(math.pi / (self.d + 1)))
        return math.sqrt(lam ** 2 + (0.0 if self.curvature is None else float(self.curvature)) ** 2)

    def x_star(self) -> np.ndarray:
        return np.arange(1, self.d + 1) / (self.d + 1) - 1.0

    def numpy_oracle(self, root, n, num_jobs):
        if self.noise != "scalar" or self.curvature is not None:
            return super().numpy_oracle(root, n, num_jobs)
        # One batched draw of every (worker, job) scalar, then pure NumPy per event.
        dtype = jnp.asarray(self.noise_scale).dtype
        z = np.asarray(scalar_noise_table(root, n, num_jobs, dtype), dtype=np.float64)
        s, L = float(self.noise_scale), float(self.L)

        def oracle(x, w, j):
            g = 2 * x
            g[1:] -= x[:-1]
            g[:-1] -= x[1:]
            g *= L / 4
            g[0] += L / 4
            return g + s * z[w, j]

        return oracle


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def scalar_noise_table(root, n, num_jobs, dtype):
    """``z[w, j]``: the scalar noise of every (worker, job), drawn as ``stoch_grad`` draws it."""
    one = lambda w, j: jax.random.normal(grad_key(root, w, j), (), dtype)  # as sample_noise  # noqa: E731
    return jax.vmap(jax.vmap(one, (None, 0)), (0, None))(jnp.arange(n), jnp.arange(num_jobs))


@command_line(
    Option("d", "d", "dimension (default: 100)", kind="count", default=100),
    Option("noise_scale", "noise_scale", "gradient noise scale (default: 0.01)", default=0.01),
    Option("curvature", "curvature", "sample-dependent curvature c, A_xi = A + c Diag(u) with u ~ N(0, I) "
           "(momentum variance reduction needs it; default: 0, additive noise only)"),
)
def worst_case_quadratic(d: int = 1729, noise_scale: float = 0.01, L: float = 1.0,
                         noise: str = "scalar", curvature: float = 0.0, dtype=None) -> WorstCaseQuadratic:
    """Build the worst-case quadratic (``d``, noise scale ``s``, smoothness ``L``; ``curvature``
    ``c > 0``: sample-dependent curvature ``A + c Diag(u)``, see the module docstring)."""
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"problem.d must be a positive integer, got {d!r}")
    if not (np.isfinite(noise_scale) and noise_scale >= 0):
        raise ValueError(f"problem.noise_scale must be finite and >= 0, got {noise_scale}")
    if not (np.isfinite(L) and L > 0):
        raise ValueError(f"problem.L must be positive and finite, got {L}")
    if noise not in NOISE_KINDS:
        raise ValueError(f"problem.noise must be one of {NOISE_KINDS}, got {noise!r}")
    if isinstance(curvature, bool) or not (np.isfinite(curvature) and curvature >= 0):
        raise ValueError(f"problem.curvature must be finite and >= 0, got {curvature!r}")
    dtype = default_dtype(dtype)
    return WorstCaseQuadratic(noise_scale=jnp.asarray(noise_scale, dtype), d=int(d), L=float(L), noise=noise,
                              curvature=jnp.asarray(curvature, dtype) if curvature > 0 else None)
