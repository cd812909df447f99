"""The controlled clock's ``Blocks``: per-block minima of the workers' finish times that find the
earliest worker as ``argmin`` does (ties to the lowest index, idle workers at ``inf``) through
indexed updates."""

import numpy as np
import pytest


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 101])
def test_blocks_find_the_earliest_worker_as_argmin(n):
    """The per-block minima give ``argmin`` (ties to the lowest index), through indexed updates."""
    import jax.numpy as jnp

    from jaxsim.sim.blocks import Blocks

    rng = np.random.default_rng(n)
    blocks = Blocks.of(n)
    assert blocks.K * blocks.nb >= n > blocks.K * (blocks.nb - 1)
    vals = rng.choice([0.5, 1.0, 2.0, np.inf], size=n).astype(np.float32)  # ties and idle workers
    finish = blocks.pad(jnp.asarray(vals))
    bmin = blocks.mins(finish)
    for _ in range(30):
        e, t = blocks.earliest(finish, bmin)
        assert int(e) == int(np.argmin(vals)) and float(t) == float(vals.min())
        w, v = int(rng.integers(n)), float(rng.choice([0.25, 1.0, 3.0, np.inf]))
        vals[w] = v
        finish, bmin = blocks.set(finish, bmin, w, v)
        np.testing.assert_array_equal(np.asarray(bmin), np.asarray(blocks.mins(finish)))
