"""ASGD damped by a running estimate of the delay (a brand-new method, in one file).

The server keeps ``m``, an exponential moving average of the delays it has applied
(``m <- (1 - beta) m + beta delay``, ``beta`` clipped to 1), and steps with
``gamma / max(1, m / R)``: full steps while the typical delay stays below ``R``.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from jaxsim.methods import GAMMA, Decision, HParam, StreamMethod, reference_rule, register
from jaxsim.reference import Rule


@register
@dataclasses.dataclass(frozen=True)
class SmoothedDelayASGD(StreamMethod):
    name = "smoothed_delay_asgd"
    hparams = {"gamma": GAMMA,
               "beta": HParam(0.5, "positive", "weight of the newest delay in the average", draw=(0.05, 1.0)),
               "R": HParam(4, "count", "delay scale: steps shrink once the average delay exceeds R")}
    masks_invalid = True

    def init(self, x0, hp, ctx, timing):
        return jnp.zeros((), x0.dtype)

    def on_arrival(self, m, a, hp):
        beta = jnp.minimum(hp["beta"], 1.0)
        m_new = (1 - beta) * m + beta * a.delay.astype(m.dtype)
        step = hp["gamma"] / jnp.maximum(1.0, m_new / hp["R"].astype(m.dtype))
        return jnp.where(a.valid, m_new, m), Decision(a.grad, step, jnp.asarray(True), jnp.asarray(True))


@reference_rule(SmoothedDelayASGD)
class SmoothedDelayRule(Rule):
    def __init__(self, method, hp, n, dim):
        super().__init__(method, hp, n, dim)
        self.m = 0.0

    def arrival(self, srv, worker, delay, g):
        beta = min(self.hp["beta"], 1.0)
        self.m = (1 - beta) * self.m + beta * delay
        srv.step(self.hp["gamma"] / max(1.0, self.m / self.hp["R"]), g)
        return True
