"""Naive Optimal ASGD (arXiv 2501.16168, Alg. 3): vanilla ASGD on the ``m`` fastest workers.

Workers are ranked by mean duration (ties to the lower index); only the ``m`` fastest
ever compute, the others stay idle. ``m`` is a traced hyperparameter, so a sweep can
tune it directly; :func:`jaxsim.theory.naive_optimal_params` gives the paper's
``m* = argmin_m H_m (1 + sigma^2/(m eps))`` and stepsize. ``m >= n`` is vanilla ASGD.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from ..reference.rules import Rule
from .base import Decision, StreamMethod, reference_rule, register
from .hparams import GAMMA, HParam


@register
@dataclasses.dataclass(frozen=True)
class NaiveOptimalASGD(StreamMethod):
    name = "naive_optimal_asgd"
    hparams = {"gamma": GAMMA, "m": HParam(1, "count", "number of (fastest) workers used",
                                               draw=lambda n: (1, n))}
    paper = "arXiv 2501.16168 (Alg. 3)"

    def check_grid(self, hp, n):
        if "m" in hp and (int(np.max(hp["m"])) > n or int(np.min(hp["m"])) < 1):
            raise ValueError(f"hyperparameter m must lie in [1, n={n}], got {np.asarray(hp['m']).tolist()}")

    def participates(self, hp, ctx):
        return ctx.rank < hp["m"]

    def on_arrival(self, state, a, hp):
        return state, Decision(direction=a.grad, step=hp["gamma"], update=jnp.asarray(True), used=jnp.asarray(True))


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(NaiveOptimalASGD)
class NaiveOptimalRule(Rule):
    """Vanilla ASGD on the ``m`` workers with the smallest mean times (ties: lower index)."""

    def active(self, mean_times):
        rank = np.empty(self.n, int)
        rank[np.argsort(mean_times, kind="stable")] = np.arange(self.n)
        return rank < self.hp["m"]

    def arrival(self, srv, worker, delay, g):
        srv.step(self.hp["gamma"], g)
        return True
