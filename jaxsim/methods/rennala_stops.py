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
from .rennala import RennalaState


@dataclasses.dataclass(frozen=True)
class RennalaStops(Method):
    name = "rennala_stops"
    hparams = {"gamma": GAMMA, "B": HParam(1, "count", "batch size")}
    paper = "arXiv 2305.12387; variant B of the authors' simulator"
    controlled = True

    def window(self, hp):
        return 1

    def init(self, x0, n):
        return RennalaState(acc=jnp.zeros_like(x0), count=jnp.zeros((), jnp.int32))

    def on_arrival(self, state, a, hp):
        acc = state.acc + a.grad
        count = state.count + 1
        full = count >= hp["B"]
        new = RennalaState(acc=jnp.where(full, 0, acc), count=jnp.where(full, 0, count))
        dec = Decision(acc / hp["B"].astype(acc.dtype), hp["gamma"], full, jnp.asarray(True))
        return new, dec, Control(reporter=NEW, cancel=full & a.workers.busy)
