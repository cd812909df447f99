"""Closed-form theory: optimal worker counts, equilibrium times, time complexities, parameters.

Pure NumPy (float64); nothing here touches JAX, so it is cheap to call from notebooks, figure
scripts and sweep set-up code. Spec: ``homogeneous.md`` §6.4, §7, §8.6, §9, §11 and the README
§3 notation / §5.4 universal computation model.

Conventions
-----------
* ``tau`` is an array-like of per-worker times in **original worker order** (0-based in code).
  Every formula sorts it internally, ``tau_(1) <= ... <= tau_(n)``, and the ``m`` of a formula
  is a **count** of fastest workers, ``m in 1..n`` (spec notation, 1-based).
* ``H_m = ( (1/m) sum_{i<=m} 1/tau_(i) )^{-1}``, the harmonic mean of the ``m`` fastest times.
* ``eps`` bounds the squared gradient norm, ``E||grad f(x)||^2 <= eps``.
* "Ties -> smallest m": minimisers are taken as the smallest index whose value is within a
  relative ``1e-12`` of the minimum, so exact ties survive float rounding.
* Tags copied from the spec: [paper] stated in the cited paper; [derived] follows from the
  paper's statements by a short argument; [draft] from an unpublished draft restating the paper;
  [uncertain] constants or exact wording not verified. Constants are those the spec shows;
  ``O(.)`` statements are returned without hidden constants.
* Bad inputs raise ``ValueError`` whose message starts with the offending argument's name.

Papers (arXiv ids)
------------------
* Ringmaster ASGD, Maranjyan, Tyurin, Richtárik, arXiv 2501.16168.
* Rennala SGD / lower bound, Tyurin & Richtárik, arXiv 2305.12387.
* MindFlayer SGD, Maranjyan, Shaikh Omar, Richtárik, arXiv 2410.04285.
* Universal computation model, Tyurin, arXiv 2408.04929.
* Asynchronous SGD under arbitrary delays, Mishchenko et al., arXiv 2206.07638; Koloskova et al.,
  arXiv 2206.08307.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = [
    "EquilibriumTime",
    "asgd_time",
    "expected_time_per_success",
    "harmonic_prefix",
    "hero_time",
    "lower_bound_time",
    "m_star",
    "mindflayer_params",
    "mindflayer_plan",
    "mindflayer_time",
    "minibatch_time",
    "naive_optimal_params",
    "optimal_time",
    "piecewise_speed_integral",
    "rennala_params",
    "rennala_time",
    "ringmaster_block_time",
    "ringmaster_iterations",
    "ringmaster_params",
    "ringmaster_time",
    "ringmaster_time_bound",
    "t_star_a",
    "t_star_b",
    "universal_block_time",
    "universal_time_bound",
]

_TIE_RTOL = 1e-12


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------

def _scalar(name: str, x) -> float:
    if isinstance(x, bool):
        raise ValueError(f"{name} must be a real number, got {x!r}")  # noqa: TRY004 (spec: ValueError)
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {x!r}") from None
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got shape {arr.shape}")
    v = float(arr)
    if math.isnan(v):
        raise ValueError(f"{name} must not be NaN")
    return v


def _positive(name: str, x) -> float:
    v = _scalar(name, x)
    if not (v > 0 and math.isfinite(v)):
        raise ValueError(f"{name} must be a finite number > 0, got {x!r}")
    return v


def _nonneg(name: str, x) -> float:
    v = _scalar(name, x)
    if not (v >= 0 and math.isfinite(v)):
        raise ValueError(f"{name} must be a finite number >= 0, got {x!r}")
    return v


def _at_least_one(name: str, x) -> float:
    v = _scalar(name, x)
    if not (v >= 1 and math.isfinite(v)):
        raise ValueError(f"{name} must be a finite number >= 1, got {x!r}")
    return v


def _vector(name: str, x) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of real numbers") from None
    if arr.ndim > 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    arr = arr.reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} must not contain NaN")
    return arr


def _tau(tau) -> np.ndarray:
    """Validated per-worker times (original order). ``+inf`` (a hung worker) is allowed."""
    t = _vector("tau", tau)
    if np.any(t <= 0):
        raise ValueError("tau: times must be > 0")
    if not np.isfinite(t.min()):
        raise ValueError("tau: at least one time must be finite")
    return t


def _sorted_tau(tau) -> np.ndarray:
    return np.sort(_tau(tau), kind="stable")


def _per_worker(name: str, x, n: int) -> np.ndarray:
    arr = _vector(name, x)
    if arr.size == 1 and n != 1:
        arr = np.full(n, arr[0])
    if arr.size != n:
        raise ValueError(f"{name}: got {arr.size} values for n={n} workers")
    return arr


def _argmin_first(values: np.ndarray) -> int:
    """Index of the minimum; near-ties (relative 1e-12) resolve to the smallest index."""
    best = np.min(values)
    if not np.isfinite(best):
        return int(np.argmin(values))
    ok = values <= best + _TIE_RTOL * abs(best)
    return int(np.argmax(ok))


def _ceil_count(ratio: float) -> int:
    """``max(1, ceil(ratio))`` robust to float noise: 1.1/0.1 = 11.000000000000002 -> 11."""
    r = round(ratio)
    if abs(ratio - r) <= 1e-12 * max(1.0, abs(ratio)):
        return max(1, int(r))
    return max(1, math.ceil(ratio))


class EquilibriumTime(NamedTuple):
    """An equilibrium time ``t`` and the count ``m`` (1..n) of fastest workers attaining it."""
    t: float
    m: int


# --------------------------------------------------------------------------------------
# Harmonic means, optimal m, equilibrium times (§11.1, §11.3)
# --------------------------------------------------------------------------------------

def harmonic_prefix(tau) -> np.ndarray:
    """``H_m`` for ``m = 1..n`` over the ``m`` fastest (sorted) times; returns shape ``(n,)``.

    ``H_m = m / sum_{i<=m} 1/tau_(i)`` via a cumulative sum of ``1/tau_(i)`` (README §3,
    homogeneous §11.1). Notation of Ringmaster ASGD (arXiv 2501.16168) and Rennala SGD
    (arXiv 2305.12387) [paper]. Entry ``m - 1`` holds ``H_m``.
    """
    ts = _sorted_tau(tau)
    m = np.arange(1, ts.size + 1, dtype=np.float64)
    return m / np.cumsum(1.0 / ts)


def m_star(tau, sigma2, eps) -> int:
    """Optimal number of workers ``m* = argmin_{m in [n]} H_m (1 + sigma2/(m eps))`` (1..n).

    The minimiser inside ``T_R`` (homogeneous §7, §11.3), Ringmaster ASGD Alg. 3 "Naive Optimal
    ASGD" (arXiv 2501.16168) and Rennala SGD (arXiv 2305.12387) [paper]. Ties -> smallest ``m``.
    The selected workers are the ``m*`` fastest, ties in ``tau`` to the lowest worker index.
    """
    s2 = _nonneg("sigma2", sigma2)
    e = _positive("eps", eps)
    h = harmonic_prefix(tau)
    m = np.arange(1, h.size + 1, dtype=np.float64)
    return _argmin_first(h * (1.0 + s2 / (m * e))) + 1


def _prefix_sums(tau):
    ts = _sorted_tau(tau)
    return ts, np.cumsum(1.0 / ts), np.arange(1, ts.size + 1, dtype=np.float64)


def t_star_a(S, tau) -> EquilibriumTime:
    """Equilibrium time, Rennala-paper form: ``min_m (sum_{i<=m} 1/tau_(i))^{-1} (S + m)``.

    Source: Rennala SGD, arXiv 2305.12387 [uncertain: exact form of the paper's ``t*``]
    (homogeneous §11.3). Equals ``min_m H_m (1 + S/m)``, so Ringmaster's block time is
    ``t(R) = 2 t_star_a(R, tau).t`` and ``T_R = (L Delta/eps) t_star_a(sigma2/eps, tau).t``
    whenever ``sigma2/eps >= 1`` [derived]. ``S >= 1`` (real allowed). Returns ``(t, m)``.
    """
    s = _at_least_one("S", S)
    _, inv, m = _prefix_sums(tau)
    vals = (s + m) / inv
    k = _argmin_first(vals)
    return EquilibriumTime(float(vals[k]), k + 1)


def t_star_b(S, tau) -> EquilibriumTime:
    """Equilibrium time ``min_m max{ tau_(m), S (sum_{i<=m} 1/tau_(i))^{-1} }``.

    Form of Tyurin & Richtárik's decentralized paper (Fragile SGD, NeurIPS 2024) with zero
    communication time [paper] (homogeneous §11.3, README §5.5). Relation with
    :func:`t_star_a`: ``t_star_b <= t_star_a <= 2 t_star_b`` [derived]. Returns ``(t, m)``.
    """
    s = _at_least_one("S", S)
    ts, inv, _ = _prefix_sums(tau)
    vals = np.maximum(ts, s / inv)
    k = _argmin_first(vals)
    return EquilibriumTime(float(vals[k]), k + 1)


# --------------------------------------------------------------------------------------
# Method parameters (§6.4, §7, §8.6)
# --------------------------------------------------------------------------------------

def rennala_params(L, sigma2, eps) -> dict:
    """Rennala SGD batch size and stepsize: ``S = max{1, ceil(sigma2/eps)}``,
    ``gamma = min{1/L, eps S/(2 L sigma2)}`` (``1/L`` when ``sigma2 = 0``).

    Source: the authors' code ``RennalaStepSize`` for Rennala SGD (arXiv 2305.12387, as used in
    Ringmaster ASGD arXiv 2501.16168), consistent with the paper [uncertain: constants]
    (homogeneous §6.4). Returns ``dict(B=S, S=S, gamma=gamma)``; the Ringmaster paper calls the
    batch size ``B``. ``ceil`` forgives float noise (``1.1/0.1`` gives 11, not 12).
    """
    ell = _positive("L", L)
    s2 = _nonneg("sigma2", sigma2)
    e = _positive("eps", eps)
    S = _ceil_count(s2 / e)
    gamma = 1.0 / ell if s2 == 0 else min(1.0 / ell, e * S / (2.0 * ell * s2))
    return {"B": S, "S": S, "gamma": gamma}


def ringmaster_params(L, sigma2, eps) -> dict:
    """Ringmaster ASGD delay threshold and stepsize: ``R = max{1, ceil(sigma2/eps)}``,
    ``gamma = min{1/(2 R L), eps/(4 L sigma2)}`` (``1/(2RL)`` when ``sigma2 = 0``).

    Source: Ringmaster ASGD, arXiv 2501.16168 [paper] (homogeneous §8.6). ``R`` does not depend
    on the times. Returns ``dict(R=R, gamma=gamma)``.
    """
    ell = _positive("L", L)
    s2 = _nonneg("sigma2", sigma2)
    e = _positive("eps", eps)
    R = _ceil_count(s2 / e)
    gamma = 1.0 / (2.0 * R * ell)
    if s2 > 0:
        gamma = min(gamma, e / (4.0 * ell * s2))
    return {"R": R, "gamma": gamma}


def naive_optimal_params(tau, L, sigma2, eps) -> dict:
    """Naive Optimal ASGD (Ringmaster ASGD Alg. 3, arXiv 2501.16168): ``m = m*`` [paper] and
    ``gamma = min{1/(2 m* L), eps/(4 L sigma2)}`` [uncertain] (homogeneous §7).

    Returns ``dict(m, gamma, mask)`` where ``mask`` (original worker order, bool) marks the
    ``m*`` fastest workers (``rank(tau_i) < m*``, ties to the lowest index).
    """
    t = _tau(tau)
    ell = _positive("L", L)
    s2 = _nonneg("sigma2", sigma2)
    e = _positive("eps", eps)
    m = m_star(t, s2, e)
    gamma = 1.0 / (2.0 * m * ell)
    if s2 > 0:
        gamma = min(gamma, e / (4.0 * ell * s2))
    mask = np.zeros(t.size, dtype=bool)
    mask[np.argsort(t, kind="stable")[:m]] = True
    return {"m": m, "gamma": gamma, "mask": mask}


# --------------------------------------------------------------------------------------
# Time complexities, fixed model (§11.2); constants dropped unless shown
# --------------------------------------------------------------------------------------

def _problem(L, Delta, sigma2, eps):
    return (_positive("L", L), _nonneg("Delta", Delta), _nonneg("sigma2", sigma2),
            _positive("eps", eps))


def minibatch_time(tau, L, Delta, sigma2, eps) -> float:
    """Minibatch SGD: ``tau_n (L Delta/eps + sigma2 L Delta/(n eps^2))``, ``tau_n = max tau``.

    Source: Ringmaster ASGD, arXiv 2501.16168, and Rennala SGD, arXiv 2305.12387 [paper]
    (homogeneous §3, §11.2). Constants dropped.
    """
    t = _tau(tau)
    ell, d, s2, e = _problem(L, Delta, sigma2, eps)
    n = t.size
    return float(t.max() * (ell * d / e + s2 * ell * d / (n * e * e)))


def hero_time(tau, L, Delta, sigma2, eps) -> float:
    """Hero SGD (fastest worker alone): ``tau_1 (L Delta/eps + sigma2 L Delta/eps^2)``.

    [derived]: SGD iteration complexity times ``tau_1 = min tau`` (homogeneous §2, §11.2; named
    in a talk on Ringmaster ASGD, arXiv 2501.16168). Constants dropped.
    """
    t = _tau(tau)
    ell, d, s2, e = _problem(L, Delta, sigma2, eps)
    return float(t.min() * (ell * d / e + s2 * ell * d / (e * e)))


def asgd_time(tau, L, Delta, sigma2, eps) -> float:
    """ASGD with delay-adaptive steps: ``T_A = H_n (L Delta/eps + sigma2 L Delta/(n eps^2))``.

    Source: Mishchenko et al., arXiv 2206.07638 / Koloskova et al., arXiv 2206.08307, as stated in
    Ringmaster ASGD, arXiv 2501.16168 [paper] (homogeneous §5, §11.2). Constants dropped.
    """
    h = harmonic_prefix(tau)
    ell, d, s2, e = _problem(L, Delta, sigma2, eps)
    n = h.size
    return float(h[-1] * (ell * d / e + s2 * ell * d / (n * e * e)))


def optimal_time(tau, L, Delta, sigma2, eps) -> float:
    """Optimal time / lower bound ``T_R = min_m H_m (L Delta/eps + sigma2 L Delta/(m eps^2))``.

    Attained (up to constants) by Rennala SGD and proved a lower bound in arXiv 2305.12387; also
    attained by Naive Optimal ASGD and Ringmaster ASGD, arXiv 2501.16168 [paper] (homogeneous
    §11.2). The minimiser is :func:`m_star`. Constants dropped (``Theta``).
    """
    ell, d, s2, e = _problem(L, Delta, sigma2, eps)
    h = harmonic_prefix(tau)
    m = np.arange(1, h.size + 1, dtype=np.float64)
    return float(np.min(h * (ell * d / e + s2 * ell * d / (m * e * e))))


lower_bound_time = optimal_time


def rennala_time(tau, L, Delta, sigma2, eps, form: str = "a") -> float:
    """Rennala SGD time ``t*(max{1, sigma2/eps}, tau) L Delta/eps`` [uncertain] (homogeneous
    §11.3; Rennala SGD, arXiv 2305.12387). ``form`` picks :func:`t_star_a` (default) or
    :func:`t_star_b`. Equals :func:`optimal_time` up to constants.
    """
    ell, d, s2, e = _problem(L, Delta, sigma2, eps)
    if form not in ("a", "b"):
        raise ValueError(f"form must be 'a' or 'b', got {form!r}")
    S = max(1.0, s2 / e)
    t = (t_star_a if form == "a" else t_star_b)(S, tau).t
    return float(t * ell * d / e)


def ringmaster_block_time(R, tau) -> float:
    """Ringmaster block time ``t(R) = 2 min_{m in [n]} H_m (1 + R/m)`` (fixed model).

    Lemma 4.1 of Ringmaster ASGD (arXiv 2501.16168): any ``R`` consecutive updates finish within
    ``t(R)`` seconds [draft, restating the paper] (homogeneous §8.6, §11.4). ``R >= 1``.
    Equals ``2 * t_star_a(R, tau).t`` [derived].
    """
    r = _at_least_one("R", R)
    h = harmonic_prefix(tau)
    m = np.arange(1, h.size + 1, dtype=np.float64)
    return float(2.0 * np.min(h * (1.0 + r / m)))


def ringmaster_iterations(L, Delta, sigma2, eps, R=None) -> int:
    """Ringmaster iteration count ``K = ceil(8 R L Delta/eps + 16 sigma2 L Delta/eps^2)``.

    Explicit form of the ``O(R L Delta/eps + sigma2 L Delta/eps^2)`` iteration complexity of
    Ringmaster ASGD (arXiv 2501.16168) [uncertain: constants] (homogeneous §8.6). ``R`` defaults
    to :func:`ringmaster_params`'s ``R``.
    """
    ell, d, s2, e = _problem(L, Delta, sigma2, eps)
    r = ringmaster_params(ell, s2, e)["R"] if R is None else _at_least_one("R", R)
    return math.ceil(8.0 * r * ell * d / e + 16.0 * s2 * ell * d / (e * e))


def ringmaster_time_bound(K, R, tau) -> float:
    """Time bound for ``K`` Ringmaster updates: ``T(K) <= ceil(K/R) t(R)`` (fixed model).

    Source: Ringmaster ASGD, arXiv 2501.16168, Lemma 4.1 [draft] (homogeneous §8.6, §11.2).
    """
    k = _nonneg("K", K)
    r = _at_least_one("R", R)
    return float(math.ceil(k / r) * ringmaster_block_time(r, tau))


def ringmaster_time(tau, L, Delta, sigma2, eps) -> float:
    """Explicit Ringmaster time ``ceil(K/R) 2 min_m H_m (1 + R/m)`` with ``R`` of
    :func:`ringmaster_params` and ``K`` of :func:`ringmaster_iterations`.

    Ringmaster ASGD, arXiv 2501.16168 [draft] + [uncertain] constants (homogeneous §11.2).
    Equals :func:`optimal_time` up to constants.
    """
    ell, d, s2, e = _problem(L, Delta, sigma2, eps)
    R = ringmaster_params(ell, s2, e)["R"]
    return ringmaster_time_bound(ringmaster_iterations(ell, d, s2, e, R), R, tau)


# --------------------------------------------------------------------------------------
# MindFlayer SGD (§9)
# --------------------------------------------------------------------------------------

def _mf_inputs(tau, clip, p):
    t = _vector("tau", tau)
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("tau: times must be finite and >= 0")
    n = t.size
    c = _per_worker("clip", clip, n)
    if np.any(c < 0):
        raise ValueError("clip: clipping times must be >= 0 (+inf allowed)")
    pr = _per_worker("p", p, n)
    if np.any(pr < 0) or np.any(pr > 1):
        raise ValueError("p: probabilities must lie in [0, 1]")
    cost = t + c
    if np.any((cost <= 0) & (pr > 0)):
        raise ValueError("tau: tau + clip must be > 0 for every worker with p > 0")
    return t, c, pr, cost


def _mf_curve(cost, pr, S):
    """Sorted usable workers and ``t(m)`` over them. Workers with ``p = 0`` or infinite cost
    add nothing to ``sum p/c`` and are excluded (they get ``B = 0``)."""
    usable = (pr > 0) & np.isfinite(cost)
    if not np.any(usable):
        raise ValueError("p: no worker has p > 0 and a finite cost tau + clip")
    idx = np.flatnonzero(usable)
    order = idx[np.argsort(cost[idx], kind="stable")]
    rate = np.cumsum(pr[order] / cost[order])
    mass = np.cumsum(pr[order])
    return order, (S + mass) / rate


def mindflayer_plan(tau, clip, p, S) -> dict:
    """MindFlayer trial counts ``B_i`` for target batch ``S`` (homogeneous §9).

    Rules of the authors' code ``MindFlayerBatchSize`` / ``mf_calculate_ps`` for MindFlayer SGD
    (arXiv 2410.04285); the form matches the paper's theory [uncertain: constants]:

    * costs ``c_i = tau_i + clip_i``; workers sorted by ``c_i`` (ties: lowest index);
    * ``t(m) = (sum_{j<=m} p_j/c_j)^{-1} (S + sum_{j<=m} p_j)``, ``m* = argmin_m t(m)``
      (ties -> smallest ``m``);
    * ``B_i = max{0, ceil(t(m*)/c_i - 1)}`` for the ``m*`` cheapest workers, 0 otherwise.

    Then ``sum_i p_i B_i >= S`` and ``B_i c_i < t(m*)`` [derived]. Sorting by ``c`` (not by
    ``c/p``) is optimal over all subsets: adding worker ``j`` lowers ``t`` iff ``c_j < t``
    [derived]. Workers with ``p_i = 0`` or ``c_i = +inf`` contribute nothing and are excluded
    from the ordering (``B_i = 0``); ``m`` counts usable workers only.

    Args: ``tau`` (>= 0), ``clip`` (>= 0, ``+inf`` allowed) and ``p = P(eta_i <= clip_i)`` in
    ``[0, 1]``, per worker in original order (scalars broadcast); ``S >= 1``.

    Returns ``dict(B, t_m, m, costs, order, t_curve, batch)``: ``B`` int64 per worker (original
    order), ``t_m = t(m*)``, ``m = m*``, ``costs = c`` (original order), ``order`` the usable
    workers sorted by cost, ``t_curve[m-1] = t(m)``, ``batch = sum_i p_i B_i``.
    """
    s = _at_least_one("S", S)
    _, _, pr, cost = _mf_inputs(tau, clip, p)
    order, curve = _mf_curve(cost, pr, s)
    k = _argmin_first(curve)
    t_m = float(curve[k])
    B = np.zeros(cost.size, dtype=np.int64)
    chosen = order[: k + 1]
    B[chosen] = np.maximum(0, np.ceil(t_m / cost[chosen] - 1.0)).astype(np.int64)
    return {"B": B, "t_m": t_m, "m": k + 1, "costs": cost, "order": order,
            "t_curve": curve, "batch": float(np.sum(pr * B))}


def mindflayer_params(tau, clip, p, L, sigma2, eps) -> dict:
    """MindFlayer plan plus stepsize: ``S = max{1, sigma2/eps}`` (no ceiling) and
    ``gamma = min{1/(2L), eps B/(2 L sigma2)}`` with ``B = sum_i p_i B_i``.

    Authors' code ``MindFlayerBatchSize`` / ``MindFlayerStepSize`` for MindFlayer SGD
    (arXiv 2410.04285) [uncertain: constants] (homogeneous §9). Returns
    :func:`mindflayer_plan`'s dict plus ``S`` and ``gamma``.
    """
    ell = _positive("L", L)
    s2 = _nonneg("sigma2", sigma2)
    e = _positive("eps", eps)
    S = max(1.0, s2 / e)
    plan = mindflayer_plan(tau, clip, p, S)
    gamma = 1.0 / (2.0 * ell)
    if s2 > 0:
        gamma = min(gamma, e * plan["batch"] / (2.0 * ell * s2))
    plan.update(S=S, gamma=gamma)
    return plan


def mindflayer_time(tau, clip, p, L, Delta, sigma2, eps) -> float:
    """``T_MF = (L Delta/eps) min_m (sum_{i<=m} p_i/c_i)^{-1} (sigma2/eps + sum_{i<=m} p_i)``.

    [derived] from the MindFlayer SGD (arXiv 2410.04285) parameter rules, workers sorted by
    ``c_i = tau_i + clip_i`` (homogeneous §9) [uncertain: the paper claims it generalizes
    Rennala]. Rennala's bound with ``tau_i`` replaced by ``c_i/p_i``; with ``p = 1``,
    ``clip = 0`` it equals :func:`optimal_time`. Constants dropped. As in the spec, ``sigma2/eps``
    is used as written (no ``max{1, .}``).
    """
    ell, d, s2, e = _problem(L, Delta, sigma2, eps)
    _, _, pr, cost = _mf_inputs(tau, clip, p)
    _, curve = _mf_curve(cost, pr, s2 / e)
    return float(ell * d / e * np.min(curve))


def expected_time_per_success(tau, clip, mean_min_eta_clip, p):
    """Expected time per successful gradient of one worker that restarts clipped attempts:
    ``E[tau + min(eta, clip)] / F(clip) = (tau + mean_min_eta_clip) / p`` (``<= (tau + clip)/p``).

    [derived, Wald's identity] (homogeneous §9; MindFlayer SGD, arXiv 2410.04285). Arguments
    broadcast elementwise; ``mean_min_eta_clip = E min(eta, clip)`` must lie in ``[0, clip]``;
    ``p = F(clip)`` in ``[0, 1]``; ``p = 0`` gives ``+inf``. Returns a float for scalar inputs.
    """
    arrs = {}
    for name, v in (("tau", tau), ("clip", clip), ("mean_min_eta_clip", mean_min_eta_clip),
                    ("p", p)):
        a = np.asarray(v, dtype=np.float64)
        if np.any(np.isnan(a)):
            raise ValueError(f"{name} must not contain NaN")
        arrs[name] = a
    t, c, mm, pr = arrs["tau"], arrs["clip"], arrs["mean_min_eta_clip"], arrs["p"]
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("tau: times must be finite and >= 0")
    if np.any(c < 0):
        raise ValueError("clip: clipping times must be >= 0")
    if np.any(mm < 0) or np.any(mm > c) or not np.all(np.isfinite(mm)):
        raise ValueError("mean_min_eta_clip: must be finite and lie in [0, clip]")
    if np.any(pr < 0) or np.any(pr > 1):
        raise ValueError("p: probabilities must lie in [0, 1]")
    num, den = np.broadcast_arrays(t + mm, pr)
    out = np.full(num.shape, np.inf)
    np.divide(num, den, out=out, where=den > 0)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------------------
# Universal computation model (§11.4, README §5.4)
# --------------------------------------------------------------------------------------

def piecewise_speed_integral(breaks, nu) -> Callable[[int, float], float]:
    """``W(i, t) = int_0^t nu_i(u) du`` for piecewise-constant speed factors (README §5.4).

    ``breaks``: ``0 = b_0 < b_1 < ... < b_M``; ``nu``: shape ``(n, M+1)`` (or ``(M+1,)`` for
    one shared profile), value ``nu[i, l]`` on ``[b_l, b_{l+1})``, last value held to ``+inf``.
    ``nu >= 0``; zero is an outage. Returns a callable for :func:`universal_block_time`
    [project choice].
    """
    b = _vector("breaks", breaks)
    if b[0] != 0 or np.any(np.diff(b) <= 0) or not np.all(np.isfinite(b)):
        raise ValueError("breaks: must start at 0, be strictly increasing and finite")
    v = np.atleast_2d(np.asarray(nu, dtype=np.float64))
    if v.ndim != 2 or v.shape[1] != b.size:
        raise ValueError(f"nu: expected shape (n, {b.size}), got {np.shape(nu)}")
    if np.any(~np.isfinite(v)) or np.any(v < 0):
        raise ValueError("nu: speed factors must be finite and >= 0")
    cum = np.concatenate([np.zeros((v.shape[0], 1)), np.cumsum(v[:, :-1] * np.diff(b), axis=1)],
                         axis=1)

    def W(i: int, t: float) -> float:
        row = 0 if v.shape[0] == 1 else int(i)
        if t <= 0:
            return 0.0
        ell = int(np.searchsorted(b, t, side="right")) - 1
        return float(cum[row, ell] + v[row, ell] * (t - b[ell]))

    return W


def _fixed_W(i, t):
    return float(t)


def universal_block_time(R, T0, tau, W: Callable[[int, float], float] | None = None, *,
                         quarter: float = 4.0, t_max: float = 1e15, rtol: float = 1e-12,
                         atol: float = 1e-12, max_iter: int = 400) -> float:
    """Ringmaster block time under the universal model: the smallest ``t >= 0`` with
    ``sum_i floor( (W_i(T0 + t) - W_i(T0)) / (quarter * tau_i) ) >= R``.

    Ringmaster ASGD (arXiv 2501.16168) Lemma 5.1, model of Tyurin arXiv 2408.04929 [draft];
    implementation by bisection [derived] (homogeneous §8.6, §11.4). The paper's factor is
    ``1/4`` (``quarter = 4``). Worker speeds are ``v_i = nu_i / tau_i`` (README §5.4).

    Args:
      R: number of updates (``>= 1``). T0: start time (``>= 0``).
      tau: per-worker base times (original order).
      W: callable ``W(i, t)`` giving the cumulative speed factor ``int_0^t nu_i(u) du`` of
        0-based worker ``i`` (nondecreasing in ``t``); ``None`` means the fixed model ``W = t``.
        See :func:`piecewise_speed_integral`.
      t_max: give up (return ``+inf``) if ``R`` completions are not reached by ``T0 + t_max``.

    Returns the right end of the final bisection bracket, so the count at the returned ``t`` is
    ``>= R`` and ``t`` exceeds the exact minimiser by at most ``atol + rtol * t``.
    """
    r = _at_least_one("R", R)
    t0 = _nonneg("T0", T0)
    q = _positive("quarter", quarter)
    ts = _tau(tau)
    if W is None:
        W = _fixed_W
    n = ts.size
    base = np.array([W(i, t0) for i in range(n)], dtype=np.float64)

    def count(t):
        w = np.array([W(i, t0 + t) for i in range(n)], dtype=np.float64)
        return float(np.sum(np.floor((w - base) / (q * ts))))

    hi = q * r * float(ts.min())  # enough in the fixed model; doubled otherwise
    while count(hi) < r:
        if hi > t_max:
            return math.inf
        hi *= 2.0
    lo = 0.0
    for _ in range(max_iter):
        if hi - lo <= atol + rtol * hi:
            break
        mid = 0.5 * (lo + hi)
        if count(mid) >= r:
            hi = mid
        else:
            lo = mid
    return float(hi)


def universal_time_bound(K, R, tau, W: Callable[[int, float], float] | None = None,
                         **kwargs) -> float:
    """Time bound for ``K`` Ringmaster updates under the universal model: ``T_{ceil(K/R)}`` with
    ``T_0 = 0``, ``T_k = T_{k-1} + t(R; T_{k-1})`` (:func:`universal_block_time`).

    Ringmaster ASGD (arXiv 2501.16168) Lemma 5.1 [draft] (homogeneous §8.6, §11.4). ``kwargs``
    go to :func:`universal_block_time`.
    """
    k = _nonneg("K", K)
    r = _at_least_one("R", R)
    T = 0.0
    for _ in range(math.ceil(k / r)):
        T += universal_block_time(r, T, tau, W, **kwargs)
        if not math.isfinite(T):
            return math.inf
    return T
