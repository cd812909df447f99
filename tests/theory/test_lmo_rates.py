"""Theory of Ringmaster LMO (lmo_vr_local spec §2.1, §2.5–§2.7): norm constant against the dual
norms, constant-parameter rules and rates, PA schedules by hand, level counts and schedule time
bounds by brute force, fixed-vs-universal sandwiches, input validation. Pure NumPy; fast."""

import math

import numpy as np
import pytest

from jaxsim import theory as T

DRAWS = 100


def _random_tau(rng, n=None):
    n = int(rng.integers(1, 12)) if n is None else n
    kind = rng.integers(3)
    if kind == 0:
        return rng.uniform(0.1, 10.0, n)
    if kind == 1:
        return np.exp(rng.normal(0.0, 1.5, n))
    return rng.integers(1, 5, n).astype(float)  # exact ties


def _brute_t(R, tau):
    """t(R) = 2 min_m H_m (1 + R/m) straight from the definition."""
    ts = sorted(tau)
    return 2 * min(m / sum(1 / ts[i] for i in range(m)) * (1 + R / m)
                   for m in range(1, len(ts) + 1))


def _random_problem(rng):
    return (float(np.exp(rng.normal(0, 2))), float(np.exp(rng.normal(0, 2))),
            float(np.exp(rng.normal(0, 2))) if rng.random() < 0.9 else 0.0,
            int(rng.integers(1, 10**7)), float(np.exp(rng.uniform(0, 4))))


# ----------------------------------------------------------------------------------------
# §2.1 rho
# ----------------------------------------------------------------------------------------

def test_rho_values():
    assert T.rho("euclidean") == 1.0
    assert T.rho("euclidean", (7, 9)) == 1.0
    assert T.rho("sign", (16,)) == pytest.approx(4.0)
    assert T.rho("sign", 25) == pytest.approx(5.0)
    assert T.rho("sign", (3, 12)) == pytest.approx(6.0)
    assert T.rho("spectral", (9, 100)) == pytest.approx(3.0)
    assert T.rho("spectral", (100, 4)) == pytest.approx(2.0)
    assert T.rho("spectral", (50,)) == 1.0  # a vector is a 1 x d matrix
    assert T.rho("spectral", np.zeros((5, 5))) == pytest.approx(math.sqrt(5))
    # layer-wise product norm: sign on blocks = sign on the flat vector
    assert T.rho("sign", [(3, 4), (13,)]) == pytest.approx(T.rho("sign", 25))
    assert T.rho("spectral", {"a": (4, 9), "b": {"c": (16, 16), "d": (3,)}}) == pytest.approx(
        math.sqrt(4 + 16 + 1))
    assert T.rho("euclidean", [(2, 2), (3,), (5, 1)]) == pytest.approx(math.sqrt(3))


def test_rho_bounds_dual_norms_and_is_tight():
    rng = np.random.default_rng(0)
    for _ in range(DRAWS):
        r, c = int(rng.integers(1, 9)), int(rng.integers(1, 9))
        v = rng.normal(size=(r, c))
        two = np.linalg.norm(v)
        # dual of l_inf is l_1; dual of spectral is nuclear
        assert np.abs(v).sum() <= T.rho("sign", (r, c)) * two * (1 + 1e-12)
        nuc = np.linalg.svd(v, compute_uv=False).sum()
        assert nuc <= T.rho("spectral", (r, c)) * two * (1 + 1e-12)
        # product norm max_l ||x_l||: dual sum_l ||g_l||_*
        w = rng.normal(size=int(rng.integers(1, 20)))
        tot = nuc + np.linalg.norm(w)
        assert tot <= T.rho("spectral", [(r, c), w.shape]) * math.hypot(two, np.linalg.norm(w)) * (
            1 + 1e-12)
    # tightness: all-ones for l_1, identity for the nuclear norm, weighted blocks for products
    assert np.abs(np.ones(12)).sum() == pytest.approx(T.rho("sign", 12) * np.linalg.norm(np.ones(12)))
    eye = np.eye(4, 6)
    assert 4.0 == pytest.approx(T.rho("spectral", (4, 6)) * np.linalg.norm(eye))
    # each block tight for its own rho_l (nuclear 4 = 2 * Frobenius 2; a vector: 1), scaled by
    # rho_l so that Cauchy-Schwarz is tight too
    g = [np.eye(4), np.array([1.0])]
    dual = np.linalg.svd(g[0], compute_uv=False).sum() + np.linalg.norm(g[1])
    two = math.sqrt(sum(np.linalg.norm(x) ** 2 for x in g))
    assert dual == pytest.approx(T.rho("spectral", [(4, 4), (1,)]) * two)


# ----------------------------------------------------------------------------------------
# §2.5 constant parameters, rate, K_eps
# ----------------------------------------------------------------------------------------

def _eta_terms(L0, D0, sigma, K, rho, L1):
    rs = rho * sigma
    t = [math.sqrt(D0 / (L0 * K)),
         D0 ** 0.75 / (L0 ** 0.25 * math.sqrt(rs) * K ** 0.75) if rs > 0 else math.inf]
    if L1 > 0:
        t += [1 / (8 * L1), math.sqrt(D0 * L0) / (8 * L1 * rs * math.sqrt(K)) if rs > 0 else math.inf]
    return t


def test_lmo_params_random_invariants():
    rng = np.random.default_rng(1)
    for _ in range(DRAWS):
        L0, D0, sigma, K, rho = _random_problem(rng)
        L1 = float(np.exp(rng.normal(0, 2))) if rng.random() < 0.5 else 0.0
        p = T.lmo_params(L0, D0, sigma, K, rho, L1)
        assert p.alpha0 == 1.0 and 0 < p.alpha <= 1 and isinstance(p.R, int) and p.R >= 1
        want_alpha = 1.0 if sigma == 0 else min(1.0, math.sqrt(D0 * L0) / (rho * sigma * math.sqrt(K)))
        assert p.alpha == pytest.approx(want_alpha, rel=1e-12)
        # R = 1/alpha rounded down (never below 1)
        assert p.R <= max(1.0, 1 / p.alpha) * (1 + 1e-12) and (p.R + 1) > 1 / p.alpha * (1 - 1e-12)
        assert p.eta == pytest.approx(min(_eta_terms(L0, D0, sigma, K, rho, L1)), rel=1e-12)
        # [derived] the second L1 = 0 term is the first times sqrt(alpha); with L1 > 0 the two
        # extra terms are alpha/(8 L1), the proof's condition
        want = math.sqrt(p.alpha * D0 / (L0 * K))
        if L1 > 0:
            want = min(want, p.alpha / (8 * L1))
            assert p.eta <= p.alpha / (8 * L1) * (1 + 1e-12)
        assert p.eta == pytest.approx(want, rel=1e-12)


def test_lmo_params_noiseless_and_exact_integers():
    p = T.lmo_params(2.0, 3.0, 0.0, 50)
    assert (p.alpha, p.R) == (1.0, 1)
    assert p.eta == pytest.approx(math.sqrt(3 / 100))
    assert T.lmo_params(1.0, 1.0, 5.0, 1, rho=1e-3).R == 1  # small rho sigma: alpha = 1
    # 1/alpha = rho sigma sqrt(K)/sqrt(L0 Delta0) is an integer in exact arithmetic
    assert T.lmo_params(1.0, 1.0, 3.0, 4).R == 6
    for tenth in range(1, 10):
        assert T.lmo_params(1.0, 1.0, tenth / 10, 100, rho=10.0).R == tenth * 10
    assert T.lmo_params(4.0, 9.0, 1.0, 36, rho=math.sqrt(2)).R == math.floor(math.sqrt(2))


@pytest.mark.parametrize("sigma, L1, which", [
    (0.25, 0.01, 0), (4.0, 0.01, 1), (0.25, 1.0, 2), (4.0, 1.0, 3)])
def test_lmo_stepsize_each_regime_reachable(sigma, L1, which):
    terms = _eta_terms(1.0, 1.0, sigma, 1, 1.0, L1)
    assert int(np.argmin(terms)) == which and sorted(terms)[0] < sorted(terms)[1]
    assert T.lmo_params(1.0, 1.0, sigma, 1, L1=L1).eta == pytest.approx(terms[which], rel=1e-14)


def test_lmo_rate_and_iterations_consistent():
    """At K = K_eps every rate term is <= eps; at K <= K_eps/8 the largest is > eps [derived]."""
    rng = np.random.default_rng(2)
    for _ in range(DRAWS):
        L0, D0, sigma, _, rho = _random_problem(rng)
        L1 = float(np.exp(rng.normal(0, 2))) if rng.random() < 0.5 else 0.0
        eps = float(np.exp(rng.uniform(-3, 1)))
        Ke = T.lmo_iterations(L0, D0, sigma, eps, rho, L1)
        if Ke > 1e15:
            continue
        nterms = 4 if L1 > 0 else 2
        assert T.lmo_rate(L0, D0, sigma, math.ceil(Ke), rho, L1) <= nterms * eps * (1 + 1e-9)
        if Ke >= 8:
            assert T.lmo_rate(L0, D0, sigma, math.floor(Ke / 8), rho, L1) > eps
    # noiseless, smooth: sqrt(L0 Delta0/K) exactly
    assert T.lmo_rate(2.0, 8.0, 0.0, 4) == pytest.approx(2.0)
    assert T.lmo_iterations(2.0, 8.0, 0.0, 2.0) == pytest.approx(4.0)


def test_constant_parameters_recover_ringmaster_order():
    """rho = 1, L1 = 0, s = sigma^2/eps^2 >= 10: R ~ s and K/R ~ L0 Delta0/eps^2 (§2.7),
    the same order as Ringmaster ASGD's K/R with its squared eps = eps^2 [derived bands]."""
    rng = np.random.default_rng(3)
    for _ in range(DRAWS):
        L0, D0 = float(np.exp(rng.normal(0, 1))), float(np.exp(rng.normal(0, 1)))
        eps = float(np.exp(rng.uniform(-3, -1)))
        s = float(np.exp(rng.uniform(math.log(10), math.log(1e4))))
        sigma = eps * math.sqrt(s)
        a = L0 * D0 / eps ** 2
        K = math.ceil(T.lmo_iterations(L0, D0, sigma, eps))
        R = T.lmo_params(L0, D0, sigma, K).R
        assert 0.5 * s <= R <= 2 * s
        assert 0.5 * a <= K / R <= 2 * a + 1
        Rr = T.ringmaster_params(L0, sigma ** 2, eps ** 2)["R"]
        Kr = T.ringmaster_iterations(L0, D0, sigma ** 2, eps ** 2, Rr)
        assert 20 * a <= Kr / Rr <= 24 * a + 1  # 8 R a + 16 s a over R = ceil(s)
        tau = _random_tau(rng)
        ratio = T.lmo_time(tau, L0, D0, sigma, eps) / T.ringmaster_time(tau, L0, D0, sigma ** 2,
                                                                         eps ** 2)
        assert 1 / 200 <= ratio <= 1 / 2


# ----------------------------------------------------------------------------------------
# §2.6 parameter-agnostic schedules and rate
# ----------------------------------------------------------------------------------------

def test_pa_schedules_by_hand():
    assert [T.pa_alpha(k) for k in (0, 1, 4, 9, 100)] == pytest.approx([1, 1, 1 / 2, 1 / 3, 0.1])
    assert [T.pa_threshold(k) for k in range(10)] == [1, 1, 1, 1, 2, 2, 2, 2, 2, 3]
    assert [T.pa_threshold(k, shift=1) for k in range(9)] == [1, 1, 1, 2, 2, 2, 2, 2, 3]
    assert isinstance(T.pa_threshold(5), int)
    np.testing.assert_array_equal(T.pa_threshold(np.arange(10)), [1, 1, 1, 1, 2, 2, 2, 2, 2, 3])
    big = np.array([10**12 - 1, 10**12, (10**6 + 1) ** 2 - 1])
    np.testing.assert_array_equal(T.pa_threshold(big), [10**6 - 1, 10**6, 10**6])
    # R_k = floor(1/alpha_k) for k >= 1
    for k in range(1, 200):
        assert T.pa_threshold(k) == math.isqrt(k)
    assert T.pa_stepsize(0, 0.3) == pytest.approx(0.3)
    assert T.pa_stepsize(15, 0.3) == pytest.approx(0.3 / 8)
    np.testing.assert_allclose(T.pa_stepsize([0, 80], 2.0), [2.0, 2.0 / 27])


def test_pa_threshold_code_lags_one_update():
    ks = range(40)
    code = [T.pa_threshold_code(k) for k in ks]
    paper_refresh = [T.pa_threshold(k + 1) for k in ks]  # variant B after update k: R_{k+1}
    assert code == [T.pa_threshold(k) for k in ks]
    assert code[1:] == paper_refresh[:-1]  # the one-update lag
    assert sum(r == 1 for r in code) == 4 and sum(r == 1 for r in paper_refresh) == 3
    # float form of the code: floor(1/(1/sqrt(k))); differs only one short at perfect squares
    k = np.arange(0, 20000)
    f = T.pa_threshold_code(k, code_float=True)
    want = [1] + [max(1, math.floor(1.0 / (1.0 / math.sqrt(i)))) for i in range(1, k.size)]
    np.testing.assert_array_equal(f, want)
    d = np.nonzero(f != T.pa_threshold_code(k))[0]
    assert 8649 in d and all(math.isqrt(i) ** 2 == i for i in d)
    assert np.all(T.pa_threshold_code(k)[d] - f[d] == 1)


def _pa_rate_formula(L0, D0, sigma, eta, K, rho):
    K = np.asarray(K, dtype=float)
    lg = 1 + np.log(K)
    return (D0 / eta + 101 * L0 * eta * lg + 9 * rho * sigma * lg) / K ** 0.25


def test_pa_rate_psi_and_iterations():
    assert T.pa_rate(2.0, 3.0, 0.5, 0.1, 1, rho=2.0) == pytest.approx(30 + 101 * 0.2 + 9)
    assert T.pa_psi(2.0, 3.0, 0.5, 0.1, rho=2.0) == pytest.approx(30 + 1 + 0.2)
    assert T.pa_iterations_order(1.0, 1.0, 0.0, 1.0, math.exp(-2)) == pytest.approx(
        (2 * math.exp(2)) ** 4 * 16)
    rng = np.random.default_rng(4)
    for _ in range(DRAWS):
        L0, D0, sigma = (float(np.exp(rng.normal(0, 1))) for _ in range(3))
        eta, rho = float(np.exp(rng.normal(-1, 1))), float(np.exp(rng.uniform(0, 2)))
        r1 = _pa_rate_formula(L0, D0, sigma, eta, 1, rho)
        eps = float(r1 * np.exp(rng.uniform(-1.5, 0.2)))
        _check_smallest(L0, D0, sigma, eta, eps, rho)
    # a bound that first rises (Delta0/eta small): the answer lies past the bump at K ~ e^3
    for eps in (101.0, 100.0, 90.0):
        K = _check_smallest(1.0, 1e-3, 0.0, 1.0, eps, 1.0)
        assert K > 20 and _pa_rate_formula(1.0, 1e-3, 0.0, 1.0, 20, 1.0) > 101.001
    assert T.pa_iterations(1.0, 1e-3, 0.0, 1.0, 102.0) == 1


def _check_smallest(L0, D0, sigma, eta, eps, rho):
    """pa_iterations is the smallest K whose bound is <= eps (all earlier K checked when few)."""
    K = T.pa_iterations(L0, D0, sigma, eta, eps, rho)
    assert T.pa_rate(L0, D0, sigma, eta, K, rho) <= eps
    if K == 1:
        return K
    earlier = np.arange(1, K) if K <= 10**5 else np.unique(np.concatenate(
        [np.arange(1, 10**4), np.geomspace(1, K - 1, 10**4).astype(np.int64), [K - 1]]))
    assert np.all(_pa_rate_formula(L0, D0, sigma, eta, earlier, rho) > eps)
    return K


def test_pa_time_order_bounds_the_closed_form():
    """6 sum_{r<=sqrt K} min_m H_m (1 + r/m) <= 6 sqrt(K) min_m H_m (1 + sqrt(K)/m) [derived]."""
    rng = np.random.default_rng(5)
    for _ in range(DRAWS):
        tau = _random_tau(rng)
        L0, D0, sigma, eta = (float(np.exp(rng.normal(0, 0.5))) for _ in range(4))
        psi = T.pa_psi(L0, D0, sigma, eta)
        eps = psi / float(np.exp(rng.uniform(0, 2.5)))
        K = math.floor((psi / eps) ** 4)
        order = T.pa_time_order(tau, L0, D0, sigma, eta, eps)
        assert T.sqrt_schedule_time_bound(K, tau) <= 6 * order * (1 + 1e-12)


# ----------------------------------------------------------------------------------------
# §2.7 schedules and time bounds
# ----------------------------------------------------------------------------------------

def test_levels_of_sqrt_schedules_by_enumeration():
    K = 35**2 - 1
    for shift in (0, 1):
        lv = T.schedule_levels(lambda k, shift=shift: T.pa_threshold(k, shift), K)
        counts = {}
        for k in range(K):
            r = max(1, math.isqrt(k + shift))
            counts[r] = counts.get(r, 0) + 1
        assert lv == counts
    lv1 = T.schedule_levels(lambda k: math.isqrt(k + 1), K)
    assert all(lv1[r] == 2 * r + 1 for r in range(1, 35))
    lv0 = T.schedule_levels(T.pa_threshold, 30**2)
    assert lv0[1] == 4 and all(lv0[r] == 2 * r + 1 for r in range(2, 30))
    assert T.schedule_levels(T.pa_threshold, 0) == {}
    # arrays and constants
    assert T.schedule_levels([1, 1.5, 2.9, 3, 3, 7], 5) == {1: 2, 2: 1, 3: 2}
    assert T.schedule_levels(4, 10) == {4: 10}


def test_schedule_bound_matches_definition_and_closed_form():
    rng = np.random.default_rng(6)
    for _ in range(40):
        tau = _random_tau(rng)
        K = int(rng.integers(0, 500))
        sched = lambda k: math.isqrt(k + 1)  # noqa: E731
        counts = {}
        for k in range(K):
            counts[math.isqrt(k + 1)] = counts.get(math.isqrt(k + 1), 0) + 1
        want = sum(math.ceil(c / r) * _brute_t(r, tau) for r, c in counts.items())
        got = T.schedule_time_bound(sched, K, tau)
        assert got == pytest.approx(want, rel=1e-12)
        closed = 6 * sum(min(h * (1 + r / m) for m, h in enumerate(T.harmonic_prefix(tau), 1))
                         for r in range(1, math.isqrt(K) + 1))
        assert T.sqrt_schedule_time_bound(K, tau) == pytest.approx(closed, rel=1e-12)
        assert got <= closed * (1 + 1e-12)
        s = math.isqrt(K + 1)
        if s * s == K + 1:  # every level full: equality
            assert got == pytest.approx(closed, rel=1e-12)
        # the paper's default schedule floor(sqrt(k)): level 1 has 4 elements, one extra t(1)
        assert T.schedule_time_bound(T.pa_threshold, K, tau) <= closed + _brute_t(1, tau) * (
            1 + 1e-12)
    tau = [1.0, 2.0, 4.0]
    for s in range(1, 12):
        K = (s + 1) ** 2 - 1
        assert T.schedule_time_bound(lambda k: T.pa_threshold(k, 1), K, tau) == pytest.approx(
            T.sqrt_schedule_time_bound(K, tau), rel=1e-12)
        # one more update opens level s+1 with a single element: 1 block, not the closed 3
        assert T.schedule_time_bound(lambda k: T.pa_threshold(k, 1), K + 1, tau) == pytest.approx(
            T.sqrt_schedule_time_bound(K + 1, tau) - 2 * _brute_t(s + 1, tau), rel=1e-12)


def test_constant_schedule_is_fixed_R():
    rng = np.random.default_rng(7)
    for _ in range(40):
        tau = _random_tau(rng)
        K, R = int(rng.integers(0, 300)), int(rng.integers(1, 40))
        want = math.ceil(K / R) * _brute_t(R, tau)
        assert T.schedule_time_bound(lambda k, R=R: R, K, tau) == pytest.approx(want, rel=1e-12)
        assert T.schedule_time_bound(np.full(K + 3, R), K, tau) == pytest.approx(want, rel=1e-12)
        assert T.schedule_time_bound(R, K, tau) == pytest.approx(
            T.ringmaster_time_bound(K, R, tau), rel=1e-12)
        assert T.schedule_universal_time_bound(R, K, tau) == pytest.approx(
            T.universal_time_bound(K, R, tau), rel=1e-9)


def test_universal_pa_recursion_equals_schedule_form():
    """S_{3 floor(sqrt K)} is the per-level recursion of floor(sqrt(k+1)) when K+1 is a square,
    for any speed profile."""
    tau = [1.0, 3.0, 0.5]
    W = T.piecewise_speed_integral([0.0, 5.0, 20.0], [[1.0, 0.0, 2.0], [0.5, 1.0, 1.0],
                                                      [1.0, 1.0, 0.1]])
    for s in range(1, 7):
        K = (s + 1) ** 2 - 1
        a = T.pa_universal_time_bound(K, tau, W)
        b = T.schedule_universal_time_bound(lambda k: math.isqrt(k + 1), K, tau, W)
        assert a == pytest.approx(b, rel=1e-9)
    assert T.pa_universal_time_bound(0, tau, W) == 0.0
    assert T.pa_universal_time_bound(3, tau) == pytest.approx(
        3 * T.universal_block_time(1, 0.0, tau), rel=1e-9)
    dead = T.piecewise_speed_integral([0.0], [[0.0], [0.0], [0.0]])
    assert T.pa_universal_time_bound(10, tau, dead, t_max=1e3) == math.inf
    assert T.schedule_universal_time_bound(2, 10, tau, dead, t_max=1e3) == math.inf


def test_universal_constant_speeds_sandwich_fixed_model():
    """Constant v_i = 1/tau_i: t(R) <= t_u(R) <= 2 t(R) [derived], hence the same sandwich for
    every schedule bound (not equality: the quarter-rate floor of the universal lemma)."""
    rng = np.random.default_rng(8)
    for _ in range(30):
        tau = _random_tau(rng, int(rng.integers(1, 6)))
        for R in (1, 2, 5, 13):
            t, tu = T.ringmaster_block_time(R, tau), T.universal_block_time(R, 0.0, tau)
            assert t * (1 - 1e-9) <= tu <= 2 * t * (1 + 1e-9)
        K = int(rng.integers(0, 150))
        fixed = T.sqrt_schedule_time_bound(K, tau)
        uni = T.pa_universal_time_bound(K, tau)
        assert fixed * (1 - 1e-9) <= uni <= 2 * fixed * (1 + 1e-9)
        fixed = T.schedule_time_bound(T.pa_threshold, K, tau)
        uni = T.schedule_universal_time_bound(T.pa_threshold, K, tau)
        assert fixed * (1 - 1e-9) <= uni <= 2 * fixed * (1 + 1e-9)
    # one worker, R = 1: both equal 4 tau
    assert T.universal_block_time(1, 0.0, [2.0]) == pytest.approx(T.ringmaster_block_time(1, [2.0]))


# ----------------------------------------------------------------------------------------
# Input validation
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, field", [
    (lambda: T.rho("l2", (3,)), "norm"),
    (lambda: T.rho("spectral", (2, 3, 4)), "shape"),
    (lambda: T.rho("sign", (0, 3)), "shape"),
    (lambda: T.rho("sign", {}), "shape"),
    (lambda: T.rho("sign", "abc"), "shape"),
    (lambda: T.lmo_params(0.0, 1.0, 1.0, 10), "L0"),
    (lambda: T.lmo_params(1.0, 0.0, 1.0, 10), "Delta0"),
    (lambda: T.lmo_params(1.0, 1.0, -1.0, 10), "sigma"),
    (lambda: T.lmo_params(1.0, 1.0, 1.0, 0), "K"),
    (lambda: T.lmo_params(1.0, 1.0, 1.0, 2.5), "K"),
    (lambda: T.lmo_params(1.0, 1.0, 1.0, 10, rho=0.0), "rho"),
    (lambda: T.lmo_params(1.0, 1.0, 1.0, 10, L1=-1.0), "L1"),
    (lambda: T.lmo_rate(1.0, 1.0, 1.0, True), "K"),
    (lambda: T.lmo_iterations(1.0, 1.0, 1.0, 0.0), "eps"),
    (lambda: T.lmo_time([], 1.0, 1.0, 1.0, 0.1), "tau"),
    (lambda: T.pa_alpha(-1), "k"),
    (lambda: T.pa_alpha(1.5), "k"),
    (lambda: T.pa_threshold([0, -2]), "k"),
    (lambda: T.pa_threshold(3, shift=-1), "shift"),
    (lambda: T.pa_threshold_code(float("nan")), "k"),
    (lambda: T.pa_stepsize(3, 0.0), "eta"),
    (lambda: T.pa_rate(1.0, 1.0, 1.0, 1.0, 0), "K"),
    (lambda: T.pa_psi(1.0, 1.0, 1.0, -1.0), "eta"),
    (lambda: T.pa_iterations(1.0, 1.0, 1.0, 1.0, 0.0), "eps"),
    (lambda: T.pa_iterations_order(1.0, 1.0, 1.0, 1.0, -1.0), "eps"),
    (lambda: T.pa_time_order([1.0], 1.0, 1.0, 1.0, 1.0, 0.0), "eps"),
    (lambda: T.pa_time_order([0.0], 1.0, 1.0, 1.0, 1.0, 1.0), "tau"),
    (lambda: T.schedule_levels([1, 2], 3), "schedule"),
    (lambda: T.schedule_levels([2, 1, 3], 3), "schedule"),
    (lambda: T.schedule_levels([0.5, 1, 3], 3), "schedule"),
    (lambda: T.schedule_levels(lambda k: float("inf"), 3), "schedule"),
    (lambda: T.schedule_levels([[1, 2]], 1), "schedule"),
    (lambda: T.schedule_levels(T.pa_threshold, -1), "K"),
    (lambda: T.schedule_time_bound(T.pa_threshold, 4, [-1.0]), "tau"),
    (lambda: T.sqrt_schedule_time_bound(1.5, [1.0]), "K"),
    (lambda: T.pa_universal_time_bound(-3, [1.0]), "K"),
    (lambda: T.schedule_universal_time_bound(2, 4, []), "tau"),
])
def test_bad_inputs_name_the_field(call, field):
    with pytest.raises(ValueError, match=rf"^{field}\b"):
        call()
