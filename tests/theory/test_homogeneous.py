"""Theory module (homogeneous spec §6.4, §7, §8.6, §9, §11): brute-force checks, invariants,
parameter formulas, worked example, input validation. Pure NumPy; fast."""

import itertools
import math

import numpy as np
import pytest

from jaxsim import theory as T

DRAWS = 200


def _random_tau(rng, n=None):
    n = int(rng.integers(1, 40)) if n is None else n
    kind = rng.integers(3)
    if kind == 0:
        return rng.uniform(0.1, 10.0, n)
    if kind == 1:
        return np.exp(rng.normal(0.0, 1.5, n))  # wide spread
    return rng.integers(1, 5, n).astype(float)  # many exact ties


def _brute_H(tau_sorted, m):
    return m / sum(1.0 / tau_sorted[i] for i in range(m))


def _brute_argmin(values):
    """Smallest index among near-minimal values (same tie rule as the module)."""
    best = min(values)
    return next(k for k, v in enumerate(values) if v <= best + 1e-12 * abs(best))


# ----------------------------------------------------------------------------------------
# H_m, m*, t*_A, t*_B against their definitions
# ----------------------------------------------------------------------------------------

def test_harmonic_prefix_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(DRAWS):
        tau = _random_tau(rng)
        ts = sorted(tau.tolist())
        h = T.harmonic_prefix(tau)
        assert h.shape == (len(ts),) and h.dtype == np.float64
        np.testing.assert_allclose(h, [_brute_H(ts, m) for m in range(1, len(ts) + 1)],
                                   rtol=1e-13)
        assert np.all(np.diff(h) >= -1e-12 * h[1:])  # adding slower workers never lowers H_m


def test_m_star_brute_force():
    rng = np.random.default_rng(1)
    for _ in range(DRAWS):
        tau = _random_tau(rng)
        sigma2, eps = float(rng.uniform(0, 50)), float(rng.uniform(0.01, 2))
        ts = sorted(tau.tolist())
        obj = [_brute_H(ts, m) * (1 + sigma2 / (m * eps)) for m in range(1, len(ts) + 1)]
        m = T.m_star(tau, sigma2, eps)
        assert isinstance(m, int) and 1 <= m <= len(ts)
        assert obj[m - 1] <= min(obj) * (1 + 1e-12)
        assert m == _brute_argmin(obj) + 1
        # m* is the minimiser inside T_R = (L Delta/eps) min_m H_m (1 + sigma2/(m eps))
        assert T.optimal_time(tau, 2.0, 3.0, sigma2, eps) == pytest.approx(
            6.0 / eps * obj[m - 1], rel=1e-12)


def test_m_star_ties_and_limits():
    assert T.m_star([3.0] * 5, 0.0, 1.0) == 1  # H_m constant: ties -> smallest m
    assert T.m_star([1.0] * 5, 1e9, 1.0) == 5  # huge noise: use everyone
    assert T.m_star([2.0, 1.0, 1e6], 0.0, 1.0) == 1


def test_t_star_brute_force():
    rng = np.random.default_rng(2)
    for _ in range(DRAWS):
        tau = _random_tau(rng)
        S = float(rng.uniform(1, 100))
        ts = sorted(tau.tolist())
        n = len(ts)
        A = [(S + m) / sum(1.0 / ts[i] for i in range(m)) for m in range(1, n + 1)]
        B = [max(ts[m - 1], S / sum(1.0 / ts[i] for i in range(m))) for m in range(1, n + 1)]
        a, b = T.t_star_a(S, tau), T.t_star_b(S, tau)
        assert a.t == pytest.approx(min(A), rel=1e-12) and a.m == _brute_argmin(A) + 1
        assert b.t == pytest.approx(min(B), rel=1e-12) and b.m == _brute_argmin(B) + 1
        ta, ma = a  # unpacks as a tuple
        assert (ta, ma) == (a.t, a.m)


def test_t_star_relation_and_identities():
    rng = np.random.default_rng(3)
    for _ in range(DRAWS):
        tau = _random_tau(rng)
        S = float(rng.uniform(1, 200))
        a, b = T.t_star_a(S, tau).t, T.t_star_b(S, tau).t
        assert b <= a * (1 + 1e-12)
        assert a <= 2 * b * (1 + 1e-12)
        # t(R) = 2 min_m H_m (1 + R/m) = 2 t*_A(R)
        assert T.ringmaster_block_time(S, tau) == pytest.approx(2 * a, rel=1e-12)
        # T_R = (L Delta/eps) t*_A(sigma2/eps) when sigma2/eps >= 1, same minimiser
        assert T.optimal_time(tau, 1.0, 1.0, S, 1.0) == pytest.approx(a, rel=1e-12)
        assert T.m_star(tau, S, 1.0) == T.t_star_a(S, tau).m


def test_order_invariance():
    rng = np.random.default_rng(4)
    tau = rng.uniform(0.5, 5, 17)
    perm = rng.permutation(17)
    assert T.t_star_a(5, tau) == T.t_star_a(5, tau[perm])
    assert T.t_star_b(5, tau) == T.t_star_b(5, tau[perm])
    assert T.m_star(tau, 7, 0.5) == T.m_star(list(tau[perm]), 7, 0.5)


# ----------------------------------------------------------------------------------------
# Time complexities (§11.2) and the worked example (§11.5)
# ----------------------------------------------------------------------------------------

def test_time_complexities_formulas_and_order():
    tau = [4.0, 1.0, 2.0, 8.0]
    L, D, s2, e = 2.0, 3.0, 5.0, 0.5
    c = L * D / e
    h4 = 4 / (1 + 1 / 2 + 1 / 4 + 1 / 8)
    assert T.minibatch_time(tau, L, D, s2, e) == pytest.approx(8 * c * (1 + s2 / (4 * e)))
    assert T.hero_time(tau, L, D, s2, e) == pytest.approx(1 * c * (1 + s2 / e))
    assert T.asgd_time(tau, L, D, s2, e) == pytest.approx(h4 * c * (1 + s2 / (4 * e)))
    assert T.lower_bound_time is T.optimal_time
    rng = np.random.default_rng(5)
    for _ in range(DRAWS):
        tau = _random_tau(rng)
        L, D = rng.uniform(0.1, 10, 2)
        s2, e = float(rng.uniform(0, 30)), float(rng.uniform(0.01, 1))
        tr = T.optimal_time(tau, L, D, s2, e)
        # T_R is the minimum over m: no larger than hero (m = 1) and ASGD (m = n)
        assert tr <= T.asgd_time(tau, L, D, s2, e) * (1 + 1e-12)
        assert tr <= T.hero_time(tau, L, D, s2, e) * (1 + 1e-12)
        assert T.asgd_time(tau, L, D, s2, e) <= T.minibatch_time(tau, L, D, s2, e) * (1 + 1e-12)
        # Rennala's t* forms and the explicit Ringmaster bound agree with T_R up to constants
        # t*_A(max{1, s}) = min_m H_m (1 + max{1, s}/m) lies in [T_R, T_R + tau_1] (x L Delta/eps)
        ra, rb = (T.rennala_time(tau, L, D, s2, e, form=f) for f in ("a", "b"))
        assert tr * (1 - 1e-12) <= ra <= (tr + L * D / e * min(tau)) * (1 + 1e-12)
        assert ra / 2 * (1 - 1e-12) <= rb <= ra * (1 + 1e-12)
        assert T.ringmaster_time(tau, L, D, s2, e) >= tr * (1 - 1e-12)


def test_p1_clip0_mindflayer_time_equals_T_R():
    rng = np.random.default_rng(6)
    for _ in range(50):
        tau = _random_tau(rng)
        s2, e = float(rng.uniform(0, 30)), float(rng.uniform(0.01, 1))
        assert T.mindflayer_time(tau, 0.0, 1.0, 1.5, 2.0, s2, e) == pytest.approx(
            T.optimal_time(tau, 1.5, 2.0, s2, e), rel=1e-12)


def test_worked_example_sqrt_profile():
    """tau_i = sqrt(i): T_R ~ sqrt(sigma2/eps) L Delta/eps, m* ~ sigma2/eps, and
    T_A/T_R ~ (1/2) sqrt(n eps/sigma2) for n >> sigma2/eps (constants loose)."""
    L, D, e = 1.0, 1.0, 1.0
    for s in (4.0, 16.0, 64.0):
        ratios = []
        for n in (10_000, 100_000):
            tau = np.sqrt(np.arange(1, n + 1))
            tr = T.optimal_time(tau, L, D, s, e)
            ta = T.asgd_time(tau, L, D, s, e)
            assert 1.0 <= tr / math.sqrt(s) <= 1.5
            assert s <= T.m_star(tau, s, e) <= 2 * s
            ratio = ta / tr
            assert 0.6 <= ratio / (0.5 * math.sqrt(n / s)) <= 1.1
            ratios.append(ratio)
        assert ratios[1] / ratios[0] == pytest.approx(math.sqrt(10), rel=0.05)  # grows like sqrt(n)


def test_ringmaster_bounds():
    tau = [1.0, 2.0, 4.0]
    # m = 1: 2*1*(1+3) = 8; m = 2: 2*(4/3)*(5/2) = 6.67; m = 3: 2*(12/7)*2 = 6.857
    assert T.ringmaster_block_time(3, tau) == pytest.approx(20 / 3)
    assert T.ringmaster_time_bound(10, 3, tau) == pytest.approx(4 * 20 / 3)
    assert T.ringmaster_time_bound(0, 3, tau) == 0.0
    assert T.ringmaster_iterations(1.0, 2.0, 3.0, 1.0) == math.ceil(8 * 3 * 2 + 16 * 3 * 2)
    assert T.ringmaster_iterations(1.0, 2.0, 3.0, 1.0, R=1) == 8 * 2 + 16 * 6
    K = T.ringmaster_iterations(1.0, 2.0, 3.0, 1.0)
    assert T.ringmaster_time(tau, 1.0, 2.0, 3.0, 1.0) == pytest.approx(
        math.ceil(K / 3) * T.ringmaster_block_time(3, tau))


# ----------------------------------------------------------------------------------------
# Parameter formulas (§6.4, §7, §8.6)
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("L, sigma2, eps, S", [
    (1.0, 0.0, 0.1, 1), (2.0, 0.05, 0.1, 1), (1.0, 0.3, 0.1, 3), (3.0, 10.0, 0.3, 34),
    (1.0, 1.1, 0.1, 11),  # 1.1/0.1 = 11.000000000000002 in floats: still 11
    (0.5, 100.0, 1.0, 100),
])
def test_rennala_and_ringmaster_params(L, sigma2, eps, S):
    r = T.rennala_params(L, sigma2, eps)
    assert r["B"] == r["S"] == S and isinstance(r["B"], int)
    g = 1 / L if sigma2 == 0 else min(1 / L, eps * S / (2 * L * sigma2))
    assert r["gamma"] == pytest.approx(g, rel=1e-15)
    q = T.ringmaster_params(L, sigma2, eps)
    assert q["R"] == S and isinstance(q["R"], int)
    g = 1 / (2 * S * L) if sigma2 == 0 else min(1 / (2 * S * L), eps / (4 * L * sigma2))
    assert q["gamma"] == pytest.approx(g, rel=1e-15)


def test_params_random_match_formula():
    rng = np.random.default_rng(7)
    for _ in range(DRAWS):
        L, s2, e = float(rng.uniform(0.1, 10)), float(rng.uniform(0, 20)), float(rng.uniform(0.01, 3))
        R = max(1, math.ceil(s2 / e))
        assert T.ringmaster_params(L, s2, e)["R"] == R
        assert T.ringmaster_params(L, s2, e)["gamma"] == pytest.approx(
            min(1 / (2 * R * L), e / (4 * L * s2)) if s2 > 0 else 1 / (2 * R * L))
        assert T.rennala_params(L, s2, e)["B"] == R
        assert T.rennala_params(L, s2, e)["gamma"] == pytest.approx(
            min(1 / L, e * R / (2 * L * s2)) if s2 > 0 else 1 / L)


def test_naive_optimal_params():
    rng = np.random.default_rng(8)
    for _ in range(50):
        tau = _random_tau(rng)
        L, s2, e = 2.0, float(rng.uniform(0, 20)), float(rng.uniform(0.05, 1))
        p = T.naive_optimal_params(tau, L, s2, e)
        m = T.m_star(tau, s2, e)
        assert p["m"] == m
        assert p["gamma"] == pytest.approx(
            min(1 / (2 * m * L), e / (4 * L * s2)) if s2 > 0 else 1 / (2 * m * L))
        mask = p["mask"]
        assert mask.sum() == m
        # the masked workers are the m fastest, ties to the lowest index
        rank = np.empty(len(tau), int)
        rank[np.argsort(tau, kind="stable")] = np.arange(len(tau))
        np.testing.assert_array_equal(mask, rank < m)
    assert T.naive_optimal_params([5.0, 1.0, 1.0], 1.0, 0.0, 1.0)["mask"].tolist() == [False, True, False]


# ----------------------------------------------------------------------------------------
# MindFlayer (§9)
# ----------------------------------------------------------------------------------------

def _random_mf(rng):
    n = int(rng.integers(1, 25))
    tau = rng.uniform(0.0, 5.0, n)
    clip = rng.uniform(0.05, 5.0, n)
    p = rng.uniform(0.0, 1.0, n)
    p[rng.random(n) < 0.15] = 0.0
    p[rng.random(n) < 0.15] = 1.0
    if not np.any(p > 0):
        p[0] = 0.5
    return tau, clip, p


def test_mindflayer_plan_invariants_random():
    rng = np.random.default_rng(9)
    for _ in range(DRAWS):
        tau, clip, p = _random_mf(rng)
        S = float(rng.uniform(1, 60))
        plan = T.mindflayer_plan(tau, clip, p, S)
        B, t_m, c = plan["B"], plan["t_m"], plan["costs"]
        assert B.dtype == np.int64 and B.shape == tau.shape and np.all(B >= 0)
        np.testing.assert_array_equal(c, tau + clip)
        assert np.sum(p * B) >= S * (1 - 1e-12)                     # enough expected successes
        assert plan["batch"] == pytest.approx(np.sum(p * B))
        assert np.all(B[B > 0] * c[B > 0] < t_m)                   # every worker done by t(m*)
        assert np.all(B[p == 0] == 0)
        # brute-force t(m) over workers sorted by cost (p = 0 excluded), m* = argmin
        usable = [i for i in sorted(range(len(tau)), key=lambda i: (c[i], i)) if p[i] > 0]
        curve = []
        for m in range(1, len(usable) + 1):
            rate = sum(p[j] / c[j] for j in usable[:m])
            curve.append((S + sum(p[j] for j in usable[:m])) / rate)
        np.testing.assert_allclose(plan["t_curve"], curve, rtol=1e-12)
        assert plan["m"] == _brute_argmin(curve) + 1
        assert t_m == pytest.approx(min(curve), rel=1e-12)
        chosen = set(usable[: plan["m"]])
        for i in range(len(tau)):
            want = max(0, math.ceil(t_m / c[i] - 1)) if i in chosen else 0
            assert B[i] == want


def test_mindflayer_prefix_by_cost_is_optimal_over_subsets():
    rng = np.random.default_rng(10)
    for _ in range(40):
        n = int(rng.integers(1, 8))
        tau, clip, p = rng.uniform(0.1, 3, n), rng.uniform(0.1, 3, n), rng.uniform(0.05, 1, n)
        S = float(rng.uniform(1, 20))
        best = min((S + sum(p[j] for j in J)) / sum(p[j] / (tau[j] + clip[j]) for j in J)
                   for k in range(1, n + 1) for J in itertools.combinations(range(n), k))
        assert T.mindflayer_plan(tau, clip, p, S)["t_m"] == pytest.approx(best, rel=1e-12)


def test_mindflayer_reduces_to_rennala_when_p1_clip0():
    rng = np.random.default_rng(11)
    for _ in range(100):
        tau = _random_tau(rng)
        S = float(rng.integers(1, 50))
        plan = T.mindflayer_plan(tau, 0.0, 1.0, S)
        a = T.t_star_a(S, tau)
        assert plan["t_m"] == pytest.approx(a.t, rel=1e-12)
        assert plan["m"] == a.m
        np.testing.assert_array_equal(plan["costs"], tau)
        # Rennala-like: B_i = ceil(t*/tau_i - 1) on the m* fastest, total >= S
        assert plan["B"].sum() >= S
        fastest = np.argsort(tau, kind="stable")[: a.m]
        assert np.all(plan["B"][np.setdiff1d(np.arange(len(tau)), fastest)] == 0)


def test_mindflayer_small_example_and_exclusions():
    # costs 2, 3, 4; worker 2 never succeeds; t(1) = 2 (4 + .5)/.5 = 18,
    # t(2) = (4 + 1.4)/(.25 + .3) = 9.818..., B = ceil(9.818/2 - 1) = 4, ceil(9.818/3 - 1) = 3
    plan = T.mindflayer_plan([1, 2, 3], [1, 1, 1], [0.5, 0.9, 0.0], 4)
    assert plan["m"] == 2 and plan["B"].tolist() == [4, 3, 0]
    assert plan["t_m"] == pytest.approx(5.4 / 0.55)
    np.testing.assert_array_equal(plan["order"], [0, 1])
    # infinite clip (no clipping): the worker is excluded from the plan
    plan = T.mindflayer_plan([1, 2], [np.inf, 1.0], [1.0, 1.0], 2)
    assert plan["B"][0] == 0 and plan["B"][1] >= 2
    par = T.mindflayer_params([1, 2, 3], [1, 1, 1], [0.5, 0.9, 0.0], 2.0, 4.0, 1.0)
    assert par["S"] == 4.0 and par["B"].tolist() == [4, 3, 0]
    assert par["gamma"] == pytest.approx(min(1 / 4, 1.0 * 4.7 / (2 * 2 * 4)))
    assert T.mindflayer_params([1.0], 0.0, 1.0, 2.0, 0.0, 1.0)["gamma"] == 0.25


def test_expected_time_per_success():
    assert T.expected_time_per_success(1.0, 2.0, 0.5, 0.25) == pytest.approx(6.0)
    out = T.expected_time_per_success([1.0, 2.0], [1.0, 1.0], [0.5, 1.0], [0.5, 0.0])
    assert out[0] == pytest.approx(3.0) and out[1] == math.inf
    # Wald check by simulation: exponential eta, clip t -> E[tau + min(eta,t)]/F(t)
    rng = np.random.default_rng(12)
    tau, t, theta = 1.0, 0.7, 1.0
    F = 1 - math.exp(-t / theta)
    mean_min = theta * F  # E min(Exp(theta), t) = theta (1 - e^{-t/theta})
    eta = rng.exponential(theta, 200_000)
    per_attempt = tau + np.minimum(eta, t)
    sim = per_attempt.sum() / np.sum(eta <= t)
    assert T.expected_time_per_success(tau, t, mean_min, F) == pytest.approx(sim, rel=0.01)
    assert T.expected_time_per_success(tau, t, mean_min, F) <= (tau + t) / F


# ----------------------------------------------------------------------------------------
# Universal model (§11.4)
# ----------------------------------------------------------------------------------------

def _brute_fixed_block(R, tau, q=4.0):
    """Smallest t with sum_i floor(t/(q tau_i)) >= R: scan the jump points q tau_i k."""
    cands = sorted({q * ti * k for ti in tau for k in range(1, R + 1)})
    for t in cands:
        if sum(math.floor(t / (q * ti) + 1e-12) for ti in tau) >= R:
            return t
    raise AssertionError


def test_universal_block_time_fixed_model_brute_force():
    rng = np.random.default_rng(13)
    for _ in range(30):
        tau = rng.uniform(0.2, 5, int(rng.integers(1, 8)))
        R = int(rng.integers(1, 12))
        want = _brute_fixed_block(R, tau)
        got = T.universal_block_time(R, 0.0, tau)
        assert got == pytest.approx(want, rel=1e-9)
        # time-invariant speeds: the block length does not depend on T0 (up to float noise)
        assert T.universal_block_time(R, 3.3, tau) == pytest.approx(want, rel=1e-9)
        K = int(rng.integers(0, 40))
        assert T.universal_time_bound(K, R, tau) == pytest.approx(math.ceil(K / R) * want, rel=1e-8)


def test_universal_block_time_with_outage_and_speedup():
    tau = [1.0, 1.0]
    # worker 0 out on [0, 10), worker 1 always out: 1 gradient needs W_0 = 4 -> t = 14
    W = T.piecewise_speed_integral([0.0, 10.0], [[0.0, 1.0], [0.0, 0.0]])
    assert T.universal_block_time(1, 0.0, tau, W) == pytest.approx(14.0, rel=1e-9)
    assert T.universal_block_time(1, 12.0, tau, W) == pytest.approx(4.0, rel=1e-9)
    # shared profile: speed 2 after t = 2 (W = 2 + 2(t - 2) beyond 2): two workers, R = 2
    # -> each needs W = 4 -> t = 3
    W2 = T.piecewise_speed_integral([0.0, 2.0], [1.0, 2.0])
    assert T.universal_block_time(2, 0.0, tau, W2) == pytest.approx(3.0, rel=1e-9)
    assert T.universal_time_bound(4, 2, tau, W2) == pytest.approx(3.0 + 2.0, rel=1e-9)
    # a permanent outage of everyone never completes
    Wdead = T.piecewise_speed_integral([0.0], [[0.0], [0.0]])
    assert T.universal_block_time(1, 0.0, tau, Wdead, t_max=1e3) == math.inf
    assert T.universal_time_bound(5, 1, tau, Wdead, t_max=1e3) == math.inf


# ----------------------------------------------------------------------------------------
# Input validation: ValueError naming the argument
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, field", [
    (lambda: T.m_star([1.0, 2.0], 1.0, 0.0), "eps"),
    (lambda: T.m_star([1.0, 2.0], 1.0, -1.0), "eps"),
    (lambda: T.m_star([1.0, 2.0], -0.1, 1.0), "sigma2"),
    (lambda: T.m_star([], 1.0, 1.0), "tau"),
    (lambda: T.m_star([1.0, 0.0], 1.0, 1.0), "tau"),
    (lambda: T.harmonic_prefix([1.0, -2.0]), "tau"),
    (lambda: T.harmonic_prefix([1.0, float("nan")]), "tau"),
    (lambda: T.harmonic_prefix([[1.0], [2.0]]), "tau"),
    (lambda: T.t_star_a(0.5, [1.0]), "S"),
    (lambda: T.t_star_b(0.0, [1.0]), "S"),
    (lambda: T.rennala_params(0.0, 1.0, 1.0), "L"),
    (lambda: T.ringmaster_params(-1.0, 1.0, 1.0), "L"),
    (lambda: T.ringmaster_params(1.0, 1.0, 0.0), "eps"),
    (lambda: T.rennala_params(1.0, -1.0, 1.0), "sigma2"),
    (lambda: T.naive_optimal_params([], 1.0, 1.0, 1.0), "tau"),
    (lambda: T.optimal_time([1.0], 1.0, -1.0, 1.0, 1.0), "Delta"),
    (lambda: T.asgd_time([1.0], 0.0, 1.0, 1.0, 1.0), "L"),
    (lambda: T.hero_time([1.0], 1.0, 1.0, 1.0, 0.0), "eps"),
    (lambda: T.minibatch_time([1.0], 1.0, 1.0, -2.0, 1.0), "sigma2"),
    (lambda: T.ringmaster_block_time(0, [1.0]), "R"),
    (lambda: T.ringmaster_time_bound(-1, 2, [1.0]), "K"),
    (lambda: T.mindflayer_plan([1.0, 2.0], [1.0, 1.0], [0.5, 1.5], 2), "p"),
    (lambda: T.mindflayer_plan([1.0, 2.0], [1.0, 1.0], [-0.1, 0.5], 2), "p"),
    (lambda: T.mindflayer_plan([1.0, 2.0], [1.0, 1.0], [0.0, 0.0], 2), "p"),
    (lambda: T.mindflayer_plan([1.0, 2.0], [1.0, 1.0], [0.5, 0.5, 0.5], 2), "p"),
    (lambda: T.mindflayer_plan([1.0, 2.0], [1.0, -1.0], [0.5, 0.5], 2), "clip"),
    (lambda: T.mindflayer_plan([1.0, 2.0], [1.0, 1.0], [0.5, 0.5], 0.5), "S"),
    (lambda: T.mindflayer_plan([], [], [], 2), "tau"),
    (lambda: T.mindflayer_time([1.0], [1.0], [0.5], 1.0, 1.0, 1.0, 0.0), "eps"),
    (lambda: T.expected_time_per_success(1.0, 1.0, 0.5, 2.0), "p"),
    (lambda: T.expected_time_per_success(1.0, 1.0, 2.0, 0.5), "mean_min_eta_clip"),
    (lambda: T.universal_block_time(0, 0.0, [1.0]), "R"),
    (lambda: T.universal_block_time(1, -1.0, [1.0]), "T0"),
    (lambda: T.universal_block_time(1, 0.0, [0.0]), "tau"),
    (lambda: T.piecewise_speed_integral([1.0, 2.0], [1.0, 1.0]), "breaks"),
    (lambda: T.piecewise_speed_integral([0.0, 2.0], [1.0, -1.0]), "nu"),
    (lambda: T.rennala_time([1.0], 1.0, 1.0, 1.0, 1.0, form="c"), "form"),
    (lambda: T.m_star([1.0], True, 1.0), "sigma2"),
    (lambda: T.m_star([1.0], 1.0, float("nan")), "eps"),
])
def test_bad_inputs_name_the_field(call, field):
    with pytest.raises(ValueError, match=rf"^{field}\b"):
        call()
