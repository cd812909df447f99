"""Task allocation (ATA, FTA, UTA) (heterogeneous.md §7).

ATA: Adaptive Task Allocation, arXiv 2502.00775. Each
iteration needs ``B`` tasks; ``a in N^n`` with ``sum a = B``; worker ``i`` runs its ``a_i``
tasks sequentially, mean task time ``mu_i``.

Tags per function: [paper] (poster), [code] (authors' code), [derived], [uncertain], **DIFF**.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .validation import (
    TIE_RTOL,
    check_choice,
    check_counts,
    check_nonneg,
    check_per_worker,
    check_pos_int,
    check_positive,
    check_vector,
)

__all__ = [
    "Allocation",
    "ata_scores",
    "greedy_allocation",
    "optimal_allocation",
    "proxy_loss",
    "uta_allocation",
]


def _rng(rng):
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
    return rng


class Allocation(NamedTuple):
    """A task allocation ``a`` (int64 counts per worker, original order) and its value."""
    a: np.ndarray
    value: float


def proxy_loss(a, mu) -> float:
    """ATA proxy loss ``l(a, mu) = max_{i: a_i > 0} a_i mu_i`` (``0.0`` when ``a = 0``).

    Heterogeneous §7.1, ATA (arXiv 2502.00775) [paper]; ``l(a, mu) <= E C(a) <= (1 + 4 eta ln B)
    l(a, mu)``, ``eta = max_i alpha_i/mu_i`` [uncertain: exact factor]. ``a``: integer counts;
    ``mu >= 0`` (``+inf`` allowed for workers with ``a_i = 0``).
    """
    av = check_counts("a", a)
    m = check_per_worker("mu", mu, av.size)
    if np.any(m < 0):
        raise ValueError("mu must be >= 0")
    used = av > 0
    if not np.any(used):
        return 0.0
    return float(np.max(av[used] * m[used]))


def _scores_vector(name, s):
    v = check_vector(name, s)
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError(f"{name} must be finite and >= 0")
    return v


def optimal_allocation(mu, B) -> Allocation:
    """Exact minimiser of ``max_i a_i mu_i`` over ``{a in N^n : sum a = B}`` for ``mu_i > 0``.

    Heterogeneous §7.3 [derived]: the optimum is ``v_B``, the ``B``-th smallest element of the
    multiset ``{j mu_i : i in [n], j >= 1}``; taking the ``B`` smallest elements (ties to the
    lower worker index) attains it, ``a_i`` = number of taken elements of worker ``i``. Used by
    FTA (§7.4) with the true means. Returns ``Allocation(a, value=v_B)``; ``O(B log n)``.
    """
    m = _scores_vector("mu", mu)
    if np.any(m <= 0):
        raise ValueError("mu must be > 0")
    b = check_pos_int("B", B)
    import heapq
    heap = [(float(m[i]), i) for i in range(m.size)]
    heapq.heapify(heap)
    a = np.zeros(m.size, dtype=np.int64)
    value = 0.0
    for _ in range(b):
        value, i = heapq.heappop(heap)
        a[i] += 1
        heapq.heappush(heap, ((a[i] + 1) * float(m[i]), i))
    return Allocation(a, float(value))


def _sampled_mask(sampled, n):
    if sampled is None:
        return np.ones(n, dtype=bool)
    try:
        arr = np.asarray(sampled)
    except (TypeError, ValueError):
        raise ValueError("sampled must be a boolean array or per-worker counts") from None
    if arr.dtype == bool:
        mask = arr.reshape(-1)
        if mask.size == 1 and n != 1:
            mask = np.full(n, bool(mask[0]))
        if mask.size != n or arr.ndim > 1:
            raise ValueError(f"sampled: got shape {arr.shape} for n={n} workers")
        return mask
    return check_per_worker("sampled", check_counts("sampled", arr), n) > 0


def greedy_allocation(s, B, sampled=None, rng=None) -> np.ndarray:
    """Greedy min-max allocation of ``B`` tasks for scores ``s`` (the authors' "harmonia").

    Heterogeneous §7.3 [code; random choices: project choice]:

    1. each never-sampled worker (``sampled[i]`` false) gets one task; if there are more than
       ``B`` of them, a random subset of ``B`` (the lowest indices when ``rng`` is None);
    2. else, if some scores are 0, the remaining tasks are spread as evenly as possible over the
       zero-score workers, the remainder ``r mod z`` going to random distinct ones (the lowest
       indices when ``rng`` is None); ATA's LCB gives never-sampled workers score 0;
    3. otherwise tasks are added one at a time, each to the worker whose increment gives the
       smallest resulting ``max_j a_j s_j``; ties (relative ``1e-12``): fewest workers attaining
       that max, then uniformly random via ``rng`` (lowest index when ``rng`` is None).

    For ``s > 0`` (all sampled) step 3 attains the optimum ``v_B`` of :func:`optimal_allocation`
    [derived], possibly with a different allocation. Args: ``s`` finite ``>= 0`` per worker;
    ``B >= 1``; ``sampled`` a bool mask or the counts ``K_i`` (sampled iff ``K_i > 0``), default
    all sampled; ``rng`` a ``numpy.random.Generator`` or None. Returns int64 counts summing to
    ``B``.
    """
    sc = _scores_vector("s", s)
    b = check_pos_int("B", B)
    gen = _rng(rng)
    n = sc.size
    mask = _sampled_mask(sampled, n)
    a = np.zeros(n, dtype=np.int64)
    fresh = np.flatnonzero(~mask)
    if fresh.size:
        if fresh.size > b:
            fresh = np.sort(gen.choice(fresh, size=b, replace=False)) if gen is not None \
                else fresh[:b]
        a[fresh] = 1
    left = b - int(a.sum())
    if left == 0:
        return a
    zero = np.flatnonzero(sc == 0)
    if zero.size:
        q, r = divmod(left, zero.size)
        a[zero] += q
        if r:
            extra = gen.choice(zero, size=r, replace=False) if gen is not None else zero[:r]
            a[extra] += 1
        return a
    for _ in range(left):
        cur = a * sc
        cur_max = float(cur.max())
        res = np.maximum(cur_max, (a + 1) * sc)
        best = float(res.min())
        cand = np.flatnonzero(res <= best + TIE_RTOL * best)
        if cand.size > 1:
            nmax = np.empty(cand.size, dtype=np.int64)
            for c_idx, j in enumerate(cand):
                vals = cur.copy()
                vals[j] = (a[j] + 1) * sc[j]
                top = float(vals.max())
                nmax[c_idx] = int(np.sum(vals >= top - TIE_RTOL * top))
            cand = cand[nmax == nmax.min()]
        j = int(cand[0]) if (gen is None or cand.size == 1) else int(gen.choice(cand))
        a[j] += 1
    return a


def ata_scores(mu_hat, K, k, alpha, constants: str = "poster", empirical: bool = False,
               eta=None) -> np.ndarray:
    """ATA lower-confidence-bound scores ``s_i`` for iteration ``k >= 1`` (heterogeneous §7.2).

    With ``ell = ln(2 k^2)`` and ``w_i = sqrt(ell/K_i) + ell/K_i``:

    * ``"poster"`` (default) [paper: poster, ATA arXiv 2502.00775]:
      ``s_i = max{mu_hat_i - 2 alpha w_i, 0}``; ATA-Empirical (``empirical=True``, needs ``eta``,
      an upper bound on ``max alpha_i/mu_i``): ``s_i = mu_hat_i max{1 - 2 eta w_i, 0}``;
    * ``"code"`` (**DIFF**) [code ``ATA``, ``ATA_bandit``]: ``s_i = max{mu_hat_i - 4e alpha w_i,
      0}`` (experiments use ``alpha = 2 max_i mu_i``); empirical: ``alpha -> 2 mu_hat_i``, i.e.
      ``s_i = max{mu_hat_i - 8e mu_hat_i w_i, 0}`` (no ``eta``).

    Never-sampled workers (``K_i = 0``) have confidence width ``+inf`` (the code's ``-inf``
    score) and score ``0`` in every variant; their ``mu_hat`` is ignored (NaN allowed). Scores
    are nondecreasing in ``K`` for fixed ``mu_hat`` [derived]. ``alpha`` may be None only for the
    empirical variants. Feed the result to :func:`greedy_allocation` with ``sampled=K``.
    """
    Kv = check_counts("K", K)
    n = Kv.size
    try:
        mh = np.asarray(mu_hat, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError("mu_hat must be an array of real numbers") from None
    if mh.size == 1 and n != 1:
        mh = np.full(n, mh[0])
    if mh.size != n:
        raise ValueError(f"mu_hat: got {mh.size} values for n={n} workers")
    seen = Kv > 0
    if np.any(~np.isfinite(mh[seen])) or np.any(mh[seen] < 0):
        raise ValueError("mu_hat must be finite and >= 0 for sampled workers")
    kk = check_pos_int("k", k)
    constants = check_choice("constants", constants, ("poster", "code"))
    if not isinstance(empirical, (bool, np.bool_)):
        raise ValueError(f"empirical must be a bool, got {empirical!r}")  # noqa: TRY004
    if empirical and constants == "poster":
        factor = 2.0 * check_positive("eta", eta)
    elif empirical:
        factor = 8.0 * math.e
    else:
        if alpha is None:
            raise ValueError("alpha is required unless empirical=True")
        factor = (2.0 if constants == "poster" else 4.0 * math.e) * check_nonneg("alpha", alpha)
    ell = math.log(2.0 * kk * kk)
    s = np.zeros(n)
    ks = Kv[seen].astype(np.float64)
    w = np.sqrt(ell / ks) + ell / ks
    m = mh[seen]
    s[seen] = m * np.maximum(1.0 - factor * w, 0.0) if empirical \
        else np.maximum(m - factor * w, 0.0)
    return s


def uta_allocation(n, B, rng=None) -> np.ndarray:
    """UTA (uniform task allocation): ``floor(B/n)`` tasks each plus one extra task for
    ``B mod n`` distinct random workers (``B < n``: ``B`` random distinct workers, one each).

    Heterogeneous §7.4, ATA (arXiv 2502.00775) [paper; code]; re-drawn each iteration by the
    caller. ``rng`` a ``numpy.random.Generator``; None takes the lowest indices (deterministic).
    """
    m = check_pos_int("n", n)
    b = check_pos_int("B", B)
    gen = _rng(rng)
    q, r = divmod(b, m)
    a = np.full(m, q, dtype=np.int64)
    if r:
        extra = gen.choice(m, size=r, replace=False) if gen is not None else np.arange(r)
        a[extra] += 1
    return a
