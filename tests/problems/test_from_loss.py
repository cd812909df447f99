"""Problems from a loss (:func:`jaxsim.problems.from_loss`): a parameter pytree flattened in
``ravel`` order, the gradient on a sampled minibatch against a hand-derived one, the full objective
and gradient, and empty parameters refused."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsim.problems import from_loss

M, BATCH = 12, 4


def _ls_problem():
    rng = np.random.default_rng(3)
    X = jnp.asarray(rng.normal(size=(M, 3)), jnp.float32)
    y = jnp.asarray(rng.normal(size=M), jnp.float32)

    def loss_fn(params, batch):
        Xb, yb = batch
        r = Xb @ params["w"] + params["b"] - yb
        return 0.5 * jnp.mean(r ** 2)

    def sampler(key, worker, data):
        idx = jax.random.randint(key, (BATCH,), 0, M)
        return data[0][idx], data[1][idx]

    def objective(params, data):
        return loss_fn(params, data)

    params0 = {"w": jnp.array([0.5, -1.0, 2.0]), "b": jnp.array(0.25)}
    return from_loss(loss_fn, sampler, objective, params0, data=(X, y)), X, y


def test_from_loss_gradient_on_sampled_batch():
    p, X, y = _ls_problem()
    assert p.dim == 4
    x = p.init()
    # ravel order of a dict pytree: sorted keys -> [b, w0, w1, w2]
    np.testing.assert_allclose(x, [0.25, 0.5, -1.0, 2.0])
    key = jax.random.key(9)
    idx = np.asarray(jax.random.randint(key, (BATCH,), 0, M))
    Xb, yb = np.asarray(X, np.float64)[idx], np.asarray(y, np.float64)[idx]
    w, b = np.array([0.5, -1.0, 2.0]), 0.25
    r = Xb @ w + b - yb
    expected = np.concatenate([[r.mean()], Xb.T @ r / BATCH])  # hand-derived gradient
    np.testing.assert_allclose(p.stoch_grad(x, key, 0), expected, rtol=1e-5, atol=1e-6)
    # and the full objective / gradient on all the data
    Xn, yn = np.asarray(X, np.float64), np.asarray(y, np.float64)
    R = Xn @ w + b - yn
    assert float(p.loss(x)) == pytest.approx(0.5 * np.mean(R ** 2), rel=1e-5)
    np.testing.assert_allclose(p.full_grad(x), np.concatenate([[R.mean()], Xn.T @ R / M]), rtol=1e-5, atol=1e-6)
    assert p.f_star is None
    assert float(p.loss_gap(x)) == float(p.loss(x))


def test_from_loss_rejects_empty_params():
    with pytest.raises(ValueError, match="params0"):
        from_loss(lambda p, b: 0.0, lambda k, w, d: None, lambda p, d: 0.0, {})
