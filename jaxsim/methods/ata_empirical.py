"""ATA-Empirical: ATA with confidence widths relative to the empirical means (arXiv 2502.00775).

Needs only an upper bound ``eta`` on ``max_i alpha_i / mu_i`` instead of ``alpha``:

    s_i = mu_hat_i * max(1 - 2 eta (sqrt(L/K_i) + L/K_i), 0),  L = ln(2 k^2)

(``constants="poster"``, default), or the authors' code (``constants="code"``), which
replaces ``alpha`` by ``2 mu_hat_i`` in ATA's code width: ``s_i = max(mu_hat_i -
4e (2 mu_hat_i)(sqrt(L/K_i) + L/K_i), 0)`` (``eta`` is then unused). ``s_i = 0`` while
``K_i = 0``. Allocation by the greedy min-max solver, as ATA.

Hyperparameters: ``gamma``, ``B``, ``eta`` (default 1: for the paper's law
``X = c + Exp(mean c)`` the ratio is ``||X - mu||_psi1 / mu ~= 0.77``).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax.numpy as jnp
import numpy as np

from ._allocation import FOUR_E, TASKS, confidence_width
from .ata import ATA
from ..reference.rules import AllocationRule
from .base import reference_rule, register
from .hparams import GAMMA, HParam


@register
@dataclasses.dataclass(frozen=True)
class ATAEmpirical(ATA):
    name = "ata_empirical"
    hparams: ClassVar[dict] = {"gamma": GAMMA, "B": TASKS,
                               "eta": HParam(1.0, "positive", "upper bound on max_i alpha_i / mu_i",
                                                      draw=(1e-3, 1.0))}
    paper = "arXiv 2502.00775 (ATA-Empirical)"

    def check_timing(self, timing):
        """Needs no mean of the law: its widths scale with the observed means."""

    def scores(self, state, k, hp, ctx):
        mu, width = confidence_width(state, k)
        if self.constants == "poster":
            s = mu * jnp.maximum(1.0 - 2.0 * hp["eta"] * width, 0.0)
        else:
            s = jnp.maximum(mu - FOUR_E * (2.0 * mu) * width, 0.0)
        return jnp.where(state.count > 0, s, 0.0)


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(ATAEmpirical)
class ATAEmpiricalRule(AllocationRule):
    def scores(self, k):
        out = []
        for w in self.widths(k):
            if w is None:
                out.append(0.0)
            elif self.method.constants == "poster":
                out.append(w[0] * max(1.0 - 2.0 * self.hp["eta"] * w[1], 0.0))
            else:
                out.append(max(w[0] - 4.0 * float(np.e) * (2.0 * w[0]) * w[1], 0.0))
        return out
