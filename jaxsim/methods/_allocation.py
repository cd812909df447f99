"""Allocation methods (the ATA family): a batch of ``B`` tasks per iteration, split over workers.

An :class:`~jaxsim.methods.base.AllocationMethod` does not react to arrivals. Each iteration it returns an
allocation ``a in N^n`` with ``sum(a) = B`` (:meth:`~AllocationMethod.allocate`); worker
``i`` computes ``a_i`` gradients at the current model one after the other, the
iteration ends when the last assigned task is done, and the method sees each worker's
total time (:meth:`~AllocationMethod.observe`; semi-bandit feedback: only workers with
tasks report). The clock that runs them is :mod:`jaxsim.sim.allocation`.

:func:`greedy_allocate` is the min-max allocation solver ("harmonia") of
the ATA authors' code, in JAX:

1. one task to each never-sampled worker (the ``B`` with the smallest random priority
   when there are more than ``B``);
2. if some scores are 0, the remaining tasks are spread as evenly as possible over the
   zero-score workers (``floor(R/Z)`` each, one more for the ``R mod Z`` of them with
   the smallest priority); nothing else is added;
3. otherwise the remaining tasks are added one at a time, each to the worker whose
   increment gives the smallest new maximum ``max_j a_j s_j``; ties go to the choice
   leaving the fewest workers at that maximum, then to the smallest priority.

The priority vector (uniform in ``[0, 1)``, one per ``(seed, k)``, drawn by
:func:`priorities`) is the only randomness; :mod:`jaxsim.reference` draws the same one.
Step 3 costs ``O(n)`` per task; it attains ``v_B``, the ``B``-th smallest element of
``{j s_i}``, whatever the tie-breaking.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..runtime.lexmin import lex_reduce
from .hparams import HParam

#: Tasks per iteration.
TASKS = HParam(1, "count", "tasks (stochastic gradients) per iteration", draw=lambda n: (1, 2 * n + 1))


#: Tasks the greedy solver adds per trip of its loop (:func:`greedy_allocate`).
GREEDY_UNROLL = 8


def priorities(key, n: int, dtype) -> jax.Array:
    """The random priority vector of one allocation (smaller = preferred)."""
    return jax.random.uniform(key, (n,), dtype)


def rank_within(mask, prio) -> jax.Array:
    """int32[n]: rank of each ``mask`` worker by priority (0 = smallest; ties to the lower
    index); workers outside ``mask`` rank after all of them."""
    order = jnp.argsort(jnp.where(mask, prio, jnp.inf), stable=True)
    return jnp.zeros(order.shape, jnp.int32).at[order].set(jnp.arange(order.shape[0], dtype=jnp.int32))


def first_by_priority(mask, prio, K, max_K: int | None = None) -> jax.Array:
    """bool[n]: the ``K`` ``mask`` workers of smallest priority (ties to the lower index), i.e.
    ``mask & (rank_within(mask, prio) < K)``.

    ``max_K`` (static) bounds the traced ``K``: the selection is then a ``top_k`` of ``max_K``
    entries instead of a sort of all ``n`` (XLA:CPU sorts with a comparator call per comparison:
    at ``n = 459`` a sort took about 60 us per run, a ``top_k`` of 23 about 7). ``top_k`` puts
    equal keys in index order, as the stable sort does, so both select the same workers."""
    n = mask.shape[0]
    if max_K is None or max_K >= n:
        return mask & (rank_within(mask, prio) < K)
    _, order = jax.lax.top_k(-jnp.where(mask, prio, jnp.inf), max_K)
    chosen = jnp.where(jnp.arange(max_K) < K, order, n)  # index n: dropped
    return mask & jnp.zeros((n,), bool).at[chosen].set(True, mode="drop")


def spread(mask, R, prio, max_R: int | None = None) -> jax.Array:
    """int32[n]: ``R`` tasks spread as evenly as possible over the ``mask`` workers, the
    ``R mod |mask|`` extra tasks to those with the smallest priority (zeros if no mask).
    ``max_R`` (static): a bound on ``R`` (:func:`first_by_priority`)."""
    Z = jnp.maximum(jnp.sum(mask, dtype=jnp.int32), 1)
    q, r = R // Z, R % Z
    extra = first_by_priority(mask, prio, r, max_R).astype(jnp.int32)
    return jnp.where(mask, q + extra, 0).astype(jnp.int32)


def greedy_allocate(scores, new, B, prio, max_B: int | None = None) -> jax.Array:
    """int32[n] allocation of ``B`` tasks by the greedy min-max rule (module docstring).

    ``scores``: float[n] >= 0 (``inf`` allowed); ``new``: bool[n] never-sampled workers;
    ``B``: traced int; ``prio``: float[n] from :func:`priorities`; ``max_B`` (static, optional):
    a bound on ``B``, which makes steps 1 and 2 a ``top_k`` instead of a sort
    (:func:`first_by_priority`; the same allocation).
    """
    s = scores
    dt = s.dtype
    a = first_by_priority(new, prio, B, max_B).astype(jnp.int32)  # step 1
    R = (B - jnp.sum(a)).astype(jnp.int32)
    zero = s == 0
    any_zero = jnp.any(zero)
    a = jnp.where(any_zero, a + spread(zero, R, prio, max_B), a)  # step 2
    R = jnp.where(any_zero, 0, R)

    prod = jnp.where(a > 0, a.astype(dt) * s, 0)  # step 3 from the current allocation
    curmax = jnp.max(prod)
    c = jnp.sum((a > 0) & (prod == curmax), dtype=jnp.int32)

    workers = jnp.arange(s.shape[0])

    def add_one(_, carry):
        # the least (new maximum, workers at it, priority, index), and that worker's product, in one
        # reduce (three reductions and a gather took twice the time per task)
        a, curmax, c = carry
        v = (a + 1).astype(dt) * s
        M = jnp.maximum(curmax, v)
        cnt = jnp.where(v < curmax, c, jnp.where(v == curmax, c + 1, 1))
        _, _, _, best, vb = lex_reduce((M, cnt, prio), carry=(v,))
        c = jnp.where(vb > curmax, 1, jnp.where(vb == curmax, c + 1, c))
        return jnp.where(workers == best, a + 1, a), jnp.maximum(curmax, vb), c

    def add_block(j, carry):
        # GREEDY_UNROLL tasks per trip of the loop (a trip costs more than a task's vector
        # operations on XLA's CPU runtime); the steps past R leave the carry as it is
        for u in range(GREEDY_UNROLL):
            keep = j * GREEDY_UNROLL + u < R
            carry = jax.tree.map(functools.partial(jnp.where, keep), add_one(None, carry), carry)
        return carry

    trips = (R + GREEDY_UNROLL - 1) // GREEDY_UNROLL
    a, _, _ = jax.lax.fori_loop(0, trips, add_block, (a, curmax, c))
    return a


class TaskStats(NamedTuple):
    """Per-worker feedback: tasks observed ``K_i`` and the sum of their times."""

    count: jax.Array  # int32[n]
    total: jax.Array  # float[n]


def empty_stats(n: int, dtype) -> TaskStats:
    return TaskStats(jnp.zeros((n,), jnp.int32), jnp.zeros((n,), dtype))


def add_stats(st: TaskStats, a, task_sums) -> TaskStats:
    return TaskStats(st.count + a, st.total + task_sums)


def confidence_width(st: TaskStats, k):
    """``(mu_hat, sqrt(L/K) + L/K)`` with ``L = ln(2 k^2)`` (``K_i = 0``: the caller masks)."""
    dt = st.total.dtype
    kf = jnp.asarray(k).astype(dt)
    L = jnp.log(2.0 * kf * kf)
    K = jnp.maximum(st.count, 1).astype(dt)
    return st.total / K, jnp.sqrt(L / K) + L / K


CONSTANTS = ("poster", "code")
FOUR_E = 4.0 * float(np.e)


def check_constants(constants: str) -> None:
    if constants not in CONSTANTS:
        raise ValueError(f"constants: expected one of {CONSTANTS}, got {constants!r}")


__all__ = [
    "CONSTANTS",
    "FOUR_E",
    "GREEDY_UNROLL",
    "TASKS",
    "TaskStats",
    "add_stats",
    "check_constants",
    "confidence_width",
    "empty_stats",
    "first_by_priority",
    "greedy_allocate",
    "priorities",
    "rank_within",
    "spread",
]
