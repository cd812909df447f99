"""UTA: uniform task allocation (ATA paper's baseline).

Each iteration, ``floor(B/n)`` tasks per worker plus one extra task for ``B mod n``
workers drawn at random (re-drawn every iteration; for ``B < n``: ``B`` distinct random
workers with one task each).

Hyperparameters: ``gamma``, ``B``.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from ..reference.rules import AllocationRule
from ._allocation import TASKS, priorities, spread
from .base import AllocationMethod, reference_rule, register
from .hparams import GAMMA


@register
@dataclasses.dataclass(frozen=True)
class UTA(AllocationMethod):
    name = "uta"
    hparams = {"gamma": GAMMA, "B": TASKS}
    paper = "arXiv 2502.00775 (UTA baseline)"

    def allocate(self, state, k, key, hp, ctx, max_B=None):
        n = ctx.mean.shape[0]
        return spread(jnp.ones((n,), bool), jnp.asarray(hp["B"], jnp.int32), priorities(key, n, ctx.mean.dtype),
                      max_B)


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(UTA)
class UTARule(AllocationRule):
    def allocate(self, k, prio):
        q, r = divmod(self.hp["B"], self.n)
        extra = set(sorted(range(self.n), key=lambda i: (prio[i], i))[:r])
        return [q + (1 if i in extra else 0) for i in range(self.n)]
