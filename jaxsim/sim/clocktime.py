"""Time for the loop clocks (controlled, allocation, rounds): no drift, whatever the problem's dtype.

A clock's time grows to the horizon while each event adds a duration that may be a millionth
of it. Kept in the problem's float type, every addition rounds at the time's scale: in
float32 a 1 ms job added a million times drifts by seconds, and in float16 ``t + d`` rounds
back to ``t`` (the loop never ends). So the clocks keep time apart from the problem's dtype:

* **with x64 enabled**: float64, with the reference loops' own operations (``start + duration``
  and :meth:`~jaxsim.timing.TimingModel.finish` in float64), so events come in the reference's
  order bit for bit, whatever the model's float type;
* **without x64**: a *two-float* :class:`Split` ``hi + lo`` of float32 numbers, normalized
  (``hi`` is the float32 nearest the value), added with Knuth's TwoSum and Dekker's Fast2Sum.
  Durations are float32 (:meth:`~jaxsim.timing.TimingModel.draw` in float32, the values the
  free-running streams and the reference loops get from :meth:`~jaxsim.timing.TimingModel.sample`
  in that mode). A sum keeps 48 significant bits (float64: 53): it is *exact* while its bits
  fit, e.g. any sum of float32 durations within a factor ``2**24`` of the time (a horizon of
  1000 s in 1 ms jobs), and otherwise errs by at most about ``2**-48`` of the time per
  addition, the same law as float64 five bits lower. Order is lexicographic on ``(hi, lo)``,
  which is the order of the values. Under a speed profile a job's end (:func:`finish`) is
  computed from differences near the job, so its error is the float32 rounding of the job's
  span, not of the time.

Grid times come from the host's float64 grid (``lo`` carries what float32 cannot). Durations
stay plain floats of :func:`time_dtype`; only points in time (starts, finishes, ends, the
recording times and running sums of busy time) are :data:`Time` values. Comparisons, minima,
``where`` and indexing go through this module, so the clocks read the same in both modes.
"""

from __future__ import annotations

from typing import NamedTuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from ..runtime.lexmin import lex_reduce


class Split(NamedTuple):
    """A time as ``hi + lo`` (two float32 arrays of one shape; ``|lo| <= ulp(hi) / 2``; ``lo = 0``
    where ``hi`` is infinite)."""

    hi: jax.Array
    lo: jax.Array


#: A point in time: a float64 array (x64) or a :class:`Split`.
Time = Union[jax.Array, Split]


def split_mode() -> bool:
    """Whether time is kept as two float32 numbers (x64 is off)."""
    return not jax.config.jax_enable_x64


def time_dtype():
    """The float type of durations and of a time's parts: float64 with x64, float32 without."""
    return jnp.float64 if jax.config.jax_enable_x64 else jnp.float32


def host(values, split: bool) -> Time:
    """Float64 host values as times (``split``: two float32 parts, ``lo`` the remainder)."""
    v = np.asarray(values, np.float64)
    if not split:
        return jnp.asarray(v, jnp.float64)
    hi = v.astype(np.float32)
    with np.errstate(invalid="ignore"):
        lo = np.where(np.isfinite(hi), v - hi.astype(np.float64), 0.0).astype(np.float32)
    return Split(jnp.asarray(hi), jnp.asarray(lo))


def full(shape, value, split: bool) -> Time:
    """A time array of one (exactly representable) value, inside a trace."""
    if not split:
        return jnp.full(shape, value, jnp.float64)
    return Split(jnp.full(shape, value, jnp.float32), jnp.zeros(shape, jnp.float32))


def to_float(t: Time, dtype=None) -> jax.Array:
    """The nearest float (``dtype``: cast to it; default the time's part type)."""
    v = t.hi if isinstance(t, Split) else t
    return v if dtype is None else v.astype(dtype)


def _two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``a + b = s + e`` exactly (Knuth; finite inputs)."""
    s = a + b
    bp = s - a
    return s, (a - (s - bp)) + (b - bp)


def _normalize(s, lo):
    """``Split`` of ``s + lo`` with ``|lo|`` small next to ``|s|`` (Fast2Sum); infinities kept."""
    fin = jnp.isfinite(s)
    lo = jnp.where(fin, lo, 0)
    hi = s + lo
    return Split(hi, jnp.where(fin, lo - (hi - s), 0))


def add(t: Time, d) -> Time:
    """``t + d``: ``d`` a duration (a float of :func:`time_dtype`, broadcasting) or a time."""
    if not isinstance(t, Split):
        return t + (d.hi + d.lo if isinstance(d, Split) else d)
    if isinstance(d, Split):
        s, e = _two_sum(t.hi, d.hi)
        return _normalize(s, t.lo + d.lo + e)
    d = jnp.asarray(d, t.hi.dtype)
    s, e = _two_sum(t.hi, d)
    return _normalize(s, t.lo + e)


def sub(a: Time, b: Time):
    """The duration ``a - b`` as a float of the part type, within two roundings of it (``a.hi -
    b.hi`` is exact when the times are within a factor 2, and otherwise large next to its own
    rounding); ``inf`` where ``a`` is infinite and ``b`` is not."""
    if not isinstance(a, Split):
        return a - b
    return (a.hi - b.hi) + (a.lo - b.lo)


def negate(t: Time) -> Time:
    return Split(-t.hi, -t.lo) if isinstance(t, Split) else -t


def times(t: Time, k) -> Time:
    """``t * k`` for an integer ``0 <= k < 2**24`` (a count of workers; ``0`` for ``k = 0`` even at
    ``t = inf``). Two-float: ``hi`` and ``k``
    are cut into halves of 12 significant bits (by masking bits: no multiplication that a fused
    multiply-add could change), whose four products are exact, then summed."""
    if not isinstance(t, Split):
        return jnp.where(k > 0, t * jnp.asarray(k).astype(t.dtype), 0)  # 0, not nan, for k = 0 at t = inf
    k = jnp.asarray(k, jnp.int32)
    mask = jnp.int32(-4096)  # clears the low 12 bits
    h1 = jax.lax.bitcast_convert_type(jax.lax.bitcast_convert_type(t.hi, jnp.int32) & mask, jnp.float32)
    h0 = t.hi - h1
    k1, k0 = (k & mask).astype(jnp.float32), (k & 4095).astype(jnp.float32)
    out = Split(h1 * k1, jnp.zeros_like(t.hi))
    for p in (h1 * k0, h0 * k1, h0 * k0, t.lo * k.astype(jnp.float32)):
        out = add(out, p)
    return where(k > 0, out, Split(jnp.zeros_like(t.hi), jnp.zeros_like(t.lo)))


def le(a: Time, b: Time):
    """``a <= b`` (elementwise, broadcasting)."""
    if not isinstance(a, Split):
        return a <= b
    return (a.hi < b.hi) | ((a.hi == b.hi) & (a.lo <= b.lo))


def lt(a: Time, b: Time):
    """``a < b``."""
    if not isinstance(a, Split):
        return a < b
    return (a.hi < b.hi) | ((a.hi == b.hi) & (a.lo < b.lo))


def where(mask, a: Time, b: Time) -> Time:
    if not isinstance(a, Split):
        return jnp.where(mask, a, b)
    return Split(jnp.where(mask, a.hi, b.hi), jnp.where(mask, a.lo, b.lo))


def minimum(a: Time, b: Time) -> Time:
    return where(le(a, b), a, b)


def maximum(a: Time, b: Time) -> Time:
    return where(le(a, b), b, a)


def amin(t: Time, axis: int = -1) -> Time:
    """The minimum along ``axis``."""
    if not isinstance(t, Split):
        return jnp.min(t, axis=axis)
    hi = jnp.min(t.hi, axis=axis)
    lo = jnp.min(jnp.where(t.hi == jnp.expand_dims(hi, axis), t.lo, jnp.inf), axis=axis)
    return Split(hi, jnp.where(jnp.isfinite(hi), lo, 0))


def amax(t: Time, axis: int = -1) -> Time:
    """The maximum along ``axis``."""
    if not isinstance(t, Split):
        return jnp.max(t, axis=axis)
    hi, lo = lex_reduce((t.hi, t.lo), axis, smallest=False, index=False)
    return Split(hi, jnp.where(jnp.isfinite(hi), lo, 0))


def min_argmin(t: Time, *carry):
    """``(t[i], i, *(c[i] for c in carry))`` for ``i`` the index of the minimum of a 1-D time
    array (ties: the lowest index), in one pass: the value as stored and the ``carry`` arrays'
    entries come out of the reduce, with no gather after it."""
    split = isinstance(t, Split)
    out = lex_reduce((t.hi, t.lo) if split else (t,), carry=carry)
    if split:
        return (Split(out[0], out[1]), *out[2:])
    return out


def any_le(a: Time, b: Time):
    """Whether some ``a <= b`` (broadcasting; one pass, no minimum first)."""
    return jnp.any(le(a, b))


def tmap(f, *ts):
    """``f`` applied to each part (indexing, slicing, ``.at[].set``, reshapes)."""
    if not isinstance(ts[0], Split):
        return f(*ts)
    return Split(f(*(t.hi for t in ts)), f(*(t.lo for t in ts)))


# ---------------------------------------------------------------------------- job ends

def finish(timing, w, start: Time, duration) -> Time:
    """When a job of nominal ``duration`` started at ``start`` by worker ``w`` ends
    (:meth:`~jaxsim.timing.TimingModel.finish` on times; elementwise)."""
    if timing.speed is None:
        return add(start, duration)
    if not isinstance(start, Split):
        return timing.finish(w, start, duration)
    return _speed_finish(timing.speed, w, start, duration)


def job_end(timing, ckey, w, j, start: Time, compute) -> Time:
    """When job ``j`` of worker ``w`` started at ``start`` ends: download, ``compute`` nominal
    seconds (:func:`finish`), upload (:meth:`~jaxsim.timing.TimingModel.job_end` on times)."""
    if timing.comm is None:
        return finish(timing, w, start, compute)
    dt = start.hi.dtype if isinstance(start, Split) else jnp.result_type(start)
    down, up = timing.comm_draw(ckey, w, j, dt)
    return add(finish(timing, w, add(start, down), compute), up)


def _speed_finish(speed, w, s: Split, d):
    """Two-float twin of :meth:`jaxsim.timing.speed.SpeedProfile.finish`. Each quantity is computed as
    a difference near the job (the time left in the start's segment, the work between
    breakpoints), so its float32 rounding is relative to the job's span, not to the time."""
    B, Wc, V, Bn, _, P = speed._tables
    K = B.shape[1]
    f32 = jnp.float32
    B2, Bn2, Wc2 = host(B, True), host(Bn, True), host(Wc, True)
    V, P = jnp.asarray(V, f32), jnp.asarray(P, f32)
    w = jnp.asarray(w, jnp.int32)
    w, hi, lo, d = jnp.broadcast_arrays(w, s.hi, s.lo, jnp.asarray(d, f32))
    s = Split(hi, lo)
    at = lambda T, k: Split(T.hi[w, k], T.lo[w, k])  # noqa: E731

    def search(pred):
        """The number of ``k`` in ``[0, K)`` with ``pred(k)`` (monotone: true, then false)."""
        lo_, hi_ = jnp.zeros(w.shape, jnp.int32), jnp.full(w.shape, K, jnp.int32)
        for _ in range(K.bit_length()):
            mid = (lo_ + hi_) // 2
            go = pred(jnp.minimum(mid, K - 1))
            act = lo_ < hi_
            lo_, hi_ = jnp.where(act & go, mid + 1, lo_), jnp.where(act & ~go, mid, hi_)
        return lo_

    finite = jnp.isfinite(s.hi)
    s0 = where(finite, s, Split(jnp.zeros_like(hi), jnp.zeros_like(lo)))
    l = jnp.clip(search(lambda k: le(at(B2, k), s0)) - 1, 0, K - 1)  # noqa: E741  segment of the start
    v_l = V[w, l]
    left = sub(at(Bn2, l), s0)  # seconds to the segment's end (inf in the last)
    work_left = jnp.where(v_l > 0, left * v_l, 0)
    rem = d - work_left  # work still to do past the segment's end
    inside = rem <= 0
    here = minimum(add(s0, jnp.where(d > 0, d * jnp.where(v_l > 0, P[w, l], 0), 0)), at(Bn2, l))
    # later segment m: the last with W_m - W_{l+1} < rem
    nxt = jnp.minimum(l + 1, K - 1)
    w_next = at(Wc2, nxt)
    m = jnp.clip(search(lambda k: (k <= l) | (sub(at(Wc2, k), w_next) < rem)) - 1, 0, K - 1)
    in_m = rem - sub(at(Wc2, m), w_next)
    v_m = V[w, m]
    later = add(at(B2, m), jnp.where(in_m > 0, in_m * P[w, m], 0))
    later = where((v_m > 0) & (m > l), later, full(w.shape, jnp.inf, True))
    later = minimum(later, at(Bn2, m))
    e = maximum(where(inside, here, later), s0)
    return where(finite, e, full(w.shape, jnp.inf, True))


__all__ = ["Split", "Time", "add", "amax", "amin", "any_le", "finish", "full", "host", "job_end", "le", "lt",
           "maximum", "min_argmin", "minimum", "negate", "split_mode", "sub", "tmap", "time_dtype", "times", "to_float",
           "where"]
