"""The problem interface shared by the engine and the reference oracle.

A problem works on a flat parameter vector ``x[d]`` (the fast path; :meth:`Problem.params`
and :meth:`Problem.flat` convert exactly to and from the model's parameter pytree) and
offers:

* ``init()`` — the starting point ``x^0``;
* ``loss(x)`` — the objective ``f(x)``; ``f_star`` its minimum when known;
* ``full_grad(x)`` — the exact gradient, for the ``||grad f||^2`` metric;
* ``stoch_grad(x, key, worker)`` — a stochastic gradient whose randomness comes only
  from ``key`` (the engine passes ``rng.grad_key(root, worker, job)``);
* optionally ``value_and_grad_from_noise`` with ``has_batch_loss = True``: the sample's loss
  together with its gradient (language models: the "latest minibatch loss" metric).

A stochastic gradient is split in two so the engine can draw every event's randomness
at once, before the scan, and share it across hyperparameter settings:
``stoch_grad(x, key, w) == grad_from_noise(x, sample_noise(key, w), w)``. By default
the "noise" is the key itself (drawn inside the scan); problems whose per-call
randomness is small (a scalar, a few minibatch indices) return it from
``sample_noise``.

Problems are pytrees (array fields are traced, so data lives on device once and a
sweep never bakes it into the compiled program); static fields are part of the
compile key.
"""

from __future__ import annotations

from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree


def float_types() -> tuple:
    """The parameter float types a run can use now: ``float16``, ``bfloat16``, ``float32``, and
    ``float64`` when JAX's 64-bit mode (``jax_enable_x64``) is on."""
    return ("float16", "bfloat16", "float32") + (("float64",) if jax.config.jax_enable_x64 else ())


def check_dtype(dtype, field: str = "dtype"):
    """``dtype`` as a dtype if it is one of :func:`float_types`, else ``ValueError`` naming
    ``field``. Integer and complex types are refused (the noise draws, stepsizes and metrics are
    real floating point), and so is ``float64`` without 64-bit mode: JAX would otherwise store
    and run it as ``float32`` after a warning, not what was asked for."""
    try:
        dt = jnp.dtype(dtype)
    except TypeError:
        raise ValueError(f"{field}: not a dtype: {dtype!r}; use one of {', '.join(float_types())}") from None
    if dt.name in float_types():
        return dt
    if dt.name == "float64":
        raise ValueError(f"{field}: float64 needs JAX's 64-bit mode, which is off (JAX would run it as float32); "
                         "call jax.config.update('jax_enable_x64', True) before building the problem, "
                         "or use float32")
    kind = ("an integer type" if jnp.issubdtype(dt, jnp.integer) else
            "a complex type" if jnp.issubdtype(dt, jnp.complexfloating) else "not a supported float type")
    raise ValueError(f"{field}: parameters of type {dt.name} ({kind}) cannot be simulated; "
                     f"use a real floating type: {', '.join(float_types())}")


def default_dtype(dtype=None):
    """A problem builder's ``dtype``: ``None`` gives ``float64`` in 64-bit mode, else ``float32``;
    a given one is checked by :func:`check_dtype`."""
    if dtype is None:
        return jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    return check_dtype(dtype, "dtype")


@jax.jit
def _stoch_grad(problem, root, x, w, j):
    from ..runtime.rng import grad_key

    return problem.stoch_grad(x, grad_key(root, w, j), w)


class Problem:
    """Base class; concrete problems are :func:`~jaxsim.runtime.pytree.pytree_dataclass` es."""

    name: str = "problem"

    @property
    def dim(self) -> int:
        raise NotImplementedError

    def init(self) -> jax.Array:
        raise NotImplementedError

    @property
    def dtype(self):
        """The float type of the parameters, from :meth:`init`'s shape alone (``jax.eval_shape``:
        nothing of size ``d`` is allocated, so a run too large to fit is refused before it is built)."""
        leaves = jax.tree.leaves(jax.eval_shape(self.init))
        return leaves[0].dtype if leaves else jnp.float32

    def loss(self, x) -> jax.Array:
        raise NotImplementedError

    def full_grad(self, x) -> jax.Array:
        return jax.grad(self.loss)(x)

    def sample_noise(self, key, worker):
        """The randomness of one gradient call (a small pytree); default: the key."""
        return key

    def grad_from_noise(self, x, noise, worker) -> jax.Array:
        """The stochastic gradient at ``x`` for the randomness ``noise``."""
        raise NotImplementedError

    def stoch_grad(self, x, key, worker) -> jax.Array:
        return self.grad_from_noise(x, self.sample_noise(key, worker), worker)

    #: Whether :meth:`value_and_grad_from_noise` returns the sample's loss (recorded as the
    #: ``batch_loss`` metric: the loss of the latest received minibatch at the point where its
    #: gradient was computed). Problems without it record no ``batch_loss``.
    has_batch_loss: bool = False

    def value_and_grad_from_noise(self, x, noise, worker):
        """``(loss of the sample at x, its gradient)``; the loss is NaN unless
        :attr:`has_batch_loss` (then the gradient equals :meth:`grad_from_noise`'s)."""
        g = self.grad_from_noise(x, noise, worker)
        return jnp.full((), jnp.nan, g.dtype), g

    def params(self, x):
        """The parameters of the flat vector ``x`` as the model's pytree (flat problems: ``x``).

        Methods that act per weight matrix map over this (``Arrival.params``)."""
        return x

    def flat(self, params) -> jax.Array:
        """The inverse of :meth:`params`, exact: ``flat(params(x))`` equals ``x`` bit for bit."""
        return ravel_pytree(params)[0]

    @property
    def f_star(self) -> Optional[float]:
        return None

    @property
    def num_workers(self) -> Optional[int]:
        """Workers the problem is built for (per-worker data), ``None`` for any."""
        return None

    def loss_gap(self, x) -> jax.Array:
        """``f(x) - f*`` when ``f*`` is known, else ``f(x)``."""
        f = self.loss(x)
        return f - self.f_star if self.f_star is not None else f

    def numpy_oracle(self, root, n: int, num_jobs: int) -> Callable[[np.ndarray, int, int], np.ndarray]:
        """A Python callable ``(x, worker, job) -> gradient`` for the reference oracle.

        The default evaluates :meth:`stoch_grad` through JAX one call at a time;
        problems override it with a NumPy version that draws the same randomness.
        """
        return lambda x, w, j: np.asarray(_stoch_grad(self, root, jnp.asarray(x), w, j))
