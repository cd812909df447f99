"""FTA: the fixed allocation that is optimal for the true mean task times (ATA paper's "Optimal").

The greedy min-max solver (:func:`~jaxsim.methods._allocation.greedy_allocate`) applied
once, to the true means ``mu = ctx.mean``; every iteration uses that allocation. Its
proxy loss ``max_i a_i mu_i`` is ``v_B``, the ``B``-th smallest ``j mu_i``. Workers
without a finite mean get tasks only when nothing else is possible.

Hyperparameters: ``gamma``, ``B``.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

import jax

from ..reference.rules import AllocationRule, greedy_minmax
from ._allocation import TASKS, greedy_allocate, priorities
from .base import AllocationMethod, reference_rule, register
from .hparams import GAMMA


@register
@dataclasses.dataclass(frozen=True)
class FTA(AllocationMethod):
    name = "fta"
    hparams = {"gamma": GAMMA, "B": TASKS}
    paper = "arXiv 2502.00775 (FTA baseline, known means)"

    def init(self, x0, hp, ctx, timing):
        mu, n = ctx.mean, ctx.tau.shape[0]
        key = jax.random.fold_in(ctx.key, 0)
        return greedy_allocate(mu, jnp.zeros((n,), bool), hp["B"], priorities(key, n, mu.dtype))

    def allocate(self, state, k, key, hp, ctx, max_B=None):
        return state


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(FTA)
class FTARule(AllocationRule):
    def __init__(self, method, hp, n, mean, prio0):
        super().__init__(method, hp, n, mean, prio0)
        self.fixed = greedy_minmax([float(m) for m in mean], [False] * n, hp["B"], prio0)

    def allocate(self, k, prio):
        return list(self.fixed)
