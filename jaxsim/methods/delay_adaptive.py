"""Delay-adaptive asynchronous SGD.

Every arrival is applied with ``gamma_k = gamma * n / max(n, delay)`` (the rule of
the Ringmaster experiments' baseline and of the public notebook accompanying
arXiv 2206.07638): full steps for delays up to the number of workers, shrinking
as ``1/delay`` beyond.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from ..reference.rules import Rule
from .base import Decision, StreamMethod, reference_rule, register
from .hparams import GAMMA


@register
@dataclasses.dataclass(frozen=True)
class DelayAdaptiveASGD(StreamMethod):
    name = "delay_adaptive_asgd"
    hparams = {"gamma": GAMMA}
    paper = "arXiv 2206.07638; arXiv 2206.08307"

    def on_arrival(self, state, a, hp):
        n = jnp.asarray(a.n, a.x.dtype)
        step = hp["gamma"] * n / jnp.maximum(n, a.delay.astype(a.x.dtype))
        return state, Decision(direction=a.grad, step=step, update=jnp.asarray(True), used=jnp.asarray(True))


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(DelayAdaptiveASGD)
class DelayAdaptiveRule(Rule):
    def arrival(self, srv, worker, delay, g):
        srv.step(self.hp["gamma"] * self.n / max(self.n, delay), g)
        return True
