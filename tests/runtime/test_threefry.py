"""The threefry hash is lowered unrolled on CPU (jaxsim.runtime.threefry), with the same draws."""

import jax
import jax.numpy as jnp
import numpy as np

from jaxsim.runtime import rng  # noqa: F401  (registers the lowering on import)
from jaxsim.runtime.threefry import unroll_threefry_on_cpu


def _draw(key, k):
    return jax.random.uniform(jax.random.fold_in(key, k), (5,))


def test_lowering_registered_and_loop_free():
    assert unroll_threefry_on_cpu()
    text = jax.jit(_draw).lower(jax.random.key(3), jnp.int32(7)).as_text()
    if jax.default_backend() == "cpu":
        assert "stablehlo.while" not in text


def test_same_draws_as_the_threefry_reference():
    # the hash of known inputs (JAX's own test vector for threefry2x32, Random123's KAT)
    from jax._src.random.threefry2x32 import threefry_2x32

    key = jnp.array([0x13198A2E, 0x03707344], jnp.uint32)
    out = jax.jit(threefry_2x32)(key, jnp.array([0x243F6A88, 0x85A308D3], jnp.uint32))
    np.testing.assert_array_equal(np.asarray(out), np.array([0xC4923A9C, 0x483DF7A0], np.uint32))
