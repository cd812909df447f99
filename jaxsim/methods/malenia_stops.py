"""Malenia SGD with restarts: every worker restarts at each new model.

The form behind the Ringleader paper's figures (the authors' simulator): when a round
ends, every running job is cancelled and all workers restart at ``x^{k+1}``, so every
arrival is fresh and no gradient is discarded, at the price of the cancelled work.
The stopping rule and the update are those of :mod:`jaxsim.methods.malenia`; with the
default ``S = 1`` a round ends when every worker has contributed.
"""

from __future__ import annotations

import dataclasses

from ..reference.rules import ControlledRule
from .base import NEW, Commands, ControlledMethod, reference_rule, register
from .malenia import MaleniaRounds, MaleniaRule


@register
@dataclasses.dataclass(frozen=True)
class MaleniaStops(MaleniaRounds, ControlledMethod):
    name = "malenia_stops"
    paper = "arXiv 2305.12387; the restart-all form of the Ringleader paper's simulator"

    def on_arrival(self, state, a, hp):  # every arrival is fresh: everyone restarted at x^k
        new, dec = self.collect(state, a, hp, True)
        return new, dec._replace(commands=Commands(reporter=NEW, cancel=dec.update))


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(MaleniaStops)
class MaleniaStopsRule(ControlledRule):
    """Malenia's rounds; when one ends, every running job restarts at the new model."""

    def __init__(self, method, hp, n, dim, *args):
        super().__init__(method, hp, n, dim, *args)
        self.collector = MaleniaRule(method, hp, n, dim)

    def arrival(self, srv, w, delay, g, timed_out, s, busy):
        assert delay == 0
        if self.collector.collect(srv, w, g):
            return True, NEW, [j for j in range(self.n) if j != w and busy[j]], []
        return True, NEW, [], []
