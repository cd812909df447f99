"""Malenia SGD and Ringleader ASGD parameters (heterogeneous.md §3.1, §5.6).

Sources: Malenia SGD, arXiv 2305.12387 (Method 6), stop rule as restated by
arXiv 2609.17483 [paper]; batch rule [uncertain]; Ringleader ASGD, arXiv 2509.22860
[paper], stepsize constants [uncertain].
"""

from __future__ import annotations

import numpy as np

from .validation import (
    ceil_count,
    check_choice,
    check_counts,
    check_nonneg,
    check_pos_int,
    check_positive,
    check_vector,
)

__all__ = [
    "harmonic_count",
    "malenia_batch",
    "malenia_stop",
    "ringleader_delay_bound",
    "ringleader_stepsize",
]


def malenia_batch(sigma2, eps, n, rule: str = "max_n") -> int:
    """Malenia theory batch ``S``: ``"max_n"`` (default) ``max{ceil(sigma2/eps), n}``, or
    ``"max_1"`` ``max{1, ceil(sigma2/eps)}``.

    Heterogeneous §3.1, Malenia SGD (arXiv 2305.12387) [uncertain: the original statement is not
    confirmed]; both give the same rounds up to the stop rule's off-by-one [derived].
    ``ceil`` forgives float noise (``1.1/0.1`` gives 11).
    """
    s2 = check_nonneg("sigma2", sigma2)
    e = check_positive("eps", eps)
    m = check_pos_int("n", n)
    rule = check_choice("rule", rule, ("max_n", "max_1"))
    S = ceil_count(s2 / e) if s2 > 0 else 1
    return max(S, m) if rule == "max_n" else S


def malenia_stop(B, S, rule: str = "gt") -> bool:
    """Whether Malenia's harmonic-mean stopping rule fires for per-worker counts ``B``.

    Heterogeneous §3.1 [paper: arXiv 2609.17483, restating Malenia of arXiv 2305.12387]:
    with ``H = ((1/n) sum_i 1/B_i)^{-1}`` and ``1/0 = inf`` (so ``H = 0`` until every ``B_i >= 1``,
    i.e. the rule never fires before every worker has contributed [derived]):

    * ``"gt"`` (paper form, default): fire iff ``H > S/n``;
    * ``"geq"`` (**DIFF** option ``stop_rule="geq"``): fire iff ``H >= S/n``.

    With ``n = 1``, ``"gt"`` fires at ``B = S + 1`` and ``"geq"`` at ``B = S``; ``"gt"`` with
    ``S < n`` (or ``"geq"`` with ``S <= n``) fires exactly when every ``B_i >= 1`` [derived].
    The comparison ``n^2 > S sum_i 1/B_i`` is done in exact rational arithmetic near equality.
    ``B``: integer counts ``>= 0``; ``S > 0``.
    """
    b = check_counts("B", B)
    s = check_positive("S", S)
    rule = check_choice("rule", rule, ("gt", "geq"))
    if np.any(b == 0):
        return False
    n = b.size
    # fire iff n^2 (>|>=) S * sum 1/B_i; float first, exact rationals near the boundary
    lhs, rhs = float(n * n), s * float(np.sum(1.0 / b))
    if abs(lhs - rhs) > 1e-9 * max(lhs, rhs):
        return lhs > rhs
    from fractions import Fraction
    vals, cnt = np.unique(b, return_counts=True)
    inv_sum = sum(Fraction(int(c), int(v)) for v, c in zip(vals, cnt))
    lhs_q, rhs_q = Fraction(n * n), Fraction(s) * inv_sum
    return lhs_q > rhs_q if rule == "gt" else lhs_q >= rhs_q


def harmonic_count(b) -> float:
    """Harmonic mean of per-worker counts ``((1/n) sum_i 1/b_i)^{-1}`` (``0.0`` if some
    ``b_i = 0``, since ``1/0 = inf``).

    The quantity in Malenia's stop rule and Ringleader's ``B`` (heterogeneous §3.1, §5.6;
    arXiv 2305.12387, arXiv 2509.22860) [paper]. ``b`` finite ``>= 0`` (reals allowed).
    """
    v = check_vector("b", b)
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError("b must be finite and >= 0")
    if np.any(v == 0):
        return 0.0
    return float(v.size / np.sum(1.0 / v))


def ringleader_delay_bound(n) -> int:
    """Ringleader delay bound ``2n - 2`` (every used gradient's delay ``delta_i^k <= 2n - 2``).

    Heterogeneous §5.6, Ringleader ASGD, arXiv 2509.22860 [paper] (own-point semantics: at most
    ``n - 1`` updates after the worker's update in one round plus ``n - 1`` before it in the next
    [derived]).
    """
    return 2 * check_pos_int("n", n) - 2


def ringleader_stepsize(n, L, eps, sigma2, B) -> float:
    """Ringleader theory stepsize ``gamma = min{1/(8 n L), eps B/(10 L sigma2)}`` (``1/(8nL)``
    when ``sigma2 = 0``).

    Heterogeneous §5.6, Ringleader ASGD, arXiv 2509.22860 [uncertain: constants]. ``B > 0`` is a
    lower bound on the harmonic mean of per-worker counts (:func:`harmonic_count`); in the fixed
    model ``B >= tau_n/(2 tau_avg)`` [uncertain]. ``L`` is the constant of Assumption 2.
    """
    m = check_pos_int("n", n)
    ell = check_positive("L", L)
    e = check_positive("eps", eps)
    s2 = check_nonneg("sigma2", sigma2)
    b = check_positive("B", B)
    gamma = 1.0 / (8.0 * m * ell)
    if s2 > 0:
        gamma = min(gamma, e * b / (10.0 * ell * s2))
    return gamma
