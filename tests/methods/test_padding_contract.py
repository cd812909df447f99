"""The ``masks_invalid`` contract, for every registered method that declares it (Ringleader,
Malenia, IA²SGD, and ``tests/user_methods`` files): an arrival with ``valid=False`` (batch
padding) leaves the method's whole state as it was; the engine does not select for them."""

import numpy as np
import pytest

import jaxsim
from jaxsim.methods.base import Arrival

MASKING = sorted(k for k, v in jaxsim.REGISTRY.items() if getattr(v, "masks_invalid", False))


@pytest.mark.parametrize("name", MASKING)
def test_padding_arrivals_leave_state_unchanged(name):
    """Methods that mask padding events themselves (``masks_invalid``) must leave their whole
    state as it was for an arrival with ``valid=False``; the engine no longer selects."""
    import jax
    import jax.numpy as jnp
    from jaxsim.methods.base import SeedContext, Workers

    method = jaxsim.REGISTRY[name]()
    n, d = 3, 2
    rng = np.random.default_rng(0)
    ctx = SeedContext(tau=jnp.ones(n), mean=jnp.ones(n), rank=jnp.arange(n), key=jax.random.key(0))
    hp = {k: jnp.asarray(v.item()) for k, v in method.check_hparams({}).items()}
    state = method.init(jnp.zeros(d), hp, ctx, jaxsim.make_timing(n, "constant"))

    problem = jaxsim.worst_case_quadratic(d=d, noise_scale=0.1)

    def job_output(w):  # what the method's job computes, at random points
        points = tuple(jnp.asarray(rng.normal(size=d), jnp.float32) for _ in range(2))
        key = jax.random.key(int(rng.integers(1 << 30)))
        return method.job.compute(problem, points, method.job.sample_noise(problem, key, w), w, hp, 2)

    def arrive(state, w, valid):
        a = Arrival(jnp.int32(w), jnp.int32(0), 0.0, jnp.int32(0), job_output(w),
                    jnp.zeros(d), n, timed_out=jnp.asarray(False), ctx=ctx, valid=jnp.asarray(valid),
                    workers=Workers(s=jnp.zeros(n, jnp.int32), busy=jnp.ones(n, bool), k=jnp.int32(0)),
                    params=lambda x: x, flat=lambda x: x)
        return method.on_arrival(state, a, hp)[0]

    def canonical(s):  # a table's deferred row write is part of its contents
        from jaxsim.methods._tables import Tables, flush

        if isinstance(s, Tables):
            return (flush(s), s.count, s.avg)
        if isinstance(s, tuple) and not hasattr(s, "shape"):
            return type(s)(*map(canonical, s)) if hasattr(s, "_fields") else tuple(map(canonical, s))
        return s

    for step in range(3 * n):  # through warm-ups, rounds and transitions
        state = arrive(state, step % n, True)
        after = arrive(state, int(rng.integers(n)), False)
        same = jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)), canonical(state), canonical(after))
        assert all(jax.tree.leaves(same)), f"{name}: an invalid arrival changed the state at step {step}"
