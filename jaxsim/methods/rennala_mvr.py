"""Rennala MVR: Rennala SGD's batch collection with momentum variance reduction (arXiv 2605.08871).

[uncertain: a reconstruction, lmo_vr_local.md §3.2 -- the paper's pseudocode and parameters are
not known; this is the spec's design for the simulator, not a transcription of the paper.]

The server keeps a momentum estimate ``g``. It first collects ``S0`` fresh gradients at
``x^0`` and sets ``g^0`` to their mean; then every round it steps ``x^{k+1} = x^k - gamma g^k``
and collects jobs computed at the newest model, each a *pair*: one sample ``xi`` evaluated
at ``x^{k+1}`` and at ``x^k`` (:class:`jaxsim.methods.jobs.PairGradient`, both from the job's key).
With ``N`` the mean of the round's fresh gradients and ``D`` the mean of its differences
``grad f(x^{k+1}; xi) - grad f(x^k; xi)``::

    g^{k+1} = a N + (1 - a) (g^k + D)

which is the spec's ``(1/S) sum grad f(x^{k+1}; xi) + (1 - a)(g^k - (1/S) sum grad f(x^k; xi))``
when both means run over the same ``S`` pairs (the default). Jobs computed at an older
model are discarded on arrival, as in Rennala SGD; every reporting worker restarts at the
current model.

Hyperparameters: ``gamma``, ``a`` (momentum weight of the fresh gradients, ``(0, 1]``; ``a = 1``
is Rennala SGD with batch ``S``), ``S`` (pairs per round), ``S0`` (the initial batch), ``S2``
(pairs whose difference enters ``D``; 0, the default: the same ``S`` pairs as ``N``, the
spec's coupled form; ``S2 >= 1`` is the spec's decoupled ``S1``/``S2`` option: ``N`` runs over
the first ``S`` jobs of the round, ``D`` over the first ``S2``, and the round collects
``max(S, S2)``), ``R`` (the stale-pair variant below; 1 = fresh pairs only).

Options (static):

* ``kappa`` (default 2, [project choice]): a pair job takes ``kappa`` times the drawn duration
  ``D[w, j]`` (1: a pair counts as one oracle call). Every job of a run is a pair, including
  the initial batch's (whose two points are both ``x^0``; only the first gradient is used).
* ``form`` -- the spec's "practical inexact variants" [uncertain], for networks:
  ``"exact"`` (default) and ``"independent"`` (i: the gradient at ``x^k`` uses another sample,
  ``fold_in(key, 1)``). Variant (ii), pairs computed asynchronously at stale point pairs
  ``(x^{s+1}, x^s)``, is the hyperparameter ``R > 1``: a pair fewer than ``R`` updates old is
  used. Variant (iii), the old-point gradient reused from storage, is not offered: if the
  stored term is the previous round's fresh mean ``N_k``, then ``g^{k+1} - N_{k+1} = (1 - a)
  (g^k - N_k)`` and ``g^0 = N_0`` make ``g^k = N_k`` for every ``k`` -- Rennala SGD exactly.

Per-run state: ``g`` and the round's two sums, ``3 d`` numbers, plus the point store
(``max R + 1`` points of ``d``: pair jobs read ``x^{s-1}``).
:mod:`jaxsim.methods.rennala_mvr_stops` is the variant in which every worker restarts at each
new model.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .jobs import PairGradient
from ..reference.rules import Rule
from .base import Decision, StreamMethod, max_count, reference_rule, register
from .hparams import GAMMA, HParam

FORMS = ("exact", "independent")

HPARAMS = {
    "gamma": GAMMA,
    "a": HParam(0.1, "fraction", "momentum weight of the fresh gradients (a = 1: Rennala SGD)"),
    "S": HParam(1, "count", "pairs per round (fresh gradients in N)"),
    "S0": HParam(1, "count", "gradients of the initial batch g^0"),
    "S2": HParam(0, "count", "pairs whose difference enters D (0: the same S pairs as N)", zero=True),
}


class MVRState(NamedTuple):
    g: jax.Array  # the momentum estimate g^k
    fresh: jax.Array  # sum of the round's fresh gradients (its first S, or S0 for g^0)
    diff: jax.Array  # sum of the round's differences new - old (its first S2)
    count: jax.Array  # jobs taken this round
    started: jax.Array  # g^0 has been collected


@dataclasses.dataclass(frozen=True)
class MVRBase:
    """Options and the round arithmetic shared by both Rennala MVR variants."""

    kappa: float = 2.0
    form: str = "exact"

    def __post_init__(self):
        if isinstance(self.kappa, bool) or not isinstance(self.kappa, (int, float, np.integer, np.floating)) \
                or not (np.isfinite(self.kappa) and self.kappa > 0):
            raise ValueError(f"{self.name}: kappa (a pair job's time in gradients) must be a positive finite "
                             f"number, got {self.kappa!r}")
        if self.form not in FORMS:
            raise ValueError(f"{self.name}: form must be one of {FORMS}, got {self.form!r}")

    @property
    def job(self):
        return PairGradient(cost=float(self.kappa), shared=self.form == "exact")

    def init(self, x0, hp, ctx, timing):
        zero = jnp.zeros_like(x0)
        return MVRState(g=zero, fresh=zero, diff=zero, count=jnp.zeros((), jnp.int32), started=jnp.zeros((), bool))

    def _sizes(self, st: MVRState, hp):
        """(fresh gradients this round, differences this round, jobs this round)."""
        s_fresh = jnp.where(st.started, hp["S"], hp["S0"])
        s_diff = jnp.where(hp["S2"] > 0, hp["S2"], hp["S"])
        size = jnp.where(st.started, jnp.maximum(hp["S"], s_diff), hp["S0"])
        return s_fresh, s_diff, size

    def collect(self, st: MVRState, grad, take, hp):
        """Add a job's result if ``take``; returns ``(state, g at the round's end, round complete)``."""
        new, old = grad
        s_fresh, s_diff, size = self._sizes(st, hp)
        c = st.count
        fresh = st.fresh + jnp.where(take & (c < s_fresh), new, 0)
        diff = st.diff + jnp.where(take & st.started & (c < s_diff), new - old, 0)
        count = c + take.astype(jnp.int32)
        full = count >= size
        dt = fresh.dtype
        N = fresh / s_fresh.astype(dt)
        D = diff / jnp.asarray(s_diff).astype(dt)
        a = hp["a"]
        g_new = jnp.where(st.started, a * N + (1 - a) * (st.g + D), N)
        reset = lambda v: jnp.where(full, jnp.zeros_like(v), v)  # noqa: E731
        out = MVRState(g=jnp.where(full, g_new, st.g), fresh=reset(fresh), diff=reset(diff),
                       count=jnp.where(full, 0, count), started=st.started | full)
        return out, g_new, full


@register
@dataclasses.dataclass(frozen=True)
class RennalaMVR(MVRBase, StreamMethod):
    name = "rennala_mvr"
    hparams = {**HPARAMS, "R": HParam(1, "count", "use pairs fewer than R updates old (1: fresh only; "
                                      "R > 1: the stale-pair inexact variant)", draw=(1, 3))}
    paper = "arXiv 2605.08871 (reconstruction, lmo_vr_local.md §3.2)"

    def window(self, hp):
        return max_count(hp, "R")

    def on_arrival(self, st, a, hp):
        take = a.delay < hp["R"]
        new, g, full = self.collect(st, a.grad, take, hp)
        return new, Decision(direction=g, step=hp["gamma"], update=full, used=take)


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

class MVRRound:
    """Rennala MVR's rounds, written out: lists of the round's results, then the formula."""

    def __init__(self, method, hp):
        self.method, self.hp = method, hp
        self.g = None
        self.fresh, self.diffs, self.count = [], [], 0
        self.started = False

    def add(self, result):
        """Take one job's result; returns the new ``g`` when the round completes, else ``None``."""
        hp = self.hp
        new, old = result
        s_diff = hp["S2"] or hp["S"]  # 0: the same pairs as the fresh mean
        if not self.started:
            wanted_fresh, wanted_diff, size = hp["S0"], 0, hp["S0"]
        else:
            wanted_fresh, wanted_diff = hp["S"], s_diff
            size = max(hp["S"], s_diff)
        if len(self.fresh) < wanted_fresh:
            self.fresh.append(new)
        if len(self.diffs) < wanted_diff:
            self.diffs.append(new - old)
        self.count += 1
        if self.count < size:
            return None
        N = sum(self.fresh) / wanted_fresh
        if not self.started:
            g = N
        else:
            D = sum(self.diffs) / s_diff
            g = hp["a"] * N + (1 - hp["a"]) * (self.g + D)
        self.g, self.started = g, True
        self.fresh, self.diffs, self.count = [], [], 0
        return g


@reference_rule(RennalaMVR)
class RennalaMVRRule(Rule):
    def __init__(self, method, hp, n, dim):
        super().__init__(method, hp, n, dim)
        self.round = MVRRound(method, hp)

    def needs_grad(self, delay):
        return delay < self.hp["R"]

    def arrival(self, srv, worker, delay, g):
        if delay >= self.hp["R"]:
            return False  # computed at a model too old
        g_new = self.round.add(g)
        if g_new is not None:
            srv.step(self.hp["gamma"], g_new)
        return True
