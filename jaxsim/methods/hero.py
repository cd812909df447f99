"""Hero SGD: the fastest worker does all the work, the others never start.

Plain SGD on one worker, ``x <- x - gamma g`` at each of its arrivals. The hero is
the worker with the smallest mean duration (ties: lowest index) unless ``hero``
names one.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import jax.numpy as jnp
import numpy as np

from ..reference.rules import Rule
from .base import Decision, StreamMethod, reference_rule, register
from .hparams import GAMMA


@register
@dataclasses.dataclass(frozen=True)
class HeroSGD(StreamMethod):
    hero: Optional[int] = None

    name = "hero"
    hparams = {"gamma": GAMMA}
    paper = "comparator in arXiv 2501.16168"

    def window(self, hp):
        return 1  # one worker, every gradient is fresh

    def active_workers(self, mean_times):
        mask = np.zeros(len(mean_times), bool)
        mask[int(np.argmin(mean_times)) if self.hero is None else self.hero] = True
        return mask

    def check_workers(self, n):
        if self.hero is not None and not 0 <= self.hero < n:
            raise ValueError(f"hero: worker index {self.hero} outside [0, {n})")

    def on_arrival(self, state, a, hp):
        return state, Decision(direction=a.grad, step=hp["gamma"], update=jnp.asarray(True), used=jnp.asarray(True))


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(HeroSGD)
class HeroRule(Rule):
    """Only the fastest worker (by mean time, ties to the lowest index) ever computes."""

    def active(self, mean_times):
        hero = int(np.argmin(mean_times)) if self.method.hero is None else self.method.hero
        return np.arange(self.n) == hero

    def arrival(self, srv, worker, delay, g):
        srv.step(self.hp["gamma"], g)
        return True
