"""Method parameters for homogeneous data: Rennala SGD, Ringmaster ASGD and Naive Optimal ASGD
(homogeneous.md §6.4, §7, §8.6).

Sources: Rennala SGD, arXiv 2305.12387 (authors' code ``RennalaStepSize``) [uncertain:
constants]; Ringmaster ASGD, arXiv 2501.16168 [paper]; Naive Optimal ASGD (Ringmaster ASGD
Alg. 3) [paper] with stepsize [uncertain].
"""

from __future__ import annotations

import numpy as np

from .equilibrium import m_star
from .validation import ceil_count, check_nonneg, check_positive, check_tau

__all__ = [
    "naive_optimal_params",
    "rennala_params",
    "ringmaster_params",
]


def rennala_params(L, sigma2, eps) -> dict:
    """Rennala SGD batch size and stepsize: ``S = max{1, ceil(sigma2/eps)}``,
    ``gamma = min{1/L, eps S/(2 L sigma2)}`` (``1/L`` when ``sigma2 = 0``).

    Source: the authors' code ``RennalaStepSize`` for Rennala SGD (arXiv 2305.12387, as used in
    Ringmaster ASGD arXiv 2501.16168), consistent with the paper [uncertain: constants]
    (homogeneous §6.4). Returns ``dict(B=S, S=S, gamma=gamma)``; the Ringmaster paper calls the
    batch size ``B``. ``ceil`` forgives float noise (``1.1/0.1`` gives 11, not 12).
    """
    ell = check_positive("L", L)
    s2 = check_nonneg("sigma2", sigma2)
    e = check_positive("eps", eps)
    S = ceil_count(s2 / e)
    gamma = 1.0 / ell if s2 == 0 else min(1.0 / ell, e * S / (2.0 * ell * s2))
    return {"B": S, "S": S, "gamma": gamma}


def ringmaster_params(L, sigma2, eps) -> dict:
    """Ringmaster ASGD delay threshold and stepsize: ``R = max{1, ceil(sigma2/eps)}``,
    ``gamma = min{1/(2 R L), eps/(4 L sigma2)}`` (``1/(2RL)`` when ``sigma2 = 0``).

    Source: Ringmaster ASGD, arXiv 2501.16168 [paper] (homogeneous §8.6). ``R`` does not depend
    on the times. Returns ``dict(R=R, gamma=gamma)``.
    """
    ell = check_positive("L", L)
    s2 = check_nonneg("sigma2", sigma2)
    e = check_positive("eps", eps)
    R = ceil_count(s2 / e)
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
    t = check_tau(tau)
    ell = check_positive("L", L)
    s2 = check_nonneg("sigma2", sigma2)
    e = check_positive("eps", eps)
    m = m_star(t, s2, e)
    gamma = 1.0 / (2.0 * m * ell)
    if s2 > 0:
        gamma = min(gamma, e / (4.0 * ell * s2))
    mask = np.zeros(t.size, dtype=bool)
    mask[np.argsort(t, kind="stable")[:m]] = True
    return {"m": m, "gamma": gamma, "mask": mask}
