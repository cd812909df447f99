"""LOSCAR-SGD: Local SGD with communication-computation overlap and delay-corrected sparse
model averaging (arXiv 2605.20866).

Spec ``lmo_vr_local.md`` §4, **[uncertain]** throughout: the update, the merge and the time
model below are the spec's reconstruction from the abstract, not the paper's confirmed
formulas. Runs on the rounds clock (:mod:`jaxsim.sim.rounds`).

Round ``r``. Every worker ``i`` holds its own model ``x_i`` (all start at ``x^0``). A mask
``S_r`` of ``K`` coordinates, uniform over ``K``-subsets and shared by all workers, comes from
``fold_in(method_key(seed), r)`` (the ``K`` smallest of ``d`` uniforms, stable ties).
Worker ``i`` runs local SGD ``w <- w - gamma grad f(w; xi)`` from ``w = x_i``: ``N_i``
steps, then ``y_i = w`` (its ``S_r`` coordinates are sent), then ``Q_i`` overlap steps while
the message is in flight, ``z_i = w``. The server averages the sent values,
``m = (1/n) sum_i y_i`` on ``S_r`` (``weights="steps"``: ``sum_i N_i y_i / sum_i N_i``, the
uniform mean when no worker stepped), and every worker merges

* ``merge="loscar"`` (delay-corrected, default): ``x_i = m + (z_i - y_i)`` on ``S_r``, ``z_i``
  elsewhere -- the overlap progress is kept;
* ``merge="overwrite"`` (naive baseline): ``x_i = m`` on ``S_r``, ``z_i`` elsewhere.

With ``overlap=False`` (``Q_i = 0``) the two merges give identical iterates (``z_i = y_i``)
and workers idle while the message is in flight; with ``K = d`` as well it is Local SGD with
heterogeneous local steps. These special cases are settings, not separate code.

Time (spec §4.3, a proposal): communication takes ``T_comm = latency + per_float * K``.
Step ``t`` of worker ``i`` is job ``job_i + t`` (its duration ``timing.draw(.., i, j)``, its
sample ``grad_key(.., i, j)``), job indices continuing across rounds.

* ``mode="window"`` (default): compute window ``T = compute_time``; ``N_i`` = the steps that
  complete within ``T`` (largest ``N`` with ``sum_{u<N} D_i <= T``); the step in progress at
  ``T`` is abandoned (its job index is used up); then ``Q_i`` = the steps that complete within
  the following ``T_comm``, likewise (``floor(T / tau_i)`` and ``floor(T_comm / tau_i)`` in the
  fixed model). A round lasts ``T + T_comm``, with or without overlap.
* ``mode="fixed_steps"``: ``N_i = N`` for every worker; the transfer starts when the slowest
  worker has finished (faster ones wait), ``Q_i`` = the steps fitting into the transfer; a
  round lasts ``max_i sum_{u<N} D_i + T_comm``. (Per-worker counts ``N_i`` are [uncertain] in
  the spec; one ``N`` is what this mode takes.)

Logs (besides the clock's): ``updates`` = rounds, ``received`` = ``used`` = local steps of all
workers, ``comm_floats`` = ``2 n K`` floats per round (up and down), ``disagreement`` =
``sum_i ||x_i - xbar||^2``; loss and gradient metrics are at ``xbar = (1/n) sum_i x_i`` (the
spec also names the server's coordinates, which this form does not keep). ``busy_time`` counts
each worker's completed steps plus the abandoned ones until their phase ended.

Hyperparameters (traced): ``gamma`` (local stepsize), ``K`` (coordinates per round, ``1 <= K
<= d``; ``K = d``: dense), ``latency`` and ``per_float`` (seconds, ``>= 0``), ``compute_time``
(window mode) and ``N`` (fixed_steps mode); each mode ignores the other's. Static options:
``mode``, ``merge``, ``overlap``, ``weights``. State per run: ``n x d`` worker models;
transient: the sent models, the current ones and their gradients (``3 n d`` floats).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..reference.rules import RoundRule
from .base import RoundMethod, RoundResult, reference_rule, register
from .hparams import COUNT_MAX, GAMMA, HParam

MODES = ("window", "fixed_steps")
MERGES = ("loscar", "overwrite")
WEIGHTS = ("uniform", "steps")


class Loscar(NamedTuple):
    x: jax.Array  # [n, d] worker models


class Phase(NamedTuple):
    w: jax.Array  # [n, d] models
    job: jax.Array  # int32[n] next job index
    steps: jax.Array  # int32[n] completed steps
    elapsed: jax.Array  # [n] seconds of completed steps
    going: jax.Array  # bool[n] still stepping
    abandoned: jax.Array  # bool[n] a step was cut off by the phase's end


def sparse_mask(key, d: int, K, dtype) -> jax.Array:
    """bool[d]: the ``K`` coordinates with the smallest uniforms (stable ties): exactly ``K``."""
    u = jax.random.uniform(key, (d,), dtype)
    rank = jnp.zeros((d,), jnp.int32).at[jnp.argsort(u, stable=True)].set(jnp.arange(d, dtype=jnp.int32))
    return rank < K


@register
@dataclasses.dataclass(frozen=True)
class LoscarSGD(RoundMethod):
    """See the module docstring. Options: ``mode`` (``"window"``/``"fixed_steps"``), ``merge``
    (``"loscar"``/``"overwrite"``), ``overlap`` (``False``: ``Q_i = 0``), ``weights``
    (``"uniform"``/``"steps"``: the average weighted by ``N_i``)."""

    mode: str = "window"
    merge: str = "loscar"
    overlap: bool = True
    weights: str = "uniform"

    name = "loscar"
    paper = "arXiv 2605.20866"
    hparams = {
        "gamma": GAMMA,
        "K": HParam(1, "count", "coordinates sent per round, 1 <= K <= d (K = d: dense)", draw=(1, 2)),
        "latency": HParam(1.0, "nonnegative", "seconds per transfer (l in T_comm = l + c K)", draw=(0.05, 1.5)),
        "per_float": HParam(0.0, "nonnegative", "seconds per sent coordinate (c in T_comm = l + c K)",
                            draw=(0.01, 0.3)),
        "compute_time": HParam(10.0, "positive", "compute window T of a round (mode window)", draw=(0.5, 4.0)),
        "N": HParam(10, "count", "local steps before sending (mode fixed_steps)", draw=(1, 4)),
    }
    extras = ("comm_floats", "disagreement")

    def __post_init__(self):
        for field, allowed in (("mode", MODES), ("merge", MERGES), ("weights", WEIGHTS)):
            if getattr(self, field) not in allowed:
                raise ValueError(f"{self.name}: option {field} must be one of {list(allowed)}, "
                                 f"got {getattr(self, field)!r}")
        if not isinstance(self.overlap, (bool, np.bool_)):
            raise ValueError(f"{self.name}: option overlap must be True or False, got {self.overlap!r}")

    def check_dims(self, hp, d):
        K = np.asarray(hp["K"])
        if np.any(K > d):
            raise ValueError(f"hyperparameter K must be in [1, d={d}] (coordinates sent per round), "
                             f"got {sorted({int(k) for k in K[K > d]})}")

    def work_bytes(self, n, d, itemsize):
        return 3 * n * d * itemsize

    def init(self, x0, hp, ctx, timing):
        return Loscar(jnp.broadcast_to(x0, (ctx.tau.shape[0],) + x0.shape))

    def comm_time(self, hp, dtype):
        return hp["latency"].astype(dtype) + hp["per_float"].astype(dtype) * hp["K"].astype(dtype)

    def _steps_time(self, hp, env, dtype):
        """[n] seconds each worker needs for ``N`` steps from its next job (fixed_steps mode)."""
        n = env.job.shape[0]
        ws = jnp.arange(n, dtype=jnp.int32)

        def body(u, el):
            return el + jax.vmap(lambda w: env.draw(w, env.job[w] + u, dtype))(ws)

        return jax.lax.fori_loop(0, hp["N"], body, jnp.zeros((n,), dtype))

    def min_round_time(self, hp, timing):
        # a window's compute time, or N steps of the slowest worker (each at least its base time);
        # communication only adds
        if self.mode == "window":
            return float(np.min(hp["compute_time"]))
        return float(np.min(hp["N"])) * float(np.max(timing.tau))

    def duration(self, state, hp, env):
        dt = state.x.dtype
        if self.mode == "window":
            return hp["compute_time"].astype(dt) + self.comm_time(hp, dt)
        return jnp.max(self._steps_time(hp, env, dt)) + self.comm_time(hp, dt)

    def _phase(self, w, job, budget, limit, hp, env) -> Phase:
        """Every worker steps from ``w`` while it has done fewer than ``limit`` steps and its
        next step ends within ``budget`` seconds; a step that would not is abandoned (its
        job index used up) and the worker stops."""
        n = w.shape[0]
        ws = jnp.arange(n, dtype=jnp.int32)
        dt = w.dtype
        gamma = hp["gamma"].astype(dt)

        def body(p: Phase) -> Phase:
            d = jax.vmap(lambda i, j: env.draw(i, j, dt))(ws, p.job)
            fits = p.going & (p.elapsed + d <= budget)
            g = jax.vmap(env.grad)(p.w, ws, p.job)
            steps = p.steps + fits.astype(jnp.int32)
            return Phase(w=jnp.where(fits[:, None], p.w - gamma * g, p.w), job=p.job + p.going.astype(jnp.int32),
                         steps=steps, elapsed=jnp.where(fits, p.elapsed + d, p.elapsed),
                         going=fits & (steps < limit), abandoned=p.abandoned | (p.going & ~fits))

        zero = jnp.zeros((n,), jnp.int32)
        p0 = Phase(w=w, job=job, steps=zero, elapsed=jnp.zeros((n,), dt), going=jnp.broadcast_to(limit > 0, (n,)),
                   abandoned=jnp.zeros((n,), bool))
        return jax.lax.while_loop(lambda p: jnp.any(p.going), body, p0)

    @staticmethod
    def _busy(p: Phase, budget):
        return jnp.sum(jnp.where(p.abandoned, budget, p.elapsed))

    def round(self, state, hp, env):
        dt = state.x.dtype
        n, d = state.x.shape
        t_comm = self.comm_time(hp, dt)
        if self.mode == "window":
            budget, limit = hp["compute_time"].astype(dt), COUNT_MAX
        else:  # no time limit: the round waits for the slowest worker's N steps
            budget, limit = jnp.asarray(jnp.inf, dt), hp["N"]
        first = self._phase(state.x, env.job, budget, limit, hp, env)
        y = first.w
        second = self._phase(y, first.job, t_comm, COUNT_MAX if self.overlap else 0, hp, env)
        z = second.w
        if self.weights == "steps":
            wts = first.steps.astype(dt)
            total = jnp.sum(wts)
            wts = jnp.where(total > 0, wts / jnp.where(total > 0, total, 1), 1 / n)
            avg = jnp.sum(wts[:, None] * y, axis=0)
        else:
            avg = jnp.sum(y, axis=0) / n
        mask = sparse_mask(jax.random.fold_in(env.ctx.key, env.r), d, hp["K"], dt)
        merged = avg[None, :] + (z - y) if self.merge == "loscar" else jnp.broadcast_to(avg, z.shape)
        x = jnp.where(mask[None, :], merged, z)
        return RoundResult(state=Loscar(x), jobs=second.job - env.job, grads=jnp.sum(first.steps + second.steps),
                           busy=self._busy(first, budget) + self._busy(second, t_comm))

    def point(self, state):
        return jnp.mean(state.x, axis=0)

    def metrics(self, state, hp, rounds):
        x = state.x
        n = x.shape[0]
        xbar = jnp.mean(x, axis=0)
        return {"comm_floats": (2 * n) * hp["K"].astype(x.dtype) * rounds.astype(x.dtype),
                "disagreement": jnp.sum((x - xbar[None, :]) ** 2)}


@reference_rule(LoscarSGD)
class LoscarRule(RoundRule):
    """Plain loops over workers and steps (spec §4.1, §4.3)."""

    def __init__(self, method, hp, n, x0):
        super().__init__(method, hp, n, x0)
        self.x = [x0.copy() for _ in range(n)]

    def t_comm(self) -> float:
        return self.hp["latency"] + self.hp["per_float"] * float(self.hp["K"])

    def duration(self, env):
        if self.method.mode == "window":
            return self.hp["compute_time"] + self.t_comm()
        slowest = 0.0
        for i in range(self.n):
            el = 0.0
            for u in range(self.hp["N"]):
                el = el + env.draw(i, env.job[i] + u)
            slowest = max(slowest, el)
        return slowest + self.t_comm()

    def local_steps(self, env, i, w, j, budget, limit):
        """Worker ``i``'s steps from ``w`` at job ``j``: ``(w, next job, steps, busy seconds)``."""
        steps, el = 0, 0.0
        while steps < limit:
            d = env.draw(i, j)
            j += 1
            if el + d > budget:  # cut off by the end of the phase
                return w, j, steps, budget
            w = w - self.hp["gamma"] * env.grad(w, i, j - 1)
            el, steps = el + d, steps + 1
        return w, j, steps, el

    def round(self, env):
        m = self.method
        window = m.mode == "window"
        first_budget = self.hp["compute_time"] if window else float("inf")
        first_limit = np.inf if window else self.hp["N"]
        y, z, N, jobs, grads, busy = [], [], [], [], 0, 0.0
        for i in range(self.n):
            w, j, s1, b1 = self.local_steps(env, i, self.x[i], int(env.job[i]), first_budget, first_limit)
            y.append(w)
            w, j, s2, b2 = self.local_steps(env, i, w, j, self.t_comm(), np.inf if m.overlap else 0)
            z.append(w)
            N.append(s1)
            jobs.append(j - int(env.job[i]))
            grads += s1 + s2
            busy += b1 + b2
        if m.weights == "steps" and sum(N) > 0:
            avg = sum((N[i] / sum(N)) * y[i] for i in range(self.n))
        else:
            avg = sum(y) / self.n
        d = len(avg)
        u = np.asarray(jax.random.uniform(jax.random.fold_in(env.key, env.r), (d,), env.dtype), np.float64)
        chosen = set(np.argsort(u, kind="stable")[: self.hp["K"]].tolist())
        for i in range(self.n):
            x = z[i].copy()
            for c in chosen:
                x[c] = avg[c] + (z[i][c] - y[i][c]) if m.merge == "loscar" else avg[c]
            self.x[i] = x
        return jobs, grads, busy

    def point(self):
        return sum(self.x) / self.n

    def metrics(self, rounds):
        xbar = self.point()
        return {"comm_floats": 2 * self.n * self.hp["K"] * rounds,
                "disagreement": float(sum(np.sum((x - xbar) ** 2) for x in self.x))}
