"""The unrolled threefry implementation reproduces JAX's default one bit for bit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsim.runtime.threefry import hash2x32, unrolled

pytestmark = pytest.mark.skipif(not jax.config.jax_threefry_partitionable,
                                reason="the unrolled form mirrors JAX's partitionable threefry")


def test_known_answer():
    # the threefry2x32 known-answer vector of the Random123 suite (20 rounds)
    u = np.uint32
    got = hash2x32(u(0x13198A2E), u(0x03707344), u(0x243F6A88), u(0x85A308D3))
    assert [int(g) for g in got] == [0xC4923A9C, 0x483DF7A0]


def _derived(key):
    k = jax.random.fold_in(jax.random.fold_in(key, 7), 123456789)
    a, b = jax.random.split(k)
    return dict(
        key=jax.random.key_data(k), split=jax.random.key_data(jax.random.split(k, (3, 2))),
        uniform=jax.random.uniform(a, (5,)), normal=jax.random.normal(b, (2, 3)),
        exponential=jax.random.exponential(k, ()), bits32=jax.random.bits(k, (7,), jnp.uint32),
        bits8=jax.random.bits(k, (5,), jnp.uint8), bits16=jax.random.bits(k, (3,), jnp.uint16),
        bits64=jax.random.bits(k, (3,), jnp.uint64) if jax.config.jax_enable_x64 else jnp.zeros(()),
        perm=jax.random.permutation(k, 9), randint=jax.random.randint(k, (4,), 0, 1000))


@pytest.mark.parametrize("seed", [0, 1, 2 ** 31 + 5, 987654321])
def test_every_draw_matches_the_default(seed):
    key = jax.random.key(seed)
    want = _derived(key)
    got = _derived(unrolled(key))
    jitted = jax.jit(lambda d: _derived(unrolled(jax.random.wrap_key_data(d))))(jax.random.key_data(key))
    for name in want:
        np.testing.assert_array_equal(np.asarray(got[name]), np.asarray(want[name]), err_msg=name)
        np.testing.assert_array_equal(np.asarray(jitted[name]), np.asarray(want[name]), err_msg=name)


def test_vmapped_keys_match():
    keys = jax.random.split(jax.random.key(3), 6)
    def f(k, i):
        return jax.random.exponential(jax.random.fold_in(k, i), (4,))

    want = jax.vmap(f)(keys, jnp.arange(6))
    got = jax.jit(jax.vmap(lambda k, i: f(unrolled(k), i)))(keys, jnp.arange(6))
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_no_hash_loop_on_cpu():
    key = jax.random.key(0)
    hlo = jax.jit(lambda k: jax.random.uniform(jax.random.fold_in(unrolled(k), 3), (4,))).lower(key).as_text()
    assert "while" not in hlo
    rolled = jax.jit(lambda k: jax.random.uniform(jax.random.fold_in(k, 3), (4,))).lower(key).as_text()
    assert jax.default_backend() != "cpu" or "while" in rolled  # what the unrolled form avoids
