"""Delay-adaptive LMO ("Delay-Adaptive Muon"): every arrival is applied with a momentum + LMO
step of size ``gamma * min(1, n / delay)`` (baseline of the Ringmaster LMO experiments; spec
``lmo_vr_local.md`` §2.8).

Options as for Ringmaster LMO (:mod:`jaxsim.methods._lmo_base`). Delays are unbounded, so the
server keeps every worker's point (``n x d``) besides the momentum (``d``).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from ..reference.lmo_rules import Momentum
from ..reference.rules import Rule
from ._lmo_base import ALPHA, LMOOptions
from .base import Decision, StreamMethod, reference_rule, register
from .hparams import GAMMA


@register
@dataclasses.dataclass(frozen=True)
class DelayAdaptiveLMO(LMOOptions, StreamMethod):
    name = "delay_adaptive_lmo"
    hparams = {"gamma": GAMMA, "alpha": ALPHA}
    paper = "arXiv 2605.18174 (baseline: Delay-Adaptive Muon)"

    def on_arrival(self, state, a, hp):
        n = jnp.asarray(a.n, a.x.dtype)
        step = hp["gamma"] * n / jnp.maximum(n, a.delay.astype(a.x.dtype))
        yes = jnp.asarray(True)
        m, direction = self.momentum_step(state.m, a.grad, self.first_weight(hp["alpha"], a.workers.k), yes, a)
        return state._replace(m=m), Decision(direction=direction, step=step, update=yes, used=yes)


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(DelayAdaptiveLMO)
class DelayAdaptiveLMORule(Rule):
    def __init__(self, *args):
        super().__init__(*args)
        self.momentum = Momentum(self.method, self)

    def arrival(self, srv, worker, delay, g):
        alpha_k = self.momentum.first_weight(self.hp["alpha"], srv.k)
        srv.step(self.hp["gamma"] * self.n / max(self.n, delay), self.momentum.direction(g, alpha_k))
        return True
