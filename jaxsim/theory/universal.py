"""Universal computation model: Ringmaster block times under time-varying speeds
(homogeneous.md §8.6, §11.4; README §5.4).

Sources: universal computation model, arXiv 2408.04929; Ringmaster ASGD, arXiv
2501.16168, Lemma 5.1 [draft]; bisection [derived]; piecewise speed integral [project choice].
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .validation import check_at_least_one, check_nonneg, check_positive, check_tau, check_vector

__all__ = [
    "piecewise_speed_integral",
    "universal_block_time",
    "universal_time_bound",
]


def piecewise_speed_integral(breaks, nu) -> Callable[[int, float], float]:
    """``W(i, t) = int_0^t nu_i(u) du`` for piecewise-constant speed factors (README §5.4).

    ``breaks``: ``0 = b_0 < b_1 < ... < b_M``; ``nu``: shape ``(n, M+1)`` (or ``(M+1,)`` for
    one shared profile), value ``nu[i, l]`` on ``[b_l, b_{l+1})``, last value held to ``+inf``.
    ``nu >= 0``; zero is an outage. Returns a callable for :func:`universal_block_time`
    [project choice].
    """
    b = check_vector("breaks", breaks)
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

    Ringmaster ASGD (arXiv 2501.16168) Lemma 5.1, model of arXiv 2408.04929 [draft];
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
    r = check_at_least_one("R", R)
    t0 = check_nonneg("T0", T0)
    q = check_positive("quarter", quarter)
    ts = check_tau(tau)
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
    k = check_nonneg("K", K)
    r = check_at_least_one("R", R)
    T = 0.0
    for _ in range(math.ceil(k / r)):
        T += universal_block_time(r, T, tau, W, **kwargs)
        if not math.isfinite(T):
            return math.inf
    return T
