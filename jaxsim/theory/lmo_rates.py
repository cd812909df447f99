"""Ringmaster LMO: norm constant, constant-parameter and parameter-agnostic (PA) rules, rates and
time bounds (``lmo_vr_local.md`` §2.1, §2.5–§2.7).

Source: Ringmaster LMO, arXiv 2605.18174, via the April-2026 draft in the authors' code
repository [draft] (the final paper may state other constants); the code form of the PA
schedule from the authors' ``ParameterAgnosticRingmasterMuonASGD`` [code]. Tags per function:
[draft], [code], [derived], [uncertain] (see :mod:`jaxsim.theory`).

Conventions that differ from the other theory modules (they follow the paper):

* ``eps`` bounds the **non-squared** dual norm, ``min_k E||grad f(x^k)||_* <= eps``.
* ``sigma`` is the noise **standard deviation** ``sigma`` (Euclidean,
  ``E||grad f(x; xi) - grad f(x)||_2^2 <= sigma^2``), not ``sigma2``.
* ``rho`` is the norm constant ``||v||_* <= rho ||v||_2`` (:func:`rho`).
* ``O(.)`` bounds are returned without hidden constants; logarithms are natural.

Block times reuse :func:`~jaxsim.theory.homogeneous_times.ringmaster_block_time` (fixed model,
``t(R) = 2 min_m H_m (1 + R/m)``) and :func:`~jaxsim.theory.universal.universal_block_time`
(universal model, ``t(R; T0)``). The fixed-``R`` bounds are
:func:`~jaxsim.theory.homogeneous_times.ringmaster_time_bound` and
:func:`~jaxsim.theory.universal.universal_time_bound` themselves; this module adds schedules.

With constant speeds ``v_i = 1/tau_i`` the universal block time ``t_u(R)`` does not equal the
fixed-model ``t(R)``; it is sandwiched, ``t(R) <= t_u(R) <= 2 t(R)`` [derived: at
``t = 4 H_m (1 + R/m)`` the ``m`` fastest workers finish ``>= R`` quarter-rate jobs; conversely
``R`` jobs by time ``t`` need ``t >= 4 max(tau_(m), R H_m/m)`` for some ``m``, and
``min_m H_m (1 + R/m) <= 2 min_m max(tau_(m), R H_m/m)``].
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np

from .equilibrium import harmonic_prefix
from .homogeneous_times import ringmaster_block_time, ringmaster_time_bound
from .universal import universal_block_time
from .validation import (
    ceil_count,
    check_choice,
    check_nonneg,
    check_pos_int,
    check_positive,
    check_scalar,
)

__all__ = [
    "LMOParams",
    "lmo_iterations",
    "lmo_params",
    "lmo_rate",
    "lmo_time",
    "pa_alpha",
    "pa_iterations",
    "pa_iterations_order",
    "pa_psi",
    "pa_rate",
    "pa_stepsize",
    "pa_threshold",
    "pa_threshold_code",
    "pa_time_order",
    "pa_universal_time_bound",
    "rho",
    "schedule_levels",
    "schedule_time_bound",
    "schedule_universal_time_bound",
    "sqrt_schedule_time_bound",
]

NORMS = ("euclidean", "sign", "spectral")


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------

def _floor_count(x: float) -> int:
    """``max(1, floor(x))`` forgiving float noise: ``2.9999999999999996 -> 3``."""
    r = round(x)
    if abs(x - r) <= 1e-12 * max(1.0, abs(x)):
        return max(1, int(r))
    return max(1, math.floor(x))


def _check_count(name: str, x) -> int:
    """An integer ``>= 0`` (integral floats accepted, ``bool`` rejected)."""
    v = check_scalar(name, x)
    if not (math.isfinite(v) and v >= 0 and v == math.floor(v)):
        raise ValueError(f"{name} must be an integer >= 0, got {x!r}")
    return int(v)


def _check_indices(name: str, k):
    """Iteration indices ``k >= 0``: returns (int64 array, was_scalar)."""
    if isinstance(k, bool):
        raise ValueError(f"{name} must hold integers >= 0, got {k!r}")
    try:
        arr = np.asarray(k, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold integers >= 0, got {k!r}") from None
    if (arr.size and (not np.all(np.isfinite(arr)) or np.any(arr < 0)
                      or np.any(arr != np.floor(arr)))):
        raise ValueError(f"{name} must hold integers >= 0, got {k!r}")
    return arr.astype(np.int64), arr.ndim == 0


def _isqrt(a: np.ndarray) -> np.ndarray:
    """Exact ``floor(sqrt(a))`` for int64 ``a >= 0`` (float sqrt corrected by one step)."""
    r = np.floor(np.sqrt(a.astype(np.float64))).astype(np.int64)
    r = np.where(r * r > a, r - 1, r)
    return np.where((r + 1) * (r + 1) <= a, r + 1, r)


def _out(arr: np.ndarray, scalar: bool, kind=float):
    return kind(arr) if scalar else arr


def _check_lmo_problem(L0, Delta0, sigma, rho_, L1):
    return (check_positive("L0", L0), check_positive("Delta0", Delta0),
            check_nonneg("sigma", sigma), check_positive("rho", rho_), check_nonneg("L1", L1))


# ----------------------------------------------------------------------------------------
# §2.1 norm constant
# ----------------------------------------------------------------------------------------

def _is_shape(x) -> bool:
    return isinstance(x, (tuple, list)) and all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in x)


def _shape_leaves(shape) -> list[tuple[int, ...]]:
    """Flatten a shape, an array (its ``.shape``), an int ``d`` or a pytree of those."""
    if hasattr(shape, "shape") and not isinstance(shape, (tuple, list)):
        return [tuple(int(s) for s in shape.shape)]
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        return [(int(shape),)]
    if _is_shape(shape):
        return [tuple(int(s) for s in shape)]
    if isinstance(shape, Mapping):
        items = list(shape.values())
    elif isinstance(shape, (tuple, list)):
        items = list(shape)
    else:
        raise ValueError(f"shape must be a shape tuple, an int, an array or a pytree of them, "
                         f"got {shape!r}")
    leaves = [leaf for item in items for leaf in _shape_leaves(item)]
    return leaves


def _block_rho2(norm: str, shp: tuple[int, ...]) -> float:
    if any(s < 1 for s in shp):
        raise ValueError(f"shape entries must be >= 1, got {shp}")
    if norm == "euclidean":
        return 1.0
    if norm == "sign":
        return float(math.prod(shp))
    if len(shp) > 2:
        raise ValueError(f"shape: the spectral norm needs a matrix (ndim <= 2), got {shp}")
    # a vector or scalar is a 1 x d matrix, whose spectral norm is the Euclidean norm
    return float(min(shp)) if len(shp) == 2 else 1.0


def rho(norm: str, shape=()) -> float:
    """Norm-equivalence constant ``rho`` with ``||v||_* <= rho ||v||_2`` (§2.1).

    Per block [derived, spec §2.1]: ``"euclidean"`` -> 1; ``"sign"`` (ball of ``l_inf``, dual
    ``l_1``) -> ``sqrt(d)``, ``d`` the number of entries; ``"spectral"`` (dual nuclear) ->
    ``sqrt(min(rows, cols))``, the worst case of ``sqrt(rank)``; a 1-D or 0-D block counts as a
    ``1 x d`` matrix, ``rho = 1``.

    ``shape`` is a shape (a tuple or list of ints, ``()`` by default), an int ``d`` (a vector),
    an array (its ``.shape``) or a pytree (list / tuple / mapping) of those; a tuple or list
    whose entries are all ints is always read as one shape. For a pytree the norm is the layer-wise product norm
    ``||x|| = max_l ||x_l||_(l)`` -- the norm whose unit ball is the product of the blocks'
    unit balls, hence whose LMO is the blockwise LMO of §2.2 with unit radii. Its dual is
    ``sum_l ||g_l||_(l),*``, so ``rho = sqrt(sum_l rho_l^2)`` by Cauchy-Schwarz, tight when
    each block's bound is [derived; the paper's constant for this case is not known,
    uncertain]. This is **not** the max over blocks: e.g. ``"sign"`` on a pytree gives
    ``sqrt(total entries)``, as for one flat vector. Per-block radii ``r_l`` (the code's
    ``sqrt(max(1, rows/cols))``) would give ``sqrt(sum_l r_l^2 rho_l^2)`` [derived]; not
    implemented here.
    """
    check_choice("norm", norm, NORMS)
    leaves = _shape_leaves(shape)
    if not leaves:
        raise ValueError("shape must hold at least one block")
    return float(math.sqrt(sum(_block_rho2(norm, s) for s in leaves)))


# ----------------------------------------------------------------------------------------
# §2.5 constant parameters
# ----------------------------------------------------------------------------------------

class LMOParams(NamedTuple):
    """Constant-parameter rule of Ringmaster LMO (§2.5): ``alpha_0`` (first step), ``alpha``
    (``k >= 1``), delay threshold ``R`` and stepsize ``eta``."""
    alpha0: float
    alpha: float
    R: int
    eta: float


def lmo_params(L0, Delta0, sigma, K, rho=1.0, L1=0.0) -> LMOParams:
    """Constant parameters for ``K`` iterations (§2.5) [draft].

    ``alpha_0 = 1``; ``alpha = min{1, Delta0^{1/2} L0^{1/2} / (rho sigma K^{1/2})}`` (1 when
    ``rho sigma = 0``); ``R = max{1, floor(1/alpha)}`` -- the coupling ``R = 1/alpha`` is the
    draft's, the integer rounding is not stated and follows the PA rule ``R_k = floor(1/alpha_k)``
    [uncertain]. Stepsize, ``L1 = 0``:
    ``eta = min{ sqrt(Delta0/(L0 K)), Delta0^{3/4} / (L0^{1/4} (rho sigma)^{1/2} K^{3/4}) }``;
    ``L1 > 0`` adds ``1/(8 L1)`` and ``Delta0^{1/2} L0^{1/2} / (8 L1 rho sigma K^{1/2})`` to the
    min. The draft's statement drops the 8s; its proof needs ``eta <= alpha/(8 L1)``, which the
    two extra terms are exactly (``min{1/(8L1), alpha_raw/(8L1)} = alpha/(8L1)``) [draft].

    ``L0, Delta0, rho > 0``; ``sigma, L1 >= 0``; ``K >= 1`` an integer. ``rho`` is :func:`rho`.
    """
    ell0, d0, sig, r, ell1 = _check_lmo_problem(L0, Delta0, sigma, rho, L1)
    k = check_pos_int("K", K)
    rs = r * sig
    # 1/alpha computed directly (not as 1/alpha) so an exact integer survives the floor
    inv_alpha = max(1.0, rs * math.sqrt(k) / math.sqrt(ell0 * d0)) if rs > 0 else 1.0
    alpha = 1.0 / inv_alpha
    terms = [math.sqrt(d0 / (ell0 * k))]
    if rs > 0:
        terms.append(d0 ** 0.75 / (ell0 ** 0.25 * math.sqrt(rs) * k ** 0.75))
    if ell1 > 0:
        terms.append(1.0 / (8.0 * ell1))
        if rs > 0:
            terms.append(math.sqrt(d0 * ell0) / (8.0 * ell1 * rs * math.sqrt(k)))
    return LMOParams(1.0, alpha, _floor_count(inv_alpha), float(min(terms)))


def lmo_rate(L0, Delta0, sigma, K, rho=1.0, L1=0.0) -> float:
    """Rate of the constant-parameter method, ``min_{k<K} E||grad f(x^k)||_* = O(.)`` (§2.5)
    [draft], constants dropped:

    ``sqrt(L0 Delta0/K) + L0^{1/4} Delta0^{1/4} (rho sigma)^{1/2} / K^{1/4}``, plus, when
    ``L1 > 0``, ``L1 Delta0/K + L1 Delta0^{1/2} rho sigma / (L0^{1/2} K^{1/2})``.
    """
    ell0, d0, sig, r, ell1 = _check_lmo_problem(L0, Delta0, sigma, rho, L1)
    k = check_pos_int("K", K)
    rs = r * sig
    out = math.sqrt(ell0 * d0 / k) + (ell0 * d0) ** 0.25 * math.sqrt(rs) / k ** 0.25
    out += ell1 * d0 / k + ell1 * math.sqrt(d0) * rs / (math.sqrt(ell0) * math.sqrt(k))
    return float(out)


def lmo_iterations(L0, Delta0, sigma, eps, rho=1.0, L1=0.0) -> float:
    """Iteration complexity ``K_eps = O(.)`` of the constant-parameter method (§2.5) [draft],
    constants dropped, returned as a real number (``ceil`` it for a count):

    ``L0 Delta0/eps^2 + L0 Delta0 (rho sigma)^2/eps^4``, plus, when ``L1 > 0``,
    ``L1 Delta0/eps + L1^2 Delta0 (rho sigma)^2 / (L0 eps^2)``. Each term is where the matching
    term of :func:`lmo_rate` drops to ``eps`` [derived].
    """
    ell0, d0, sig, r, ell1 = _check_lmo_problem(L0, Delta0, sigma, rho, L1)
    e = check_positive("eps", eps)
    rs2 = (r * sig) ** 2
    out = ell0 * d0 / e ** 2 + ell0 * d0 * rs2 / e ** 4
    out += ell1 * d0 / e + ell1 ** 2 * d0 * rs2 / (ell0 * e ** 2)
    return float(out)


def lmo_time(tau, L0, Delta0, sigma, eps, rho=1.0, L1=0.0) -> float:
    """Time of the constant-parameter method in the fixed model: ``ceil(K/R) t(R)`` with
    ``K = ceil(`` :func:`lmo_iterations` ``)`` and ``R`` of :func:`lmo_params` for that ``K``
    (§2.5, §2.7) [draft] + [uncertain] constants.

    With ``rho = 1``, ``L1 = 0`` and ``sigma^2/eps^2 >> 1``: ``R ~ sigma^2/eps^2`` and
    ``K/R ~ L0 Delta0/eps^2``, i.e. Ringmaster ASGD's optimal time with non-squared ``eps``
    (§2.7) [uncertain].
    """
    k = ceil_count(lmo_iterations(L0, Delta0, sigma, eps, rho, L1))
    p = lmo_params(L0, Delta0, sigma, k, rho, L1)
    return ringmaster_time_bound(k, p.R, tau)


# ----------------------------------------------------------------------------------------
# §2.6 parameter-agnostic schedules and rate
# ----------------------------------------------------------------------------------------

def pa_alpha(k):
    """PA momentum weight: ``alpha_0 = 1``, ``alpha_k = 1/sqrt(k)`` for ``k >= 1`` (§2.6)
    [draft]; the code's ``alpha_0 = alpha_1 = 1, alpha_k = 1/sqrt(k)`` is the same schedule
    [code]. ``k``: an integer ``>= 0`` or an array of them (returns float / float array).
    """
    a, scalar = _check_indices("k", k)
    out = 1.0 / np.sqrt(np.maximum(a, 1).astype(np.float64))
    return _out(out, scalar)


def pa_threshold(k, shift: int = 0):
    """PA delay threshold ``R_k = max(1, floor(sqrt(k + shift)))`` (§2.6) [draft].

    ``shift = 0`` (default) is the paper's ``R_k = floor(1/alpha_k) = floor(sqrt(k))`` with
    ``R_0 = 1``; ``shift = 1`` is the draft's time-lemma form ``floor(sqrt(k+1))``
    (``pa_threshold_shift=1``). Exact integer square roots. ``k``: integer(s) ``>= 0``;
    returns ``int`` / int64 array.
    """
    a, scalar = _check_indices("k", k)
    s = _check_count("shift", shift)
    out = np.maximum(1, _isqrt(a + s))
    return _out(out, scalar, int)


def pa_threshold_code(k, *, code_float: bool = False):
    """Threshold of the code's PA refresh (``ParameterAgnosticRingmasterMuonASGD``, §2.6)
    [code].

    ``k`` (integer(s) ``>= 0``) is the 0-based index of the update just performed, the one that
    brings the counter from ``k`` to ``k + 1``. Right after it, workers with ``>= R`` updates
    since their assignment are cancelled and restarted, with ``R = max(1, floor(sqrt(k)))``
    (``R = 1`` at ``k = 0``, the code's initial threshold). That is ``pa_threshold(k)``, where
    the paper's variant B refreshes after the same update against ``R_{k+1} =
    pa_threshold(k + 1)``: a one-update lag, so the code keeps ``R = 1`` for the refreshes after
    updates ``k = 0..3`` (four), the paper for ``k = 0..2`` (three).

    ``code_float=True`` reproduces the code's float evaluation ``floor(1/(1/sqrt(k)))``, which
    falls one short of ``floor(sqrt(k))`` at some perfect squares (first at ``k = 93^2 = 8649``).
    """
    a, scalar = _check_indices("k", k)
    if code_float:
        with np.errstate(divide="ignore"):  # k = 0: 1/(1/0) = 0 -> max(1, 0) = 1
            r = np.floor(1.0 / (1.0 / np.sqrt(a.astype(np.float64))))
        out = np.maximum(1, r).astype(np.int64)
    else:
        out = np.maximum(1, _isqrt(a))
    return _out(out, scalar, int)


def pa_stepsize(k, eta):
    """PA stepsize ``eta_k = eta / (k+1)^{3/4}`` (§2.6) [draft], also the code's [code].
    ``k``: integer(s) ``>= 0``; ``eta > 0`` the one tuned constant.
    """
    a, scalar = _check_indices("k", k)
    e = check_positive("eta", eta)
    out = e / (a.astype(np.float64) + 1.0) ** 0.75
    return _out(out, scalar)


def _check_pa(L0, Delta0, sigma, eta, rho_):
    return (check_positive("L0", L0), check_positive("Delta0", Delta0),
            check_nonneg("sigma", sigma), check_positive("eta", eta), check_positive("rho", rho_))


def pa_psi(L0, Delta0, sigma, eta, rho=1.0) -> float:
    """``Psi = Delta0/eta + rho sigma + L0 eta`` (§2.6) [draft]."""
    ell0, d0, sig, e, r = _check_pa(L0, Delta0, sigma, eta, rho)
    return float(d0 / e + r * sig + ell0 * e)


def pa_rate(L0, Delta0, sigma, eta, K, rho=1.0) -> float:
    """PA rate bound, explicit (§2.6) [draft], stated for ``L1 = 0``:

    ``min_{k<=K} E||grad f(x^k)||_* <= (Delta0/eta + 101 L0 eta (1 + log K)
    + 9 rho sigma (1 + log K)) / K^{1/4}``. ``K >= 1`` an integer.
    """
    ell0, d0, sig, e, r = _check_pa(L0, Delta0, sigma, eta, rho)
    k = check_pos_int("K", K)
    lg = 1.0 + math.log(k)
    return float((d0 / e + 101.0 * ell0 * e * lg + 9.0 * r * sig * lg) / k ** 0.25)


def pa_iterations_order(L0, Delta0, sigma, eta, eps, rho=1.0) -> float:
    """PA iteration complexity ``K_eps = O((Psi^4/eps^4) (log 1/eps)^4)`` (§2.6) [draft],
    constants dropped; the log factor is taken as ``max(1, log(1/eps))`` so the value stays
    positive for ``eps >= 1/e`` [uncertain]. See :func:`pa_iterations` for the exact count from
    the explicit bound.
    """
    psi = pa_psi(L0, Delta0, sigma, eta, rho)
    e = check_positive("eps", eps)
    return float((psi / e) ** 4 * max(1.0, math.log(1.0 / e)) ** 4)


def pa_iterations(L0, Delta0, sigma, eta, eps, rho=1.0) -> int:
    """Smallest ``K >= 1`` with :func:`pa_rate` ``<= eps`` [derived from §2.6].

    The PA schedules do not depend on ``K`` (an anytime method), so the bound at this ``K``
    certifies ``min_{k<=K} E||grad f(x^k)||_* <= eps``. The bound ``(A + B log K)/K^{1/4}``
    (``A >= B > 0``) rises up to ``K = exp(4 - A/B)`` and falls after it, so the answer is 1 or
    lies on the falling branch, found by doubling and integer bisection.
    """
    ell0, d0, sig, e, r = _check_pa(L0, Delta0, sigma, eta, rho)
    tol = check_positive("eps", eps)

    def f(k):
        return pa_rate(ell0, d0, sig, e, k, r)

    if f(1) <= tol:
        return 1
    B = 101.0 * ell0 * e + 9.0 * r * sig
    A = d0 / e + B
    lo = max(1, math.ceil(math.exp(min(4.0 - A / B, 700.0))))  # start of the falling branch
    if f(lo) <= tol:  # lo > 1 here, and every k < lo has f(k) >= f(1) > eps
        return lo
    hi = 2 * lo
    while f(hi) > tol:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:  # invariant: f(lo) > eps >= f(hi), f decreasing on [lo, hi]
        mid = (lo + hi) // 2
        if f(mid) <= tol:
            hi = mid
        else:
            lo = mid
    return int(hi)


def pa_time_order(tau, L0, Delta0, sigma, eta, eps, rho=1.0) -> float:
    """PA total time ``T_eps = O~( (Psi^2/eps^2) min_m H_m (1 + Psi^2/(m eps^2)) )`` (§2.7)
    [draft], constants and log factors dropped.

    From the closed form of :func:`sqrt_schedule_time_bound` at ``K = Psi^4/eps^4``:
    ``6 sum_{r<=sqrt K} min_m H_m (1 + r/m) <= 6 sqrt(K) min_m H_m (1 + sqrt(K)/m)`` [derived].
    """
    psi = pa_psi(L0, Delta0, sigma, eta, rho)
    e = check_positive("eps", eps)
    h = harmonic_prefix(tau)
    m = np.arange(1, h.size + 1, dtype=np.float64)
    s = (psi / e) ** 2
    return float(s * np.min(h * (1.0 + s / m)))


# ----------------------------------------------------------------------------------------
# §2.7 time bounds for threshold schedules
# ----------------------------------------------------------------------------------------

def schedule_levels(schedule, K) -> dict[int, int]:
    """Level sizes ``|K_r| = #{k < K : floor(R_k) = r}`` of a threshold schedule (§2.7) [draft].

    ``schedule``: a callable ``k -> R_k`` (called once per ``k = 0..K-1``, with a Python int),
    an array with at least ``K`` entries, or one number (a constant threshold). ``floor(R_k)`` must be ``>= 1`` and
    non-decreasing (the bound's hypothesis). Returns ``{r: |K_r|}`` in increasing ``r``
    (levels with ``|K_r| = 0`` omitted). ``K >= 0`` an integer.
    """
    k = _check_count("K", K)
    if callable(schedule):
        vals = [schedule(i) for i in range(k)]
    elif np.ndim(schedule) == 0:  # a constant threshold
        vals = np.full(k, schedule, dtype=object)
    else:
        vals = schedule
    try:
        arr = np.asarray(vals, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError("schedule must be a callable k -> R_k or an array of reals") from None
    if not callable(schedule):
        if np.ndim(vals) > 1:
            raise ValueError(f"schedule must be one-dimensional, got shape {np.shape(vals)}")
        if arr.size < k:
            raise ValueError(f"schedule: got {arr.size} values for K={k}")
        arr = arr[:k]
    if k == 0:
        return {}
    if not np.all(np.isfinite(arr)) or np.any(arr < 1):
        raise ValueError("schedule values must be finite and >= 1")
    fl = np.floor(arr).astype(np.int64)
    if np.any(np.diff(fl) < 0):
        raise ValueError("schedule must be non-decreasing (after floor)")
    levels, counts = np.unique(fl, return_counts=True)
    return {int(r): int(c) for r, c in zip(levels, counts)}


def schedule_time_bound(schedule, K, tau) -> float:
    """Fixed-model time bound for ``K`` updates under a non-decreasing threshold schedule:
    ``T(K) <= sum_r ceil(|K_r|/r) t(r)``, ``t(r) = 2 min_m H_m (1 + r/m)`` (§2.7) [draft].

    Levels as in :func:`schedule_levels`. A constant schedule ``R_k = R`` (integer) gives
    :func:`~jaxsim.theory.homogeneous_times.ringmaster_time_bound` ``(K, R, tau)``.
    """
    levels = schedule_levels(schedule, K)
    return float(sum(math.ceil(c / r) * ringmaster_block_time(r, tau)
                     for r, c in levels.items()))


def sqrt_schedule_time_bound(K, tau) -> float:
    """Closed form for ``R_k = floor(sqrt(k+1))`` (§2.7) [draft]:
    ``T(K) <= 6 sum_{r=1}^{floor(sqrt K)} min_m H_m (1 + r/m)``.

    Level ``r`` holds ``k = r^2-1 .. r^2+2r-1``, ``|K_r| = 2r+1``, i.e. ``ceil((2r+1)/r) = 3``
    blocks of ``t(r)``; the levels present for ``k < K`` are ``r = 1..floor(sqrt K)``, the last
    possibly partial. So the bound equals :func:`schedule_time_bound` of that schedule when
    ``K + 1`` is a perfect square and is an upper bound on it otherwise [derived].
    ``= O( sqrt(K) min_m H_m (1 + sqrt(K)/m) )``.
    """
    k = _check_count("K", K)
    return float(sum(3.0 * ringmaster_block_time(r, tau) for r in range(1, math.isqrt(k) + 1)))


def schedule_universal_time_bound(schedule, K, tau, W: Callable[[int, float], float] | None = None,
                                  **kwargs) -> float:
    """Universal-model time bound for a non-decreasing threshold schedule: levels ``r`` in
    increasing order, each ``ceil(|K_r|/r)`` blocks, ``T <- T + t(r; T)`` per block, ``t(r; T0)``
    of :func:`~jaxsim.theory.universal.universal_block_time` [derived: the per-level block
    argument of the fixed-model bound with the universal block lemma; the draft states it for
    the PA schedule only, :func:`pa_universal_time_bound`].

    A constant schedule ``R`` gives :func:`~jaxsim.theory.universal.universal_time_bound`
    ``(K, R, tau, W)``. ``W`` and ``kwargs`` as in ``universal_block_time``; returns ``inf``
    when a block never completes.
    """
    levels = schedule_levels(schedule, K)
    T = 0.0
    for r, c in levels.items():
        for _ in range(math.ceil(c / r)):
            T += universal_block_time(r, T, tau, W, **kwargs)
            if not math.isfinite(T):
                return math.inf
    return float(T)


def pa_universal_time_bound(K, tau, W: Callable[[int, float], float] | None = None,
                            **kwargs) -> float:
    """PA time bound in the universal model (§2.7) [draft]: ``S_0 = 0``,
    ``S_j = S_{j-1} + t(ceil(j/3); S_{j-1})``, ``T(K) <= S_{3 floor(sqrt K)}``.

    The same recursion as :func:`schedule_universal_time_bound` for ``R_k = floor(sqrt(k+1))``
    with every level full, i.e. equal to it when ``K + 1`` is a perfect square [derived].
    ``W`` and ``kwargs`` as in :func:`~jaxsim.theory.universal.universal_block_time`.
    """
    k = _check_count("K", K)
    S = 0.0
    for j in range(1, 3 * math.isqrt(k) + 1):
        S += universal_block_time(-(-j // 3), S, tau, W, **kwargs)
        if not math.isfinite(S):
            return math.inf
    return float(S)
