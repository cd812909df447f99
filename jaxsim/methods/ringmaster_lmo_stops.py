"""Ringmaster LMO, variant B: stop stale jobs (arXiv 2605.18174; spec ``lmo_vr_local.md`` §2.3–2.4).

Every arrival updates the momentum and the model (``x <- x + gamma lmo(m)``); right after
each update every other busy worker whose job has become ``R`` updates stale is stopped and
restarted from the new model, so no arrival is ever discarded. A restarted job gets a fresh
full duration and consumes a new job index (its randomness is fresh). This is the form of
the authors' ``RingmasterMuonASGD``: with ``**CODE_FORM`` and ``beta=0.95`` it is their
code's rule (Nesterov, ``m^0 = 0``, Muon partition); the default is the paper form.
"""

from __future__ import annotations

import dataclasses

from ..reference.lmo_rules import Momentum
from ..reference.rules import ControlledRule
from ._lmo_base import ALPHA, LMOOptions
from .base import NEW, Commands, ControlledMethod, Decision, max_count, reference_rule, register
from .hparams import GAMMA, HParam


@register
@dataclasses.dataclass(frozen=True)
class RingmasterLMOStops(LMOOptions, ControlledMethod):
    name = "ringmaster_lmo_stops"
    hparams = {"gamma": GAMMA, "alpha": ALPHA,
               "R": HParam(1, "count", "delay threshold: jobs R updates stale are restarted")}
    paper = "arXiv 2605.18174 (variant B)"

    def window(self, hp):
        return max_count(hp, "R")

    def cost_key(self, setting):
        return -setting["R"]  # large thresholds cancel little and see many more arrivals

    def stop_threshold(self, hp, k):
        return hp["R"]

    def on_arrival(self, state, a, hp):
        ok = a.delay < hp["R"]  # always true: stale jobs never get to report
        m, direction = self.momentum_step(state.m, a.grad, self.first_weight(hp["alpha"], a.workers.k), ok, a)
        return state._replace(m=m), Decision(direction, hp["gamma"], ok, ok, Commands(reporter=NEW))


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(RingmasterLMOStops)
class RingmasterLMOStopsRule(ControlledRule):
    def __init__(self, *args):
        super().__init__(*args)
        self.momentum = Momentum(self.method, self)

    def arrival(self, srv, w, delay, g, timed_out, s, busy):
        assert delay < self.hp["R"], "a job this stale should have been stopped"
        alpha_k = self.momentum.first_weight(self.hp["alpha"], srv.k)
        srv.step(self.hp["gamma"], self.momentum.direction(g, alpha_k))
        return True, NEW, self.stale(srv.k, w, s, busy, self.hp["R"]), []
