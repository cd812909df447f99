"""Rennala LMO ("Rennala Muon"): batch collection with stops and a momentum + LMO step
(baseline of the Ringmaster LMO experiments; spec ``lmo_vr_local.md`` §2.8).

Collect ``B`` gradients at one model (every running job is restarted at each update, so
every arrival is fresh), average them, update the momentum with the average and step
``x <- x + gamma lmo(m)``. Options as for Ringmaster LMO (:mod:`jaxsim.methods._lmo_base`); the
momentum weight is indexed by updates (``alpha_0 = 1`` in the paper form). State per run:
the batch sum and the momentum (``2 d``) plus one stored iterate.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ..reference.lmo_rules import Momentum
from ..reference.rules import ControlledRule
from ._lmo_base import ALPHA, LMOOptions
from .base import NEW, Commands, ControlledMethod, Decision, reference_rule, register
from .hparams import GAMMA, HParam
from .rennala import RennalaState, add_to_batch, empty_batch


class RennalaLMOState(NamedTuple):
    batch: RennalaState
    m: jax.Array


@register
@dataclasses.dataclass(frozen=True)
class RennalaLMO(LMOOptions, ControlledMethod):
    name = "rennala_lmo"
    hparams = {"gamma": GAMMA, "alpha": ALPHA, "B": HParam(1, "count", "batch size")}
    paper = "arXiv 2605.18174 (baseline: Rennala Muon, with stops)"

    def window(self, hp):
        return 1

    def init(self, x0, hp, ctx, timing):
        return RennalaLMOState(batch=empty_batch(x0), m=jnp.zeros_like(x0))

    def on_arrival(self, state, a, hp):  # every arrival is fresh: everyone restarted at x^k
        batch, mean, full = add_to_batch(state.batch, a.grad, True, hp["B"])
        m, direction = self.momentum_step(state.m, mean, self.first_weight(hp["alpha"], a.workers.k), full, a)
        return RennalaLMOState(batch, m), Decision(direction, hp["gamma"], full, jnp.asarray(True),
                                                   Commands(reporter=NEW, cancel=full))


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(RennalaLMO)
class RennalaLMORule(ControlledRule):
    def __init__(self, *args):
        super().__init__(*args)
        self.momentum = Momentum(self.method, self)
        self.acc, self.count = 0.0, 0

    def arrival(self, srv, w, delay, g, timed_out, s, busy):
        assert delay == 0
        self.acc = self.acc + g
        self.count += 1
        if self.count < self.hp["B"]:
            return True, NEW, [], []
        alpha_k = self.momentum.first_weight(self.hp["alpha"], srv.k)
        srv.step(self.hp["gamma"], self.momentum.direction(self.acc / self.hp["B"], alpha_k))
        self.acc, self.count = 0.0, 0
        return True, NEW, [j for j in range(self.n) if j != w and busy[j]], []  # everyone restarts
