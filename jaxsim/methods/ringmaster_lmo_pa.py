"""Parameter-agnostic Ringmaster LMO (arXiv 2605.18174; spec ``lmo_vr_local.md`` §2.6).

Variant B (stops) with schedules instead of tuned constants; only the stepsize scale
``gamma`` (the spec's ``eta``) is tuned. With ``k`` the update counter before a step:

* momentum weight ``alpha_0 = 1``, ``alpha_k = 1 / sqrt(k)``;
* stepsize ``gamma_k = gamma / (k + 1)^(3/4)``;
* threshold ``R_k = max(1, floor(sqrt(k + shift)))`` (paper: ``shift = 0``; the draft's time
  lemma uses ``floor(sqrt(k + 1))``, option ``threshold_shift=1``). After the update that brings
  the counter to ``k``, every busy job with ``k - s >= R_k`` is restarted.

``schedule="code"`` (**DIFF**, the authors' ``ParameterAgnosticRingmasterMuonASGD``): after the
update that brings the counter to ``k``, jobs are refreshed against ``max(1, floor(sqrt(k - 1)))``,
one update behind the paper's ``R_k``; the momentum and stepsize schedules are the paper's.
The code evaluates the root as ``floor(1 / (1 / sqrt(k)))`` in floating point, one short of
``floor(sqrt(k))`` at some perfect squares (first ``k = 93^2 = 8649``); this method uses the
exact integer root in both schedules (:func:`jaxsim.theory.pa_threshold_code` has both).
Combine with ``**CODE_FORM`` for the code's Nesterov and Muon partition.

The thresholds grow without bound, and the server keeps the last ``max R_k`` iterates:
``r_max`` (static, default 256) caps ``R_k``, binding only after ``r_max^2`` updates
(65 536 by default). Memory per run: ``r_max x d`` iterates plus the momentum.
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp

from ..reference.lmo_rules import Momentum
from ..reference.rules import ControlledRule
from ._lmo_base import LMOOptions, isqrt
from .base import NEW, Commands, ControlledMethod, Decision, reference_rule, register
from .hparams import COUNT_MAX, GAMMA

SCHEDULES = ("paper", "code")


@register
@dataclasses.dataclass(frozen=True)
class RingmasterLMOPA(LMOOptions, ControlledMethod):
    schedule: str = "paper"
    threshold_shift: int = 0
    r_max: int = 256

    name = "ringmaster_lmo_pa"
    hparams = {"gamma": GAMMA}
    paper = "arXiv 2605.18174 (parameter-agnostic variant)"

    def __post_init__(self):
        super().__post_init__()
        if self.schedule not in SCHEDULES:
            raise ValueError(f"{self.name}.schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        for field, lo in (("threshold_shift", 0), ("r_max", 1)):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= COUNT_MAX // 2:
                raise ValueError(f"{self.name}.{field} must be an integer >= {lo}, got {v!r}")

    def window(self, hp):
        return self.r_max

    def threshold(self, k):
        """``R`` in force once the counter is ``k`` (int32)."""
        root = isqrt(jnp.maximum(k - 1, 0)) if self.schedule == "code" else isqrt(k + self.threshold_shift)
        return jnp.clip(root, 1, self.r_max)

    def stop_threshold(self, hp, k):
        return self.threshold(k)

    def on_arrival(self, state, a, hp):
        k = a.workers.k
        ok = a.delay < self.threshold(k)  # always true: stale jobs never get to report
        kf = k.astype(state.m.dtype)
        alpha_k = jnp.where(k == 0, 1.0, 1.0 / jnp.sqrt(jnp.maximum(kf, 1.0)))
        m, direction = self.momentum_step(state.m, a.grad, alpha_k, ok, a)
        step = hp["gamma"] / (kf + 1.0) ** 0.75
        return state._replace(m=m), Decision(direction, step, ok, ok, Commands(reporter=NEW))


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(RingmasterLMOPA)
class RingmasterLMOPARule(ControlledRule):
    def __init__(self, *args):
        super().__init__(*args)
        self.momentum = Momentum(self.method, self)

    def threshold(self, k):
        m = self.method
        root = math.isqrt(max(k - 1, 0)) if m.schedule == "code" else math.isqrt(k + m.threshold_shift)
        return min(max(root, 1), m.r_max)

    def arrival(self, srv, w, delay, g, timed_out, s, busy):
        k = srv.k
        assert delay < self.threshold(k), "a job this stale should have been stopped"
        alpha_k = 1.0 if k == 0 else 1.0 / math.sqrt(k)
        srv.step(self.hp["gamma"] / (k + 1) ** 0.75, self.momentum.direction(g, alpha_k))
        return True, NEW, self.stale(srv.k, w, s, busy, self.threshold(srv.k)), []
