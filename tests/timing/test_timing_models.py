"""Computation-time models (README spec §5.1-5.3): base profiles, noise laws (and the range of
``inf_bernoulli``'s ``p``), prefix property."""

import math

import jax
import numpy as np
import pytest

from jaxsim import timing as T
from jaxsim.timing import make_timing

N_STAT = 20_000  # jobs per worker for the moment checks


def _key(seed=0):
    return jax.random.key(seed)


# ----------------------------------------------------------------------------------------
# Base profiles and scale
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("profile, expected", [
    ("sqrt", [1.0, math.sqrt(2), math.sqrt(3), 2.0, math.sqrt(5)]),  # sqrt(i), 1-based
    ("one_plus_sqrt", [1.0, 2.0, 1 + math.sqrt(2), 1 + math.sqrt(3), 3.0]),  # 1 + sqrt(w), 0-based
    ("linear", [1.0, 2.0, 3.0, 4.0, 5.0]),
    ("constant", [1.0, 1.0, 1.0, 1.0, 1.0]),
])
def test_base_profiles(profile, expected):
    np.testing.assert_allclose(T.base_times(profile, 5), expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(make_timing(5, profile).tau, expected, rtol=0, atol=1e-15)


def test_scale_multiplies_base_times():
    tm = make_timing(4, "sqrt", base_scale=2.5)
    np.testing.assert_allclose(tm.tau, 2.5 * np.sqrt([1.0, 2.0, 3.0, 4.0]), rtol=1e-15)
    tm = make_timing(3, [0.5, 1.0, 4.0], base_scale=3.0)
    np.testing.assert_allclose(tm.tau, [1.5, 3.0, 12.0], rtol=0)


def test_user_array_base():
    tm = make_timing(3, (3.0, 1.0, 2.0))
    np.testing.assert_array_equal(tm.tau, [3.0, 1.0, 2.0])


# ----------------------------------------------------------------------------------------
# Fixed model
# ----------------------------------------------------------------------------------------

def test_fixed_model_is_exactly_tau():
    tm = make_timing(5, "one_plus_sqrt")
    D = tm.sample(_key(3), 40, dtype=np.float64)
    assert D.shape == (5, 40)
    np.testing.assert_array_equal(D, np.broadcast_to(tm.tau[:, None], (5, 40)))
    D32 = tm.sample(_key(3), 40)  # default dtype (float32 unless x64 is on)
    np.testing.assert_array_equal(D32, np.broadcast_to(tm.tau.astype(D32.dtype)[:, None], (5, 40)))


# ----------------------------------------------------------------------------------------
# Noise laws: moments within statistical tolerance
# ----------------------------------------------------------------------------------------

def _within_se(sample_mean, mu, sd, n, k=5.0):
    """|sample mean - mu| <= k standard errors."""
    return abs(sample_mean - mu) <= k * sd / math.sqrt(n)


def test_halfnormal_default_variance_is_i_and_moments_match_abs_normal():
    tm = make_timing(3, "one_plus_sqrt", "halfnormal")  # var = w + 1
    D = tm.sample(_key(1), N_STAT, dtype=np.float64)
    eta = D - tm.tau[:, None]
    assert np.all(eta >= 0)
    var = np.array([1.0, 2.0, 3.0])
    z = eta / np.sqrt(var)[:, None]  # should be |Z|, Z ~ N(0, 1), per worker
    m1, sd1 = math.sqrt(2 / math.pi), math.sqrt(1 - 2 / math.pi)
    for w in range(3):
        assert _within_se(z[w].mean(), m1, sd1, N_STAT), (w, z[w].mean())
        # E|Z|^2 = 1, Var(Z^2) = 2
        assert _within_se((z[w] ** 2).mean(), 1.0, math.sqrt(2.0), N_STAT), (w, (z[w] ** 2).mean())
        # sample std of |Z| ~ sqrt(1 - 2/pi) (loose: 5%)
        assert abs(z[w].std() - sd1) < 0.05 * sd1
    np.testing.assert_allclose(tm.noise.mean(tm.tau), np.sqrt(var) * m1, rtol=1e-12)


def test_halfnormal_default_dtype_never_below_base():
    tm = make_timing(4, "one_plus_sqrt", "halfnormal", var=0.01)
    D = tm.sample(_key(2), 500)
    assert np.all(D >= tm.tau.astype(D.dtype)[:, None])


def test_halfnormal_var_profiles():
    assert np.array_equal(T.HalfNormal("i").variance(3), [1.0, 2.0, 3.0])
    assert np.array_equal(T.HalfNormal("i-1").variance(3), [0.0, 1.0, 2.0])
    assert np.array_equal(T.HalfNormal(0.5).variance(2), [0.5, 0.5])
    # var = 0 means no noise at all
    tm = make_timing(3, "linear", "halfnormal", var=(0.0, 4.0, 0.0))
    D = tm.sample(_key(5), 300, dtype=np.float64)
    np.testing.assert_array_equal(D[0], 1.0)
    np.testing.assert_array_equal(D[2], 3.0)
    assert D[1].std() > 0


def test_make_timing_routes_noise_keywords_to_the_law():
    tm = make_timing(3, "linear", "exponential", scale="base")  # the ATA law: mean tau_i
    np.testing.assert_allclose(tm.noise.mean(tm.tau), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(tm.tau, [1.0, 2.0, 3.0])


def test_exponential_mean():
    scales = np.array([0.5, 1.0, 2.0])
    tm = make_timing(3, "constant", "exponential", scale=tuple(scales))
    assert tm.noise == T.Exponential(scale=tuple(scales))
    D = tm.sample(_key(7), N_STAT, dtype=np.float64)
    eta = D - 1.0
    assert np.all(eta >= 0)
    np.testing.assert_allclose(tm.noise.mean(tm.tau), scales)
    for w in range(3):  # Exp(theta): mean theta, sd theta
        assert _within_se(eta[w].mean(), scales[w], scales[w], N_STAT), (w, eta[w].mean())


def test_exponential_base_scale_is_ata_law():
    tm = T.TimingModel(n=3, base="linear", noise=T.Exponential(scale="base"))
    np.testing.assert_allclose(tm.mean(), 2 * np.array([1.0, 2.0, 3.0]))
    D = tm.sample(_key(8), N_STAT, dtype=np.float64)
    for w, tau in enumerate([1.0, 2.0, 3.0]):
        assert _within_se(D[w].mean(), 2 * tau, tau, N_STAT)


def test_make_timing_exponential_default_law():
    tm = make_timing(2, "linear", "exponential")  # Exp(mean 1) on top of the base
    np.testing.assert_allclose(tm.mean(), [2.0, 3.0])


def test_lognormal_mean():
    s = 0.5
    tm = make_timing(2, "constant", "lognormal", sigma=s)
    mu = math.exp(s * s / 2)
    sd = math.sqrt((math.exp(s * s) - 1) * math.exp(s * s))
    np.testing.assert_allclose(tm.noise.mean(tm.tau), [mu, mu])
    eta = tm.sample(_key(9), N_STAT, dtype=np.float64) - 1.0
    assert np.all(eta > 0)
    for w in range(2):
        assert _within_se(eta[w].mean(), mu, sd, N_STAT), eta[w].mean()


def test_uniform_mean_and_range():
    lo, hi = 0.2, 1.0
    tm = make_timing(2, "linear", "uniform", low=lo, high=hi)
    eta = tm.sample(_key(10), N_STAT, dtype=np.float64) - tm.tau[:, None]
    assert eta.min() >= lo - 1e-6 and eta.max() <= hi + 1e-6
    np.testing.assert_allclose(tm.noise.mean(tm.tau), [(lo + hi) / 2] * 2)
    for w in range(2):
        assert _within_se(eta[w].mean(), (lo + hi) / 2, (hi - lo) / math.sqrt(12), N_STAT)


def test_mean_formula():
    tau = 1 + np.sqrt(np.arange(4.0))
    tm = make_timing(4, "one_plus_sqrt", "halfnormal")
    np.testing.assert_allclose(tm.mean(), tau + np.sqrt(np.arange(1, 5.0)) * math.sqrt(2 / math.pi))
    assert np.array_equal(make_timing(4, "one_plus_sqrt").mean(), tau)
    tm = make_timing(4, "one_plus_sqrt", "uniform", low=1.0, high=2.0)
    np.testing.assert_allclose(tm.mean(), tau + 1.5)
    tm = make_timing(4, "one_plus_sqrt", "lognormal", sigma=1.0)
    np.testing.assert_allclose(tm.mean(), tau + math.exp(0.5))


# ----------------------------------------------------------------------------------------
# Keys: prefix property, determinism
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("noise, params", [("halfnormal", {}), ("exponential", {"scale": 1.0}),
                                            ("uniform", {})])
def test_prefix_property(noise, params):
    tm = make_timing(3, "sqrt", noise, **params)
    k = _key(11)
    np.testing.assert_array_equal(tm.sample(k, 300)[:, :100], tm.sample(k, 100))
    np.testing.assert_array_equal(tm.sample(k, 700)[:, :300], tm.sample(k, 300))  # across blocks


def test_same_key_identical_different_keys_differ():
    tm = make_timing(3, "sqrt", "halfnormal")
    a, b = tm.sample(_key(4), 50), tm.sample(_key(4), 50)
    np.testing.assert_array_equal(a, b)
    c = tm.sample(_key(5), 50)
    assert not np.array_equal(a, c)
    assert np.mean(a != c) > 0.9  # essentially every draw differs


# ----------------------------------------------------------------------------------------
# permute_base
# ----------------------------------------------------------------------------------------

def test_permute_base_permutes_times_but_not_noise():
    n, big = 4, 100.0
    tm = make_timing(n, "linear", "halfnormal", var=(0.0, 0.0, 0.0, big), permute_base=True)
    seen_perm = False
    for seed in range(8):
        k = _key(seed)
        D = tm.sample(k, 200, dtype=np.float64)
        # workers 0..2 have no noise whatever base time they drew
        for w in range(3):
            assert np.all(D[w] == D[w, 0]), (seed, w)
        # their base times plus worker 3's base time form {1, 2, 3, 4}
        base3 = 10.0 - D[:3, 0].sum()
        assert sorted(list(D[:3, 0]) + [base3]) == [1.0, 2.0, 3.0, 4.0]
        # only worker 3 is noisy, with noise >= 0 on top of its base
        assert np.all(D[3] >= base3) and D[3].std() > 1.0
        # base_for(key) agrees with the sample and sorted base is unchanged
        bf = tm.base_for(k)
        np.testing.assert_array_equal(np.sort(bf), [1.0, 2.0, 3.0, 4.0])
        np.testing.assert_array_equal(D[:3, 0], bf[:3])
        # mean(key): permuted base + noise mean tied to the index
        np.testing.assert_allclose(tm.mean(k), bf + np.sqrt([0.0, 0.0, 0.0, big]) * math.sqrt(2 / math.pi))
        if not np.array_equal(bf, [1.0, 2.0, 3.0, 4.0]):
            seen_perm = True
    assert seen_perm, "permute_base never permuted over 8 seeds"


def test_no_permutation_by_default():
    tm = make_timing(4, "linear")
    for seed in range(3):
        np.testing.assert_array_equal(tm.sample(_key(seed), 5, dtype=np.float64)[:, 0], [1.0, 2.0, 3.0, 4.0])


# ----------------------------------------------------------------------------------------
# inf_bernoulli: a job hangs with probability 1 - p
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.0, -0.2, 1.5, float("nan"), float("inf")])
def test_bad_inf_bernoulli_p(p, no_compile):
    with pytest.raises(ValueError, match=r"\bp\b"):
        make_timing(3, "sqrt", "inf_bernoulli", p=p)


def test_good_inf_bernoulli_p():
    assert make_timing(3, "sqrt", "inf_bernoulli", p=1.0).noise.p == 1.0
    assert make_timing(3, "sqrt", "inf_bernoulli", p=0.01).noise.p == 0.01
