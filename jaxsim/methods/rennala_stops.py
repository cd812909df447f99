"""Rennala SGD with stops: every worker restarts at each new model (variant B).

The batch collection of Rennala SGD (arXiv 2305.12387) as simulated by the authors'
code that produced the Ringmaster figures: at every update all running jobs are
cancelled and every worker restarts from the new model, so every arrival is fresh.
Collect ``B`` gradients, step with their mean, restart everyone.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from ..reference.rules import ControlledRule
from .base import NEW, Commands, ControlledMethod, Decision, reference_rule, register
from .hparams import GAMMA, HParam
from .rennala import add_to_batch, empty_batch


@register
@dataclasses.dataclass(frozen=True)
class RennalaStops(ControlledMethod):
    name = "rennala_stops"
    hparams = {"gamma": GAMMA, "B": HParam(1, "count", "batch size")}
    paper = "arXiv 2305.12387; variant B of the authors' simulator"

    def window(self, hp):
        return 1

    def cost_key(self, setting):
        return -setting["B"]  # restarts waste less with large batches: many more arrivals

    def init(self, x0, hp, ctx, timing):
        return empty_batch(x0)

    def on_arrival(self, state, a, hp):  # every arrival is fresh: everyone restarted at x^k
        new, mean, full = add_to_batch(state, a.grad, True, hp["B"])
        return new, Decision(mean, hp["gamma"], full, jnp.asarray(True),
                             Commands(reporter=NEW, cancel=full))


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(RennalaStops)
class RennalaStopsRule(ControlledRule):
    def __init__(self, *args):
        super().__init__(*args)
        self.acc, self.count = 0.0, 0

    def arrival(self, srv, w, delay, g, timed_out, s, busy):
        assert delay == 0
        self.acc = self.acc + g
        self.count += 1
        if self.count < self.hp["B"]:
            return True, NEW, [], []
        srv.step(self.hp["gamma"], self.acc / self.hp["B"])
        self.acc, self.count = 0.0, 0
        return True, NEW, [j for j in range(self.n) if j != w and busy[j]], []  # everyone restarts
