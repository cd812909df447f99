"""Rennala MVR with stops: every worker restarts at each new model (variant B).

Rennala MVR (:mod:`jaxsim.methods.rennala_mvr`, same hyperparameters and options except
``R``) with Rennala-with-stops semantics: when a round completes, every running job is
cancelled and all workers restart at the new model, so every arrival is a fresh pair
``(x^{k+1}, x^k)`` and nothing is discarded.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from ..reference.rules import ControlledRule
from .base import NEW, Commands, ControlledMethod, Decision, reference_rule, register
from .rennala_mvr import HPARAMS, MVRBase, MVRRound


@register
@dataclasses.dataclass(frozen=True)
class RennalaMVRStops(MVRBase, ControlledMethod):
    name = "rennala_mvr_stops"
    hparams = dict(HPARAMS)
    paper = "arXiv 2605.08871 (reconstruction, lmo_vr_local.md §3.2); stops as in Rennala's variant B"

    def window(self, hp):
        return 1

    def cost_key(self, setting):
        return -setting["S"]  # restarts waste less with large batches: many more arrivals

    def on_arrival(self, st, a, hp):  # every arrival is fresh: everyone restarted at x^k
        new, g, full = self.collect(st, a.grad, jnp.asarray(True), hp)
        return new, Decision(g, hp["gamma"], full, jnp.asarray(True),
                             Commands(reporter=NEW, cancel=full))


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(RennalaMVRStops)
class RennalaMVRStopsRule(ControlledRule):
    def __init__(self, *args):
        super().__init__(*args)
        self.round = MVRRound(self.method, self.hp)

    def arrival(self, srv, w, delay, g, timed_out, s, busy):
        assert delay == 0
        g_new = self.round.add(g)
        if g_new is None:
            return True, NEW, [], []
        srv.step(self.hp["gamma"], g_new)
        return True, NEW, [j for j in range(self.n) if j != w and busy[j]], []  # everyone restarts
