"""Heterogeneous-data problems: logistic regression and the MNIST MLP (tiny shapes)."""

import functools
import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxsim
from jaxsim.problems import data
from jaxsim.problems import (
    MLP,
    logistic_regression,
    logistic_solve,
    make_logistic,
    make_problem,
    mlp_classifier,
    mnist_mlp,
)
from jaxsim.problems.logistic import minibatch_positions
from jaxsim.problems.mlp import mlp_num_params


@functools.partial(jax.jit, static_argnums=0)
def call(method, prob, *args):
    """``prob.method(*args)`` compiled: op-by-op dispatch of flax gradients is slow."""
    return getattr(prob, method)(*args)


# ----------------------------------------------------------------------------- logistic


@pytest.fixture(scope="module")
def logi():
    X, y, parts = data.synthetic_logistic(3, 4, 3, heterogeneity=2.0, seed=0)
    return logistic_regression(X, y, parts, batch=2, l2=0.1)


def test_logistic_gradients(logi):
    x = jnp.asarray(np.random.default_rng(1).standard_normal(3), jnp.float32)
    g = call("full_grad", logi, x)
    np.testing.assert_allclose(g, jax.grad(logi.loss)(x), rtol=1e-5, atol=1e-6)
    local = jnp.stack([call("local_grad", logi, x, w) for w in range(3)])
    np.testing.assert_allclose(local.mean(0), g, rtol=1e-5, atol=1e-6)  # f = mean_i f_i
    np.testing.assert_allclose(local[1], jax.grad(logi.local_loss)(x, 1), rtol=1e-5, atol=1e-6)
    # numpy reference of f
    X, y = np.asarray(logi.X, np.float64), np.asarray(logi.y, np.float64)
    f = np.mean(np.logaddexp(0, -y * (X @ np.asarray(x, np.float64)))) + 0.05 * float(x @ x)
    np.testing.assert_allclose(float(logi.loss(x)), f, rtol=1e-5)
    # the expected minibatch gradient is grad f_i: average over all C(4, 2) batches
    w = 2
    batches = [jnp.array(b, jnp.int32) for b in itertools.combinations(range(4), 2)]
    mean = sum(call("grad_from_noise", logi, x, b, w) for b in batches) / len(batches)
    np.testing.assert_allclose(mean, local[w], rtol=1e-5, atol=1e-6)
    # batch == m: the stochastic gradient is exactly grad f_i
    full = logistic_regression(logi.X, logi.y, logi.parts, batch=4, l2=0.1)
    np.testing.assert_allclose(full.stoch_grad(x, jax.random.key(3), w), local[w], rtol=1e-5)


def test_logistic_subset_parts_and_f_star():
    X, y, _ = data.synthetic_logistic(1, 25, 3, seed=2)
    parts = data.split_iid((y > 0).astype(int), 4, seed=0)  # 24 of 25 samples used
    prob = logistic_regression(X, y, parts, l2=0.01)
    used = parts.ravel()
    x = jnp.array([0.3, -0.2, 0.5])
    f = np.mean(np.logaddexp(0, -y[used] * (X[used] @ np.asarray(x)))) + 0.005 * float(x @ x)
    np.testing.assert_allclose(float(prob.loss(x)), f, rtol=1e-5)
    np.testing.assert_allclose(prob.full_grad(x), jax.grad(prob.loss)(x), rtol=1e-5, atol=1e-6)
    x_star, f_star = logistic_solve(prob)
    A, b = X[used].astype(np.float64), y[used].astype(np.float64)
    g = A.T @ (-b / (1 + np.exp(b * (A @ x_star)))) / len(b) + 0.01 * x_star
    assert np.linalg.norm(g) < 1e-7
    assert f_star <= float(prob.loss(x))
    solved = prob.with_f_star()
    assert solved.f_star == pytest.approx(f_star)
    assert float(solved.loss_gap(jnp.asarray(x_star, jnp.float32))) == pytest.approx(0, abs=1e-5)


def test_minibatch_positions():
    keys = jax.random.split(jax.random.key(0), 3000)
    draws = np.asarray(jax.vmap(lambda k: minibatch_positions(k, 5, 3))(keys))
    assert draws.dtype == np.int32 and draws.shape == (3000, 3)
    assert draws.min() >= 0 and draws.max() < 5
    assert all(len(set(r)) == 3 for r in draws)  # without replacement within a call
    counts = {}
    for r in draws:
        counts[frozenset(r.tolist())] = counts.get(frozenset(r.tolist()), 0) + 1
    assert len(counts) == 10  # every 3-subset of 5, about uniformly (300 each)
    assert max(counts.values()) < 380 and min(counts.values()) > 220
    big = np.asarray(minibatch_positions(jax.random.key(1), 100, 70))  # permutation path
    assert len(set(big.tolist())) == 70 and big.max() < 100
    np.testing.assert_array_equal(minibatch_positions(jax.random.key(1), 4, 4), np.arange(4))


def test_logistic_builder_errors():
    X, y, parts = data.synthetic_logistic(2, 3, 2)
    with pytest.raises(ValueError, match="y \\(labels\\)"):
        logistic_regression(X, (y > 0).astype(np.float32), parts)
    with pytest.raises(ValueError, match="y \\(labels\\) has 5"):
        logistic_regression(X, y[:5], parts)
    with pytest.raises(ValueError, match="parts"):
        logistic_regression(X, y, parts + 1)
    with pytest.raises(ValueError, match="batch"):
        logistic_regression(X, y, parts, batch=4)
    with pytest.raises(ValueError, match="l2"):
        logistic_regression(X, y, parts, l2=-1.0)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="X \\(features\\)"):
        logistic_regression(X, y, parts)


def test_registry_logistic_libsvm(tmp_path):
    p = tmp_path / "tiny.svm"
    rng = np.random.default_rng(0)
    lines = [f"{1 + (i % 2)} 1:{rng.normal():.3f} 3:{rng.normal():.3f}" for i in range(12)]
    p.write_text("\n".join(lines) + "\n")
    prob = make_problem("logistic", path=p, num_workers=3, split="by_class", batch=2)
    assert prob.num_workers == 3 and prob.dim == 3 and prob.local_size == 4
    assert set(np.unique(np.asarray(prob.y)).tolist()) == {-1.0, 1.0}
    syn = make_logistic(num_workers=2, samples_per_worker=5, dim=4)
    assert syn.name == "logistic" and syn.parts.shape == (2, 5) and syn.f_star is None


# ----------------------------------------------------------------------------- MLP


def tiny_xy(N=24, d=784, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, d)).astype(np.float32), np.arange(N) % classes


def test_mlp_default_size_and_init():
    X, y = tiny_xy()
    prob = mnist_mlp(X=X, y=y, num_workers=4, split="iid", init_seed=3)
    assert prob.dim == 101770 == mlp_num_params() and prob.num_workers == 4
    assert prob.batch == 4 and prob.name == "mnist_mlp"
    p = prob.params(prob.init())["params"]
    for layer, fan_in in (("Dense_0", 784), ("Dense_1", 128)):
        bound = 1 / math.sqrt(fan_in)
        for leaf in ("kernel", "bias"):
            v = np.asarray(p[layer][leaf])
            assert np.abs(v).max() <= bound
        k = np.asarray(p[layer]["kernel"])
        assert np.abs(k).max() > 0.99 * bound  # fills the interval
        assert abs(k.std() - bound / math.sqrt(3)) < 0.02 * bound  # uniform variance
    assert p["Dense_0"]["kernel"].shape == (784, 128)
    again = mnist_mlp(X=X, y=y, num_workers=4, split="iid", init_seed=3)
    np.testing.assert_array_equal(again.init(), prob.init())
    assert not np.array_equal(mnist_mlp(X=X, y=y, num_workers=4, split="iid").init(), prob.init())


def _direct_loss(x, prob, rows):
    """Cross-entropy of the flax module applied directly, written without the problem."""
    logits = MLP(prob.hidden, prob.classes).apply(prob.params(x), prob.X[rows])
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, prob.y[rows][:, None], axis=1))


@pytest.fixture(scope="module")
def small_mlp():
    X, y = tiny_xy(N=31, d=6, classes=3)
    parts = data.split_dirichlet(y, 3, 1.0)  # 30 of 31 samples, 10 per worker
    return mlp_classifier(X, y, parts, hidden=5, classes=3, batch=3, chunk=7)  # 30 = 4*7 + 2


def test_mlp_gradients(small_mlp):
    prob = small_mlp
    x = prob.init() + 0.1
    used = prob.parts.reshape(-1)
    direct_grad = jax.jit(jax.grad(_direct_loss))
    np.testing.assert_allclose(call("loss", prob, x), _direct_loss(x, prob, used), rtol=1e-5)
    g = call("full_grad", prob, x)
    np.testing.assert_allclose(g, direct_grad(x, prob, used), rtol=1e-4, atol=1e-6)
    local = jnp.stack([call("local_grad", prob, x, w) for w in range(3)])
    np.testing.assert_allclose(local.mean(0), g, rtol=1e-4, atol=1e-6)
    key = jax.random.key(4)
    idx = call("sample_noise", prob, key, 1)
    assert idx.shape == (3,) and len(set(np.asarray(idx).tolist())) == 3
    rows = prob.parts[1, idx]
    np.testing.assert_allclose(call("stoch_grad", prob, x, key, 1), direct_grad(x, prob, rows),
                               rtol=1e-4, atol=1e-6)
    # optax's cross-entropy and the hand-written one agree on the same rows
    ce = optax.softmax_cross_entropy_with_integer_labels(prob.logits(x, prob.X[rows]), prob.y[rows])
    np.testing.assert_allclose(jnp.mean(ce), _direct_loss(x, prob, rows), rtol=1e-6)


def test_mlp_in_engine(small_mlp):
    timing = jaxsim.make_timing(3, "one_plus_sqrt")
    res = jaxsim.simulate("asgd", small_mlp, timing, hparams={"gamma": 0.05}, horizon=12.0,
                          num_points=2)
    assert res["updates"][-1] > 0 and np.all(np.isfinite(res["grad_norm_sq"]))
    assert res["loss"][0] == pytest.approx(float(small_mlp.loss(small_mlp.init())), rel=1e-5)
    assert "loss_gap" not in res  # no known f*: f(x) is recorded as `loss`, never labelled a gap


def test_mlp_full_batch_scalar_noise():
    """``full_batch_noise = s`` (the Ringmaster paper's MNIST recipe): every call is the exact full-batch
    gradient plus ``s z 1`` with one scalar ``z`` per call, for any worker; the data are shared by all."""
    X, y = tiny_xy(N=12, d=6, classes=3)
    prob = mnist_mlp(X=X, y=y, hidden=4, classes=3, full_batch_noise=0.5, num_workers=5)  # split unused
    assert prob.full_batch and prob.num_workers is None and prob.parts.shape == (1, 12)
    assert prob.sigma2 == pytest.approx(0.25 * prob.dim)
    x = prob.init() + 0.05
    direct = jax.jit(jax.grad(_direct_loss))(x, prob, jnp.arange(12))
    g = call("full_grad", prob, x)
    np.testing.assert_allclose(g, direct, rtol=1e-4, atol=1e-6)
    for worker in (0, 7):
        key = jax.random.key(worker + 3)
        z = call("sample_noise", prob, key, worker)
        assert z.shape == ()
        np.testing.assert_allclose(call("stoch_grad", prob, x, key, worker), g + 0.5 * z, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(call("local_grad", prob, x, worker), g, rtol=1e-6)
    # no noise: the exact gradient; the minibatch mode is unchanged and has no sigma2
    exact = mnist_mlp(X=X, y=y, hidden=4, classes=3, full_batch_noise=0.0)
    np.testing.assert_allclose(call("stoch_grad", exact, x, jax.random.key(0), 2), g, rtol=1e-6)
    mini = mnist_mlp(X=X, y=y, num_workers=3, split="iid", hidden=4, classes=3)
    assert not mini.full_batch and mini.num_workers == 3
    with pytest.raises(AttributeError, match="full-batch"):
        _ = mini.sigma2
    # any number of workers runs it
    res = jaxsim.simulate("asgd", prob, jaxsim.make_timing(4, "one_plus_sqrt"), hparams={"gamma": 0.05},
                          horizon=6.0, num_points=2)
    assert res["updates"][-1] > 0 and np.all(np.isfinite(res["grad_norm_sq"]))
    for bad in (-1.0, float("nan"), float("inf"), True, "1"):
        with pytest.raises(ValueError, match="full_batch_noise"):
            mnist_mlp(X=X, y=y, hidden=4, classes=3, full_batch_noise=bad)


def test_float64():
    with jax.enable_x64(True):
        X, y, parts = data.synthetic_logistic(2, 3, 2, seed=1)
        logi = logistic_regression(X, y, parts, batch=2, l2=0.1)
        assert logi.init().dtype == jnp.float64 and logi.X.dtype == jnp.float64
        x = jnp.array([0.2, -0.4])
        np.testing.assert_allclose(call("full_grad", logi, x), jax.grad(logi.loss)(x), rtol=1e-12)
        assert call("stoch_grad", logi, x, jax.random.key(0), 1).dtype == jnp.float64
        Xm, ym = tiny_xy(N=8, d=4, classes=2)
        mlp = mlp_classifier(Xm, ym, data.split_iid(ym, 2), hidden=3, classes=2, batch=2)
        x = mlp.init()
        assert x.dtype == jnp.float64
        g = call("full_grad", mlp, x)
        assert g.dtype == jnp.float64
        direct = jax.jit(jax.grad(_direct_loss))(x, mlp, mlp.parts.reshape(-1))
        np.testing.assert_allclose(g, direct, rtol=1e-10)


def test_mlp_builder_errors(tmp_path):
    X, y = tiny_xy(N=12, d=4, classes=3)
    with pytest.raises(ValueError, match="path/X"):
        mnist_mlp()
    with pytest.raises(ValueError, match="path/X"):
        mnist_mlp(path=tmp_path, X=X, y=y)
    with pytest.raises(ValueError, match="y \\(labels\\)"):
        mnist_mlp(X=X, num_workers=2)
    with pytest.raises(ValueError, match="y \\(labels\\)"):
        mnist_mlp(X=X, y=y + 10, num_workers=2, classes=10)
    with pytest.raises(ValueError, match="number of workers"):
        mnist_mlp(X=X, y=y, num_workers=13)
    with pytest.raises(ValueError, match="alpha"):
        mnist_mlp(X=X, y=y, num_workers=2, alpha=-1.0)
    with pytest.raises(ValueError, match="batch"):
        mnist_mlp(X=X, y=y, num_workers=4, batch=4)
    with pytest.raises(FileNotFoundError, match="no_mnist"):
        mnist_mlp(path=tmp_path / "no_mnist")


def test_mnist_mlp_shared(shared_dir):
    folder = shared_dir / "data" / "mnist" if shared_dir is not None else None
    if folder is None or not (folder / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("shared MNIST test split not present")
    prob = mnist_mlp(folder, train=False, num_workers=10, max_samples=1000, hidden=16)
    assert prob.X.shape == (1000, 784) and prob.parts.shape == (10, 100)
    assert prob.dim == mlp_num_params(784, 16, 10)
    assert 2.0 < float(prob.loss(prob.init())) < 2.7  # about log(10) at a random init
