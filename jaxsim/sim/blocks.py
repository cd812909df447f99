"""The earliest of ``n`` times in O(sqrt n) per change: per-block minima.

The controlled clock finds its earliest finisher with it at each event
(:mod:`jaxsim.sim.controlled`), and the allocation clock's race keeps its heads in the same blocks
(:func:`jaxsim.sim.allocation.race`); neither clock imports the other, so it lives here.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import clocktime as ct


class Blocks(NamedTuple):
    """The earliest of ``n`` finish times in O(sqrt n) per step: the times are kept in ``nb`` blocks
    of ``K ~ sqrt(n)`` (padded with ``inf``) next to each block's minimum. A step changes one
    worker's time, so it refreshes one block's minimum; the earliest is the lowest block's
    lowest entry (ties to the lowest worker index, as ``argmin``). A full ``argmin`` over ``n``
    per step is a scalar reduction loop in XLA's CPU code, which dominated the controlled loop at
    thousands of workers. Times are :mod:`~jaxsim.sim.clocktime` values (plain arrays work too):
    two-float minima are lexicographic, in two plain passes (the least ``hi``, then the least
    ``lo`` among the entries that have it)."""

    K: int
    nb: int

    @classmethod
    def of(cls, n: int) -> "Blocks":
        K = max(1, math.isqrt(n - 1) + 1) if n > 1 else 1
        return cls(K, -(-n // K))

    def pad(self, v):
        """``v`` padded with ``inf`` to ``nb * K`` entries."""
        if isinstance(v, ct.Split):
            return ct.Split(self.pad(v.hi), jnp.concatenate([v.lo, jnp.zeros((self.nb * self.K - v.lo.shape[0],),
                                                                              v.lo.dtype)]))
        return jnp.concatenate([v, jnp.full((self.nb * self.K - v.shape[0],), jnp.inf, v.dtype)])

    def mins(self, finish):
        return ct.amin(ct.tmap(lambda a: a.reshape(self.nb, self.K), finish), axis=-1)

    @staticmethod
    def _first(t):
        """Index of the least of a 1-D time array (ties: the lowest index)."""
        if not isinstance(t, ct.Split):
            return jnp.argmin(t)
        return jnp.argmin(jnp.where(t.hi == jnp.min(t.hi), t.lo, jnp.inf))

    def earliest(self, finish, bmin):
        """``(e, finish[e])`` of the earliest worker."""
        b = self._first(bmin)
        block = ct.tmap(lambda a: jax.lax.dynamic_slice(a, (b * self.K,), (self.K,)), finish)
        i = self._first(block)
        return b * self.K + i.astype(b.dtype), ct.tmap(lambda a: a[b], bmin)

    def set(self, finish, bmin, e, v):
        """``finish[e] = v`` with the minimum of ``e``'s block refreshed; ``e`` and ``v`` may also be
        vectors of distinct indices (all written, then their blocks refreshed). An index past the
        end changes nothing (JAX drops out-of-bounds writes)."""
        finish = ct.tmap(lambda a, x: a.at[e].set(x), finish, v)
        b = e // self.K
        if jnp.ndim(e) == 0:
            m = ct.amin(ct.tmap(lambda a: jax.lax.dynamic_slice(a, (b * self.K,), (self.K,)), finish))
        else:
            rows = jnp.minimum(b, self.nb - 1)
            m = ct.amin(ct.tmap(lambda a: a.reshape(self.nb, self.K)[rows], finish), axis=-1)
        return finish, ct.tmap(lambda a, x: a.at[b].set(x), bmin, m)


__all__ = ["Blocks"]
