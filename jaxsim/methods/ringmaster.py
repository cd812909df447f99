"""Ringmaster ASGD without calculation stops (arXiv 2501.16168, Alg. 4).

A gradient whose delay is below the threshold ``R`` is applied; an older one is
discarded. Either way the reporting worker restarts from the current model. Only
delays ``< R`` are ever applied, so the engine keeps just the last ``R`` iterates
(a ring buffer) instead of a point per worker.

``R = 1`` applies only fresh gradients; ``R`` above every possible delay is vanilla
asynchronous SGD.
"""

from __future__ import annotations

import dataclasses

from ..reference.rules import Rule
from .base import Decision, StreamMethod, max_count, reference_rule, register
from .hparams import GAMMA, HParam


@register
@dataclasses.dataclass(frozen=True)
class RingmasterASGD(StreamMethod):
    name = "ringmaster"
    hparams = {"gamma": GAMMA, "R": HParam(1, "count", "delay threshold: delays >= R are discarded")}
    paper = "arXiv 2501.16168 (Alg. 4)"

    def window(self, hp):
        return max_count(hp, "R")

    def on_arrival(self, state, a, hp):
        ok = a.delay < hp["R"]
        return state, Decision(direction=a.grad, step=hp["gamma"], update=ok, used=ok)


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(RingmasterASGD)
class RingmasterRule(Rule):
    def needs_grad(self, delay):
        return delay < self.hp["R"]

    def arrival(self, srv, worker, delay, g):
        if delay >= self.hp["R"]:
            return False  # too stale: discard; the worker restarts from x^k
        srv.step(self.hp["gamma"], g)
        return True
