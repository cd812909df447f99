"""DP random block coordinate descent (DP-SkGD): partitions, block probabilities, noise calibration.

Spec: ``lmo_vr_local.md`` §5. Source: "Differentially Private Random Block Coordinate Descent",
arXiv 2412.17054 [paper: poster]; the calibration constant comes from DP-CD ("Differentially
Private Coordinate Descent for Composite Empirical Risk Minimization", ICML 2022, arXiv
2110.11688).

Notation: ``d`` coordinates split into ``b`` disjoint blocks ``A_1..A_b`` covering ``[d]``; each
iteration samples one block ``S = A_j`` with probability ``q_j``, so coordinate ``l`` is in ``S``
with probability ``p_l = q_{j(l)}``; ``M_l`` are the coordinate-wise smoothness constants of
``f``, ``L_U`` the Lipschitz constant of every per-sample loss restricted to block ``U``
(``||grad_U l(w; z)|| <= L_U``), ``n`` the number of samples, ``T x K`` the iterations.

Utility bounds (convex / strongly convex) are stated in the paper but their formulas are not in
the spec ([uncertain]); none is implemented here.
"""

from __future__ import annotations

import math

import numpy as np

from .validation import check_pos_int, check_scalar, check_vector

__all__ = [
    "DP_CD_CONSTANT",
    "block_probabilities",
    "check_partition",
    "check_privacy",
    "contiguous_blocks",
    "coordinate_probabilities",
    "dp_noise_scale",
]

#: ``c`` in ``sigma_U = c L_U sqrt(T K log(1/delta)) / (n eps)``: ``sqrt(12)``, i.e. DP-CD's
#: ``sigma_j^2 = 12 L_j^2 T K log(1/delta) / (n^2 eps^2)`` (the Gaussian mechanism with
#: sensitivity ``2 L_U / n`` per step and advanced composition over ``T K`` steps; DP-CD states
#: it for ``eps <= 1``, ``delta < 1/3``). [uncertain: the spec leaves the constant open; this
#: value is a project choice recalled from DP-CD's privacy theorem, not verified against the
#: DP-SkGD paper.]
DP_CD_CONSTANT = math.sqrt(12.0)


def check_privacy(eps, delta, *, allow_inf_eps: bool = False) -> tuple[float, float]:
    """``(eps, delta)`` validated: ``eps > 0`` (``+inf`` only with ``allow_inf_eps``: no noise),
    ``0 < delta < 1``."""
    e = check_scalar("eps", eps)
    if not (e > 0 and (math.isfinite(e) or allow_inf_eps)):
        allowed = " (inf: no noise)" if allow_inf_eps else " and finite"
        raise ValueError(f"eps (the privacy budget ε) must be > 0{allowed}, got {eps!r}")
    dl = check_scalar("delta", delta)
    if not 0 < dl < 1:
        raise ValueError(f"delta (the privacy parameter δ) must lie in (0, 1), got {delta!r}")
    return e, dl


def dp_noise_scale(L, T, K, n, eps, delta, constant: float = DP_CD_CONSTANT):
    """Noise standard deviation per coordinate of block ``U``:
    ``sigma_U = constant * L_U * sqrt(T K log(1/delta)) / (n eps)``.

    lmo_vr_local.md §5: the form ``sigma_U ∝ L_U sqrt(T K log(1/delta)) / (n eps)`` is
    [uncertain]; ``constant`` defaults to :data:`DP_CD_CONSTANT` (project choice, see there).
    ``L``: a number or an array of per-block constants (``>= 0``); ``eps = inf`` gives 0.
    """
    Ls = np.asarray(check_vector("L", np.atleast_1d(L)))
    if np.any(Ls < 0) or not np.all(np.isfinite(Ls)):
        raise ValueError("L (Lipschitz constants) must be finite and >= 0")
    T = check_pos_int("T", T)
    K = check_pos_int("K", K)
    n = check_pos_int("n", n)
    e, dl = check_privacy(eps, delta, allow_inf_eps=True)
    c = check_scalar("constant", constant)
    if not (math.isfinite(c) and c > 0):
        raise ValueError(f"constant must be a finite number > 0, got {constant!r}")
    sigma = c * Ls * math.sqrt(T * K * math.log(1.0 / dl)) / (n * e)
    return float(sigma[0]) if np.ndim(L) == 0 else sigma


def contiguous_blocks(d: int, b: int) -> tuple[tuple[int, ...], ...]:
    """``[0, d)`` in ``b`` contiguous blocks of sizes differing by at most one (larger first)."""
    d = check_pos_int("d", d)
    b = check_pos_int("blocks", b)
    if b > d:
        raise ValueError(f"blocks: {b} blocks for d={d} coordinates (at most d)")
    base, extra = divmod(d, b)
    out, i = [], 0
    for j in range(b):
        size = base + (j < extra)
        out.append(tuple(range(i, i + size)))
        i += size
    return tuple(out)


def check_partition(blocks, d: int) -> tuple[tuple[int, ...], ...]:
    """A partition of ``[0, d)``: an int ``b`` (:func:`contiguous_blocks`) or a sequence of
    blocks, each a non-empty sequence of coordinate indices; every coordinate in exactly one
    block. Returns it as a tuple of tuples; the errors name the field ``blocks``."""
    d = check_pos_int("d", d)
    if isinstance(blocks, (int, np.integer)) and not isinstance(blocks, bool):
        return contiguous_blocks(d, int(blocks))
    if isinstance(blocks, (str, bytes)) or not hasattr(blocks, "__iter__"):
        raise ValueError(f"blocks: expected a number of blocks or a sequence of index sequences, got {blocks!r}")
    out, seen = [], {}
    for j, blk in enumerate(blocks):
        if isinstance(blk, (str, bytes)) or not hasattr(blk, "__iter__"):
            raise ValueError(f"blocks: block {j} must be a sequence of coordinate indices, got {blk!r}")
        idx = []
        for v in blk:
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ValueError(f"blocks: block {j} holds {v!r}, not a coordinate index")
            if not 0 <= int(v) < d:
                raise ValueError(f"blocks: block {j} holds coordinate {int(v)}, outside [0, {d})")
            if int(v) in seen:
                raise ValueError(f"blocks: coordinate {int(v)} is in blocks {seen[int(v)]} and {j} "
                                 "(blocks must be disjoint)")
            seen[int(v)] = j
            idx.append(int(v))
        if not idx:
            raise ValueError(f"blocks: block {j} is empty")
        out.append(tuple(idx))
    if not out:
        raise ValueError("blocks: no block given")
    missing = [i for i in range(d) if i not in seen]
    if missing:
        raise ValueError(f"blocks: coordinate(s) {missing[:10]}{'...' if len(missing) > 10 else ''} are in no "
                         f"block (the blocks must cover all d={d} coordinates)")
    return tuple(out)


def block_probabilities(M, blocks, importance: float = 1.0) -> np.ndarray:
    """``q[b]``: ``q_j ∝ (max_{l in A_j} M_l) ** importance``.

    ``importance = 1``: the paper's importance sampling, ``q_j = max_{l∈A_j} M_l /
    sum_i max_{l∈A_i} M_l`` (lmo_vr_local.md §5 [paper: poster]); ``importance = 0``: uniform
    ``q_j = 1/b`` (DP-CD when every block is one coordinate). Values in between interpolate
    (project choice, so that a sweep varies the scheme as a number)."""
    Mv = check_vector("M", M)
    if np.any(Mv <= 0) or not np.all(np.isfinite(Mv)):
        raise ValueError("M (smoothness constants) must be finite and > 0")
    parts = check_partition(blocks, Mv.size)
    a = check_scalar("importance", importance)
    if not (math.isfinite(a) and a >= 0):
        raise ValueError(f"importance must be a finite number >= 0, got {importance!r}")
    w = np.array([max(Mv[list(blk)]) for blk in parts]) ** a
    return w / w.sum()


def coordinate_probabilities(M, blocks, importance: float = 1.0) -> np.ndarray:
    """``p[d]``: ``p_l = Prob(l ∈ S) = q_{j(l)}``, the diagonal of ``P`` in ``C = I_S P^{-1}``."""
    q = block_probabilities(M, blocks, importance)
    parts = check_partition(blocks, len(np.atleast_1d(M)))
    p = np.empty(sum(len(b) for b in parts))
    for j, blk in enumerate(parts):
        p[list(blk)] = q[j]
    return p
