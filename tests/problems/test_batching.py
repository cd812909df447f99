"""Per-run batching of minibatch gradients (jaxsim.problems.batching.per_run): under vmap over
seeds and settings, where the settings of a seed share its sample, each run's gradient is the one
that run computes alone, bit for bit, whatever shares its batch and in either nesting order."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsim.problems import language_model, mlp_classifier
from jaxsim.problems.batching import per_run


def _problems():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 784)).astype(np.float32), np.arange(40) % 10
    mlp = mlp_classifier(X, y, np.arange(40).reshape(4, 10), hidden=32, batch=4)
    lm = language_model(text="a small corpus for the batching test. " * 40,
                        config=dict(n_layer=1, n_head=2, n_embd=16, seq_len=8, batch=2))
    return {"mlp": mlp, "lm": lm}


@pytest.fixture(scope="module", params=["mlp", "lm"])
def prob(request):
    return _problems()[request.param]


def test_each_run_computes_its_own_gradient(prob):
    rng = np.random.default_rng(1)
    x = jnp.asarray(prob.init() + 0.05 * rng.standard_normal((2, 3, prob.dim)).astype(np.float32))
    keys = jax.random.split(jax.random.key(2), 2)
    workers = jnp.asarray([1, 3], jnp.int32)

    def grad(x, key, w):
        return prob.grad_from_noise(x, prob.sample_noise(key, w), w)

    alone = jax.jit(grad)
    seeds_outer = jax.jit(jax.vmap(jax.vmap(grad, in_axes=(0, None, None))))(x, keys, workers)
    settings_outer = jax.jit(jax.vmap(jax.vmap(grad), in_axes=(1, None, None)))(x, keys, workers)
    for s in range(2):
        for j in range(3):
            want = np.asarray(alone(x[s, j], keys[s], workers[s]))
            np.testing.assert_array_equal(np.asarray(seeds_outer[s, j]), want)
            np.testing.assert_array_equal(np.asarray(settings_outer[j, s]), want)


def test_per_run_keeps_the_function_and_unbatched_data():
    seen = []

    def fn(data, x, noise, worker):
        seen.append(jnp.shape(data))
        return data[noise] * x + worker

    f = per_run(fn)
    data = jnp.arange(5.0)
    assert float(f(data, 2.0, 3, 1)) == 7.0
    out = jax.vmap(f, in_axes=(None, 0, None, None))(data, jnp.asarray([1.0, 2.0]), 4, 0)
    np.testing.assert_array_equal(out, [4.0, 8.0])
    assert all(s == (5,) for s in seen)  # the shared data is never broadcast
