"""Malenia SGD (arXiv 2305.12387), optimal under heterogeneous data for fixed times.

Round ``k``: every worker computes repeatedly at ``x^k``; the server keeps per-worker
sums ``G_i`` and counts ``B_i`` of gradients computed at ``x^k`` (older ones are
discarded on arrival) and, as soon as the harmonic mean of the counts passes ``S/n``,

  ``x^{k+1} = x^k - gamma (1/n) sum_i G_i / B_i``.

Weighting each worker by ``1/B_i`` keeps the direction unbiased for
``f = (1/n) sum_i f_i`` however unequal the counts are. ``1/0 = inf``, so no round
ends before every worker has contributed; the default ``S = 1`` ends it exactly then
(the authors' code).

Option ``stop_rule``: ``"gt"`` (the paper: stop once ``((1/n) sum 1/B_i)^-1 > S/n``)
or ``"geq"`` (once it reaches ``S/n``; with one worker this collects exactly ``S``
gradients, as Rennala SGD does, where the paper rule collects ``S + 1``).

State per run: the ``n x d`` table of per-worker means; O(d) per arrival plus an O(n)
count check.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from ._tables import add_gradient, clear_table, empty_tables
from ..reference.rules import Rule
from .base import Decision, Method, StreamMethod, reference_rule, register
from .hparams import GAMMA, HParam

STOP_RULES = ("gt", "geq")
S_PARAM = HParam(1, "count", "harmonic-mean batch size: a round ends once ((1/n) sum 1/B_i)^-1 > S/n")


def harmonic_stop(count, S, rule: str, dtype):
    """Whether counts ``B_i`` end a round: ``((1/n) sum 1/B_i)^-1 > S/n`` (``"gt"``) or
    ``>=`` (``"geq"``); never while some ``B_i = 0``.

    Compared as ``sum 1/B_i`` against ``n^2/S`` with a relative margin of a few ulps, so
    ties (equal counts, one worker) are decided the same way whatever the summation
    order, in the engine and in the reference.
    """
    n = count.shape[0]
    inv = jnp.sum(1.0 / jnp.maximum(count, 1).astype(dtype))
    target = n * n / jnp.asarray(S).astype(dtype)
    eps = 8 * jnp.finfo(dtype).eps
    fires = inv < target * (1 - eps) if rule == "gt" else inv <= target * (1 + eps)
    return jnp.all(count > 0) & fires


@dataclasses.dataclass(frozen=True)
class MaleniaRounds(Method):
    """Malenia's rounds (shared by the free-running and the restart-all forms)."""

    stop_rule: str = "gt"

    hparams = {"gamma": GAMMA, "S": S_PARAM}
    masks_invalid = True

    def __post_init__(self):
        if self.stop_rule not in STOP_RULES:
            raise ValueError(f"{self.name}.stop_rule must be one of {STOP_RULES}, got {self.stop_rule!r}")

    def window(self, hp):
        return 1

    def init(self, x0, hp, ctx, timing):
        return empty_tables(x0, ctx.tau.shape[0], copies=1)

    def collect(self, tab, a, hp, take):
        """Fold a gradient in; returns ``(new table, decision)``."""
        take = take & a.valid
        tab = add_gradient(tab, 0, a.worker, a.grad, take)
        stop = take & harmonic_stop(tab.count[0], hp["S"], self.stop_rule, a.grad.dtype)
        dec = Decision(direction=tab.avg[0], step=hp["gamma"], update=stop, used=take)
        return clear_table(tab, 0, stop), dec


@register
@dataclasses.dataclass(frozen=True)
class MaleniaSGD(MaleniaRounds, StreamMethod):
    name = "malenia"
    paper = "arXiv 2305.12387 (Method 6); arXiv 2609.17483 (Alg. 1)"

    def on_arrival(self, state, a, hp):
        return self.collect(state, a, hp, a.delay == 0)  # older rounds' gradients are discarded


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

def malenia_round_ends(counts, S, rule) -> bool:
    """``((1/n) sum 1/B_i)^-1 > S/n`` (``"gt"``) or ``>=`` (``"geq"``), every ``B_i >= 1``;
    ties are judged with a few ulps of slack, as in :func:`jaxsim.methods.malenia.harmonic_stop`."""
    if min(counts) == 0:
        return False
    n, inv = len(counts), sum(1.0 / b for b in counts)
    eps = 8 * np.finfo(np.float64).eps
    return inv < n * n / S * (1 - eps) if rule == "gt" else inv <= n * n / S * (1 + eps)


@reference_rule(MaleniaSGD)
class MaleniaRule(Rule):
    def __init__(self, method, hp, n, dim):
        super().__init__(method, hp, n, dim)
        self.sums = [np.zeros(dim) for _ in range(n)]
        self.counts = [0] * n

    def needs_grad(self, delay):
        return delay == 0

    def collect(self, srv, worker, g):
        self.sums[worker] = self.sums[worker] + g
        self.counts[worker] += 1
        if malenia_round_ends(self.counts, self.hp["S"], self.method.stop_rule):
            srv.step(self.hp["gamma"], np.mean([s / b for s, b in zip(self.sums, self.counts)], axis=0))
            self.sums = [np.zeros_like(s) for s in self.sums]
            self.counts = [0] * self.n
            return True
        return False

    def arrival(self, srv, worker, delay, g):
        if delay != 0:
            return False  # computed in an older round
        self.collect(srv, worker, g)
        return True
