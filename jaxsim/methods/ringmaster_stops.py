"""Ringmaster ASGD with calculation stops (arXiv 2501.16168, Alg. 5).

Every arrival is applied (``x <- x - gamma g``); right after each update every other
busy worker whose job has become ``R`` updates stale is stopped and restarted from
the new model. No arrival is ever discarded and stale work is aborted as early as
possible; each cancellation consumes a job index and its partial time counts as busy.

``R = 1`` is Hero SGD for fixed distinct times (every update restarts the race).
The paper's figure scripts instantiate this version.
"""

from __future__ import annotations

import dataclasses

from ..reference.rules import ControlledRule
from .base import NEW, Commands, ControlledMethod, Decision, max_count, reference_rule, register
from .hparams import GAMMA, HParam


@register
@dataclasses.dataclass(frozen=True)
class RingmasterStops(ControlledMethod):
    name = "ringmaster_stops"
    hparams = {"gamma": GAMMA, "R": HParam(1, "count", "delay threshold: jobs R updates stale are restarted")}
    paper = "arXiv 2501.16168 (Alg. 5)"

    def window(self, hp):
        return max_count(hp, "R")

    def cost_key(self, setting):
        return -setting["R"]  # large thresholds cancel little and see many more arrivals

    def stop_threshold(self, hp, k):
        return hp["R"]

    def on_arrival(self, state, a, hp):
        ok = a.delay < hp["R"]  # always true: stale jobs never get to report
        return state, Decision(a.grad, hp["gamma"], ok, ok, Commands(reporter=NEW))


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(RingmasterStops)
class RingmasterStopsRule(ControlledRule):
    def arrival(self, srv, w, delay, g, timed_out, s, busy):
        assert delay < self.hp["R"], "a job this stale should have been stopped"
        srv.step(self.hp["gamma"], g)
        return True, NEW, self.stale(srv.k, w, s, busy, self.hp["R"]), []
