"""A problem from any JAX loss and a per-call sampler.

``loss_fn(params, batch)`` is the per-sample (or per-minibatch) loss,
``sampler(key, worker, data)`` draws the batch of one gradient call from ``key``,
and ``objective(params, data)`` is the full objective reported in the metrics; the
sampled batch's ``loss_fn`` value is recorded as ``batch_loss``.
Parameters may be any pytree; the engine sees them raveled into one vector.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from ..runtime.pytree import pytree_dataclass, static_field
from .base import Problem


@pytree_dataclass
class LossProblem(Problem):
    x0: jax.Array
    data: Any
    loss_fn: Callable = static_field()
    sampler: Callable = static_field()
    objective: Callable = static_field()
    unravel: Callable = static_field()
    optimum: Optional[float] = static_field(default=None)
    label: str = static_field(default="custom")

    @property
    def name(self):
        return self.label

    @property
    def dim(self):
        return self.x0.shape[0]

    def init(self):
        return self.x0

    def params(self, x):
        return self.unravel(x)

    def loss(self, x):
        return self.objective(self.unravel(x), self.data)

    has_batch_loss = True

    def grad_from_noise(self, x, key, worker):
        return self.value_and_grad_from_noise(x, key, worker)[1]

    def value_and_grad_from_noise(self, x, key, worker):
        batch = self.sampler(key, worker, self.data)
        f, g = jax.value_and_grad(self.loss_fn)(self.unravel(x), batch)
        return f, ravel_pytree(g)[0]

    @property
    def f_star(self):
        return self.optimum


def from_loss(loss_fn: Callable, sampler: Callable, objective: Callable, params0, data=None,
              f_star: Optional[float] = None, name: str = "custom") -> LossProblem:
    """Wrap a JAX loss into a :class:`LossProblem` (see the module docstring)."""
    x0, unravel = ravel_pytree(params0)
    if x0.size == 0:
        raise ValueError("problem.params0 has no parameters")
    return LossProblem(x0=jnp.asarray(x0), data=data, loss_fn=loss_fn, sampler=sampler,
                       objective=objective, unravel=unravel, optimum=f_star, label=name)
