"""Rennala SGD without stops (arXiv 2305.12387; Ringmaster paper Alg. 2).

Collect ``B`` gradients computed at the current model, then step with their mean:
``x <- x - gamma (1/B) sum g``. A gradient computed at an older model is discarded
on arrival; every reporting worker gets the current model. Only fresh gradients
(delay 0) are used, so the engine keeps a single point.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..reference.rules import Rule
from .base import Decision, StreamMethod, reference_rule, register
from .hparams import GAMMA, HParam


class RennalaState(NamedTuple):
    acc: jax.Array  # sum of the gradients of the current batch
    count: jax.Array  # how many


def add_to_batch(state: RennalaState, grad, take, size):
    """Add ``grad`` to the batch if ``take``; returns ``(new state, batch mean, full)``.

    When the batch reaches ``size`` it is emptied (the caller steps with the mean).
    ``where``, not ``*``: a gradient that is not taken may be garbage (a stale point).
    """
    acc = state.acc + jnp.where(take, grad, 0)
    count = state.count + jnp.asarray(take).astype(jnp.int32)
    full = count >= size
    mean = acc / jnp.asarray(size).astype(acc.dtype)
    return RennalaState(acc=jnp.where(full, 0, acc), count=jnp.where(full, 0, count)), mean, full


def empty_batch(x0) -> RennalaState:
    return RennalaState(acc=jnp.zeros_like(x0), count=jnp.zeros((), jnp.int32))


@register
@dataclasses.dataclass(frozen=True)
class RennalaSGD(StreamMethod):
    name = "rennala"
    hparams = {"gamma": GAMMA, "B": HParam(1, "count", "batch size (S in the Rennala paper)")}
    paper = "arXiv 2305.12387; arXiv 2501.16168 (Alg. 2)"

    def window(self, hp):
        return 1

    def init(self, x0, hp, ctx, timing):
        return empty_batch(x0)

    def on_arrival(self, state, a, hp):
        fresh = a.delay == 0
        new, mean, full = add_to_batch(state, a.grad, fresh, hp["B"])
        return new, Decision(direction=mean, step=hp["gamma"], update=full, used=fresh)


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(RennalaSGD)
class RennalaRule(Rule):
    def __init__(self, method, hp, n, dim):
        super().__init__(method, hp, n, dim)
        self.acc = np.zeros(dim)
        self.count = 0

    def needs_grad(self, delay):
        return delay == 0

    def arrival(self, srv, worker, delay, g):
        if delay != 0:
            return False  # computed at an older model
        self.acc = self.acc + g
        self.count += 1
        if self.count == self.hp["B"]:
            srv.step(self.hp["gamma"], self.acc / self.hp["B"])
            self.acc = np.zeros_like(self.acc)
            self.count = 0
        return True
