"""Keys for common random numbers.

One integer seed gives independent streams: compute times, gradient (job)
randomness, a method's own randomness and communication times. A job's
randomness is keyed by ``(seed, worker, job)``, so the clocks, the reference
oracle and every method of a comparison draw the same noise for the same job,
whatever order they process events in.

Seeds are integers ``0 <= seed < 2**63`` (:data:`SEED_LIMIT`; Python or NumPy
integers, not bools). Distinct seeds give distinct keys: a seed below ``2**32``
is ``jax.random.key(seed)``; a larger one folds its high 32 bits into the key of
its low 32 bits (``jax.random.key`` alone would wrap it onto a smaller seed).
"""

from __future__ import annotations

import collections

import jax
import numpy as np

_TIME, _GRAD, _METHOD, _COMM = 0, 1, 2, 3


#: Seeds are integers in ``[0, SEED_LIMIT)``.
SEED_LIMIT = 2 ** 63


def check_seed(seed, name: str = "seed") -> int:
    """``seed`` as a Python ``int``; ``ValueError`` naming ``name`` unless it is an integer in
    ``[0, 2**63)``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"{name} must be an integer in [0, 2**63), got {seed!r}")
    s = int(seed)
    if not 0 <= s < SEED_LIMIT:
        raise ValueError(f"{name} must be an integer in [0, 2**63), got {s}")
    return s


def check_seeds(seeds, name: str = "seeds") -> list:
    """A sweep's seeds: one integer or a non-empty list of distinct ones, each checked by
    :func:`check_seed`; returned as Python ``int`` s. ``ValueError`` naming ``name`` otherwise
    (a duplicate would count one run twice in the statistics)."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = [seeds]
    if isinstance(seeds, (str, bytes, dict)) or not hasattr(seeds, "__iter__"):
        raise ValueError(f"{name}: expected an integer or a list of integers, got {seeds!r}")
    out = [check_seed(s, name) for s in seeds]
    if not out:
        raise ValueError(f"{name}: empty list")
    dup = sorted(s for s, c in collections.Counter(out).items() if c > 1)
    if dup:
        raise ValueError(f"{name}: duplicate seed(s) {dup} (each would be counted twice in the statistics)")
    return out


def seed_key(seed: int) -> jax.Array:
    """The root key of one seed (``ValueError`` outside ``0 <= seed < 2**63``).

    ``jax.random.key(seed)`` below ``2**32``; above, the high 32 bits are folded into
    the key of the low 32 bits, so distinct seeds never share a key."""
    s = check_seed(seed)
    if s < 2 ** 32:
        return jax.random.key(s)
    return jax.random.fold_in(jax.random.key(s & 0xFFFFFFFF), s >> 32)


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


# ---- many seeds at once ------------------------------------------------------------------------
# A sweep over thousands of seeds must not pay one eager dispatch (or one stacked operand) per
# seed: these build the same keys as the per-seed functions above, bit for bit, in one call.


def _seed_array(seeds) -> np.ndarray:
    seeds = [check_seed(s, "seeds") for s in seeds]
    return np.asarray(seeds, np.uint64).reshape(-1)


@jax.jit
def _keys_of(lo, hi):
    k = jax.vmap(jax.random.key)(lo)
    folded = jax.vmap(jax.random.fold_in)(k, hi)
    data = jax.numpy.where((hi > 0)[:, None], jax.random.key_data(folded), jax.random.key_data(k))
    return jax.random.wrap_key_data(data)


@jax.jit
def _fold_all(keys, stream):
    return jax.vmap(lambda k: jax.random.fold_in(k, stream))(keys)


def seed_keys(seeds) -> jax.Array:
    """``[S]`` root keys, equal to ``[seed_key(s) for s in seeds]`` bit for bit (one call)."""
    s = _seed_array(seeds)
    return _keys_of(jax.numpy.asarray((s & np.uint64(0xFFFFFFFF)).astype(np.uint32)),
                    jax.numpy.asarray((s >> np.uint64(32)).astype(np.uint32)))


def time_keys(seeds) -> jax.Array:
    """``[S]`` keys of :func:`time_key`."""
    return _fold_all(seed_keys(seeds), _TIME)


def grad_roots(seeds) -> jax.Array:
    """``[S]`` keys of :func:`grad_root`."""
    return _fold_all(seed_keys(seeds), _GRAD)


def method_keys(seeds) -> jax.Array:
    """``[S]`` keys of :func:`method_key`."""
    return _fold_all(seed_keys(seeds), _METHOD)


def comm_keys(seeds) -> jax.Array:
    """``[S]`` keys of :func:`comm_key`."""
    return _fold_all(seed_keys(seeds), _COMM)
