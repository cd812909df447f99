"""A two-layer ReLU MLP classifier with per-worker data (the Ringleader MNIST recipe).

Model (``flax.linen``): ``Dense(hidden) -> ReLU -> Dense(classes)``, PyTorch-default
initialisation (kernels and biases ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``) drawn from
``init_seed``, mean cross-entropy, no regulariser (the Ringleader paper's MNIST setup). With 784 inputs,
128 hidden units and 10 classes ``d = 101 770``.

Worker ``i`` owns the samples ``parts[i]`` (``m`` each); ``f_i`` is its mean
cross-entropy and ``f = (1/n) sum_i f_i`` the mean over every sample in ``parts``. A
stochastic gradient is the gradient on ``batch`` (default 4) local samples drawn uniformly
without replacement, independently across calls; the engine pre-draws only those
``batch`` positions per event.

Full-batch mode (``full_batch_noise = s``, the Ringmaster paper's MNIST recipe, arXiv 2501.16168
G.2): every worker's stochastic gradient is the exact ``grad f`` over all samples in ``parts`` plus
``s z 1`` with one scalar ``z ~ N(0, 1)`` per call added to every coordinate (as the worst-case
quadratic's ``"scalar"`` noise; ``sigma^2 = s^2 d``). The data are then shared by all workers,
so the problem runs with any number of workers (``num_workers`` is ``None``).

The engine sees the parameters raveled into one vector; the unravel function is rebuilt
from the static sizes, so two problems of the same shape share compiled code.
``loss`` and ``full_grad`` stream over the samples in chunks of ``chunk`` so that a
recording point never materialises all activations (or a gathered copy of the data).
Under ``vmap`` a minibatch gradient is computed per run even where runs share its rows
(:func:`jaxsim.problems.batching.per_run`).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from . import data as _data
from ..runtime.pytree import pytree_dataclass, static_field
from .base import Problem
from .batching import per_run
from .logistic import check_batch, default_dtype, minibatch_positions
from .options import Option, command_line


def torch_uniform(fan_in: int):
    """Initializer ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``: PyTorch's ``nn.Linear`` default
    for both weight and bias (its ``kaiming_uniform(a=sqrt(5))`` reduces to this bound)."""
    bound = 1.0 / math.sqrt(fan_in)

    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


class MLP(nn.Module):
    """``Dense(hidden) -> ReLU -> Dense(classes)`` with PyTorch-default initialisation."""

    hidden: int = 128
    classes: int = 10
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x):
        # Bias init needs the layer's fan-in, which flax does not pass to bias_init.
        fan_in = x.shape[-1]
        x = nn.Dense(self.hidden, kernel_init=torch_uniform(fan_in),
                     bias_init=torch_uniform(fan_in), param_dtype=self.param_dtype)(x)
        x = nn.relu(x)
        return nn.Dense(self.classes, kernel_init=torch_uniform(self.hidden),
                        bias_init=torch_uniform(self.hidden), param_dtype=self.param_dtype)(x)


def mlp_num_params(in_dim: int = 784, hidden: int = 128, classes: int = 10) -> int:
    """Parameter count ``in*h + h + h*c + c`` (101 770 for the MNIST defaults)."""
    return in_dim * hidden + hidden + hidden * classes + classes


@functools.cache
def _unravel(in_dim: int, hidden: int, classes: int):
    # Cached per shape: one function object per layout, built without drawing parameters.
    shapes = jax.eval_shape(MLP(hidden, classes).init, jax.random.key(0),
                            jax.ShapeDtypeStruct((1, in_dim), jnp.float32))
    return ravel_pytree(jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), shapes))[1]


@pytree_dataclass
class MLPClassifier(Problem):
    """See the module docstring. Leaves: ``X [N, in]``, ``y [N]`` (int32 classes),
    ``parts [n, m]`` (int32), ``x0 [d]``, ``noise_scale`` (``None``: minibatch gradients; a
    scalar ``s``: full-batch gradients plus ``s z 1``); static: layer sizes, ``batch``, ``chunk``."""

    X: jax.Array
    y: jax.Array
    parts: jax.Array
    x0: jax.Array
    hidden: int = static_field(default=128)
    classes: int = static_field(default=10)
    batch: int = static_field(default=4)
    chunk: int = static_field(default=4096)
    noise_scale: jax.Array = None

    name = "mnist_mlp"

    @property
    def dim(self):
        return self.x0.shape[0]

    @property
    def num_workers(self):
        return None if self.full_batch else self.parts.shape[0]

    @property
    def full_batch(self) -> bool:
        """Whether gradients are full-batch plus scalar noise (``full_batch_noise`` given)."""
        return self.noise_scale is not None

    @property
    def local_size(self) -> int:
        """Samples per worker ``m``."""
        return self.parts.shape[1]

    def init(self):
        return self.x0

    def params(self, x):
        """The flax variables ``{"params": ...}`` of the flat vector ``x``."""
        return _unravel(self.X.shape[1], self.hidden, self.classes)(x)

    def logits(self, x, inputs):
        """Model outputs for ``inputs [B, in]`` at parameters ``x``."""
        return MLP(self.hidden, self.classes).apply(self.params(x), inputs)

    def _rows_loss(self, x, rows, weights=None):
        ce = optax.softmax_cross_entropy_with_integer_labels(self.logits(x, self.X[rows]),
                                                             self.y[rows])
        return jnp.mean(ce) if weights is None else jnp.sum(weights * ce)

    def _chunks(self, dtype):
        flat = self.parts.reshape(-1)
        total = flat.shape[0]
        c = min(self.chunk, total)
        k = -(-total // c)
        pad = k * c - total  # padded rows point at sample 0 with weight 0
        idx = jnp.concatenate([flat, jnp.zeros((pad,), flat.dtype)]).reshape(k, c)
        w = jnp.concatenate([jnp.full((total,), 1.0 / total, dtype), jnp.zeros((pad,), dtype)])
        return idx, w.reshape(k, c)

    def loss(self, x):
        idx, w = self._chunks(x.dtype)

        def body(acc, iw):
            return acc + self._rows_loss(x, *iw), None

        return jax.lax.scan(body, jnp.zeros((), x.dtype), (idx, w))[0]

    def full_grad(self, x):
        # One chunk's activations at a time; jax.grad of a scanned loss would keep them all.
        idx, w = self._chunks(x.dtype)

        def body(acc, iw):
            return acc + _chunk_grad(self, x, *iw), None

        return jax.lax.scan(body, jnp.zeros_like(x), (idx, w))[0]

    def local_loss(self, x, worker):
        """``f_i(x)`` of one worker (exact, over its ``m`` samples; full-batch mode: ``f``)."""
        return self.loss(x) if self.full_batch else self._rows_loss(x, self.parts[worker])

    def local_grad(self, x, worker):
        """``grad f_i(x)`` of one worker (exact, over its ``m`` samples; full-batch mode: ``grad f``)."""
        return self.full_grad(x) if self.full_batch else jax.grad(self._rows_loss)(x, self.parts[worker])

    def sample_noise(self, key, worker):
        if self.full_batch:  # one scalar per call, as the quadratic's "scalar" noise draws it
            return jax.random.normal(key, (), self.x0.dtype)
        return minibatch_positions(key, self.parts.shape[1], self.batch)

    def grad_from_noise(self, x, noise, worker):
        if self.full_batch:
            return self.full_grad(x) + self.noise_scale * noise
        return _minibatch_grad(self, x, noise, worker)

    @property
    def sigma2(self) -> float:
        """Full-batch mode: the noise variance ``E||g - grad f||^2 = s^2 d``."""
        if not self.full_batch:
            raise AttributeError("sigma2: known only in full-batch mode (full_batch_noise given)")
        return float(self.noise_scale) ** 2 * self.dim


# Per run under vmap: settings of a seed share its rows, and every run the data's chunks
# (see jaxsim.problems.batching): a run's numbers do not depend on what shares its batch or device.
_chunk_grad = per_run(lambda problem, x, rows, weights: jax.grad(problem._rows_loss)(x, rows, weights))
_minibatch_grad = per_run(
    lambda problem, x, noise, worker: jax.grad(problem._rows_loss)(x, problem.parts[worker, noise]))


def mlp_classifier(X, y, parts, hidden: int = 128, classes: int = 10, batch: int = 4,
                   init_seed: int = 0, chunk: int = 4096, dtype=None,
                   full_batch_noise: float | None = None) -> MLPClassifier:
    """Build :class:`MLPClassifier` from features ``X [N, in]``, integer labels ``y`` in
    ``[0, classes)`` and a split ``parts [n, m]`` (see :mod:`jaxsim.problems.data`).

    ``dtype`` defaults to float64 when x64 is enabled, else float32; the initial
    parameters are drawn in that dtype from ``init_seed``. ``full_batch_noise = s`` (finite,
    ``>= 0``) selects full-batch gradients over every sample in ``parts`` plus ``s z 1`` (see the
    module docstring; ``batch`` is then unused and any number of workers may run it).
    """
    X, y = _data.check_dataset(X, y)
    y = _data.check_labels(y, "y (labels)")
    for name, v in (("hidden", hidden), ("classes", classes), ("chunk", chunk)):
        _data._check_count(name, v)
    if y.max() >= classes:
        raise ValueError(f"y (labels): found class {int(y.max())} but classes = {classes}")
    parts = _data.check_parts(parts, X.shape[0])
    if full_batch_noise is not None:
        if isinstance(full_batch_noise, bool) or not isinstance(full_batch_noise, (int, float, np.number)) \
                or not (math.isfinite(full_batch_noise) and full_batch_noise >= 0):
            raise ValueError(f"full_batch_noise must be a finite number >= 0 (or None), got {full_batch_noise!r}")
    else:
        batch = check_batch(batch, parts.shape[1])
    init_seed = _data._check_seed("init_seed", init_seed)
    dtype = default_dtype(dtype)
    in_dim = X.shape[1]
    variables = MLP(int(hidden), int(classes), param_dtype=dtype).init(
        jax.random.key(init_seed), jnp.zeros((1, in_dim), dtype))
    x0 = ravel_pytree(variables)[0]
    return MLPClassifier(X=jnp.asarray(X, dtype), y=jnp.asarray(y, jnp.int32),
                         parts=jnp.asarray(parts, jnp.int32), x0=jnp.asarray(x0, dtype),
                         hidden=int(hidden), classes=int(classes), batch=batch,
                         chunk=int(chunk),
                         noise_scale=None if full_batch_noise is None else jnp.asarray(full_batch_noise, dtype))


def _is_train(part: str) -> bool:
    """``--data-part``: ``train`` (the ``train-*`` files) or ``test`` (``t10k-*``)."""
    return part == "train"


@command_line(
    Option("data", "path", "a folder with the MNIST IDX files (required)", kind="path",
           required="a folder with the MNIST IDX files, train-* or (--data-part test) t10k-*"),
    Option("data_part", "train", "which files of --data, train (train-*) or test (t10k-*) (default: train)",
           kind="choice", choices=("train", "test"), convert=_is_train),
    Option("split", "split", "how the data are split over the --n workers (default: dirichlet)", kind="choice",
           choices=_data.SPLITS),
    Option("alpha", "alpha", "Dirichlet concentration of --split dirichlet (default: 0.1)"),
    Option("batch", "batch", "samples per stochastic gradient (default: 4)", kind="count"),
    Option("hidden", "hidden", "hidden units (default: 128)", kind="count"),
    Option("max_samples", "max_samples", "keep only the first samples of --data (default: all)", kind="count"),
    workers="num_workers",
)
def mnist_mlp(path=None, X=None, y=None, *, num_workers: int = 100, split: str = "dirichlet",
              alpha: float = 0.1, split_seed: int | None = None, parts=None,
              hidden: int = 128, classes: int = 10, batch: int = 4, init_seed: int = 0,
              train: bool = True, normalize=_data.MNIST_NORMALIZE,
              max_samples: int | None = None, chunk: int = 4096, dtype=None,
              full_batch_noise: float | None = None) -> MLPClassifier:
    """The registry's ``"mnist_mlp"`` builder (defaults: the Ringleader paper's MNIST setup).

    Data: the MNIST-format files in folder ``path`` (training split, or the ``t10k`` test
    split with ``train=False``; Fashion-MNIST works with
    ``normalize=jaxsim.problems.data.FASHION_MNIST_NORMALIZE``), or arrays ``X [N, in]``, ``y [N]``.
    ``max_samples`` keeps the first samples only. Split over ``num_workers`` workers by
    ``split`` (``"dirichlet"`` with ``alpha``, seed 654321 unless ``split_seed``;
    ``"iid"``; ``"by_class"``), or an explicit ``parts``. ``full_batch_noise = s``: full-batch
    gradients over all (kept) samples plus ``s z 1`` (the Ringmaster paper's MNIST recipe); the
    samples are then shared by every worker, so ``num_workers``, ``split`` and ``alpha`` are unused.
    """
    if (path is None) == (X is None):
        raise ValueError("path/X: give either path (an MNIST folder) or the arrays X and y")
    if path is not None:
        if y is not None:
            raise ValueError("y: only with X (path already provides the labels)")
        X, y = _data.load_mnist(path, "train" if train else "test", normalize)
    elif y is None:
        raise ValueError("y (labels): required with X")
    X, y = _data.check_dataset(X, y)
    if max_samples is not None:
        _data._check_count("max_samples", max_samples)
        X, y = X[:max_samples], y[:max_samples]
    if parts is None and full_batch_noise is not None:
        parts = np.arange(X.shape[0])[None, :]  # one row: every worker sees all samples
    elif parts is None:
        parts = _data.make_split(_data.check_labels(y, "y (labels)"), num_workers, split,
                                 alpha, split_seed)
    return mlp_classifier(X, y, parts, hidden=hidden, classes=classes, batch=batch,
                          init_seed=init_seed, chunk=chunk, dtype=dtype, full_batch_noise=full_batch_noise)
