"""Per-run batching of a stochastic gradient whose sample is shared by several runs.

A sweep batches runs with ``jax.vmap``; settings of one seed share that seed's job randomness
(the sampled rows or windows), so under ``vmap`` over settings the sample is unbatched while
the parameters are batched. ``vmap``'s rule for a product of a shared input with batched
weights folds the runs into the weights' output dimension: for a network's first layer one
product ``[B, in] @ [in, runs * out]``, paid for with a transposed copy of every run's weight
matrix going in and of its gradient coming out, each event, and with sums whose association
(so whose float rounding) depends on how many runs share the batch.

:func:`per_run` gives such a gradient its own batching rule: whatever the caller batches, the
sample is broadcast to the batch and the gradient is mapped with every per-run input batched,
so each run's products are its own (a batched product over runs, no transposes) and a run's
numbers are those of the run computed alone, whatever shares its batch.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
from jax.custom_batching import custom_vmap


def _broadcast(tree, batched, size: int):
    return jax.tree.map(lambda a, b: a if b else jnp.broadcast_to(a, (size,) + jnp.shape(a)), tree, batched)


def per_run(fn: Callable) -> Callable:
    """``fn(data, x, noise, worker)`` with a batching rule that batches ``x``, ``noise`` and
    ``worker`` over every mapped axis (broadcasting those the caller left unbatched) and ``data``
    (the problem: its dataset, shared by all runs) only where the caller batched it.

    Unbatched, the result is ``fn``'s; batched, each run's result is ``fn`` of that run alone."""

    @custom_vmap
    def call(data, x, noise, worker):
        return fn(data, x, noise, worker)

    @call.def_vmap
    def rule(axis_size, in_batched, data, x, noise, worker):
        b_data, b_x, b_noise, b_worker = in_batched
        own = [_broadcast(v, b, axis_size) for v, b in ((x, b_x), (noise, b_noise), (worker, b_worker))]
        data_axes = jax.tree.map(lambda b: 0 if b else None, b_data)
        # The mapped function keeps this rule for the axes mapped outside this one.
        out = per_run(jax.vmap(fn, in_axes=(data_axes, 0, 0, 0)))(data, *own)
        return out, jax.tree.map(lambda _: True, out)

    return call


__all__ = ["per_run"]
