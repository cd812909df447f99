"""The worst-case quadratic (experiments.md §0): closed forms, noise, oracles."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsim
from jaxsim.runtime.rng import grad_key, grad_root


def dense_A(d, L=1.0):
    A = np.zeros((d, d))
    i = np.arange(d)
    A[i, i] = 2.0
    A[i[:-1], i[:-1] + 1] = -1.0
    A[i[1:], i[1:] - 1] = -1.0
    return (L / 4) * A


def dense_b(d, L=1.0):
    b = np.zeros(d)
    b[0] = -L / 4
    return b


def x0_of(d):
    x = np.zeros(d)
    x[0] = math.sqrt(d)
    return x


def test_eigenvalues_closed_form():
    d = 100
    ev = np.linalg.eigvalsh(dense_A(d))
    c = math.cos(math.pi / (d + 1))
    assert ev.max() == pytest.approx(0.5 * (1 + c), rel=1e-12)
    assert ev.min() == pytest.approx(0.5 * (1 - c), rel=1e-9)
    # d = 1729: lambda_min ~ 8.24e-7 (closed form)
    assert 0.5 * (1 - math.cos(math.pi / 1730)) == pytest.approx(8.24e-7, rel=1e-3)


@pytest.mark.parametrize("d, L", [(5, 1.0), (6, 2.0)])
def test_problem_matrix_is_tridiagonal(d, L):
    """A e_i = grad f(e_i) - grad f(0): the problem's operator equals the dense A."""
    p = jaxsim.worst_case_quadratic(d=d, noise_scale=0.0, L=L)
    g0 = np.asarray(p.full_grad(jnp.zeros(d)), np.float64)
    np.testing.assert_allclose(g0, -dense_b(d, L), atol=1e-7)
    A = np.stack([np.asarray(p.full_grad(jnp.eye(d)[i]), np.float64) - g0 for i in range(d)], axis=1)
    np.testing.assert_allclose(A, dense_A(d, L), atol=1e-6)


@pytest.mark.parametrize("d", [5, 100])
def test_x_star_and_f_star(d):
    A, b = dense_A(d), dense_b(d)
    xs = np.arange(1, d + 1) / (d + 1) - 1.0
    np.testing.assert_allclose(A @ xs, b, atol=1e-12)
    np.testing.assert_allclose(np.linalg.solve(A, b), xs, atol=1e-9)
    f_star = 0.5 * xs @ A @ xs - b @ xs
    assert f_star == pytest.approx(-d / (8 * (d + 1)), rel=1e-10)
    p = jaxsim.worst_case_quadratic(d=d, noise_scale=0.0)
    assert p.f_star == pytest.approx(-d / (8 * (d + 1)), rel=1e-12)
    np.testing.assert_allclose(p.x_star(), xs, atol=1e-12)
    assert float(p.loss(jnp.asarray(xs, jnp.float32))) == pytest.approx(f_star, abs=1e-5)
    assert float(jnp.max(jnp.abs(p.full_grad(jnp.asarray(xs, jnp.float32))))) < 1e-5


@pytest.mark.parametrize("d, gap, gn2", [(100, 27.624, 33.8125), (1729, 442.770, 550.770)])
def test_initial_gap_and_gradient(d, gap, gn2):
    # closed forms (independent of the package)
    gap_cf = d / 4 + math.sqrt(d) / 4 + d / (8 * (d + 1))
    gn2_cf = 5 * d / 16 + math.sqrt(d) / 4 + 1 / 16
    A, b, x0 = dense_A(d), dense_b(d), x0_of(d)
    f0 = 0.5 * x0 @ A @ x0 - b @ x0
    assert f0 + d / (8 * (d + 1)) == pytest.approx(gap_cf, rel=1e-12)
    assert np.sum((A @ x0 - b) ** 2) == pytest.approx(gn2_cf, rel=1e-12)
    assert gap_cf == pytest.approx(gap, abs=5e-4)
    assert gn2_cf == pytest.approx(gn2, abs=5e-4)
    # the package (float32 unless x64 is on)
    p = jaxsim.worst_case_quadratic(d=d, noise_scale=0.0)
    x = p.init()
    np.testing.assert_array_equal(np.asarray(x, np.float64), x0.astype(np.asarray(x).dtype))
    assert float(p.loss_gap(x)) == pytest.approx(gap_cf, rel=1e-5)
    assert float(jnp.sum(p.full_grad(x) ** 2)) == pytest.approx(gn2_cf, rel=1e-5)


def test_full_grad_equals_dense():
    d = 6
    p = jaxsim.worst_case_quadratic(d=d, noise_scale=0.3)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.normal(size=d)
        g = np.asarray(p.full_grad(jnp.asarray(x, jnp.float32)), np.float64)
        np.testing.assert_allclose(g, dense_A(d) @ x - dense_b(d), atol=1e-5)
        f = float(p.loss(jnp.asarray(x, jnp.float32)))
        assert f == pytest.approx(0.5 * x @ dense_A(d) @ x - dense_b(d) @ x, abs=1e-5)
    # the gradient is the derivative of the loss
    x = jnp.asarray(rng.normal(size=d), jnp.float32)
    np.testing.assert_allclose(p.full_grad(x), jax.grad(p.loss)(x), atol=1e-6)


NKEYS = 4000


def _noise_samples(p, x):
    keys = jax.random.split(jax.random.key(42), NKEYS)
    g = jax.vmap(lambda k: p.stoch_grad(x, k, 0))(keys)
    return np.asarray(g, np.float64) - np.asarray(p.full_grad(x), np.float64)[None]


def test_scalar_noise_same_for_every_coordinate():
    d, s = 5, 0.7
    p = jaxsim.worst_case_quadratic(d=d, noise_scale=s, noise="scalar")
    e = _noise_samples(p, jnp.linspace(-1, 1, d))
    np.testing.assert_allclose(e, np.broadcast_to(e[:, :1], e.shape), atol=1e-5)
    z = e[:, 0]
    # var of a sample variance of normals: 2 s^4 / N
    assert abs(z.var() - s * s) < 5 * s * s * math.sqrt(2 / NKEYS)
    assert abs(z.mean()) < 5 * s / math.sqrt(NKEYS)
    assert p.sigma2 == pytest.approx(s * s * d, rel=1e-6)


def test_isotropic_noise_per_coordinate_variance():
    d, s = 5, 0.7
    p = jaxsim.worst_case_quadratic(d=d, noise_scale=s, noise="isotropic")
    e = _noise_samples(p, jnp.linspace(-1, 1, d))
    assert np.mean(np.abs(e[:, 0] - e[:, 1]) > 1e-3) > 0.9  # coordinates differ
    for c in range(d):
        assert abs(e[:, c].var() - s * s) < 5 * s * s * math.sqrt(2 / NKEYS), c
    corr = np.corrcoef(e.T)[np.triu_indices(d, 1)]
    assert np.all(np.abs(corr) < 5 / math.sqrt(NKEYS))


def test_same_key_same_gradient_different_key_differs():
    p = jaxsim.worst_case_quadratic(d=4, noise_scale=1.0)
    x = jnp.ones(4)
    k = jax.random.key(3)
    np.testing.assert_array_equal(p.stoch_grad(x, k, 0), p.stoch_grad(x, k, 0))
    assert not np.array_equal(p.stoch_grad(x, k, 0), p.stoch_grad(x, jax.random.key(4), 0))
    # the engine's keys: (seed, worker, job) distinct -> different noise
    root = grad_root(0)
    g = [np.asarray(p.stoch_grad(x, grad_key(root, w, j), w)) for w, j in [(0, 0), (0, 1), (1, 0)]]
    assert not np.array_equal(g[0], g[1]) and not np.array_equal(g[0], g[2])


@pytest.mark.parametrize("noise", ["scalar", "isotropic"])
def test_numpy_oracle_matches_stoch_grad(noise):
    d, n, J = 5, 3, 4
    p = jaxsim.worst_case_quadratic(d=d, noise_scale=0.5, noise=noise)
    root = grad_root(7)
    oracle = p.numpy_oracle(root, n, J)
    rng = np.random.default_rng(1)
    for w in range(n):
        for j in range(J):
            x = rng.normal(size=d)
            got = np.asarray(oracle(x.copy(), w, j), np.float64)
            want = np.asarray(p.stoch_grad(jnp.asarray(x, jnp.float32), grad_key(root, w, j), w), np.float64)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
