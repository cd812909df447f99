"""The lexicographic extreme of arrays in one pass (a variadic reduce), with other arrays' entries
carried along: ``argmin`` over several keys, and what the chosen element holds, without the
reductions of one key after another and the gathers after them (each a kernel of its own on
XLA's CPU runtime, where a loop's small steps cost their kernel count)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def lex_reduce(keys, axis: int = 0, smallest: bool = True, index: bool = True, carry=()):
    """``(*keys[i], [i], *carry[i])`` for ``i`` the lexicographically least (``smallest``) or
    greatest element of ``keys`` along ``axis``; ties on every key go to the lowest index when
    ``index`` (the index is then returned after the keys). ``carry``: arrays of the keys' shape whose
    entries at ``i`` are returned last (compared on nothing)."""
    axis = axis % keys[0].ndim
    fill = jnp.inf if smallest else -jnp.inf
    ops = list(keys)
    init = [jnp.array(fill if jnp.issubdtype(k.dtype, jnp.floating) else
                      (np.iinfo(k.dtype).max if smallest else np.iinfo(k.dtype).min), k.dtype) for k in keys]
    if index:
        ops.append(jax.lax.broadcasted_iota(jnp.int32, keys[0].shape, axis))
        init.append(jnp.array(np.iinfo(np.int32).max, jnp.int32))
    ops += carry
    init += [jnp.zeros((), c.dtype) for c in carry]

    def pick(a, b):
        first, tie = jnp.zeros((), bool), jnp.ones((), bool)
        for x, y in zip(a[:len(keys)], b[:len(keys)]):
            first, tie = first | (tie & ((x < y) if smallest else (x > y))), tie & (x == y)
        if index:
            first = first | (tie & (a[len(keys)] < b[len(keys)]))
        return tuple(jnp.where(first, x, y) for x, y in zip(a, b))

    return jax.lax.reduce(tuple(ops), tuple(init), pick, (axis,))


__all__ = ["lex_reduce"]
