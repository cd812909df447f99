"""L2-regularised logistic regression with per-worker data (heterogeneous ``f_i``).

Worker ``i`` owns the samples ``parts[i]`` (``m`` each) and
``f_i(x) = (1/m) sum_{s in parts[i]} log(1 + exp(-y_s a_s . x)) + (l2/2) ||x||^2``,
so ``f = (1/n) sum_i f_i`` is the mean loss over every sample in ``parts``. A stochastic
gradient of worker ``i`` is the gradient of the loss on ``batch`` of its samples drawn
uniformly without replacement; only those ``batch`` local positions are the call's noise,
so the engine can pre-draw them for every event.

Data (``X``, ``y``, ``parts``) and ``l2`` are traced leaves: they live on device once and a
sweep over ``l2`` does not recompile. ``f*`` is unknown in general;
:func:`logistic_solve` finds it by Newton-CG in float64 NumPy when a loss gap is wanted.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from . import data as _data
from ..runtime.pytree import pytree_dataclass, static_field
from .base import Problem
from .base import default_dtype as _default_dtype
from .options import Option, command_line


def minibatch_positions(key, m: int, batch: int) -> jax.Array:
    """``batch`` distinct positions in ``range(m)``, uniform over ``batch``-subsets (int32).

    Floyd's algorithm: ``batch`` integer draws and ``O(batch^2)`` compares, so the engine
    can pre-draw millions of calls without the ``m`` uniforms per call that a top-k or
    ``jax.random.choice(replace=False)`` needs. The order within the subset is not
    uniform, which a mean over the minibatch does not see.
    """
    if batch == m:  # the whole local dataset: nothing to draw
        return jnp.arange(m, dtype=jnp.int32)
    if batch > 64:  # long unrolled loops compile slowly; a permutation is cheap enough here
        return jax.random.choice(key, m, (batch,), replace=False).astype(jnp.int32)
    js = jnp.arange(m - batch, m, dtype=jnp.int32)
    t = jax.random.randint(key, (batch,), 0, js + 1, dtype=jnp.int32)  # t_i ~ U{0..j_i}
    sel = []
    for i in range(batch):
        dup = jnp.zeros((), bool)
        for s in sel:
            dup = dup | (s == t[i])
        sel.append(jnp.where(dup, js[i], t[i]))
    return jnp.stack(sel)


def _logistic_coef(y, z):
    # d/dz log(1 + exp(-y z)) = -y sigmoid(-y z): bounded, no overflow for large |z|.
    return -y * jax.nn.sigmoid(-y * z)


@pytree_dataclass
class LogisticRegression(Problem):
    """See the module docstring. Leaves: ``X [N, d]``, ``y [N]`` (±1), ``parts [n, m]``
    (int32), ``l2`` (scalar); static: ``batch`` and the known ``optimum`` (``f*``)."""

    X: jax.Array
    y: jax.Array
    parts: jax.Array
    l2: jax.Array
    batch: int = static_field(default=1)
    optimum: float | None = static_field(default=None)

    name = "logistic"

    @property
    def dim(self):
        return self.X.shape[1]

    @property
    def num_workers(self):
        return self.parts.shape[0]

    @property
    def local_size(self) -> int:
        """Samples per worker ``m``."""
        return self.parts.shape[1]

    def init(self):
        return jnp.zeros(self.X.shape[1], self.X.dtype)

    def _reg(self, x):
        return 0.5 * self.l2 * jnp.dot(x, x)

    def loss(self, x):
        # Margins of all N rows (an O(N) vector), then a gather of the used ones: cheaper
        # than gathering the rows of X, which would copy the dataset at every record.
        flat = self.parts.reshape(-1)
        z = (self.X @ x)[flat]
        return jnp.mean(jax.nn.softplus(-self.y[flat] * z)) + self._reg(x)

    def full_grad(self, x):
        flat = self.parts.reshape(-1)
        yf = self.y[flat]
        coef = _logistic_coef(yf, (self.X @ x)[flat]) / flat.shape[0]
        r = jax.ops.segment_sum(coef, flat, num_segments=self.X.shape[0])
        return self.X.T @ r + self.l2 * x

    def _batch_grad(self, x, rows):
        A, yb = self.X[rows], self.y[rows]
        return A.T @ _logistic_coef(yb, A @ x) / rows.shape[0] + self.l2 * x

    def local_loss(self, x, worker):
        """``f_i(x)`` of one worker (exact, over its ``m`` samples)."""
        rows = self.parts[worker]
        z = self.X[rows] @ x
        return jnp.mean(jax.nn.softplus(-self.y[rows] * z)) + self._reg(x)

    def local_grad(self, x, worker):
        """``grad f_i(x)`` of one worker (exact, over its ``m`` samples)."""
        return self._batch_grad(x, self.parts[worker])

    def sample_noise(self, key, worker):
        return minibatch_positions(key, self.parts.shape[1], self.batch)

    def grad_from_noise(self, x, noise, worker):
        return self._batch_grad(x, self.parts[worker, noise])

    @property
    def f_star(self):
        return self.optimum

    def with_f_star(self, iters: int = 50, tol: float = 1e-14) -> LogisticRegression:
        """A copy whose ``f_star`` is computed by :func:`logistic_solve` (float64)."""
        return dataclasses.replace(self, optimum=logistic_solve(self, iters, tol)[1])


def logistic_solve(problem: LogisticRegression, iters: int = 50, tol: float = 1e-14):
    """Minimise ``f`` by Newton-CG with backtracking in float64 NumPy: ``(x*, f*)``.

    Stops when half the squared Newton decrement (the predicted ``f - f*``) is below
    ``tol``. Hessian-vector products keep memory at ``O(N d)`` whatever ``d``. With ``l2 = 0`` on
    separable data the infimum is not attained; the result is then the best value after
    ``iters`` steps, an upper bound on ``f*``.
    """
    flat = np.asarray(problem.parts).reshape(-1)
    A = np.asarray(problem.X, np.float64)[flat]
    b = np.asarray(problem.y, np.float64)[flat]
    lam = float(problem.l2)
    N, d = A.shape

    def f_of(x):
        return float(np.mean(np.logaddexp(0.0, -b * (A @ x))) + 0.5 * lam * x @ x)

    x = np.zeros(d)
    f = f_of(x)
    for _ in range(int(iters)):
        s = 0.5 * (1.0 + np.tanh(0.5 * (-b * (A @ x))))  # sigmoid(-b z), overflow-free
        g = A.T @ (-b * s) / N + lam * x
        h = s * (1.0 - s) / N
        def hv(v, h=h):
            return A.T @ (h * (A @ v)) + (lam + 1e-12) * v

        p = _conjugate_gradient(hv, -g, max_iter=min(d, 200))
        dec = -float(g @ p)  # Newton decrement^2 (>= 0 for a descent direction)
        if 0.5 * dec <= tol:
            break
        step = 1.0
        while step > 1e-12:  # Armijo backtracking
            f_new = f_of(x + step * p)
            if f_new <= f - 1e-4 * step * dec:
                break
            step *= 0.5
        else:
            break
        x, f = x + step * p, f_new
    return x, f


def _conjugate_gradient(hv, rhs, max_iter, rtol=1e-10):
    x = np.zeros_like(rhs)
    r = rhs.copy()
    p = r.copy()
    rr = float(r @ r)
    stop = rtol * rtol * rr
    for _ in range(max_iter):
        if rr <= stop:
            break
        hp = hv(p)
        alpha = rr / float(p @ hp)
        x += alpha * p
        r -= alpha * hp
        rr_new = float(r @ r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def default_dtype(dtype):
    return _default_dtype(dtype)  # checked: float64 without x64, integer and complex types refused


def check_batch(batch, m):
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or not 1 <= batch <= m:
        raise ValueError(f"batch must be an integer in [1, {m}] (samples per worker), got {batch!r}")
    return int(batch)


def check_l2(l2):
    """``l2`` as a float, or a ``ValueError`` naming the field (a finite number >= 0)."""
    try:
        v = float(l2)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(l2, bool) or not (math.isfinite(v) and v >= 0):
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    return v


def logistic_regression(X, y, parts, batch: int = 1, l2: float = 0.0, dtype=None,
                        solve_f_star: bool = False) -> LogisticRegression:
    """Build :class:`LogisticRegression` from features ``X [N, d]``, labels ``y`` in ``{-1, +1}``
    (see :func:`jaxsim.problems.data.binary_labels`) and a split ``parts [n, m]``.

    ``dtype`` defaults to float64 when x64 is enabled, else float32. ``solve_f_star``
    computes ``f*`` (float64 Newton-CG) so that ``loss_gap`` reports ``f - f*``.
    """
    X, y = _data.check_dataset(X, y)
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError("y (labels) must be -1 or +1 (map them with jaxsim.problems.data.binary_labels)")
    parts = _data.check_parts(parts, X.shape[0])
    batch = check_batch(batch, parts.shape[1])
    l2 = check_l2(l2)
    dtype = default_dtype(dtype)
    prob = LogisticRegression(X=jnp.asarray(X, dtype), y=jnp.asarray(y, dtype),
                              parts=jnp.asarray(parts, jnp.int32), l2=jnp.asarray(l2, dtype),
                              batch=batch)
    return prob.with_f_star() if solve_f_star else prob


@command_line(
    Option("data", "path", "a binary LIBSVM file (default: synthetic data)", kind="path"),
    Option("split", "split", "with --data: how the data are split over the --n workers (default: iid)",
           kind="choice", choices=_data.SPLITS, only_with="data"),
    Option("alpha", "alpha", "with --data: Dirichlet concentration of --split dirichlet (default: 0.1)",
           only_with="data"),
    Option("d", "dim", "features of its synthetic data (default: 100)", kind="count", default=100,
           only_without="data"),
    Option("samples", "samples_per_worker", "samples per worker of its synthetic data (default: 100)", kind="count",
           only_without="data"),
    Option("heterogeneity", "heterogeneity", "how different the workers' synthetic data are (default: 1.0)",
           only_without="data"),
    Option("data_seed", "seed", "seed of its synthetic data (default: 0)", kind="seed", only_without="data"),
    Option("batch", "batch", "samples per stochastic gradient (default: 1)", kind="count"),
    Option("l2", "l2", "L2 regularization (default: 0)"),
    Option("solve_f_star", "solve_f_star", "compute f* (float64 Newton-CG) so that loss_gap = f - f* is recorded",
           kind="flag"),
    workers="num_workers",
)
def make_logistic(path=None, *, num_workers: int = 10, samples_per_worker: int = 100,
                  dim: int = 20, heterogeneity: float = 1.0, seed: int = 0,
                  split: str = "iid", alpha: float = 0.1, split_seed: int | None = None,
                  n_features: int | None = None, batch: int = 1, l2: float = 0.0,
                  solve_f_star: bool = False, dtype=None) -> LogisticRegression:
    """The registry's ``"logistic"`` builder.

    With ``path``: a binary LIBSVM file (labels mapped to ±1) split over ``num_workers``
    by ``split`` (``"iid"``, ``"by_class"`` or ``"dirichlet"`` with ``alpha``).
    Without: :func:`jaxsim.problems.data.synthetic_logistic` with ``num_workers``,
    ``samples_per_worker``, ``dim``, ``heterogeneity``, ``seed``.
    """
    if path is not None:
        X, y = _data.load_libsvm(path, n_features)
        y = _data.binary_labels(y)
        parts = _data.make_split((y > 0).astype(np.int64), num_workers, split, alpha, split_seed)
    else:
        X, y, parts = _data.synthetic_logistic(num_workers, samples_per_worker, dim,
                                               heterogeneity, seed)
    return logistic_regression(X, y, parts, batch=batch, l2=l2, dtype=dtype,
                               solve_f_star=solve_f_star)
