"""JAX's default PRNG (threefry2x32) with its hash written out in plain integer operations.

On CPU, JAX lowers the threefry hash behind every ``jax.random`` draw, ``fold_in`` and
``split`` as a ``while`` loop of five trips (to keep compile times short; other backends get
it unrolled). Inside the simulator's per-iteration loops a loop trip on XLA's CPU runtime
costs far more than the twenty rounds of integer arithmetic it runs, and an allocation
iteration folds and draws several keys (each task's duration, each slot's gradient noise,
the method's key and its priorities): most of its time went to those nested loops.

:data:`UNROLLED` is a PRNG implementation with the same key layout, the same seed, split,
fold-in and random-bits functions as JAX's ``threefry2x32`` (the partitionable forms, JAX's
default), whose hash is the unrolled twenty rounds as ordinary ``jax.lax`` operations: XLA
fuses it with its neighbours and no loop is left. Every key, every bit, hence every draw, is
the same as with the default implementation (``tests/runtime/test_threefry.py`` checks known
answers and random keys against JAX's own). :func:`unrolled` re-types a key; what is derived
from it (``fold_in``, ``split``, draws) keeps the implementation.

It is applied per clock, not globally: registering the unrolled lowering for the CPU globally
halved the allocation clock's iteration, but doubled the controlled clock's event at
``n = 6174`` workers (Ringmaster with stops), where one hash covers thousands of draws and the
rolled loop's overhead is negligible.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.extend.random import define_prng_impl

_U32 = np.uint32
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = _U32(0x1BD11BDA)


def _rotl(x, r: int):
    return lax.shift_left(x, _U32(r)) | lax.shift_right_logical(x, _U32(32 - r))


def hash2x32(k1, k2, x1, x2):
    """The threefry2x32 hash of the counters ``(x1, x2)`` under the key ``(k1, k2)``: five
    groups of four rounds with a key injection after each (Salmon et al., 2011; JAX's
    ``threefry2x32_p``), unrolled. Arguments broadcast; all ``uint32``."""
    ks = (k1, k2, k1 ^ k2 ^ _PARITY)
    x = [x1 + ks[0], x2 + ks[1]]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x[0] = x[0] + x[1]
            x[1] = _rotl(x[1], r) ^ x[0]
        x = [x[0] + ks[(i + 1) % 3], x[1] + ks[(i + 2) % 3] + _U32(i + 1)]
    return x[0], x[1]


def _counts(shape):
    """JAX's ``iota_2x32_shape``: the row-major index of each element as ``(hi, lo)`` words."""
    size = math.prod(shape)
    if size >= 2 ** 32:
        raise NotImplementedError("unrolled threefry: more than 2**32 draws from one key")
    lo = lax.iota(_U32, size).reshape(shape) if shape else jnp.zeros((), _U32)
    return jnp.zeros(shape, _U32), lo


def _hash_flat(key, count):
    """JAX's ``threefry_2x32(keypair, count)``: the flat counters split in two halves."""
    flat = count.ravel()
    odd = flat.shape[0] % 2
    if odd:
        flat = jnp.concatenate([flat, jnp.zeros((1,), _U32)])
    half = flat.shape[0] // 2
    y1, y2 = hash2x32(key[0], key[1], flat[:half], flat[half:])
    out = jnp.concatenate([y1, y2])
    return (out[:-1] if odd else out).reshape(count.shape)


def _seed(seed):
    seed = jnp.asarray(seed)
    hi = lax.convert_element_type(lax.shift_right_logical(seed, lax.full_like(seed, 32)) if seed.dtype.itemsize == 8
                                  else jnp.zeros((), seed.dtype), _U32)
    lo = lax.convert_element_type(seed & np.asarray(0xFFFFFFFF, seed.dtype) if seed.dtype.itemsize == 8 else seed, _U32)
    return jnp.stack([hi, lo])


def _fold_in(key, data):
    return _hash_flat(key, _seed(jnp.asarray(data, _U32)))


def _split(key, shape):
    c1, c2 = _counts(tuple(shape))
    b1, b2 = hash2x32(key[0], key[1], c1, c2)
    return jnp.stack([b1, b2], axis=b1.ndim)


def _random_bits(key, bit_width, shape):
    c1, c2 = _counts(tuple(shape))
    b1, b2 = hash2x32(key[0], key[1], c1, c2)
    if bit_width == 64:
        return (b1.astype(np.uint64) << np.uint64(32)) | b2.astype(np.uint64)
    bits = b1 ^ b2
    return bits if bit_width == 32 else bits.astype({8: np.uint8, 16: np.uint16}[bit_width])


#: The unrolled threefry2x32 implementation (same keys and bits as JAX's default).
UNROLLED = define_prng_impl(key_shape=(2,), seed=_seed, split=_split, random_bits=_random_bits, fold_in=_fold_in,
                            name="threefry2x32_unrolled", tag="fru")


def available() -> bool:
    """Whether :data:`UNROLLED` reproduces the default: JAX's partitionable threefry forms
    (its default since 0.5) are the ones mirrored here."""
    return bool(jax.config.jax_threefry_partitionable)


def unrolled(key):
    """``key`` (a typed threefry key, any shape) under :data:`UNROLLED`: the same key data; what
    is derived from it is the same bit for bit, without a hash loop on CPU. Returned unchanged
    when the default is not the form mirrored here (:func:`available`)."""
    if not available():
        return key
    return jax.random.wrap_key_data(jax.random.key_data(key), impl=UNROLLED)


__all__ = ["UNROLLED", "available", "hash2x32", "unrolled"]
