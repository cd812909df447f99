"""Rescaled ASGD (arXiv 2605.13434): vanilla ASGD with stepsizes proportional to compute time.

Every arrival is applied, ``x <- x - gamma_i g``, and the reporter gets the new model,
as in vanilla ASGD, but ``gamma_i = gamma tau_i / tau_ref``. Worker ``i`` reports about
once every ``tau_i`` seconds, so over a long window its total stepsize is the same for
every worker and the iteration targets ``f = (1/n) sum f_i`` instead of vanilla ASGD's
frequency-weighted ``sum_i p_i f_i``, ``p_i ∝ 1/tau_i``
(:func:`jaxsim.theory.frequency_weights`).

Options (the paper leaves both open):

* ``times``: which ``tau_i``: ``"mean"`` (default; the mean duration ``E D[i, .]``, the
  long-run report interval) or ``"base"`` (the base time, without noise);
* ``ref``: ``tau_ref``: ``"harmonic"`` (default; ``n / sum 1/tau_j``, so the stepsize per
  unit time equals vanilla ASGD's at the same ``gamma``), ``"fastest"``, ``"slowest"``
  or ``"mean"``.

State: none beyond vanilla ASGD's.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from ..reference.rules import Rule
from .base import Decision, StreamMethod, reference_rule, register
from .hparams import GAMMA

TIMES = ("mean", "base")
REFS = ("harmonic", "fastest", "slowest", "mean")


def reference_time(tau, ref: str):
    """``tau_ref`` of the times ``tau`` (traceable)."""
    if ref == "harmonic":
        return tau.shape[0] / jnp.sum(1.0 / tau)
    return {"fastest": jnp.min, "slowest": jnp.max, "mean": jnp.mean}[ref](tau)


@register
@dataclasses.dataclass(frozen=True)
class RescaledASGD(StreamMethod):
    times: str = "mean"
    ref: str = "harmonic"

    name = "rescaled_asgd"
    hparams = {"gamma": GAMMA}
    paper = "arXiv 2605.13434"

    def __post_init__(self):
        if self.times not in TIMES:
            raise ValueError(f"rescaled_asgd.times must be one of {TIMES}, got {self.times!r}")
        if self.ref not in REFS:
            raise ValueError(f"rescaled_asgd.ref must be one of {REFS}, got {self.ref!r}")

    def check_timing(self, timing):
        if self.times == "mean" and not np.all(np.isfinite(timing.noise.mean(timing.tau))):
            raise ValueError(f"timing: rescaled_asgd with times='mean' needs finite mean durations, but the "
                             f"noise law {type(timing.noise).__name__} has an infinite mean; use times='base'")

    def on_arrival(self, state, a, hp):
        tau = a.ctx.mean if self.times == "mean" else a.ctx.tau
        step = hp["gamma"] * tau[a.worker] / reference_time(tau, self.ref)
        return state, Decision(direction=a.grad, step=step, update=jnp.asarray(True), used=jnp.asarray(True))


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(RescaledASGD)
class RescaledRule(Rule):
    def arrival(self, srv, worker, delay, g):
        tau = self.mean if self.method.times == "mean" else self.tau
        ref = {"harmonic": self.n / np.sum(1.0 / tau), "fastest": np.min(tau), "slowest": np.max(tau),
               "mean": np.mean(tau)}[self.method.ref]
        srv.step(self.hp["gamma"] * tau[worker] / ref, g)
        return True
