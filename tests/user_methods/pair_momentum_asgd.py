"""Asynchronous STORM-style momentum: a method whose job evaluates one sample at two points.

Each job returns ``(g(x^s; xi), g(x^{s-1}; xi))`` (:data:`jaxsim.jobs.PAIR`); the server keeps
``v <- g(x^s) + (1 - a)(v - g(x^{s-1}))`` and steps ``x <- x - gamma v``.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from jaxsim.jobs import PAIR
from jaxsim.methods import GAMMA, Decision, HParam, StreamMethod, reference_rule, register
from jaxsim.reference import Rule


@register
@dataclasses.dataclass(frozen=True)
class PairMomentumASGD(StreamMethod):
    name = "pair_momentum_asgd"
    hparams = {"gamma": GAMMA, "a": HParam(0.5, "positive", "momentum weight of the fresh gradient",
                                           draw=(0.05, 1.0))}
    job = PAIR
    masks_invalid = True

    def init(self, x0, hp, ctx, timing):
        return jnp.zeros_like(x0)

    def on_arrival(self, v, a, hp):
        v_new = a.grad.new + (1 - jnp.minimum(hp["a"], 1.0)) * (v - a.grad.old)
        return jnp.where(a.valid, v_new, v), Decision(v_new, hp["gamma"], jnp.asarray(True), jnp.asarray(True))


@reference_rule(PairMomentumASGD)
class PairMomentumRule(Rule):
    def __init__(self, method, hp, n, dim):
        super().__init__(method, hp, n, dim)
        self.v = 0.0

    def arrival(self, srv, worker, delay, g):
        new, old = g
        self.v = new + (1 - min(self.hp["a"], 1.0)) * (self.v - old)
        srv.step(self.hp["gamma"], self.v)
        return True
