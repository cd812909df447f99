"""Heterogeneous data: frequency weights, minimisers and time complexities (heterogeneous.md §1–§6).

Worker ``i`` samples only ``grad f_i``; the objective is ``f = (1/n) sum_i f_i``. Time
complexities below are big-O in the fixed model with constants dropped; ``tau`` may be in any
order (sorted internally); ``tau_n = max tau``, ``tau_avg = mean tau``. Papers: Ringleader ASGD
arXiv 2509.22860; Malenia SGD arXiv 2305.12387 (Method 6); IA²SGD arXiv 2405.16966; Rescaled
ASGD arXiv 2605.13434; Concurrent ASGD arXiv 2206.08307.

Tags per function: [paper], [derived], [uncertain], **DIFF** (see :mod:`jaxsim.theory`).
"""

from __future__ import annotations

import math

import numpy as np

from .validation import check_choice, check_nonneg, check_positive, check_tau

__all__ = [
    "concurrent_asgd_time",
    "frequency_weights",
    "het_lower_bound",
    "ia2sgd_time",
    "malenia_time",
    "naive_minibatch_time",
    "quadratic_minimizers",
    "rescaled_asgd_time",
    "rescaled_stepsizes",
    "ringleader_time",
]


def frequency_weights(tau) -> np.ndarray:
    """Update frequencies of vanilla ASGD: ``p_i = tau_i^{-1} / sum_j tau_j^{-1}`` (original
    order; ``sum p = 1``; a hung worker ``tau_i = +inf`` gets ``p_i = 0``).

    Heterogeneous §6.2 [derived from the Rescaled ASGD claim, arXiv 2605.13434]: with a constant
    stepsize, worker ``i`` supplies the fraction ``p_i`` of the updates, so vanilla ASGD targets
    the frequency-weighted objective ``f_freq = sum_i p_i f_i`` instead of ``f = (1/n) sum_i f_i``.
    Under random times pass the **mean** durations ``E D[i, .]`` (renewal theorem).
    """
    inv = 1.0 / check_tau(tau)
    return inv / inv.sum()


def quadratic_minimizers(h, a, tau) -> dict:
    """Minimisers of ``f`` and of ``f_freq`` for quadratics ``f_i(x) = (h_i/2)(x - a_i)^2``.

    Heterogeneous §6.2 [derived]: ``x_eq = sum_i h_i a_i / sum_i h_i`` minimises
    ``f = (1/n) sum_i f_i`` (the limit of Rescaled ASGD, and of any unbiased method), while
    ``x_freq = sum_i p_i h_i a_i / sum_i p_i h_i`` with ``p`` = :func:`frequency_weights` minimises
    the **frequency-weighted objective** ``f_freq = sum_i p_i f_i`` that vanilla ASGD with a
    constant stepsize targets (staleness and finite ``gamma`` shift the limits slightly).

    Args: ``a`` per worker, shape ``(n,)`` (1-D) or ``(n, d)`` (diagonal quadratics, formula
    applied per coordinate); ``h >= 0`` (curvatures) broadcasts against ``a`` (scalar, ``(n,)``
    or ``(n, d)``; the first axis is the worker); ``tau`` shape ``(n,)``. Under random times pass
    mean durations. Returns ``dict(x_eq, x_freq, p)``: floats for 1-D ``a``, arrays ``(d,)``
    otherwise.
    """
    try:
        av = np.asarray(a, dtype=np.float64)
        hv = np.asarray(h, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("a and h must be arrays of real numbers") from None
    if av.ndim not in (1, 2) or av.shape[0] == 0:
        raise ValueError(f"a must have shape (n,) or (n, d) with n >= 1, got {av.shape}")
    if not np.all(np.isfinite(av)):
        raise ValueError("a must be finite")
    n = av.shape[0]
    if hv.ndim >= 1 and hv.shape[0] != n:
        raise ValueError(f"h: got {hv.shape[0]} rows for n={n} workers")
    if hv.ndim > av.ndim:
        raise ValueError(f"h must broadcast against a of shape {av.shape}, got {hv.shape}")
    if hv.ndim == 1 and av.ndim == 2:
        hv = hv[:, None]
    try:
        hv, av = np.broadcast_arrays(hv, av)
    except ValueError:
        raise ValueError(f"h must broadcast against a of shape {av.shape}") from None
    if not np.all(np.isfinite(hv)) or np.any(hv < 0):
        raise ValueError("h must be finite and >= 0")
    p = frequency_weights(tau)
    if p.size != n:
        raise ValueError(f"tau: got {p.size} values for n={n} workers")
    pw = p.reshape((n,) + (1,) * (av.ndim - 1))
    den_eq = hv.sum(axis=0)
    den_freq = (pw * hv).sum(axis=0)
    if np.any(den_eq <= 0):
        raise ValueError("h: sum_i h_i must be > 0 (in every coordinate)")
    if np.any(den_freq <= 0):
        raise ValueError("h: sum_i p_i h_i must be > 0 (in every coordinate)")
    x_eq = (hv * av).sum(axis=0) / den_eq
    x_freq = (pw * hv * av).sum(axis=0) / den_freq
    if av.ndim == 1:
        x_eq, x_freq = float(x_eq), float(x_freq)
    return {"x_eq": x_eq, "x_freq": x_freq, "p": p}


_TAU_REFS = ("harmonic", "fastest", "slowest", "mean")


def rescaled_stepsizes(gamma, tau, ref: str = "harmonic") -> np.ndarray:
    """Rescaled ASGD per-worker stepsizes ``gamma_i = gamma tau_i / tau_ref`` (original order).

    Heterogeneous §6.1, Rescaled ASGD (arXiv 2605.13434): stepsize **proportional** to the
    worker's computation time [paper] (**DIFF**: one poster line writes ``tau^{-1}``; the abstract
    and the equal-aggregate argument need ``tau``). Then ``p_i gamma_i`` is the same for every
    worker (:func:`frequency_weights`), so the iteration targets ``f`` [derived].
    ``tau_ref`` [uncertain: the paper's normalisation is not known]: ``"harmonic"`` (default)
    ``tau_H = n / sum_j 1/tau_j``, which keeps the total stepsize per unit time
    ``sum_i gamma_i/tau_i = gamma sum_j 1/tau_j`` of vanilla ASGD [derived]; ``"fastest"``
    ``min tau``; ``"slowest"`` ``max tau``; ``"mean"`` ``tau_avg``. Under random times pass the
    mean durations (default of the spec) [uncertain]. ``tau`` must be finite.
    """
    g = check_positive("gamma", gamma)
    t = check_tau(tau)
    if not np.all(np.isfinite(t)):
        raise ValueError("tau: times must be finite for rescaled stepsizes")
    ref = check_choice("ref", ref, _TAU_REFS)
    tau_ref = {"harmonic": lambda: t.size / np.sum(1.0 / t), "fastest": t.min,
               "slowest": t.max, "mean": t.mean}[ref]()
    return g * t / float(tau_ref)


def _het_problem(lname, L, Delta, sigma2, eps):
    return (check_positive(lname, L), check_nonneg("Delta", Delta), check_nonneg("sigma2", sigma2),
            check_positive("eps", eps))


def het_lower_bound(tau, L_f, Delta, sigma2, eps) -> float:
    """Optimal time under heterogeneous data (fixed model), the lower bound
    ``T_het = (L_f Delta/eps) (tau_n + tau_avg sigma2/(n eps))``.

    Heterogeneous §1; Malenia SGD, arXiv 2305.12387, and the Ringleader ASGD table, arXiv
    2509.22860 [paper]. ``L_f`` is the smoothness constant of ``f``. Constants dropped (Theta).
    Unlike the homogeneous :func:`optimal_time`, every worker's data is needed, so ``tau_n``
    (the slowest time) enters and the noise term uses the arithmetic mean.
    """
    t = check_tau(tau)
    ell, d, s2, e = _het_problem("L_f", L_f, Delta, sigma2, eps)
    return float(ell * d / e * (t.max() + t.mean() * s2 / (t.size * e)))


def naive_minibatch_time(tau, L_f, Delta, sigma2, eps) -> float:
    """Naive Minibatch SGD: ``(L_f Delta/eps) (tau_n + tau_n sigma2/(n eps))``.

    Heterogeneous §1–§2, the Ringleader ASGD table, arXiv 2509.22860 [paper]. Constants dropped.
    ``>=`` :func:`het_lower_bound`, with equality iff all times are equal (or ``sigma2 = 0``)
    [derived]. Same formula as the homogeneous :func:`minibatch_time`.
    """
    t = check_tau(tau)
    ell, d, s2, e = _het_problem("L_f", L_f, Delta, sigma2, eps)
    return float(ell * d / e * t.max() * (1.0 + s2 / (t.size * e)))


def ia2sgd_time(tau, L_max, Delta, sigma2, eps) -> float:
    """IA²SGD: ``(L_max Delta/eps) (tau_n + tau_n sigma2/(n eps))``, ``L_max = max_i L_{f_i}``.

    Heterogeneous §1, §4, the Ringleader ASGD table (arXiv 2509.22860) for IA²SGD (arXiv
    2405.16966) [paper]. Constants dropped. Slow workers' stale slots put ``tau_n`` in the noise
    term, and the bound uses ``L_max >= L_f``.
    """
    t = check_tau(tau)
    ell, d, s2, e = _het_problem("L_max", L_max, Delta, sigma2, eps)
    return float(ell * d / e * t.max() * (1.0 + s2 / (t.size * e)))


def malenia_time(tau, L_f, Delta, sigma2, eps) -> float:
    """Malenia SGD: ``(L_f Delta/eps) (tau_n + tau_avg sigma2/(n eps))`` — optimal, equal to
    :func:`het_lower_bound`.

    Heterogeneous §3.1, Malenia SGD, arXiv 2305.12387 [paper]; with the theory batch
    :func:`malenia_batch` and ``gamma = Theta(1/L)`` [uncertain: exact constants]. Also optimal
    in the universal model [paper: arXiv 2408.04929]. Constants dropped.
    """
    return het_lower_bound(tau, L_f, Delta, sigma2, eps)


def ringleader_time(tau, L, Delta, sigma2, eps) -> float:
    """Ringleader ASGD: ``O((L Delta/eps) (tau_n + tau_avg sigma2/(n eps)))`` with ``L`` the
    constant of Ringleader's Assumption 2 (``L_f <= L <= L_max``).

    Heterogeneous §5.6, Ringleader ASGD, arXiv 2509.22860 [paper]. **DIFF** [uncertain]: the
    poster's table writes ``L_f`` (optimal), the theorem uses ``L >= L_f`` (optimal when
    ``L = O(L_f)``), and the Rescaled ASGD poster lists Ringleader as not asymptotically optimal
    (§1, §6.4). Overlays should use ``L`` here and :func:`het_lower_bound` with ``L_f``.
    Constants dropped.
    """
    t = check_tau(tau)
    ell, d, s2, e = _het_problem("L", L, Delta, sigma2, eps)
    return float(ell * d / e * (t.max() + t.mean() * s2 / (t.size * e)))


def rescaled_asgd_time(tau, L, L_max, Delta, sigma2, eps, zeta2, rho) -> float:
    """Rescaled ASGD worst-case time (fixed model), the four-term bound

    ``(Delta L sigma2/(n eps^2)) tau_A
    + (Delta L_max sqrt(sigma2 + zeta2)/eps^{1.5}) (tau_max/tau_H) tau_A
    + (Delta L_max rho/eps) (tau_max/tau_H) tau_max + (Delta L/eps) tau_max``,

    ``tau_A = mean tau``, ``tau_H = n / sum 1/tau_i``. Heterogeneous §6.3, Rescaled ASGD poster,
    arXiv 2605.13434 [paper]; ``tau_H`` as the harmonic mean [uncertain: not defined on the
    poster]; theory stepsizes not known [uncertain]. Assumptions: ``f`` is ``L``-smooth, each
    ``f_i`` ``L_max``-smooth, ``||grad f_i(x)||^2 <= zeta2 + rho^2 ||grad f(x)||^2`` (``zeta2``
    is ``zeta^2``; ``rho >= 0``; equal ``f_i`` give ``zeta2 = 0, rho = 1``). The leading
    ``eps^{-2}`` term matches :func:`het_lower_bound`'s noise term. Constants dropped.
    """
    t = check_tau(tau)
    ell, d, s2, e = _het_problem("L", L, Delta, sigma2, eps)
    lmax = check_positive("L_max", L_max)
    z2 = check_nonneg("zeta2", zeta2)
    r = check_nonneg("rho", rho)
    n = t.size
    tau_a, tau_max = t.mean(), t.max()
    tau_h = n / np.sum(1.0 / t)
    ratio = tau_max / tau_h
    return float(d * ell * s2 / (n * e * e) * tau_a
                 + d * lmax * math.sqrt(s2 + z2) / e ** 1.5 * ratio * tau_a
                 + d * lmax * r / e * ratio * tau_max
                 + d * ell / e * tau_max)


def concurrent_asgd_time(tau, L, Delta, sigma2, eps, zeta2) -> float:
    """Concurrent ASGD (arXiv 2206.08307) under ``zeta2``-similarity
    ``||grad f_i - grad f||^2 <= zeta2``: ``(L Delta/eps) (tau_max + tau_max (sigma2 + zeta2)/(n eps))``.

    Leading term ``Delta L (sigma2 + zeta2) tau_max/(n eps^2)`` [paper: Rescaled ASGD poster,
    arXiv 2605.13434, heterogeneous §1, §6.4]; the lower-order ``(L Delta/eps) tau_max`` term
    [uncertain: derived from concurrency ``n`` (``n L Delta/eps`` iterations) and the throughput
    ``n/tau_max`` of uniform job assignment]. Constants dropped. With ``zeta2 = 0`` it equals
    :func:`naive_minibatch_time`.
    """
    t = check_tau(tau)
    ell, d, s2, e = _het_problem("L", L, Delta, sigma2, eps)
    z2 = check_nonneg("zeta2", zeta2)
    return float(ell * d / e * t.max() * (1.0 + (s2 + z2) / (t.size * e)))
