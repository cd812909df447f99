"""Time complexities in the fixed computation model, homogeneous data (homogeneous.md §11.2);
constants dropped unless shown.

Sources: Ringmaster ASGD, arXiv 2501.16168 (Lemma 4.1 [draft]); Rennala SGD / lower bound,
arXiv 2305.12387 [paper]; ASGD under arbitrary delays, arXiv 2206.07638 and
arXiv 2206.08307 [paper]. Tags per function: [paper], [derived], [draft],
[uncertain].
"""

from __future__ import annotations

import math

import numpy as np

from .equilibrium import harmonic_prefix, t_star_a, t_star_b
from .homogeneous_params import ringmaster_params
from .validation import check_at_least_one, check_nonneg, check_problem, check_tau

__all__ = [
    "asgd_time",
    "hero_time",
    "lower_bound_time",
    "minibatch_time",
    "optimal_time",
    "rennala_time",
    "ringmaster_block_time",
    "ringmaster_iterations",
    "ringmaster_time",
    "ringmaster_time_bound",
]


def minibatch_time(tau, L, Delta, sigma2, eps) -> float:
    """Minibatch SGD: ``tau_n (L Delta/eps + sigma2 L Delta/(n eps^2))``, ``tau_n = max tau``.

    Source: Ringmaster ASGD, arXiv 2501.16168, and Rennala SGD, arXiv 2305.12387 [paper]
    (homogeneous §3, §11.2). Constants dropped.
    """
    t = check_tau(tau)
    ell, d, s2, e = check_problem(L, Delta, sigma2, eps)
    n = t.size
    return float(t.max() * (ell * d / e + s2 * ell * d / (n * e * e)))


def hero_time(tau, L, Delta, sigma2, eps) -> float:
    """Hero SGD (fastest worker alone): ``tau_1 (L Delta/eps + sigma2 L Delta/eps^2)``.

    [derived]: SGD iteration complexity times ``tau_1 = min tau`` (homogeneous §2, §11.2; named
    in a talk on Ringmaster ASGD, arXiv 2501.16168). Constants dropped.
    """
    t = check_tau(tau)
    ell, d, s2, e = check_problem(L, Delta, sigma2, eps)
    return float(t.min() * (ell * d / e + s2 * ell * d / (e * e)))


def asgd_time(tau, L, Delta, sigma2, eps) -> float:
    """ASGD with delay-adaptive steps: ``T_A = H_n (L Delta/eps + sigma2 L Delta/(n eps^2))``.

    Source: arXiv 2206.07638 / arXiv 2206.08307, as stated in
    Ringmaster ASGD, arXiv 2501.16168 [paper] (homogeneous §5, §11.2). Constants dropped.
    """
    h = harmonic_prefix(tau)
    ell, d, s2, e = check_problem(L, Delta, sigma2, eps)
    n = h.size
    return float(h[-1] * (ell * d / e + s2 * ell * d / (n * e * e)))


def optimal_time(tau, L, Delta, sigma2, eps) -> float:
    """Optimal time / lower bound ``T_R = min_m H_m (L Delta/eps + sigma2 L Delta/(m eps^2))``.

    Attained (up to constants) by Rennala SGD and proved a lower bound in arXiv 2305.12387; also
    attained by Naive Optimal ASGD and Ringmaster ASGD, arXiv 2501.16168 [paper] (homogeneous
    §11.2). The minimiser is :func:`m_star`. Constants dropped (``Theta``).
    """
    ell, d, s2, e = check_problem(L, Delta, sigma2, eps)
    h = harmonic_prefix(tau)
    m = np.arange(1, h.size + 1, dtype=np.float64)
    return float(np.min(h * (ell * d / e + s2 * ell * d / (m * e * e))))


lower_bound_time = optimal_time


def rennala_time(tau, L, Delta, sigma2, eps, form: str = "a") -> float:
    """Rennala SGD time ``t*(max{1, sigma2/eps}, tau) L Delta/eps`` [uncertain] (homogeneous
    §11.3; Rennala SGD, arXiv 2305.12387). ``form`` picks :func:`t_star_a` (default) or
    :func:`t_star_b`. Equals :func:`optimal_time` up to constants.
    """
    ell, d, s2, e = check_problem(L, Delta, sigma2, eps)
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
    r = check_at_least_one("R", R)
    h = harmonic_prefix(tau)
    m = np.arange(1, h.size + 1, dtype=np.float64)
    return float(2.0 * np.min(h * (1.0 + r / m)))


def ringmaster_iterations(L, Delta, sigma2, eps, R=None) -> int:
    """Ringmaster iteration count ``K = ceil(8 R L Delta/eps + 16 sigma2 L Delta/eps^2)``.

    Explicit form of the ``O(R L Delta/eps + sigma2 L Delta/eps^2)`` iteration complexity of
    Ringmaster ASGD (arXiv 2501.16168) [uncertain: constants] (homogeneous §8.6). ``R`` defaults
    to :func:`ringmaster_params`'s ``R``.
    """
    ell, d, s2, e = check_problem(L, Delta, sigma2, eps)
    r = ringmaster_params(ell, s2, e)["R"] if R is None else check_at_least_one("R", R)
    return math.ceil(8.0 * r * ell * d / e + 16.0 * s2 * ell * d / (e * e))


def ringmaster_time_bound(K, R, tau) -> float:
    """Time bound for ``K`` Ringmaster updates: ``T(K) <= ceil(K/R) t(R)`` (fixed model).

    Source: Ringmaster ASGD, arXiv 2501.16168, Lemma 4.1 [draft] (homogeneous §8.6, §11.2).
    """
    k = check_nonneg("K", K)
    r = check_at_least_one("R", R)
    return float(math.ceil(k / r) * ringmaster_block_time(r, tau))


def ringmaster_time(tau, L, Delta, sigma2, eps) -> float:
    """Explicit Ringmaster time ``ceil(K/R) 2 min_m H_m (1 + R/m)`` with ``R`` of
    :func:`ringmaster_params` and ``K`` of :func:`ringmaster_iterations`.

    Ringmaster ASGD, arXiv 2501.16168 [draft] + [uncertain] constants (homogeneous §11.2).
    Equals :func:`optimal_time` up to constants.
    """
    ell, d, s2, e = check_problem(L, Delta, sigma2, eps)
    R = ringmaster_params(ell, s2, e)["R"]
    return ringmaster_time_bound(ringmaster_iterations(ell, d, s2, e, R), R, tau)
