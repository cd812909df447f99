"""Rennala MVR: a tuning-grid heuristic and a time estimate (lmo_vr_local.md §3.3).

[uncertain: not the paper's theorem.] The Rennala MVR paper (arXiv 2605.08871) states its
bounds under mean-squared smoothness ``Lbar``; its constants and exact rates are not known
here. These are the standard minibatch-MVR (STORM, arXiv 1905.10018) choices combined with
Rennala's batch-collection time, as the spec proposes them, with constants dropped. Use them
to centre a tuning grid, not as a prediction to test the simulator against.
"""

from __future__ import annotations

import math

import numpy as np

from .equilibrium import harmonic_prefix
from .validation import check_nonneg, check_positive, check_problem

__all__ = ["mvr_iterations", "mvr_params", "mvr_round_time", "mvr_time"]


def mvr_params(L, Lbar, sigma2, eps, S) -> dict:
    """``a = min{1, eps S/sigma2}`` and ``gamma = min{1/L, S sqrt(eps)/(sigma Lbar)}`` for ``S`` pairs
    per round [uncertain] (lmo_vr_local.md §3.3). With ``sigma2 = 0``: ``a = 1``, ``gamma = 1/L``."""
    ell, lb, s2, e = check_positive("L", L), check_positive("Lbar", Lbar), check_nonneg("sigma2", sigma2), \
        check_positive("eps", eps)
    S = check_positive("S", S)
    if s2 == 0:
        return {"a": 1.0, "gamma": 1.0 / ell}
    return {"a": min(1.0, e * S / s2), "gamma": min(1.0 / ell, S * math.sqrt(e) / (math.sqrt(s2) * lb))}


def mvr_iterations(L, Lbar, Delta, sigma2, eps, S) -> float:
    """Rounds to ``E||grad f||^2 <= eps``: ``K ~ L Delta/eps + sigma Lbar Delta/(S eps^{3/2})``
    [uncertain] (lmo_vr_local.md §3.3; constants dropped)."""
    ell, d, s2, e = check_problem(L, Delta, sigma2, eps)
    lb, S = check_positive("Lbar", Lbar), check_positive("S", S)
    return ell * d / e + math.sqrt(s2) * lb * d / (S * e ** 1.5)


def mvr_round_time(S, tau, kappa=2.0) -> float:
    """Time to collect ``S`` fresh pairs in the fixed model: ``kappa min_m H_m (1 + S/m)``
    [derived: Rennala's batch time (homogeneous.md §11.1) with jobs ``kappa`` times longer]."""
    S, k = check_positive("S", S), check_positive("kappa", kappa)
    H = harmonic_prefix(tau)
    m = np.arange(1, H.size + 1, dtype=np.float64)
    return float(k * np.min(H * (1.0 + S / m)))


def mvr_time(tau, L, Lbar, Delta, sigma2, eps, kappa=2.0, S0=None) -> float:
    """Time estimate ``kappa min_m H_m [L Delta/eps + sigma Lbar Delta/(m eps^{3/2})
    + Delta sqrt(L Lbar sigma/(m eps^{5/2}))]`` plus the initial batch ``S0`` (default
    ``max{1, sigma2/eps}``) [uncertain] (lmo_vr_local.md §3.3). In jaxsim every job, the initial
    batch's included, is a pair of cost ``kappa``; compare with
    :func:`~jaxsim.theory.rennala_time`'s ``sigma2 L Delta/(m eps^2)`` term: MVR gains when
    ``sigma2/eps`` is large and ``Lbar`` is close to ``L``."""
    ell, d, s2, e = check_problem(L, Delta, sigma2, eps)
    lb, k = check_positive("Lbar", Lbar), check_positive("kappa", kappa)
    H = harmonic_prefix(tau)
    m = np.arange(1, H.size + 1, dtype=np.float64)
    sig = math.sqrt(s2)
    rounds = H * (ell * d / e + sig * lb * d / (m * e ** 1.5) + d * np.sqrt(ell * lb * sig / (m * e ** 2.5)))
    S0 = max(1.0, s2 / e) if S0 is None else check_positive("S0", S0)
    return float(k * np.min(rounds) + mvr_round_time(S0, tau, k))
