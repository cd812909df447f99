"""ATA: adaptive task allocation with lower confidence bounds (arXiv 2502.00775).

Each iteration needs ``B`` gradients at the current model. Worker ``i``'s task times are
i.i.d. with unknown mean ``mu_i``; ATA keeps ``K_i`` (tasks observed) and ``mu_hat_i``
(their mean time) and allocates by the greedy min-max solver
(:func:`~jaxsim.methods._allocation.greedy_allocate`) applied to the scores

    s_i = max(mu_hat_i - conf_i, 0),  conf_i = c alpha (sqrt(L/K_i) + L/K_i),  L = ln(2 k^2),

(``k`` the 1-based iteration; ``s_i = 0`` while ``K_i = 0``). ``c = 2`` with
``constants="poster"`` (the paper's algorithm, default) and ``c = 4e`` with
``constants="code"`` (the authors' code; never-sampled workers score ``-inf`` there,
mapped to 0, the same as here). ``alpha`` bounds the sub-exponential norm of the task
times; as in the authors' experiments ``alpha = alpha_scale * max_i mu_i`` with the true
means (default ``alpha_scale = 2``), so ATA needs a timing model with finite means.

Hyperparameters: ``gamma`` (stepsize), ``B`` (tasks per iteration), ``alpha_scale``.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax.numpy as jnp
import numpy as np

from ._allocation import (
    FOUR_E,
    TASKS,
    add_stats,
    check_constants,
    confidence_width,
    empty_stats,
    greedy_allocate,
    priorities,
)
from ..reference.rules import AllocationRule
from .base import AllocationMethod, reference_rule, register
from .hparams import GAMMA, HParam


@register
@dataclasses.dataclass(frozen=True)
class ATA(AllocationMethod):
    constants: str = "poster"

    name = "ata"
    hparams: ClassVar[dict] = {"gamma": GAMMA, "B": TASKS,
               "alpha_scale": HParam(2.0, "positive", "alpha = alpha_scale * max_i mu_i (true means)",
                                              draw=(1e-3, 1.0))}
    paper = "arXiv 2502.00775 (ATA)"

    def __post_init__(self):
        check_constants(self.constants)

    def check_timing(self, timing):
        if not np.all(np.isfinite(timing.mean())):
            raise ValueError("alpha_scale: ATA sets alpha = alpha_scale * max_i mu_i, but the timing model's "
                             "mean task times are not all finite (timing.noise has no mean); use "
                             "ata_empirical, fta or uta, or a noise law with a mean")

    def init(self, x0, hp, ctx, timing):
        return empty_stats(ctx.tau.shape[0], ctx.mean.dtype)

    def scores(self, state, k, hp, ctx):
        mu, width = confidence_width(state, k)
        alpha = hp["alpha_scale"] * jnp.max(ctx.mean)
        coef = 2.0 if self.constants == "poster" else FOUR_E
        return jnp.where(state.count > 0, jnp.maximum(mu - coef * alpha * width, 0.0), 0.0)

    def allocate(self, state, k, key, hp, ctx, max_B=None):
        s = self.scores(state, k, hp, ctx)
        return greedy_allocate(s, state.count == 0, hp["B"], priorities(key, s.shape[0], s.dtype), max_B)

    def observe(self, state, a, task_sums):
        return add_stats(state, a, task_sums)


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(ATA)
class ATARule(AllocationRule):
    def scores(self, k):
        alpha = self.hp["alpha_scale"] * float(np.max(self.mean))
        coef = 2.0 if self.method.constants == "poster" else 4.0 * float(np.e)
        return [0.0 if w is None else max(w[0] - coef * alpha * w[1], 0.0) for w in self.widths(k)]
