"""Universal computation model (README spec §5.4): time-varying worker speeds and outages.

Worker ``w`` runs at a dimensionless speed factor ``nu_w(t) >= 0`` (``nu = 1`` is the
fixed model), piecewise constant on breakpoints ``0 = b_0 < b_1 < ... < b_M``: value
``nu[w, l]`` on ``[b_l, b_{l+1})``, the last value held to ``+inf``. With
``W_w(t) = int_0^t nu_w(u) du``, a job of nominal duration ``D`` (a sample of
:class:`~jaxsim.timing.TimingModel`) started at ``s`` finishes at

    e = inf{ t >= s : W_w(t) - W_w(s) >= D }      (+inf if never reached).

An outage (``nu = 0`` on an interval) pauses the running job; no progress is lost. Job
``k`` of a free-running worker with fixed ``D = tau`` therefore ends when ``W`` reaches
``k tau``, and the worker completes ``floor(W(t) / tau)`` jobs in ``[0, t]`` (the
counting rule of arXiv 2408.04929).

Inversion uses ``W`` precomputed at the breakpoints and a binary search per element
(vectorized over workers; :meth:`SpeedProfile.finish` is traceable JAX,
:meth:`SpeedProfile.finish_np` its NumPy float64 twin with the same arithmetic).
Consecutive equal speeds are merged first, so a speed of 1 everywhere reduces to one
segment and gives ``start + duration`` bit for bit.

The profile is a frozen, hashable dataclass of tuples (it sits inside ``TimingModel``,
which may be a static ``jit`` argument); it is tied to the worker index, like the noise
law (``permute_base`` does not move it).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

import numpy as np

def _is_flat(seq) -> bool:
    return all(np.ndim(x) == 0 for x in seq)


def _row(x, field: str) -> tuple:
    arr = np.asarray(x, dtype=np.float64).reshape(-1) if np.ndim(x) <= 1 else None
    if arr is None:
        raise ValueError(f"{field}: expected a 1-D sequence, got shape {np.shape(x)}")
    return tuple(arr.tolist())


@dataclasses.dataclass(frozen=True)
class SpeedProfile:
    """Piecewise-constant speed factors ``nu[w, l]`` of ``n`` workers.

    Attributes:
      breakpoints: ``(b_0=0, b_1, ..., b_M)`` shared by all workers, or one such tuple
        per worker (per-worker change points; lengths may differ).
      values: one tuple per worker, ``values[w][l]`` on ``[b_l, b_{l+1})``, the last
        value held to ``+inf``; as many values as that worker's breakpoints.

    Build one with :meth:`constant`, :meth:`periodic`, :meth:`outages`, :meth:`trend`
    or :meth:`trace`. Bad input raises ``ValueError`` naming the field.
    """

    breakpoints: tuple
    values: tuple

    def __post_init__(self):
        bp = self.breakpoints
        if isinstance(bp, np.ndarray) and bp.ndim == 2:
            bp = tuple(_row(r, "speed.breakpoints") for r in bp)
        elif isinstance(bp, (tuple, list, np.ndarray)) and len(bp) > 0 and not _is_flat(bp):
            bp = tuple(_row(r, "speed.breakpoints") for r in bp)
        else:
            bp = _row(bp, "speed.breakpoints")
        vals = self.values
        if not isinstance(vals, (tuple, list, np.ndarray)):
            raise ValueError(f"speed.values: expected one sequence of speeds per worker, got {vals!r}")
        if isinstance(vals, (tuple, list, np.ndarray)) and len(vals) > 0 and _is_flat(vals):
            raise ValueError("speed.values: expected one sequence of speeds per worker (a 2-D array "
                             f"[n, M+1]), got a flat sequence of {len(vals)} numbers")
        vals = tuple(_row(r, "speed.values") for r in vals)
        object.__setattr__(self, "breakpoints", bp)
        object.__setattr__(self, "values", vals)
        self._validate()
        object.__setattr__(self, "_hash", hash((self.breakpoints, self.values)))
        object.__setattr__(self, "_tables", _build_tables(self._rows()))

    # ---- validation and representation ------------------------------------------------

    def _rows(self):
        """``[(b_w, nu_w)]`` per worker as float64 arrays."""
        shared = _is_flat(self.breakpoints)
        return [(np.asarray(self.breakpoints if shared else self.breakpoints[w], np.float64),
                 np.asarray(self.values[w], np.float64)) for w in range(self.n)]

    def _validate(self):
        n = len(self.values)
        if n == 0:
            raise ValueError("speed.values: need speeds for at least one worker")
        shared = _is_flat(self.breakpoints)
        if not shared and len(self.breakpoints) != n:
            raise ValueError(f"speed.breakpoints: got {len(self.breakpoints)} per-worker rows for "
                             f"n={n} workers (speed.values rows)")
        rows = [self.breakpoints] if shared else list(self.breakpoints)
        for i, b in enumerate(rows):
            b = np.asarray(b, np.float64)
            who = "" if shared else f" (worker {i})"
            if b.size == 0:
                raise ValueError(f"speed.breakpoints{who}: need at least b_0 = 0")
            if not np.all(np.isfinite(b)):
                raise ValueError(f"speed.breakpoints{who}: must be finite")
            if b[0] != 0:
                raise ValueError(f"speed.breakpoints{who}: must start at b_0 = 0, got {b[0]!r}")
            if np.any(np.diff(b) <= 0):
                raise ValueError(f"speed.breakpoints{who}: must be strictly increasing")
        for w, v in enumerate(self.values):
            m = len(self.breakpoints if shared else self.breakpoints[w])
            if len(v) != m:
                raise ValueError(f"speed.values: worker {w} has {len(v)} speeds for {m} breakpoints "
                                 "(one speed per interval [b_l, b_{l+1}), the last held)")
            a = np.asarray(v, np.float64)
            if not np.all(np.isfinite(a)) or np.any(a < 0):
                raise ValueError(f"speed.values: speed factors must be finite and >= 0 (worker {w})")

    @property
    def n(self) -> int:
        """Number of workers."""
        return len(self.values)

    @property
    def is_constant_one(self) -> bool:
        """Speed 1 everywhere (the fixed model)."""
        return all(all(x == 1.0 for x in v) for v in self.values)

    def __hash__(self):
        return self._hash

    def __repr__(self):
        shared = _is_flat(self.breakpoints)
        m = len(self.breakpoints) if shared else max(len(b) for b in self.breakpoints)
        return (f"SpeedProfile(n={self.n}, {'shared' if shared else 'per-worker'} breakpoints, "
                f"up to {m} segments)")

    # ---- constructors ---------------------------------------------------------------

    @classmethod
    def constant(cls, n: int, value: float = 1.0) -> "SpeedProfile":
        """Speed ``value`` for every worker at all times (``value = 1``: the fixed model)."""
        _check_n(n)
        return cls((0.0,), tuple((float(value),) for _ in range(n)))

    @classmethod
    def periodic(cls, n: int, amplitude: float, period: float, phases=None, *, horizon: float,
                 points: Optional[int] = None, seed: int = 0) -> "SpeedProfile":
        """``nu_w(t) = 1 + a sin(2 pi t / P + phi_w)`` on a regular grid of ``points`` cells
        over ``[0, horizon]`` (each cell holds the exact mean of ``nu`` over it, so ``W`` is
        exact at the grid points); speed 1 (the mean) after ``horizon``.

        ``phases``: one per worker, a scalar for all, or ``None`` for uniform random phases
        in ``[0, 2 pi)`` from ``seed``. ``points`` defaults to 32 cells per period.
        """
        _check_n(n)
        a = _finite("speed.amplitude", amplitude)
        if not abs(a) < 1:
            raise ValueError(f"speed.amplitude: need |a| < 1 (speeds stay positive), got {amplitude!r}")
        P = _positive("speed.period", period)
        H = _positive("speed.horizon", horizon)
        G = _points(points, max(1, int(math.ceil(32 * H / P))))
        if phases is None:
            phi = np.random.default_rng(seed).uniform(0.0, 2 * math.pi, n)
        else:
            phi = np.asarray(phases, np.float64)
            phi = np.broadcast_to(phi, (n,)) if phi.ndim == 0 else phi.reshape(-1)
            if phi.shape[0] != n or not np.all(np.isfinite(phi)):
                raise ValueError(f"speed.phases: need {n} finite phases (or one), got {phases!r}")
        b = H * np.arange(G + 1, dtype=np.float64) / G
        x = 2 * math.pi * b[None, :] / P + phi[:, None]  # [n, G+1]
        mean_sin = (np.cos(x[:, :-1]) - np.cos(x[:, 1:])) / (x[:, 1:] - x[:, :-1])
        nu = np.concatenate([1.0 + a * mean_sin, np.ones((n, 1))], axis=1)
        return cls(tuple(b.tolist()), tuple(map(tuple, np.maximum(nu, 0.0).tolist())))

    @classmethod
    def outages(cls, n: int, mean_up: float, mean_down: float, horizon: float, seed: int = 0,
                start_up: bool = True) -> "SpeedProfile":
        """On/off workers: alternating up (speed 1) and down (speed 0) periods with
        exponential lengths of means ``mean_up`` and ``mean_down``, independent per worker
        (worker ``w`` uses ``numpy.random.default_rng((seed, w))``). Change points are drawn
        up to ``horizon``; the state in force there is held to ``+inf`` (so pick ``horizon``
        at least the simulated time). Workers start up unless ``start_up=False``."""
        _check_n(n)
        U = _positive("speed.mean_up", mean_up)
        O = _positive("speed.mean_down", mean_down)  # noqa: E741
        H = _positive("speed.horizon", horizon)
        bps, vals = [], []
        for w in range(n):
            rng = np.random.default_rng((int(seed), w))
            up, t = bool(start_up), 0.0
            b, v = [0.0], [1.0 if up else 0.0]
            while True:
                t_new = t + rng.exponential(U if up else O)
                if t_new >= H:
                    break
                up = not up
                if t_new > t:  # a draw below the float spacing merges two switches
                    b.append(t_new)
                    v.append(1.0 if up else 0.0)
                else:
                    v[-1] = 1.0 if up else 0.0
                t = t_new
            bps.append(tuple(b))
            vals.append(tuple(v))
        return cls(tuple(bps), tuple(vals))

    @classmethod
    def trend(cls, n: int, slope, horizon: float, points: int = 64) -> "SpeedProfile":
        """``nu_w(t) = max(0, 1 + slope_w t)`` (slowdown for ``slope < 0``, speed-up for
        ``slope > 0``) on a regular grid of ``points`` cells over ``[0, horizon]`` (each cell
        holds the exact mean of ``nu`` over it); ``nu_w(horizon)`` is held after ``horizon``.
        ``slope``: a scalar or one per worker."""
        _check_n(n)
        s = np.asarray(slope, np.float64)
        s = np.broadcast_to(s, (n,)) if s.ndim == 0 else s.reshape(-1)
        if s.shape[0] != n or not np.all(np.isfinite(s)):
            raise ValueError(f"speed.slope: need {n} finite slopes (or one), got {slope!r}")
        H = _positive("speed.horizon", horizon)
        G = _points(points, 64)
        b = H * np.arange(G + 1, dtype=np.float64) / G

        def F(t):  # int_0^t max(0, 1 + s u) du, per worker [n, len(t)]
            t0 = np.where(s < 0, -1.0 / np.where(s < 0, s, -1.0), np.inf)
            tt = np.minimum(t[None, :], t0[:, None])
            return tt + s[:, None] * tt * tt / 2

        Fb = F(b)
        nu = np.maximum((Fb[:, 1:] - Fb[:, :-1]) / np.diff(b)[None, :], 0.0)
        held = np.maximum(1.0 + s * H, 0.0)
        nu = np.concatenate([nu, held[:, None]], axis=1)
        return cls(tuple(b.tolist()), tuple(map(tuple, nu.tolist())))

    @classmethod
    def trace(cls, breakpoints, values, n: Optional[int] = None) -> "SpeedProfile":
        """A user trace: ``breakpoints`` ``[M+1]`` (shared) or one array per worker, and
        ``values`` ``[n, M+1]`` (one row per worker); a single row ``[M+1]`` with ``n=`` is
        used for every worker."""
        v = values
        if isinstance(v, (list, tuple, np.ndarray)) and len(v) > 0 and _is_flat(v):
            if n is None:
                raise ValueError("speed.values: a single row of speeds needs n= (number of workers)")
            _check_n(n)
            v = [v] * n
        prof = cls(breakpoints, v)
        if n is not None and prof.n != n:
            raise ValueError(f"speed.values: got speeds for {prof.n} workers, expected n={n}")
        return prof

    # ---- evaluation -----------------------------------------------------------------

    def integral(self, w, t):
        """``W_w(t) = int_0^t nu_w(u) du`` (NumPy float64, elementwise; ``t >= 0``)."""
        B, Wc, V, _, Wn, P = self._tables
        w, t = np.broadcast_arrays(np.asarray(w, np.intp), np.asarray(t, np.float64))
        out = _integral(np, B, Wc, P, Wn, w, np.where(np.isfinite(t), t, 0.0))
        out = np.where(np.isposinf(t), np.where(V[w, -1] > 0, np.inf, Wc[w, -1]), out)
        return float(out) if out.ndim == 0 else out

    def finish_np(self, w, start, duration):
        """End of a job of nominal ``duration`` started at ``start`` by worker ``w``
        (NumPy float64, elementwise with broadcasting; ``+inf`` if never)."""
        w, s, d = np.broadcast_arrays(np.asarray(w, np.intp), np.asarray(start, np.float64),
                                      np.asarray(duration, np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            return _finish(np, self._tables, w, s, d)

    def finish(self, w, start, duration):
        """JAX twin of :meth:`finish_np` (traceable; dtype of ``start``/``duration``)."""
        import jax.numpy as jnp

        s, d = jnp.asarray(start), jnp.asarray(duration)
        dt = jnp.promote_types(jnp.result_type(s, d), jnp.float32)
        w, s, d = jnp.broadcast_arrays(jnp.asarray(w, jnp.int32), s.astype(dt), d.astype(dt))
        tables = tuple(jnp.asarray(x, dt) for x in self._tables)
        return _finish(jnp, tables, w, s, d)


# --------------------------------------------------------------------------------------
# Tables and inversion
# --------------------------------------------------------------------------------------

def _build_tables(rows):
    """Padded per-worker tables ``B, Wc, V, Bn, Wn, P`` of shape ``[n, K]``.

    Equal consecutive speeds are merged. Rows shorter than ``K`` repeat their last
    segment, so binary searches over the padded rows land on a copy of it. ``Bn`` and
    ``Wn`` are the next breakpoint and its ``W`` (``+inf`` after the last segment);
    ``P = 1 / V`` is the pace (``+inf`` where the speed is 0).
    """
    merged = []
    for b, v in rows:
        keep = np.r_[True, v[1:] != v[:-1]]
        merged.append((b[keep], v[keep]))
    K = max(b.size for b, _ in merged)
    n = len(merged)
    B, Wc, V = (np.empty((n, K)) for _ in range(3))
    Bn, Wn = np.full((n, K), np.inf), np.full((n, K), np.inf)
    for w, (b, v) in enumerate(merged):
        m = b.size
        cum = np.concatenate([[0.0], np.cumsum(v[:-1] * np.diff(b))])
        B[w, :m], Wc[w, :m], V[w, :m] = b, cum, v
        B[w, m:], Wc[w, m:], V[w, m:] = b[-1], cum[-1], v[-1]
        Bn[w, :m - 1], Wn[w, :m - 1] = b[1:], cum[1:]
    with np.errstate(divide="ignore"):
        P = 1.0 / V
    for a in (B, Wc, V, Bn, Wn, P):
        a.setflags(write=False)
    return B, Wc, V, Bn, Wn, P


def _search(xp, A, w, x, right: bool):
    """Per element, ``searchsorted(A[w], x, side)`` by a vectorized binary search."""
    K = A.shape[1]
    lo = xp.zeros(x.shape, dtype=xp.int32)
    hi = xp.full(x.shape, K, dtype=xp.int32)
    for _ in range(K.bit_length()):
        mid = (lo + hi) // 2
        a = A[w, xp.minimum(mid, K - 1)]
        go = (a <= x) if right else (a < x)
        act = lo < hi
        lo = xp.where(act & go, mid + 1, lo)
        hi = xp.where(act & ~go, mid, hi)
    return lo


def _integral(xp, B, Wc, P, Wn, w, s):
    """``W_w(s)`` for finite ``s`` (clamped into its segment so it is monotone in ``s``)."""
    K = B.shape[1]
    l = xp.clip(_search(xp, B, w, s, right=True) - 1, 0, K - 1)  # noqa: E741
    # ``(s - b) / pace`` rather than ``nu * (s - b)``: no multiply-add that XLA could fuse
    # into an FMA, so NumPy and JAX round alike (``pace = 1 / nu``, ``+inf`` in an outage).
    return xp.minimum(Wc[w, l] + (s - B[w, l]) / P[w, l], Wn[w, l])


def _finish(xp, tables, w, s, d):
    B, Wc, V, Bn, Wn, P = tables
    K = B.shape[1]
    finite_s = xp.isfinite(s)
    s0 = xp.where(finite_s, s, xp.zeros_like(s))
    T = _integral(xp, B, Wc, P, Wn, w, s0) + d
    # segment with W_m < T <= W_{m+1}: its speed is > 0 unless it is the held last one
    m = xp.clip(_search(xp, Wc, w, T, right=False) - 1, 0, K - 1)
    v = V[w, m]
    num = T - Wc[w, m]
    step = xp.where(v > 0, num / xp.where(v > 0, v, xp.ones_like(v)), xp.full_like(v, xp.inf))
    e = B[w, m] + xp.where(num > 0, step, xp.zeros_like(step))
    e = xp.maximum(xp.minimum(e, Bn[w, m]), s0)
    return xp.where(finite_s, e, xp.full_like(e, xp.inf))


def chained_finish(finish_np, durations) -> np.ndarray:
    """Finish times of back-to-back jobs, ``e[w, j] = finish_np(w, e[w, j-1], D[w, j])``
    with ``e[w, -1] = 0`` (a free-running worker under time-varying speed)."""
    D = np.asarray(durations, np.float64)
    n, J = D.shape
    ws = np.arange(n)
    out = np.empty_like(D)
    e = np.zeros(n)
    for j in range(J):
        e = finish_np(ws, e, D[:, j])
        out[:, j] = e
    return out


# --------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------

def _check_n(n):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n (number of workers) must be a positive integer, got {n!r}")


def _finite(field, x) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not np.isfinite(x):
        raise ValueError(f"{field} must be a finite number, got {x!r}")
    return float(x)


def _positive(field, x) -> float:
    x = _finite(field, x)
    if x <= 0:
        raise ValueError(f"{field} must be > 0, got {x!r}")
    return x


def _points(points, default) -> int:
    if points is None:
        return default
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points <= 0:
        raise ValueError(f"speed.points must be a positive integer, got {points!r}")
    return int(points)
