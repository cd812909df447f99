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

from .base import GAMMA, Decision, HParam, Method


@dataclasses.dataclass(frozen=True)
class NaiveOptimalASGD(Method):
    name = "naive_optimal_asgd"
    hparams = {"gamma": GAMMA, "m": HParam(1, "count", "number of (fastest) workers used")}
    paper = "arXiv 2501.16168 (Alg. 3)"

    def check_grid(self, hp, n):
        if "m" in hp and (int(np.max(hp["m"])) > n or int(np.min(hp["m"])) < 1):
            raise ValueError(f"hyperparameter m must lie in [1, n={n}], got {np.asarray(hp['m']).tolist()}")

    def participates(self, hp, ctx):
        return ctx.rank < hp["m"]

    def on_arrival(self, state, a, hp):
        return state, Decision(direction=a.grad, step=hp["gamma"], update=jnp.asarray(True), used=jnp.asarray(True))
