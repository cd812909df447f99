"""Synchronous Local SGD with a barrier (controlled; a job of ``H`` local steps).

Every worker runs ``H`` local SGD steps (stepsize ``gamma``) from the round's model and
waits; when all ``n`` have reported, the server averages their model differences,
``x <- x - (1/n) sum_i (x - y_i)``, and every worker starts the next round.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxsim.jobs import local_steps
from jaxsim.methods import GAMMA, IDLE, NEW, Commands, ControlledMethod, Decision, reference_rule, register
from jaxsim.reference import ControlledRule


class Round(NamedTuple):
    total: jax.Array  # sum of this round's gradient sums
    count: jax.Array


@register
@dataclasses.dataclass(frozen=True)
class LocalSGDRounds(ControlledMethod):
    steps: int = 2

    name = "local_sgd_rounds"
    hparams = {"gamma": GAMMA}

    @property
    def job(self):
        return local_steps(self.steps)

    def window(self, hp):
        return 1  # every job of a round starts from the round's model

    def init(self, x0, hp, ctx, timing):
        return Round(jnp.zeros_like(x0), jnp.zeros((), jnp.int32))

    def on_arrival(self, r, a, hp):
        total, count = r.total + a.grad, r.count + 1
        full = count == a.n
        new = Round(jnp.where(full, 0, total), jnp.where(full, 0, count))
        return new, Decision(total / a.n, hp["gamma"], full, jnp.asarray(True),
                             Commands(reporter=jnp.where(full, NEW, IDLE), wake=full & ~a.workers.busy))


@reference_rule(LocalSGDRounds)
class LocalSGDRoundsRule(ControlledRule):
    def __init__(self, *args):
        super().__init__(*args)
        self.diffs = []

    def arrival(self, srv, w, delay, g, timed_out, s, busy):
        self.diffs.append(g)
        if len(self.diffs) < self.n:
            return True, IDLE, [], []  # wait for the others
        srv.step(self.hp["gamma"], sum(self.diffs) / self.n)
        self.diffs = []
        return True, NEW, [], [j for j in range(self.n) if j != w]
