"""Keys for common random numbers.

One integer seed gives independent streams: compute times, gradient (job)
randomness, a method's own randomness and communication times. A job's
randomness is keyed by ``(seed, worker, job)``, so the clocks, the reference
oracle and every method of a comparison draw the same noise for the same job,
whatever order they process events in.
"""

from __future__ import annotations

import jax
import numpy as np

_TIME, _GRAD, _METHOD, _COMM = 0, 1, 2, 3


def seed_key(seed: int) -> jax.Array:
    """The root key of one seed (raises ``ValueError`` for non-integers)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    return jax.random.key(int(seed))


def time_key(seed: int) -> jax.Array:
    """Key for sampling durations (and base-time permutations) of ``seed``."""
    return jax.random.fold_in(seed_key(seed), _TIME)


def grad_root(seed: int) -> jax.Array:
    """Root of the gradient-noise keys of ``seed``."""
    return jax.random.fold_in(seed_key(seed), _GRAD)


def grad_key(root, worker, job):
    """Key of the gradient computed by ``job`` of ``worker`` (traceable)."""
    return jax.random.fold_in(jax.random.fold_in(root, worker), job)


def method_key(seed: int) -> jax.Array:
    """Root of a method's own randomness for ``seed`` (``SeedContext.key``; the ATA family
    draws tie-breaking and random subsets from ``fold_in(method_key(seed), k)``)."""
    return jax.random.fold_in(seed_key(seed), _METHOD)


def comm_key(seed: int) -> jax.Array:
    """Root of the communication-time keys of ``seed`` (per worker, job and direction)."""
    return jax.random.fold_in(seed_key(seed), _COMM)
