"""MindFlayer SGD (arXiv 2410.04285): rounds of clipped gradient attempts.

Each attempt of worker ``w`` gets a time budget: if its random part ``eta`` exceeds the
clip ``t`` the attempt is abandoned at ``tau_w + t`` (nothing is sent) and the worker
starts another attempt at the same point, until its ``B_w`` attempts of the round are
done; then it idles. When every worker is done the server steps with
``g = (1/B) sum(successful gradients)``, ``B = sum_w p_w B_w``, ``p_w = F_w(t)`` (the
success probability), which keeps ``g`` unbiased; then a new round starts.

The plan ``B_w`` follows the paper's theory rules (as in the authors' code): costs
``c_w = tau_w + t``, workers sorted by cost, ``t(m) = (sum_{j<=m} p_j/c_j)^{-1} (S + sum_{j<=m} p_j)``,
``m* = argmin t(m)``, ``B_w = max(0, ceil(t(m*)/c_w - 1))`` for the ``m*`` cheapest and 0
for the others. Hyperparameters: ``gamma``, the clip ``t`` (``inf``: no clipping; costs
are then the mean durations and ``p = 1``, and workers without a finite mean get no
trials) and the target batch ``S``. The static
option ``trials`` (a per-worker tuple) replaces the plan. The plan's constants are
[uncertain] in the spec; :func:`jaxsim.theory.mindflayer_plan` computes the same plan
on the host.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp

import numpy as np

from .. import theory
from ..reference.rules import ControlledRule
from .base import IDLE, NEW, Commands, ControlledMethod, Decision, reference_rule, register
from .hparams import GAMMA, HParam


class MindFlayerState(NamedTuple):
    acc: jax.Array  # sum of this round's successful gradients
    left: jax.Array  # int32[n] attempts left in this round
    trials: jax.Array  # int32[n] the plan B_w
    batch: jax.Array  # B = sum_w p_w B_w


def plan(tau, mean, p, clip, S):
    """``(B[n], sum p B)`` from the theory rules (traceable; see the module docstring)."""
    finite = jnp.isfinite(clip)
    usable = jnp.isfinite(mean)  # without clipping, a worker with no mean time cannot be planned
    cost = jnp.where(finite, tau + clip, jnp.where(usable, mean, 0.0))
    p = jnp.where(finite, p, usable.astype(p.dtype))
    order = jnp.argsort(cost, stable=True)
    pc = jnp.where(p > 0, p / cost, 0.0)[order]
    cum_pc, cum_p = jnp.cumsum(pc), jnp.cumsum(p[order])
    t_m = jnp.where(cum_pc > 0, (S + cum_p) / jnp.where(cum_pc > 0, cum_pc, 1.0), jnp.inf)
    m = jnp.argmin(t_m)  # m* - 1
    rank = jnp.empty_like(order).at[order].set(jnp.arange(order.shape[0]))
    B = jnp.where((rank <= m) & (p > 0), jnp.maximum(0, jnp.ceil(t_m[m] / cost - 1)), 0).astype(jnp.int32)
    return B, jnp.sum(p * B)


@register
@dataclasses.dataclass(frozen=True)
class MindFlayerSGD(ControlledMethod):
    trials: Optional[tuple] = None

    name = "mindflayer"
    hparams = {"gamma": GAMMA,
               "t": HParam(float("inf"), "budget", "clip: an attempt is abandoned after tau_w + t"),
               "S": HParam(1, "count", "target batch size of the plan (sigma^2/eps in the theory)")}
    paper = "arXiv 2410.04285"

    def window(self, hp):
        return 1  # every gradient of a round is computed at the round's model

    def init(self, x0, hp, ctx, timing):
        if self.trials is not None:
            trials = jnp.asarray(self.trials, jnp.int32)
            batch = jnp.sum(timing.noise.cdf(hp["t"], ctx.tau) * trials)
        else:
            trials, batch = plan(ctx.tau, ctx.mean, timing.noise.cdf(hp["t"], ctx.tau), hp["t"], hp["S"])
        return MindFlayerState(acc=jnp.zeros_like(x0), left=trials, trials=trials, batch=batch.astype(x0.dtype))

    def check_workers(self, n):
        if self.trials is not None and len(self.trials) != n:
            raise ValueError(f"mindflayer: trials has {len(self.trials)} entries for n={n} workers")

    def on_arrival(self, state, a, hp):
        ok = ~a.timed_out
        acc = state.acc + jnp.where(ok, a.grad, 0)
        left = state.left.at[a.worker].add(-1)
        done = jnp.sum(left) == 0
        again = left[a.worker] > 0
        new = MindFlayerState(acc=jnp.where(done, 0, acc), left=jnp.where(done, state.trials, left),
                              trials=state.trials, batch=state.batch)
        reporter = jnp.where(done | again, NEW, IDLE)
        return new, Decision(acc / jnp.maximum(state.batch, 1e-30).astype(acc.dtype), hp["gamma"], done, ok,
                             Commands(reporter=reporter, wake=done & (state.trials > 0)))

    def initial_workers(self, hp, ctx, state):
        return state.trials > 0

    def budget(self, hp, ctx):
        return jnp.full(ctx.tau.shape, hp["t"], ctx.tau.dtype)


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(MindFlayerSGD)
class MindFlayerRule(ControlledRule):
    """Rounds of clipped attempts; the plan comes from :func:`jaxsim.theory.mindflayer_plan`."""

    def __init__(self, *args):
        super().__init__(*args)
        clip = self.hp["t"]
        p = np.asarray(self.noise.cdf(clip, self.tau), dtype=np.float64)
        if self.method.trials is not None:
            self.trials = np.asarray(self.method.trials, int)
        elif np.isfinite(clip):  # no worker can succeed within the clip: nobody is planned
            self.trials = theory.mindflayer_plan(self.tau, clip, p, self.hp["S"])["B"] if (p > 0).any() \
                else np.zeros(self.n, int)
        else:  # no clipping: costs are the mean durations, every attempt succeeds
            p = np.isfinite(self.mean).astype(float)  # no finite mean: not planned
            cost = np.where(p > 0, self.mean, 0.0)
            self.trials = theory.mindflayer_plan(cost, 0.0, p, self.hp["S"])["B"] if p.any() else np.zeros(self.n, int)
        self.batch = float(np.sum(p * self.trials))
        self.left = self.trials.copy()
        self.acc = 0.0

    def initial(self):
        return [w for w in range(self.n) if self.trials[w] > 0]

    def budget(self):
        return np.full(self.n, self.hp["t"])

    def arrival(self, srv, w, delay, g, timed_out, s, busy):
        if not timed_out:
            self.acc = self.acc + g
        self.left[w] -= 1
        if self.left.sum() > 0:
            return not timed_out, NEW if self.left[w] > 0 else IDLE, [], []
        srv.step(self.hp["gamma"], self.acc / self.batch)  # a new round
        self.acc = 0.0
        self.left = self.trials.copy()
        return not timed_out, NEW, [], [j for j in range(self.n) if j != w and self.trials[j] > 0]
