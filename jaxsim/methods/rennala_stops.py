"""Rennala SGD with stops: every worker restarts at each new model (variant B).

The batch collection of Rennala SGD (arXiv 2305.12387) as simulated by the authors'
code that produced the Ringmaster figures: at every update all running jobs are
cancelled and every worker restarts from the new model, so every arrival is fresh.
Collect ``B`` gradients, step with their mean, restart everyone.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from .base import GAMMA, NEW, Control, Decision, HParam, Method
from .rennala import add_to_batch, empty_batch


@dataclasses.dataclass(frozen=True)
class RennalaStops(Method):
    name = "rennala_stops"
    hparams = {"gamma": GAMMA, "B": HParam(1, "count", "batch size")}
    paper = "arXiv 2305.12387; variant B of the authors' simulator"
    controlled = True

    def window(self, hp):
        return 1

    def init(self, x0, n):
        return empty_batch(x0)

    def on_arrival(self, state, a, hp):  # every arrival is fresh: everyone restarted at x^k
        new, mean, full = add_to_batch(state, a.grad, True, hp["B"])
        dec = Decision(mean, hp["gamma"], full, jnp.asarray(True))
        return new, dec, Control(reporter=NEW, cancel=full & a.workers.busy)
