"""Asynchronous SGD, vanilla (Ringmaster ASGD paper, Alg. 1).

Every arrival is applied with the same stepsize, ``x <- x - gamma g``, and the
reporting worker gets the new model. Delays are unbounded, so the engine keeps a
point per worker (or the stream's maximum delay's worth of iterates, if fewer).

Option ``skip_delay_above``: skip (do not apply) arrivals whose delay exceeds it;
the worker still gets the current model (an older baseline of the authors' code
used ``n``).
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import jax.numpy as jnp

from ..reference.rules import Rule
from .base import Decision, StreamMethod, reference_rule, register
from .hparams import GAMMA


@register
@dataclasses.dataclass(frozen=True)
class ASGD(StreamMethod):
    skip_delay_above: Optional[int] = None

    name = "asgd"
    hparams = {"gamma": GAMMA}
    paper = "arXiv 2501.16168 (Alg. 1); arXiv 2206.07638"

    def on_arrival(self, state, a, hp):
        ok = jnp.asarray(True) if self.skip_delay_above is None else a.delay <= self.skip_delay_above
        return state, Decision(direction=a.grad, step=hp["gamma"], update=ok, used=ok)


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(ASGD)
class ASGDRule(Rule):
    def needs_grad(self, delay):
        limit = self.method.skip_delay_above
        return limit is None or delay <= limit

    def arrival(self, srv, worker, delay, g):
        if not self.needs_grad(delay):
            return False
        srv.step(self.hp["gamma"], g)
        return True
