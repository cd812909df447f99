"""Theory module, heterogeneous data and task allocation (heterogeneous spec §1, §3.1, §5.6,
§6.1–6.4, §7.1–7.4): frequency weights, quadratic limits, rescaled stepsizes, complexity
orderings, Malenia stop rule, Ringleader parameters, ATA scores and allocators against brute
force, input validation. Pure NumPy; fast."""

import itertools
import math

import numpy as np
import pytest

from jaxsim import theory as T

DRAWS = 200


def _random_tau(rng, n=None):
    n = int(rng.integers(1, 20)) if n is None else n
    kind = rng.integers(3)
    if kind == 0:
        return rng.uniform(0.1, 10.0, n)
    if kind == 1:
        return np.exp(rng.normal(0.0, 1.5, n))
    return rng.integers(1, 5, n).astype(float)  # exact ties


def _compositions(n, B):
    """All a in N^n with sum a = B."""
    for cut in itertools.combinations(range(B + n - 1), n - 1):
        prev, parts = -1, []
        for c in cut:
            parts.append(c - prev - 1)
            prev = c
        parts.append(B + n - 1 - prev - 1)
        yield np.array(parts, dtype=np.int64)


def _brute_minmax(s, B):
    return min(float(np.max(a * s)) for a in _compositions(len(s), B))


# ----------------------------------------------------------------------------------------
# §6.1–6.2: frequency weights, quadratic limits, rescaled stepsizes
# ----------------------------------------------------------------------------------------

def test_frequency_weights_sum_to_one_and_inverse_proportional():
    rng = np.random.default_rng(0)
    for _ in range(DRAWS):
        tau = _random_tau(rng)
        p = T.frequency_weights(tau)
        assert p.shape == tau.shape
        assert math.isclose(p.sum(), 1.0, rel_tol=1e-12)
        np.testing.assert_allclose(p * tau, np.full(tau.size, p[0] * tau[0]), rtol=1e-12)
    np.testing.assert_allclose(T.frequency_weights([1.0, 2.0, 4.0]), [4 / 7, 2 / 7, 1 / 7])
    np.testing.assert_array_equal(T.frequency_weights([1.0, np.inf]), [1.0, 0.0])  # hung worker


def test_toy_quadratic_instance_of_spec():
    """Spec §6.2 toy instance (numbers derived independently in the spec)."""
    out = T.quadratic_minimizers(1.0, [1.747, 0.0, -3.697], [1.0, 2.0, 4.0])
    assert isinstance(out["x_freq"], float) and isinstance(out["x_eq"], float)
    assert out["x_freq"] == pytest.approx(0.470, abs=5e-4)
    assert out["x_eq"] == pytest.approx(-0.65, abs=5e-4)
    np.testing.assert_allclose(out["p"], [4 / 7, 2 / 7, 1 / 7])


def test_quadratic_minimizers_are_minimizers_and_broadcast():
    rng = np.random.default_rng(1)
    for _ in range(50):
        n, d = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        tau = _random_tau(rng, n)
        h = rng.uniform(0.1, 3.0, (n, d))
        a = rng.normal(size=(n, d))
        out = T.quadratic_minimizers(h, a, tau)
        p = T.frequency_weights(tau)[:, None]
        assert out["x_eq"].shape == (d,) and out["x_freq"].shape == (d,)
        # gradients of f = mean f_i and of f_freq = sum p_i f_i vanish at the minimisers
        np.testing.assert_allclose((h * (out["x_eq"] - a)).mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose((p * h * (out["x_freq"] - a)).sum(axis=0), 0.0, atol=1e-12)
        # per-coordinate 1-D calls agree; (n,) curvature broadcasts over coordinates
        for c in range(d):
            one = T.quadratic_minimizers(h[:, c], a[:, c], tau)
            assert one["x_eq"] == pytest.approx(out["x_eq"][c], rel=1e-12, abs=1e-14)
        hv = h[:, 0]
        np.testing.assert_allclose(T.quadratic_minimizers(hv, a, tau)["x_eq"],
                                   T.quadratic_minimizers(np.repeat(hv[:, None], d, 1), a,
                                                          tau)["x_eq"])
    # equal times: both limits coincide
    out = T.quadratic_minimizers([1.0, 2.0], [3.0, -1.0], [2.0, 2.0])
    assert out["x_eq"] == pytest.approx(out["x_freq"], rel=1e-14)


@pytest.mark.parametrize("ref", ["harmonic", "fastest", "slowest", "mean"])
def test_rescaled_stepsizes_equalize_p_gamma(ref):
    rng = np.random.default_rng(2)
    for _ in range(DRAWS):
        tau = _random_tau(rng)
        g = T.rescaled_stepsizes(0.1, tau, ref=ref)
        pg = T.frequency_weights(tau) * g
        np.testing.assert_allclose(pg, np.full(tau.size, pg[0]), rtol=1e-12)
        tref = {"harmonic": tau.size / np.sum(1 / tau), "fastest": tau.min(),
                "slowest": tau.max(), "mean": tau.mean()}[ref]
        np.testing.assert_allclose(g, 0.1 * tau / tref, rtol=1e-12)
        if ref == "harmonic":  # total stepsize per unit time equals vanilla ASGD's
            assert np.sum(g / tau) == pytest.approx(0.1 * np.sum(1 / tau), rel=1e-12)
    np.testing.assert_allclose(T.rescaled_stepsizes(0.5, [3.0, 3.0, 3.0]), [0.5, 0.5, 0.5])


# ----------------------------------------------------------------------------------------
# §1, §5.6, §6.3–6.4: time complexities
# ----------------------------------------------------------------------------------------

def test_het_lower_bound_formula():
    tau = [4.0, 1.0, 2.0, 1.0]  # unsorted on purpose
    # (L Delta/eps) (tau_n + tau_avg sigma2/(n eps)) = (2*3/0.5) (4 + 2*8/(4*0.5)) = 12 * 12
    assert T.het_lower_bound(tau, 2.0, 3.0, 8.0, 0.5) == pytest.approx(144.0, rel=1e-14)
    assert T.naive_minibatch_time(tau, 2.0, 3.0, 8.0, 0.5) == pytest.approx(12 * (4 + 16),
                                                                            rel=1e-14)


def test_complexity_orderings():
    rng = np.random.default_rng(3)
    for _ in range(DRAWS):
        tau = _random_tau(rng)
        Lf = float(rng.uniform(0.1, 5.0))
        L = Lf * float(rng.uniform(1.0, 3.0))   # L_f <= L (Assumption 2)
        Lmax = L * float(rng.uniform(1.0, 3.0))  # L <= L_max
        D, s2, e = float(rng.uniform(0, 10)), float(rng.uniform(0, 50)), \
            float(rng.uniform(0.01, 2))
        lb = T.het_lower_bound(tau, Lf, D, s2, e)
        assert T.malenia_time(tau, Lf, D, s2, e) == lb
        # Ringleader = lower bound up to L vs L_f
        assert T.ringleader_time(tau, L, D, s2, e) == pytest.approx(
            T.het_lower_bound(tau, L, D, s2, e), rel=1e-14)
        assert T.ringleader_time(tau, L, D, s2, e) == pytest.approx(L / Lf * lb, rel=1e-12)
        assert T.ringleader_time(tau, Lf, D, s2, e) == pytest.approx(lb, rel=1e-14)
        nm = T.naive_minibatch_time(tau, Lf, D, s2, e)
        assert nm >= lb * (1 - 1e-12)
        np.testing.assert_allclose(nm, T.minibatch_time(tau, Lf, D, s2, e), rtol=1e-12)
        ia = T.ia2sgd_time(tau, Lmax, D, s2, e)
        assert ia >= T.malenia_time(tau, Lf, D, s2, e) * (1 - 1e-12)
        assert ia == pytest.approx(Lmax / Lf * nm, rel=1e-12)
        z2 = float(rng.uniform(0, 10))
        ca = T.concurrent_asgd_time(tau, Lf, D, s2, e, z2)
        assert ca >= nm * (1 - 1e-12)
        assert T.concurrent_asgd_time(tau, Lf, D, s2, e, 0.0) == pytest.approx(nm, rel=1e-14)
        assert T.rescaled_asgd_time(tau, L, Lmax, D, s2, e, z2, 1.0) >= \
            T.het_lower_bound(tau, L, D, s2, e) * (1 - 1e-12)


def test_naive_minibatch_equals_lower_bound_iff_equal_times():
    args = (1.0, 1.0, 4.0, 0.1)
    assert T.naive_minibatch_time([2.0] * 5, *args) == pytest.approx(
        T.het_lower_bound([2.0] * 5, *args), rel=1e-14)
    assert T.naive_minibatch_time([2.0, 2.0, 2.1], *args) > T.het_lower_bound([2.0, 2.0, 2.1],
                                                                               *args)
    # sigma2 = 0: only tau_n remains, equal for every tau
    assert T.naive_minibatch_time([1.0, 5.0], 1.0, 1.0, 0.0, 0.1) == pytest.approx(
        T.het_lower_bound([1.0, 5.0], 1.0, 1.0, 0.0, 0.1), rel=1e-14)


def test_rescaled_asgd_formula_and_leading_term():
    tau = np.array([1.0, 2.0, 4.0])
    n, tA, tmax = 3, 7 / 3, 4.0
    tH = 3 / (1 + 0.5 + 0.25)
    L, Lmax, D, s2, e, z2, rho = 2.0, 3.0, 5.0, 4.0, 0.01, 1.5, 0.7
    want = (D * L * s2 / (n * e ** 2) * tA + D * Lmax * math.sqrt(s2 + z2) / e ** 1.5
            * (tmax / tH) * tA + D * Lmax * rho / e * (tmax / tH) * tmax + D * L / e * tmax)
    assert T.rescaled_asgd_time(tau, L, Lmax, D, s2, e, z2, rho) == pytest.approx(want,
                                                                                 rel=1e-13)
    # leading eps^-2 term matches the lower bound's noise term: ratio -> 1 as eps -> 0
    ratios = [T.rescaled_asgd_time(tau, L, Lmax, D, s2, eps, z2, rho)
              / T.het_lower_bound(tau, L, D, s2, eps) for eps in (1e-4, 1e-8, 1e-12)]
    assert ratios[0] > ratios[1] > ratios[2] > 1.0 and ratios[2] < 1.0 + 1e-4


# ----------------------------------------------------------------------------------------
# §3.1 Malenia, §5.6 Ringleader
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("sigma2", "eps", "n", "max_n", "max_1"), [
    (0.0, 1.0, 5, 5, 1),
    (1.1, 0.1, 3, 11, 11),       # float noise forgiven
    (10.0, 1.0, 20, 20, 10),
    (10.5, 1.0, 2, 11, 11),
    (0.5, 1.0, 1, 1, 1),
])
def test_malenia_batch(sigma2, eps, n, max_n, max_1):
    assert T.malenia_batch(sigma2, eps, n) == max_n
    assert T.malenia_batch(sigma2, eps, n, rule="max_1") == max_1
    assert isinstance(T.malenia_batch(sigma2, eps, n), int)


def test_malenia_stop_off_by_one_n1():
    for S in range(1, 30):
        first_gt = next(b for b in range(1, 100) if T.malenia_stop([b], S, "gt"))
        first_geq = next(b for b in range(1, 100) if T.malenia_stop([b], S, "geq"))
        assert first_gt == S + 1
        assert first_geq == S
        assert not T.malenia_stop([0], S, "geq")


def test_malenia_stop_small_S_fires_when_all_contributed():
    rng = np.random.default_rng(4)
    for _ in range(DRAWS):
        n = int(rng.integers(1, 8))
        b = rng.integers(0, 4, n)
        all_in = bool(np.all(b >= 1))
        for S in range(1, n):  # S < n with "gt"
            assert T.malenia_stop(b, S, "gt") == all_in
        for S in range(1, n + 1):  # S <= n with "geq"
            assert T.malenia_stop(b, S, "geq") == all_in


def test_malenia_stop_matches_definition_and_exact_boundary():
    rng = np.random.default_rng(5)
    for _ in range(DRAWS):
        n = int(rng.integers(1, 7))
        b = rng.integers(0, 12, n)
        S = int(rng.integers(1, 40))
        H = T.harmonic_count(b)
        if np.any(b == 0):
            assert H == 0.0 and not T.malenia_stop(b, S, "gt") and not T.malenia_stop(b, S, "geq")
            continue
        from fractions import Fraction
        Hq = Fraction(n) / sum(Fraction(1, int(x)) for x in b)
        assert T.malenia_stop(b, S, "gt") == (Hq > Fraction(S, n))
        assert T.malenia_stop(b, S, "geq") == (Hq >= Fraction(S, n))
    # H = 3 exactly for b = (2, 3, 6): 1/2 + 1/3 + 1/6 = 1; S/n = 9/3 = 3
    assert T.malenia_stop([2, 3, 6], 9, "geq") and not T.malenia_stop([2, 3, 6], 9, "gt")


def test_harmonic_count_and_ringleader_params():
    assert T.harmonic_count([1, 1, 1]) == pytest.approx(1.0)
    assert T.harmonic_count([2, 3, 6]) == pytest.approx(3.0)
    assert T.harmonic_count([4, 0]) == 0.0
    assert [T.ringleader_delay_bound(n) for n in (1, 2, 3, 10)] == [0, 2, 4, 18]
    assert T.ringleader_stepsize(3, 2.0, 0.1, 0.0, 1.0) == pytest.approx(1 / 48)
    # min{1/(8nL), eps B/(10 L sigma2)} = min{1/48, 0.1*2/(10*2*5) = 0.002}
    assert T.ringleader_stepsize(3, 2.0, 0.1, 5.0, 2.0) == pytest.approx(0.002)
    assert T.ringleader_stepsize(3, 2.0, 10.0, 5.0, 2.0) == pytest.approx(1 / 48)


# ----------------------------------------------------------------------------------------
# §7 ATA: proxy loss, allocators against brute force, LCB scores, UTA
# ----------------------------------------------------------------------------------------

def test_proxy_loss():
    assert T.proxy_loss([2, 0, 1], [1.0, 100.0, 3.0]) == 3.0
    assert T.proxy_loss([2, 0, 1], [2.0, np.inf, 3.0]) == 4.0  # unused worker may be inf
    assert T.proxy_loss([0, 0], [1.0, 2.0]) == 0.0


def _small_instances(rng):
    for n in range(1, 5):
        for B in range(1, 7):
            for kind in range(3):
                if kind == 0:
                    s = rng.uniform(0.05, 5.0, n)
                elif kind == 1:
                    s = rng.integers(1, 4, n).astype(float)  # many exact ties
                else:
                    s = np.exp(rng.normal(0.0, 2.0, n))
                yield s, B


def test_optimal_allocation_value_equals_brute_force():
    rng = np.random.default_rng(6)
    for s, B in _small_instances(rng):
        alloc = T.optimal_allocation(s, B)
        brute = _brute_minmax(s, B)
        assert alloc.a.sum() == B and alloc.a.dtype == np.int64
        assert alloc.value == pytest.approx(brute, rel=1e-12)
        assert T.proxy_loss(alloc.a, s) == pytest.approx(brute, rel=1e-12)
        # v_B = B-th smallest element of {j s_i}
        elems = sorted(j * s[i] for i in range(s.size) for j in range(1, B + 1))
        assert alloc.value == pytest.approx(elems[B - 1], rel=1e-14)


def test_optimal_allocation_ties_to_lower_index():
    # elements: w0: 1, 2, 3..; w1: 1, 2, ..  -> B = 3 takes (1 of w0), (1 of w1), (2 of w0)
    np.testing.assert_array_equal(T.optimal_allocation([1.0, 1.0], 3).a, [2, 1])
    np.testing.assert_array_equal(T.optimal_allocation([2.0, 1.0], 1).a, [0, 1])
    out = T.optimal_allocation([1.0, 2.0, 4.0], 7)  # elements <= 4: 1,2,3,4 | 2,4 | 4
    np.testing.assert_array_equal(out.a, [4, 2, 1])
    assert out.value == 4.0


@pytest.mark.parametrize("seeded", [False, True])
def test_greedy_allocation_attains_brute_force(seeded):
    rng = np.random.default_rng(7)
    for s, B in _small_instances(rng):
        a = T.greedy_allocation(s, B, rng=np.random.default_rng(11) if seeded else None)
        assert a.sum() == B and a.dtype == np.int64 and np.all(a >= 0)
        assert float(np.max(a * s)) == pytest.approx(_brute_minmax(s, B), rel=1e-12)


def test_greedy_allocation_randomised_larger_matches_optimal_value():
    rng = np.random.default_rng(8)
    for _ in range(100):
        n, B = int(rng.integers(1, 30)), int(rng.integers(1, 80))
        s = np.exp(rng.normal(0, 1, n)) if rng.integers(2) else rng.integers(1, 4, n) * 1.0
        a = T.greedy_allocation(s, B, rng=rng)
        assert a.sum() == B
        assert T.proxy_loss(a, s) == pytest.approx(T.optimal_allocation(s, B).value, rel=1e-12)


def test_greedy_allocation_tie_rule_deterministic():
    # equal scores: a fresh increment ties at the same max; deterministic -> lowest index
    np.testing.assert_array_equal(T.greedy_allocation([1.0, 1.0, 1.0], 2), [1, 1, 0])
    # s = (1, 2): first task to w0 (max 1). Second: w0 -> 2 (one worker at max 2) vs
    # w1 -> 2 (w1 at 2 only, w0 at 1): both give max 2 attained by one worker -> lowest index
    np.testing.assert_array_equal(T.greedy_allocation([1.0, 2.0], 2), [2, 0])
    # fewer workers attaining the max beats the lower index. s = (2, 1, 0.6), w0 never sampled:
    # a = (1, 0, 0), max 2. Next: w1 -> 1 and w2 -> 0.6 both keep max 2 (one worker) -> w1.
    # Then w1 -> 2 makes two workers attain 2, w2 -> 0.6 keeps one -> w2 (not the lower w1).
    np.testing.assert_array_equal(
        T.greedy_allocation([2.0, 1.0, 0.6], 3, sampled=[False, True, True]), [1, 1, 1])
    # remaining ties are broken at random with a generator
    gen = np.random.default_rng(12)
    picks = {int(np.argmax(T.greedy_allocation([1.0] * 4, 1, rng=gen))) for _ in range(60)}
    assert picks == {0, 1, 2, 3}


def test_greedy_allocation_never_sampled_and_zero_scores():
    s = np.array([0.5, 0.0, 2.0, 0.0, 1.0])
    sampled = np.array([True, False, True, False, True])
    # never-sampled workers 1 and 3 first; their score 0 -> remaining 5 spread over zero-score
    a = T.greedy_allocation(s, 7, sampled=sampled)
    np.testing.assert_array_equal(a, [0, 4, 0, 3, 0])
    # counts K work as the mask
    np.testing.assert_array_equal(T.greedy_allocation(s, 7, sampled=[3, 0, 1, 0, 2]), a)
    # more never-sampled workers than tasks: a subset of size B, one each
    a = T.greedy_allocation(np.zeros(6), 2, sampled=np.zeros(6, dtype=bool))
    np.testing.assert_array_equal(a, [1, 1, 0, 0, 0, 0])
    gen = np.random.default_rng(0)
    seen = set()
    for _ in range(50):
        a = T.greedy_allocation(np.zeros(6), 2, sampled=np.zeros(6, dtype=bool), rng=gen)
        assert a.sum() == 2 and a.max() == 1
        seen.add(tuple(np.flatnonzero(a)))
    assert len(seen) > 3
    # sampled zero-score workers get the tasks evenly, random remainder
    for _ in range(20):
        a = T.greedy_allocation([0.0, 3.0, 0.0, 0.0], 5, rng=gen)
        assert a[1] == 0 and sorted(a[[0, 2, 3]].tolist()) == [1, 2, 2]
    np.testing.assert_array_equal(T.greedy_allocation([0.0, 3.0, 0.0, 0.0], 5), [2, 0, 2, 1])
    # never-sampled with a positive given score: one task, then greedy on the rest
    a = T.greedy_allocation([1.0, 1.0], 4, sampled=[True, False])
    assert a.sum() == 4 and a[1] >= 1


def test_ata_scores_formulas_and_never_sampled():
    mu = np.array([1.0, 2.0, 3.0, np.nan])
    K = np.array([4, 100, 10_000, 0])
    k = 5
    ell = math.log(2 * k * k)
    w = np.sqrt(ell / K[:3]) + ell / K[:3]
    s = T.ata_scores(mu, K, k, 0.1)
    np.testing.assert_allclose(s[:3], np.maximum(mu[:3] - 0.2 * w, 0.0))
    assert s[3] == 0.0  # never sampled: width +inf -> score 0, mu_hat ignored
    s = T.ata_scores(mu, K, k, 0.1, constants="code")
    np.testing.assert_allclose(s[:3], np.maximum(mu[:3] - 4 * math.e * 0.1 * w, 0.0))
    assert s[3] == 0.0
    s = T.ata_scores(mu, K, k, None, empirical=True, eta=0.3)
    np.testing.assert_allclose(s[:3], mu[:3] * np.maximum(1 - 0.6 * w, 0.0))
    s = T.ata_scores(mu, K, k, None, constants="code", empirical=True)
    np.testing.assert_allclose(s[:3], np.maximum(mu[:3] - 8 * math.e * mu[:3] * w, 0.0))
    assert np.all(T.ata_scores(mu, K, k, 1e6) == 0.0)  # huge alpha: everything clipped to 0
    # the scores feed the allocator: the never-sampled worker is explored first
    a = T.greedy_allocation(T.ata_scores(mu, K, k, 0.1), 3, sampled=K)
    assert a[3] >= 1 and a.sum() == 3


@pytest.mark.parametrize(("constants", "empirical"),
                         [("poster", False), ("code", False), ("poster", True), ("code", True)])
def test_ata_scores_monotone_in_K(constants, empirical):
    rng = np.random.default_rng(9)
    for _ in range(50):
        mu = rng.uniform(0.1, 5.0, 6)
        k = int(rng.integers(1, 1000))
        Ks = [np.full(6, K) for K in (0, 1, 2, 5, 20, 100, 10**4, 10**8)]
        prev = None
        for K in Ks:
            s = T.ata_scores(mu, K, k, 0.05, constants=constants, empirical=empirical, eta=0.1)
            assert np.all(s >= 0) and np.all(s <= mu + 1e-15)
            if prev is not None:
                assert np.all(s >= prev - 1e-15)
            prev = s
        np.testing.assert_allclose(prev, mu, rtol=5e-2)  # K -> inf: s -> mu_hat


def test_uta_allocation():
    np.testing.assert_array_equal(T.uta_allocation(4, 10), [3, 3, 2, 2])
    np.testing.assert_array_equal(T.uta_allocation(5, 2), [1, 1, 0, 0, 0])
    gen = np.random.default_rng(10)
    seen = set()
    for _ in range(100):
        a = T.uta_allocation(5, 13, gen)
        assert a.sum() == 13 and set(a.tolist()) <= {2, 3} and (a == 3).sum() == 3
        b = T.uta_allocation(6, 2, gen)
        assert b.sum() == 2 and b.max() == 1
        seen.add(tuple(a))
    assert len(seen) > 5


# ----------------------------------------------------------------------------------------
# Bad inputs name the field
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "field"), [
    (lambda: T.frequency_weights([1.0, 0.0]), "tau"),
    (lambda: T.frequency_weights([]), "tau"),
    (lambda: T.quadratic_minimizers([1.0, -1.0], [0.0, 1.0], [1.0, 1.0]), "h"),
    (lambda: T.quadratic_minimizers([1.0, 1.0, 1.0], [0.0, 1.0], [1.0, 1.0]), "h"),
    (lambda: T.quadratic_minimizers(0.0, [0.0, 1.0], [1.0, 1.0]), "h"),
    (lambda: T.quadratic_minimizers(1.0, 0.0, [1.0]), "a"),
    (lambda: T.quadratic_minimizers(1.0, [0.0, 1.0], [1.0, 1.0, 1.0]), "tau"),
    (lambda: T.rescaled_stepsizes(0.0, [1.0]), "gamma"),
    (lambda: T.rescaled_stepsizes(0.1, [1.0, np.inf]), "tau"),
    (lambda: T.rescaled_stepsizes(0.1, [1.0], ref="median"), "ref"),
    (lambda: T.het_lower_bound([1.0], 0.0, 1.0, 1.0, 1.0), "L_f"),
    (lambda: T.het_lower_bound([1.0], 1.0, -1.0, 1.0, 1.0), "Delta"),
    (lambda: T.naive_minibatch_time([1.0], 1.0, 1.0, -1.0, 1.0), "sigma2"),
    (lambda: T.malenia_time([1.0], 1.0, 1.0, 1.0, 0.0), "eps"),
    (lambda: T.ia2sgd_time([1.0], -1.0, 1.0, 1.0, 1.0), "L_max"),
    (lambda: T.ringleader_time([-1.0], 1.0, 1.0, 1.0, 1.0), "tau"),
    (lambda: T.ringleader_time([1.0], 0.0, 1.0, 1.0, 1.0), "L"),
    (lambda: T.rescaled_asgd_time([1.0], 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0), "L_max"),
    (lambda: T.rescaled_asgd_time([1.0], 1.0, 1.0, 1.0, 1.0, 1.0, -1.0, 1.0), "zeta2"),
    (lambda: T.rescaled_asgd_time([1.0], 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, -1.0), "rho"),
    (lambda: T.concurrent_asgd_time([1.0], 1.0, 1.0, 1.0, 1.0, float("nan")), "zeta2"),
    (lambda: T.malenia_batch(1.0, 1.0, 0), "n"),
    (lambda: T.malenia_batch(1.0, 1.0, 2.5), "n"),
    (lambda: T.malenia_batch(1.0, 1.0, 2, rule="max"), "rule"),
    (lambda: T.malenia_batch(-1.0, 1.0, 2), "sigma2"),
    (lambda: T.malenia_stop([1, -1], 2), "B"),
    (lambda: T.malenia_stop([1.5, 1], 2), "B"),
    (lambda: T.malenia_stop([1, 1], 0), "S"),
    (lambda: T.malenia_stop([1, 1], 1, rule=">"), "rule"),
    (lambda: T.harmonic_count([1.0, -1.0]), "b"),
    (lambda: T.ringleader_delay_bound(0), "n"),
    (lambda: T.ringleader_delay_bound(True), "n"),
    (lambda: T.ringleader_stepsize(2, 1.0, 1.0, 1.0, 0.0), "B"),
    (lambda: T.ringleader_stepsize(2, 1.0, 0.0, 1.0, 1.0), "eps"),
    (lambda: T.proxy_loss([1, 2], [1.0, 2.0, 3.0]), "mu"),
    (lambda: T.proxy_loss([1, -2], [1.0, 2.0]), "a"),
    (lambda: T.optimal_allocation([1.0, 0.0], 3), "mu"),
    (lambda: T.optimal_allocation([1.0, 2.0], 0), "B"),
    (lambda: T.greedy_allocation([1.0, -1.0], 3), "s"),
    (lambda: T.greedy_allocation([1.0, np.inf], 3), "s"),
    (lambda: T.greedy_allocation([1.0, 2.0], 0), "B"),
    (lambda: T.greedy_allocation([1.0, 2.0], 2, sampled=[True, False, True]), "sampled"),
    (lambda: T.greedy_allocation([1.0, 2.0], 2, rng=0), "rng"),
    (lambda: T.ata_scores([1.0, 2.0], [1, 2, 3], 1, 0.1), "mu_hat"),
    (lambda: T.ata_scores([1.0, np.nan], [1, 2], 1, 0.1), "mu_hat"),
    (lambda: T.ata_scores([1.0, 2.0], [1, -2], 1, 0.1), "K"),
    (lambda: T.ata_scores([1.0, 2.0], [1, 2], 0, 0.1), "k"),
    (lambda: T.ata_scores([1.0, 2.0], [1, 2], 1, None), "alpha"),
    (lambda: T.ata_scores([1.0, 2.0], [1, 2], 1, -0.1), "alpha"),
    (lambda: T.ata_scores([1.0, 2.0], [1, 2], 1, 0.1, constants="paper"), "constants"),
    (lambda: T.ata_scores([1.0, 2.0], [1, 2], 1, None, empirical=True), "eta"),
    (lambda: T.ata_scores([1.0, 2.0], [1, 2], 1, 0.1, empirical="yes"), "empirical"),
    (lambda: T.uta_allocation(0, 3), "n"),
    (lambda: T.uta_allocation(2, 0), "B"),
    (lambda: T.uta_allocation(2, 3, rng=1), "rng"),
])
def test_bad_inputs_name_the_field(call, field):
    with pytest.raises(ValueError, match=rf"^{field}\b"):
        call()
