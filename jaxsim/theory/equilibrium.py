"""Harmonic means, optimal worker count ``m*`` and equilibrium times (homogeneous.md §11.1, §11.3).

Sources: Ringmaster ASGD, arXiv 2501.16168; Rennala SGD / lower
bound, arXiv 2305.12387; Fragile SGD (NeurIPS 2024) for
:func:`t_star_b`. Tags per function: [paper], [derived], [uncertain] (see :mod:`jaxsim.theory`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .validation import argmin_first, check_at_least_one, check_nonneg, check_positive, sorted_tau

__all__ = [
    "EquilibriumTime",
    "harmonic_prefix",
    "m_star",
    "t_star_a",
    "t_star_b",
]


class EquilibriumTime(NamedTuple):
    """An equilibrium time ``t`` and the count ``m`` (1..n) of fastest workers attaining it."""
    t: float
    m: int


def harmonic_prefix(tau) -> np.ndarray:
    """``H_m`` for ``m = 1..n`` over the ``m`` fastest (sorted) times; returns shape ``(n,)``.

    ``H_m = m / sum_{i<=m} 1/tau_(i)`` via a cumulative sum of ``1/tau_(i)`` (README §3,
    homogeneous §11.1). Notation of Ringmaster ASGD (arXiv 2501.16168) and Rennala SGD
    (arXiv 2305.12387) [paper]. Entry ``m - 1`` holds ``H_m``.
    """
    ts = sorted_tau(tau)
    m = np.arange(1, ts.size + 1, dtype=np.float64)
    return m / np.cumsum(1.0 / ts)


def m_star(tau, sigma2, eps) -> int:
    """Optimal number of workers ``m* = argmin_{m in [n]} H_m (1 + sigma2/(m eps))`` (1..n).

    The minimiser inside ``T_R`` (homogeneous §7, §11.3), Ringmaster ASGD Alg. 3 "Naive Optimal
    ASGD" (arXiv 2501.16168) and Rennala SGD (arXiv 2305.12387) [paper]. Ties -> smallest ``m``.
    The selected workers are the ``m*`` fastest, ties in ``tau`` to the lowest worker index.
    """
    s2 = check_nonneg("sigma2", sigma2)
    e = check_positive("eps", eps)
    h = harmonic_prefix(tau)
    m = np.arange(1, h.size + 1, dtype=np.float64)
    return argmin_first(h * (1.0 + s2 / (m * e))) + 1


def _prefix_sums(tau):
    ts = sorted_tau(tau)
    return ts, np.cumsum(1.0 / ts), np.arange(1, ts.size + 1, dtype=np.float64)


def t_star_a(S, tau) -> EquilibriumTime:
    """Equilibrium time, Rennala-paper form: ``min_m (sum_{i<=m} 1/tau_(i))^{-1} (S + m)``.

    Source: Rennala SGD, arXiv 2305.12387 [uncertain: exact form of the paper's ``t*``]
    (homogeneous §11.3). Equals ``min_m H_m (1 + S/m)``, so Ringmaster's block time is
    ``t(R) = 2 t_star_a(R, tau).t`` and ``T_R = (L Delta/eps) t_star_a(sigma2/eps, tau).t``
    whenever ``sigma2/eps >= 1`` [derived]. ``S >= 1`` (real allowed). Returns ``(t, m)``.
    """
    s = check_at_least_one("S", S)
    _, inv, m = _prefix_sums(tau)
    vals = (s + m) / inv
    k = argmin_first(vals)
    return EquilibriumTime(float(vals[k]), k + 1)


def t_star_b(S, tau) -> EquilibriumTime:
    """Equilibrium time ``min_m max{ tau_(m), S (sum_{i<=m} 1/tau_(i))^{-1} }``.

    Form of the decentralized Fragile SGD paper (NeurIPS 2024) with zero
    communication time [paper] (homogeneous §11.3, README §5.5). Relation with
    :func:`t_star_a`: ``t_star_b <= t_star_a <= 2 t_star_b`` [derived]. Returns ``(t, m)``.
    """
    s = check_at_least_one("S", S)
    ts, inv, _ = _prefix_sums(tau)
    vals = np.maximum(ts, s / inv)
    k = argmin_first(vals)
    return EquilibriumTime(float(vals[k]), k + 1)
