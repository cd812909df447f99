"""Minibatch SGD (synchronous): every worker computes one gradient per round.

Round ``k``: all workers start at ``x^k``; early finishers idle; when all ``n`` have
reported, ``x^{k+1} = x^k - gamma (1/n) sum g_i`` and everyone starts again. A round
lasts ``max_i D[i, k]`` (job index = round index).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from .base import GAMMA, IDLE, NEW, Control, Decision, Method
from .rennala import add_to_batch, empty_batch


@dataclasses.dataclass(frozen=True)
class MinibatchSGD(Method):
    name = "minibatch"
    hparams = {"gamma": GAMMA}
    paper = "classical; as used in arXiv 2305.12387"
    controlled = True

    def window(self, hp):
        return 1

    def init(self, x0, n):
        return empty_batch(x0)

    def on_arrival(self, state, a, hp):
        new, mean, full = add_to_batch(state, a.grad, True, a.n)
        dec = Decision(mean, hp["gamma"], full, jnp.asarray(True))
        return new, dec, Control(reporter=jnp.where(full, NEW, IDLE), wake=full & ~a.workers.busy)
