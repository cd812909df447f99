"""Asynchronous local SGD: each job runs ``H`` local steps and the server adds the difference.

A job is :func:`jaxsim.jobs.local_steps` (``H`` SGD steps with stepsize ``gamma`` on the
worker's own copy, returning the sum of its gradients ``(x^s - y_H) / gamma``); the server
applies ``x <- x - eta (x^s - y_H)``. With ``H = 1`` and ``eta = 1`` this is vanilla ASGD.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from jaxsim.jobs import local_steps
from jaxsim.methods import GAMMA, Decision, HParam, StreamMethod, reference_rule, register
from jaxsim.reference import Rule


@register
@dataclasses.dataclass(frozen=True)
class LocalASGD(StreamMethod):
    steps: int = 3

    name = "local_asgd"
    hparams = {"gamma": GAMMA, "eta": HParam(1.0, "positive", "server stepsize on the model difference",
                                             draw=(0.5, 1.0))}

    @property
    def job(self):
        return local_steps(self.steps)

    def on_arrival(self, state, a, hp):
        return state, Decision(a.grad, hp["gamma"] * hp["eta"], jnp.asarray(True), jnp.asarray(True))


@reference_rule(LocalASGD)
class LocalASGDRule(Rule):
    def arrival(self, srv, worker, delay, g):
        srv.step(self.hp["gamma"] * self.hp["eta"], g)
        return True
