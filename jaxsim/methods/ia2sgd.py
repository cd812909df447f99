"""IA²SGD, incremental aggregated asynchronous SGD (arXiv 2405.16966; also DuDe-ASGD).

The server keeps the latest stochastic gradient of every worker (one slot each) and
steps along the slot average at every arrival:
``avg <- avg + (g - slot_i) / n; slot_i <- g; x <- x - gamma avg``.
Nothing bounds how old a slow worker's slot is, which is why its time complexity
carries ``tau_n`` in the noise term.

Warm-up (the authors' code): until every slot is filled, arrivals only fill slots and
the workers restart at ``x^0``; the arrival that fills the last slot does not update,
the next one does. Option ``update_on_fill=True``: the filling arrival updates too.

State per run: the ``n x d`` slots and their running average; O(d) per arrival.
The average is kept incrementally, so it carries float rounding of order
``sqrt(arrivals) * eps`` relative to a recomputation.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from ._tables import add_gradient, empty_tables
from ..reference.rules import Rule
from .base import Decision, StreamMethod, reference_rule, register
from .hparams import GAMMA


@register
@dataclasses.dataclass(frozen=True)
class IA2SGD(StreamMethod):
    update_on_fill: bool = False

    name = "ia2sgd"
    hparams = {"gamma": GAMMA}
    paper = "arXiv 2405.16966"
    masks_invalid = True

    def init(self, x0, hp, ctx, timing):
        return empty_tables(x0, ctx.tau.shape[0], copies=1)  # entry i: worker i's latest gradient

    def on_arrival(self, state, a, hp):
        was_full = jnp.all(state.count[0] > 0)
        tab = add_gradient(state, 0, a.worker, a.grad, a.valid, latest=True)
        update = a.valid & (was_full | (self.update_on_fill & jnp.all(tab.count[0] > 0)))
        return tab, Decision(direction=tab.avg[0], step=hp["gamma"], update=update, used=jnp.asarray(True))


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(IA2SGD)
class IA2SGDRule(Rule):
    def __init__(self, method, hp, n, dim):
        super().__init__(method, hp, n, dim)
        self.slots = [None] * n

    def arrival(self, srv, worker, delay, g):
        was_full = all(s is not None for s in self.slots)
        self.slots[worker] = g
        if was_full or (self.method.update_on_fill and all(s is not None for s in self.slots)):
            srv.step(self.hp["gamma"], np.mean(self.slots, axis=0))
        return True
