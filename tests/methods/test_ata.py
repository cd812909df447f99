"""The ATA family (heterogeneous.md §7): allocation solver, FTA / ATA / UTA behaviour, validation.

Engine-vs-reference agreement of every allocation method is in ``tests/reference/test_oracle.py``.
The behavioural tests share one deterministic instance so each method compiles once:
``tau = (1, 2, 3, 8)`` seconds per task (no noise), ``B = 6``. Its optimal proxy loss is
``v_6 = 4`` (the 6th smallest of ``{j tau_i}`` = 1, 2, 2, 3, 3, 4), attained by allocations
such as ``(4, 1, 1, 0)`` or ``(3, 2, 1, 0)``; the next element of the multiset is 4 again
and then 5, so every allocation with ``max_i a_i tau_i > 4`` costs at least 5.
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsim
from jaxsim import theory
from jaxsim.methods import REGISTRY, make_method
from jaxsim.methods._allocation import greedy_allocate
from jaxsim.methods.base import SeedContext
from jaxsim.sweep import METRICS

TAU = np.array([1.0, 2.0, 3.0, 8.0])
B = 6
V_B = 4.0
HORIZON = 400.0  # 100 iterations of length v_B
POINTS = 8  # grid every 50 s


def _v_b(mu, B):
    """The B-th smallest element of {j mu_i : j >= 1} (spec §7.3)."""
    return float(np.sort(np.outer(np.arange(1, B + 1), mu).ravel())[B - 1])


def _brute_force(s, B):
    n = len(s)
    best = np.inf
    for cut in itertools.combinations(range(B + n - 1), n - 1):  # stars and bars
        parts = np.diff(np.concatenate([[-1], cut, [B + n - 1]])) - 1
        best = min(best, float(np.max(parts * s)))
    return best


@pytest.fixture(scope="module")
def runs():
    """The deterministic instance under every ATA-family method, GTA (the race) and Rennala SGD with
    stops (GTA on the controlled clock)."""
    problem = jaxsim.worst_case_quadratic(d=3, noise_scale=0.1)
    timing = jaxsim.TimingModel(n=4, base=TAU)
    hp = {"gamma": 0.1, "B": B}
    out = {}
    for name, extra in [("fta", {}), ("uta", {}), ("ata", {"alpha_scale": 1e-4}), ("gta", {}), ("rennala_stops", {})]:
        out[name] = jaxsim.simulate(name, problem, timing, seed=7, hparams={**hp, **extra}, horizon=HORIZON,
                                    num_points=POINTS)
    return out


def test_v_b_helper_matches_the_instance():
    assert _v_b(TAU, B) == V_B
    if hasattr(theory, "optimal_allocation"):  # the NumPy solver of jaxsim.theory, when present
        _, v = theory.optimal_allocation(TAU, B)
        assert float(v) == pytest.approx(V_B)


def test_greedy_allocator_attains_brute_force_optimum():
    """Random positive scores (half of them integer-valued, to force ties), n = 4, B = 1..7."""
    rng = np.random.default_rng(0)
    n, trials = 4, 120
    scores = rng.uniform(0.1, 3.0, (trials, n))
    scores[::2] = rng.integers(1, 4, (trials // 2, n))
    Bs = rng.integers(1, 8, trials)
    prio = rng.uniform(size=(trials, n))
    solve = jax.jit(jax.vmap(lambda s, b, p: greedy_allocate(s, jnp.zeros(n, bool), b, p)))
    with jax.enable_x64(True):
        a = np.asarray(solve(jnp.asarray(scores), jnp.asarray(Bs, jnp.int32), jnp.asarray(prio)))
    for t in range(trials):
        assert a[t].sum() == Bs[t] and (a[t] >= 0).all()
        value = float(np.max(a[t] * scores[t]))
        assert value == pytest.approx(_brute_force(scores[t], Bs[t]), rel=1e-12), (scores[t], Bs[t], a[t])
        assert value == pytest.approx(_v_b(scores[t], Bs[t]), rel=1e-12)


def test_greedy_allocator_first_samples_and_zero_scores():
    """Step 1: one task per never-sampled worker (B random ones if more than B);
    step 2: what is left is spread evenly over zero-score workers."""
    n = 6
    solve = jax.jit(greedy_allocate)
    for seed in range(5):
        p = jax.random.uniform(jax.random.key(seed), (n,))
        new = jnp.array([True, True, True, True, False, False])
        s = jnp.where(new, 0.0, jnp.array([0, 0, 0, 0, 1.0, 2.0]))
        a = np.asarray(solve(s, new, 3, p))  # more new workers than tasks: 3 of them, one each
        assert a.sum() == 3 and set(a[:4]) <= {0, 1} and a[4:].sum() == 0
        assert set(np.flatnonzero(a)) == set(np.argsort(np.asarray(p[:4]))[:3])
        a = np.asarray(solve(s, new, 11, p))  # 4 firsts, then 7 over the 4 zero-score workers
        assert a.sum() == 11 and a[4:].sum() == 0 and sorted(a[:4]) == [2, 3, 3, 3]
        s2 = s.at[4].set(0.0)  # a sampled worker with score 0 joins the spreading
        a = np.asarray(solve(s2, new, 9, p))  # 4 firsts + 5 over 5 zero-score workers
        assert a.sum() == 9 and (a[:5] >= 1).all() and a[5] == 0


def test_every_metric_is_recorded(runs):
    for name in ("fta", "uta", "ata"):
        assert (set(METRICS) - {"batch_loss"}) | {"proxy_regret"} <= set(runs[name]), name  # no sample losses
        r = runs[name]
        np.testing.assert_array_equal(r["received"], B * r["updates"])
        np.testing.assert_array_equal(r["used"], r["received"])
        assert (r["discarded"] == 0).all() and (r["max_delay"] == 0).all() and (r["cancelled"] == 0).all()


def test_fta_iteration_time_is_v_b(runs):
    """Deterministic tasks: FTA's every iteration lasts exactly v_B, its proxy regret is 0, and
    its workers are busy sum_i a_i tau_i per iteration."""
    r = runs["fta"]
    t = np.linspace(0.0, HORIZON, POINTS + 1)
    np.testing.assert_array_equal(r["updates"], np.floor(t / V_B).astype(int))
    np.testing.assert_array_equal(r["proxy_regret"], 0.0)
    # The optimal allocations (a_1 <= 4, a_2 <= 2, a_3 <= 1, a_4 = 0, sum 6) are (4,2,0,0),
    # (4,1,1,0) and (3,2,1,0): sum_i a_i tau_i = 8, 9 or 10 per iteration.
    per_iter = r["busy_time"][-1] / r["updates"][-1]  # t = 400 ends an iteration
    assert per_iter in (8.0, 9.0, 10.0)


def test_identical_trajectories_across_policies(runs):
    """Gradient keys (seed, k, slot): on a homogeneous problem x^k does not depend on the
    allocation, so the loss at equal iteration counts agrees between policies."""
    loss_by_k = {}
    for name in ("fta", "uta", "ata", "gta"):
        for k, gap in zip(runs[name]["updates"], runs[name]["loss_gap"]):
            if k in loss_by_k:
                assert gap == pytest.approx(loss_by_k[k], rel=1e-6, abs=1e-9), (name, k)
            loss_by_k[k] = gap
    assert len(loss_by_k) < 3 * (POINTS + 1)  # some iteration counts were shared


def test_ata_converges_to_an_optimal_allocation(runs):
    """ATA on known-mean (deterministic) task times.

    LCB widths: conf_i <= 2 alpha (sqrt(L) + L) with L = ln(2 k^2) <= ln(2e4) < 10 for k <= 100,
    so conf_i < 2 * 8e-4 * 13.2 < 0.022 (alpha = 1e-4 * max tau). An allocation chosen on
    the scores s_i = tau_i - conf_i has a_i s_i <= v_B(s) <= v_B, hence
    a_i tau_i <= v_B + B conf_i < 4 + 0.14 < 5, the next element of the multiset: every
    iteration after the first (where all workers are still unsampled and score 0) is
    optimal, so the proxy regret stops growing after iteration 1."""
    r = runs["ata"]
    assert r["updates"][1] > 1
    np.testing.assert_array_equal(r["proxy_regret"][1:], r["proxy_regret"][1])
    # Iteration 1: one task each, 2 more spread over the 4 workers: it lasts at most 2 * 8 = 16.
    # Then every iteration lasts v_B = 4: k(t) >= 1 + floor((t - 16) / 4).
    t = np.linspace(0.0, HORIZON, POINTS + 1)
    assert (r["updates"][1:] >= 1 + np.floor((t[1:] - 16) / V_B)).all()


def test_ata_saves_worker_time_against_gta(runs):
    """GTA (the race, and Rennala with stops, B = 6) keeps all n = 4 workers busy: worker time = 4 t,
    and on deterministic times its iterations last v_B = 4 too. ATA: at most 4 workers busy during
    its first iteration (<= 16 s), then at most 3 (worker 4 never gets a task, see above):
    worker time <= 3 t + 16 < 4 t. Runtime: ATA needs at most 16 - 4 = 12 s more than GTA for
    the same number of iterations, i.e. at most 4 iterations fewer at any time (<= 1.5x GTA's
    runtime once k >= 6)."""
    ata, gta = runs["ata"], runs["gta"]
    t = np.linspace(0.0, HORIZON, POINTS + 1)
    for r in (gta, runs["rennala_stops"]):
        np.testing.assert_allclose(r["busy_time"], 4 * t, rtol=1e-6)
        np.testing.assert_array_equal(r["updates"], np.floor(t / V_B).astype(int))
    assert (ata["busy_time"][1:] <= 3 * t[1:] + 16 + 1e-4).all()
    assert ata["busy_time"][-1] < 0.8 * gta["busy_time"][-1]
    assert (ata["updates"] >= gta["updates"] - 4).all()
    k = gta["updates"][-1]
    assert (k * V_B + 12) <= 1.5 * (k * V_B)


def test_uta_allocations_are_uniform():
    """floor(B/n) each plus one extra for B mod n random workers, re-drawn every iteration."""
    n, draws = 5, 400
    method = make_method("uta")
    ctx = SeedContext(tau=jnp.ones(n), mean=jnp.ones(n), rank=jnp.arange(n), key=jax.random.key(0))
    root = jax.random.key(3)
    alloc = jax.jit(jax.vmap(lambda k, b: method.allocate((), k, jax.random.fold_in(root, k), {"B": b}, ctx),
                             in_axes=(0, None)))
    for b in (3, 7, 12):
        a = np.asarray(alloc(jnp.arange(1, draws + 1), b))
        q, r = divmod(b, n)
        assert (a.sum(axis=1) == b).all()
        assert ((a == q) | (a == q + 1)).all()
        extra = (a == q + 1).sum(axis=0)  # per worker ~ Binomial(draws, r / n)
        p = r / n
        assert (np.abs(extra - draws * p) <= 5 * np.sqrt(draws * p * (1 - p))).all()
        assert len({tuple(x) for x in a}) > 1  # re-drawn


def test_an_allocate_without_the_bound_still_runs():
    """A user's ``allocate`` written with the five arguments of before ``max_B`` runs unchanged, and
    UTA's allocations without the bound (a sort) equal those with it (``top_k``): the same runs."""
    from jaxsim.methods._allocation import priorities, spread
    from jaxsim.methods.uta import UTA

    class OldUTA(UTA):
        def allocate(self, state, k, key, hp, ctx):
            n = ctx.mean.shape[0]
            return spread(jnp.ones((n,), bool), jnp.asarray(hp["B"], jnp.int32), priorities(key, n, ctx.mean.dtype))

    timing = jaxsim.make_timing(9, "linear", "exponential")
    kw = dict(seeds=[0], grid={"gamma": 0.01, "B": [2, 4]}, horizon=60.0, num_points=4)
    old, new = (jaxsim.sweep(m, jaxsim.worst_case_quadratic(d=6), timing, **kw) for m in (OldUTA(), "uta"))
    assert np.min(np.asarray(new.metrics["updates"])[..., -1]) > 3  # B = 4 < n = 9: the bounded path ran
    for name in ("updates", "busy_time", "grad_norm_sq"):
        np.testing.assert_array_equal(np.asarray(old.metrics[name]), np.asarray(new.metrics[name]), err_msg=name)


@pytest.mark.parametrize("kwargs, field", [
    ({"hp": {"B": 0}}, "B"),
    ({"hp": {"B": 2.5}}, "B"),
    ({"hp": {"gamma": -1.0}}, "gamma"),
    ({"hp": {"alpha_scale": 0.0}}, "alpha_scale"),
    ({"horizon": jaxsim.Horizon(events=100)}, "horizon"),
    ({"durations": [np.ones((4, 50))]}, "durations"),
    ({"window": 4}, "window"),
    ({"noise": "halfcauchy"}, "alpha_scale"),
    ({"options": {"constants": "paper"}}, "constants"),
])
def test_bad_input_raises_naming_the_field(kwargs, field):
    problem = jaxsim.worst_case_quadratic(d=2)
    timing = jaxsim.make_timing(4, "linear", kwargs.get("noise", "none"))
    with pytest.raises(ValueError, match=field):
        jaxsim.sweep("ata", problem, timing, grid=kwargs.get("hp"), horizon=kwargs.get("horizon", 10.0),
                     num_points=2, durations=kwargs.get("durations"), window=kwargs.get("window"),
                     method_options=kwargs.get("options"))


def test_infinite_means_are_rejected_only_where_needed():
    """ATA needs finite means for alpha; ATA-Empirical, FTA and UTA only validate."""
    timing = jaxsim.make_timing(3, "linear", "halfcauchy")
    with pytest.raises(ValueError, match="alpha_scale"):
        REGISTRY["ata"]().check_timing(timing)
    for name in ("ata_empirical", "fta", "uta", "gta"):
        REGISTRY[name]().check_timing(timing)
    with pytest.raises(ValueError, match="eta"):
        REGISTRY["ata_empirical"]().check_hparams({"eta": -1.0})


@pytest.mark.parametrize("constants", ["poster", "code"])
@pytest.mark.parametrize("name", ["ata", "ata_empirical"])
def test_lcb_scores_match_reference_rules(name, constants):
    """The LCB scores of both constant sets against the reference rules (the allocation
    loop itself is compared in tests/reference/test_oracle.py with the default constants)."""
    from jaxsim import reference
    from jaxsim.methods._allocation import TaskStats

    rng = np.random.default_rng(1)
    method = make_method(name, constants=constants)
    n = 6
    mean = rng.uniform(0.5, 3.0, n)
    positive = 0
    with jax.enable_x64(True):
        ctx = SeedContext(tau=jnp.asarray(mean), mean=jnp.asarray(mean), rank=jnp.arange(n), key=jax.random.key(0))
        scores = jax.jit(method.scores)
        for _ in range(6):
            K = np.floor(np.exp(rng.uniform(0, np.log(1e6), n))).astype(int)
            K[0] = 0  # never sampled: score 0
            total = K * mean * rng.uniform(0.8, 1.2, n)
            k = int(rng.integers(1, 10**5))
            hp = {"gamma": 0.1, "B": 5, "alpha_scale": float(rng.uniform(1e-3, 0.3)),
                  "eta": float(rng.uniform(1e-3, 0.3))}
            hp = {h: hp[h] for h in method.hparams}
            s = np.asarray(scores(TaskStats(jnp.asarray(K, jnp.int32), jnp.asarray(total)), jnp.asarray(k, jnp.int32),
                                  {h: jnp.asarray(v) for h, v in hp.items()}, ctx))
            rule = reference.rule_of(method)(method, hp, n, mean, None)
            rule.K, rule.total = [int(v) for v in K], [float(v) for v in total]
            np.testing.assert_allclose(s, rule.scores(k), rtol=1e-12, atol=0)
            assert s[0] == 0 and (s >= 0).all()
            if hasattr(theory, "ata_scores"):  # the NumPy closed forms of jaxsim.theory
                mu_hat = np.where(K > 0, total / np.maximum(K, 1), np.nan)
                alpha = hp.get("alpha_scale", 0.0) * mean.max()
                ref = theory.ata_scores(mu_hat, K, k, alpha if name == "ata" else None, constants=constants,
                                        empirical=name == "ata_empirical", eta=hp.get("eta"))
                np.testing.assert_allclose(s, ref, rtol=1e-10, atol=1e-12)
            positive += int((s > 0).sum())
    assert positive > 0


def test_ata_figure_optimum_is_fta_expected_iteration():
    """The ATA figure's theory overlay: ``E C(a*)`` of the law ``X_i = 29 i + Exp(mean 29 i)`` by
    numerical integration, against closed forms and a Monte Carlo mean."""
    from jaxsim.figures import ata_quadratic as fig

    one = fig.optimum(1, 3)  # one worker, three tasks: 3 * 29 + E Gamma(3, 29) = 6 * 29
    assert one["a"] == [3] and one["v_B"] == 3 * 58.0
    np.testing.assert_allclose([one["time"], one["work"]], [174.0, 174.0], rtol=1e-4)
    opt = fig.optimum(17, 23)
    a = np.array(opt["a"])
    assert a.sum() == 23 and opt["v_B"] == 522.0 and opt["work"] == float(np.sum(a * 58.0 * np.arange(1, 18)))
    rng = np.random.default_rng(0)
    c = 29.0 * np.arange(1, 18)[a > 0]
    sums = a[a > 0] * c + rng.gamma(a[a > 0], c, size=(200_000, c.size))
    np.testing.assert_allclose(opt["time"], sums.max(axis=1).mean(), rtol=3e-3)


@pytest.mark.parametrize("x64", [False, True])
def test_greedy_allocator_matches_the_reference_loop(x64):
    """The engine's solver picks the reference loop's tasks exactly, not only an optimal
    allocation: ties (integer scores, repeated priorities), infinite and zero scores,
    never-sampled workers, B beyond n and beyond a trip of the solver's loop; also with the
    clock's static bound on B where it is below n (steps 1 and 2 by ``top_k``)."""
    from jaxsim.methods._allocation import GREEDY_UNROLL
    from jaxsim.reference.rules import greedy_minmax

    rng = np.random.default_rng(1)
    for n in (1, 3, 7, 33, 100):
        trials = 60
        scores = rng.uniform(0.05, 3.0, (trials, n))
        scores[::3] = rng.integers(1, 5, (len(scores[::3]), n))  # ties between j s_i
        scores[1::7, 0] = np.inf
        scores[2::9, -1] = 0.0
        scores[3::11, : n // 2] = 0.0  # several zero scores: step 2 picks the extra tasks' workers
        new = rng.uniform(size=(trials, n)) < np.where(np.arange(trials) % 4 == 0, 0.5, 0.0)[:, None]
        prio = rng.uniform(size=(trials, n))
        prio[::5] = np.round(prio[::5] * 3) / 3  # repeated priorities: ties go to the lower index
        Bs = rng.integers(1, 5 * GREEDY_UNROLL + 3, trials)
        with jax.enable_x64(x64):
            dt = jnp.float64 if x64 else jnp.float32
            args = (jnp.asarray(scores, dt), jnp.asarray(new), jnp.asarray(Bs, jnp.int32), jnp.asarray(prio, dt))
            bounds = [None] + ([int(Bs.max())] if Bs.max() < n else [])
            allocs = [np.asarray(jax.jit(jax.vmap(lambda *a, m=m: greedy_allocate(*a, max_B=m)))(*args))
                      for m in bounds]
            s32, p32 = np.asarray(args[0]), np.asarray(args[3])
        assert len(allocs) == 2 or n <= 33
        for a, bound in zip(allocs, bounds):
            for t in range(trials):
                # the reference in the engine's float type: products rounded as the engine rounds them
                ref = greedy_minmax([np.asarray(x, s32.dtype) for x in s32[t]], list(new[t]), int(Bs[t]),
                                    [float(x) for x in p32[t]])
                assert list(a[t]) == ref, (n, bound, t, scores[t], new[t], Bs[t], prio[t], a[t], ref)


def test_selection_by_priority_under_a_bound_is_the_sorted_one():
    """``first_by_priority`` with a static bound (``top_k``) selects the sort's workers: masks,
    repeated priorities (ties to the lower index), K from 0 to the bound."""
    from jaxsim.methods._allocation import first_by_priority, rank_within

    rng = np.random.default_rng(3)
    n, bound, trials = 40, 9, 200
    mask = rng.uniform(size=(trials, n)) < rng.uniform(0.05, 1.0, (trials, 1))
    prio = np.round(rng.uniform(size=(trials, n)) * rng.choice([4, 1000], (trials, 1))) / 1000
    K = rng.integers(0, bound + 1, trials)
    args = (jnp.asarray(mask), jnp.asarray(prio, jnp.float32), jnp.asarray(K, jnp.int32))
    got = np.asarray(jax.jit(jax.vmap(lambda m, p, k: first_by_priority(m, p, k, bound)))(*args))
    want = np.asarray(jax.vmap(lambda m, p, k: m & (rank_within(m, p) < k))(*args))
    assert got.sum() > trials  # not all empty
    np.testing.assert_array_equal(got, want)
