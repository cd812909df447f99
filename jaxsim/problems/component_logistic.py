"""Private ERM: L2-regularised logistic regression with its coordinate-wise constants.

``f(w) = (1/N) sum_i log(1 + exp(-y_i a_i . w)) + (l2/2) ||w||^2`` over the rows ``a_i`` of
``X [N, d]`` and labels ``y_i = ±1``. Besides the :class:`~jaxsim.problems.Problem`
interface (a stochastic gradient is one uniformly drawn sample's), it gives what a
differentially private coordinate method needs [derived]:

* ``coordinate_smoothness()``: ``M_l = (1/(4N)) sum_i a_il^2 + l2``. Since the logistic
  loss's second derivative is at most ``1/4``, ``d^2 f / dw_l^2 <= M_l`` everywhere, so
  ``f(w + t e_l) <= f(w) + t grad_l f(w) + M_l t^2 / 2``.
* ``block_lipschitz(blocks)``: ``L_U = max_i ||a_{i,U}||_2``. The per-sample loss gradient
  is ``-y_i sigmoid(-y_i a_i . w) a_i`` with ``|sigmoid| <= 1``, so ``||grad_U l(w; z_i)|| <=
  L_U`` for every ``w`` (the regulariser is data-independent and adds no sensitivity).
* ``num_samples``: ``N``.

:func:`component_logistic` builds one from data or draws a synthetic instance whose
features have very different scales (``scales``), so the ``M_l`` are heterogeneous.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from . import data as _data
from ..runtime.pytree import pytree_dataclass, static_field
from .base import Problem
from .logistic import check_l2, default_dtype, logistic_regression, logistic_solve
from .options import Option, command_line


@pytree_dataclass
class ComponentLogistic(Problem):
    """See the module docstring. Leaves: ``X [N, d]``, ``y [N]`` (±1), ``l2``; static: ``f*``."""

    X: jax.Array
    y: jax.Array
    l2: jax.Array
    optimum: float | None = static_field(default=None)

    name = "component_logistic"

    @property
    def dim(self):
        return self.X.shape[1]

    @property
    def num_samples(self) -> int:
        return self.X.shape[0]

    def init(self):
        return jnp.zeros(self.X.shape[1], self.X.dtype)

    def loss(self, x):
        return jnp.mean(jax.nn.softplus(-self.y * (self.X @ x))) + 0.5 * self.l2 * jnp.dot(x, x)

    def full_grad(self, x):
        # d/dz log(1 + exp(-y z)) = -y sigmoid(-y z): bounded, no overflow for large |z|.
        coef = -self.y * jax.nn.sigmoid(-self.y * (self.X @ x))
        return self.X.T @ coef / self.X.shape[0] + self.l2 * x

    def sample_noise(self, key, worker):
        return jax.random.randint(key, (), 0, self.X.shape[0])

    def grad_from_noise(self, x, noise, worker):
        a, yi = self.X[noise], self.y[noise]
        return -yi * jax.nn.sigmoid(-yi * jnp.dot(a, x)) * a + self.l2 * x

    def coordinate_smoothness(self) -> jax.Array:
        """``M[d]``, ``M_l = (1/(4N)) sum_i a_il^2 + l2`` (module docstring)."""
        return jnp.sum(self.X * self.X, axis=0) / (4.0 * self.X.shape[0]) + self.l2

    def block_lipschitz(self, blocks) -> jax.Array:
        """``L[b]``, ``L_U = max_i ||a_{i,U}||_2`` for the static partition ``blocks`` (a tuple
        of index tuples)."""
        onehot = np.zeros((self.X.shape[1], len(blocks)))
        for j, blk in enumerate(blocks):
            onehot[list(blk), j] = 1.0
        return jnp.sqrt(jnp.max((self.X * self.X) @ jnp.asarray(onehot, self.X.dtype), axis=0))

    @property
    def f_star(self):
        return self.optimum


LABELS = ("unscaled", "scaled")


def synthetic_scaled(num_samples: int, dim: int, scales, seed: int = 0, label_noise: float = 0.5,
                     labels: str = "unscaled"):
    """``(X, y)``: ``z ~ N(0, I_d)`` per row, features ``a = scales * z``, ``u ~ N(0, I_d / d)``,
    ``y = sign(m + label_noise e)``, ``e ~ N(0, 1)``. ``labels="unscaled"``: ``m = z . u``, labels
    depend on the unscaled features, so the scales change only the conditioning (``M_l ∝
    scales_l^2``) and the minimizer's coordinates shrink as ``1 / scales_l``. ``"scaled"``: ``m = a . u``
    rescaled to ``m``'s variance under ``"unscaled"``, so large-scale features dominate the labels."""
    rng = np.random.default_rng(seed)
    sc = np.asarray(scales, np.float64)
    z = rng.normal(size=(num_samples, dim))
    u = rng.normal(size=dim) / np.sqrt(dim)
    m = z @ u if labels == "unscaled" else (z * sc) @ u * (np.linalg.norm(u) / np.linalg.norm(sc * u))
    y = np.where(m + label_noise * rng.normal(size=num_samples) >= 0, 1.0, -1.0)
    return z * sc[None, :], y


@command_line(
    Option("d", "dim", "features (default: 100)", kind="count", default=100),
    Option("samples", "num_samples", "samples (default: 200)", kind="count"),
    Option("data_seed", "seed", "seed of its synthetic data (default: 0)", kind="seed"),
    Option("l2", "l2", "L2 regularization (default: 0.001)"),
    Option("solve_f_star", "solve_f_star", "compute f* so that loss_gap = f - f* is recorded (default: on)",
           kind="flag"),
)
def component_logistic(X=None, y=None, *, num_samples: int = 200, dim: int = 10, scales=None, seed: int = 0,
                       labels: str = "unscaled", l2: float = 1e-3, solve_f_star: bool = True,
                       dtype=None) -> ComponentLogistic:
    """The registry's ``"component_logistic"`` builder.

    With ``X`` and ``y`` (labels ±1): those data. Without: :func:`synthetic_scaled` with
    ``num_samples``, ``dim``, ``scales`` (per-feature scales, default all 1), ``seed`` and
    ``labels`` (which features the labels depend on).
    ``solve_f_star`` computes ``f*`` by Newton-CG in float64 (so the ``loss_gap`` metric is
    ``f - f*``).
    """
    if X is None:
        for name, v in (("num_samples", num_samples), ("dim", dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"problem.{name} must be a positive integer, got {v!r}")
        sc = np.ones(dim) if scales is None else np.asarray(scales, np.float64)
        if sc.shape != (dim,) or not np.all(np.isfinite(sc)) or np.any(sc <= 0):
            raise ValueError(f"problem.scales must be {dim} finite numbers > 0, got {scales!r}")
        if labels not in LABELS:
            raise ValueError(f"problem.labels must be one of {LABELS}, got {labels!r}")
        X, y = synthetic_scaled(int(num_samples), int(dim), sc, seed, labels=labels)
    elif y is None:
        raise ValueError("y (labels): required with X")
    X, y = _data.check_dataset(X, y)
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError("y (labels) must be -1 or +1 (map them with jaxsim.problems.data.binary_labels)")
    l2 = check_l2(l2)
    dtype = default_dtype(dtype)
    prob = ComponentLogistic(X=jnp.asarray(X, dtype), y=jnp.asarray(y, dtype), l2=jnp.asarray(l2, dtype))
    if not solve_f_star:
        return prob
    # the same objective (on the same rounded data) as one worker holding every sample
    one = logistic_regression(X, y, np.arange(X.shape[0])[None, :], l2=l2, dtype=dtype)
    return dataclasses.replace(prob, optimum=logistic_solve(one)[1])


__all__ = ["ComponentLogistic", "component_logistic", "synthetic_scaled"]
