"""Ringmaster LMO, variant A: discard stale gradients (arXiv 2605.18174; spec ``lmo_vr_local.md`` §2.3).

Ringmaster ASGD's delay threshold with a momentum + LMO step (Muon-style when the LMO is
spectral per weight matrix). A gradient whose delay is below ``R`` updates the momentum
and the model, ``m <- alpha_k g + (1 - alpha_k) m``, ``x <- x + gamma lmo(m)``; an older one
is discarded. Either way the reporting worker restarts from the current model, so the
server keeps the last ``R`` iterates (``R x d``) plus the momentum (``d``).

Options (:mod:`jaxsim.methods._lmo_base`): the LMO per parameter group (``lmo``, ``other``,
``partition``, ``radius``), ``nesterov`` and ``m0``; paper form by default, the authors'
code form with ``**CODE_FORM`` and ``beta=0.95``. With ``lmo = other = "momentum"`` and
``alpha = 1`` this is Ringmaster ASGD, bit for bit (``tests/methods/test_lmo_methods.py``).
"""

from __future__ import annotations

import dataclasses

from ..reference.lmo_rules import Momentum
from ..reference.rules import Rule
from ._lmo_base import ALPHA, LMOOptions
from .base import Decision, StreamMethod, max_count, reference_rule, register
from .hparams import GAMMA, HParam


@register
@dataclasses.dataclass(frozen=True)
class RingmasterLMO(LMOOptions, StreamMethod):
    name = "ringmaster_lmo"
    hparams = {"gamma": GAMMA, "alpha": ALPHA,
               "R": HParam(1, "count", "delay threshold: delays >= R are discarded")}
    paper = "arXiv 2605.18174 (variant A)"

    def window(self, hp):
        return max_count(hp, "R")

    def on_arrival(self, state, a, hp):
        ok = a.delay < hp["R"]
        m, direction = self.momentum_step(state.m, a.grad, self.first_weight(hp["alpha"], a.workers.k), ok, a)
        return state._replace(m=m), Decision(direction=direction, step=hp["gamma"], update=ok, used=ok)


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(RingmasterLMO)
class RingmasterLMORule(Rule):
    def __init__(self, *args):
        super().__init__(*args)
        self.momentum = Momentum(self.method, self)

    def needs_grad(self, delay):
        return delay < self.hp["R"]

    def arrival(self, srv, worker, delay, g):
        if delay >= self.hp["R"]:
            return False  # too stale: discard; the worker restarts from x^k
        alpha_k = self.momentum.first_weight(self.hp["alpha"], srv.k)
        srv.step(self.hp["gamma"], self.momentum.direction(g, alpha_k))
        return True
