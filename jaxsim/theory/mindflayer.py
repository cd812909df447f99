"""MindFlayer SGD: trial counts, parameters and time complexity (homogeneous.md §9).

Source: MindFlayer SGD, arXiv 2410.04285, and the authors'
code (``MindFlayerBatchSize``, ``MindFlayerStepSize``, ``mf_calculate_ps``) [uncertain:
constants]; the time complexity and the expected time per success are [derived].
"""

from __future__ import annotations

import numpy as np

from .validation import (
    argmin_first,
    check_at_least_one,
    check_nonneg,
    check_per_worker,
    check_positive,
    check_problem,
    check_vector,
)

__all__ = [
    "expected_time_per_success",
    "mindflayer_params",
    "mindflayer_plan",
    "mindflayer_time",
]


def _mf_inputs(tau, clip, p):
    t = check_vector("tau", tau)
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("tau: times must be finite and >= 0")
    n = t.size
    c = check_per_worker("clip", clip, n)
    if np.any(c < 0):
        raise ValueError("clip: clipping times must be >= 0 (+inf allowed)")
    pr = check_per_worker("p", p, n)
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
    s = check_at_least_one("S", S)
    _, _, pr, cost = _mf_inputs(tau, clip, p)
    order, curve = _mf_curve(cost, pr, s)
    k = argmin_first(curve)
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
    ell = check_positive("L", L)
    s2 = check_nonneg("sigma2", sigma2)
    e = check_positive("eps", eps)
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
    ell, d, s2, e = check_problem(L, Delta, sigma2, eps)
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
