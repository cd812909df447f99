"""Minibatch SGD (synchronous): every worker computes one gradient per round.

Round ``k``: all workers start at ``x^k``; early finishers idle; when all ``n`` have
reported, ``x^{k+1} = x^k - gamma (1/n) sum g_i`` and everyone starts again. A round
lasts ``max_i D[i, k]`` (job index = round index).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from ..reference.rules import ControlledRule
from .base import IDLE, NEW, Commands, ControlledMethod, Decision, reference_rule, register
from .hparams import GAMMA
from .rennala import add_to_batch, empty_batch


@register
@dataclasses.dataclass(frozen=True)
class MinibatchSGD(ControlledMethod):
    name = "minibatch"
    hparams = {"gamma": GAMMA}
    paper = "classical; as used in arXiv 2305.12387"

    def window(self, hp):
        return 1

    def init(self, x0, hp, ctx, timing):
        return empty_batch(x0)

    def on_arrival(self, state, a, hp):
        new, mean, full = add_to_batch(state, a.grad, True, a.n)
        return new, Decision(mean, hp["gamma"], full, jnp.asarray(True),
                             Commands(reporter=jnp.where(full, NEW, IDLE), wake=full))


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(MinibatchSGD)
class MinibatchRule(ControlledRule):
    def __init__(self, *args):
        super().__init__(*args)
        self.acc, self.count = 0.0, 0

    def arrival(self, srv, w, delay, g, timed_out, s, busy):
        self.acc = self.acc + g
        self.count += 1
        if self.count < self.n:
            return True, IDLE, [], []  # wait at the barrier
        srv.step(self.hp["gamma"], self.acc / self.n)
        self.acc, self.count = 0.0, 0
        return True, NEW, [], [j for j in range(self.n) if j != w]
