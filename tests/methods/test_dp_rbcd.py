"""DP random block coordinate descent (lmo_vr_local spec §5): partitions, block probabilities and
the noise calibration by hand, the component logistic problem's constants against their
definitions, and the method against independent NumPy loops (gradient descent for one full
block without noise, coordinate descent in expectation for ``b = d`` uniform)."""

import math

import jax
import numpy as np
import pytest

from jaxsim import theory
from jaxsim.problems import component_logistic

# ----------------------------------------------------------------------------------------
# partitions, probabilities, calibration (pure NumPy)
# ----------------------------------------------------------------------------------------


def test_contiguous_blocks_cover_in_order():
    assert theory.contiguous_blocks(5, 2) == ((0, 1, 2), (3, 4))
    assert theory.contiguous_blocks(3, 3) == ((0,), (1,), (2,))
    assert theory.contiguous_blocks(4, 1) == ((0, 1, 2, 3),)


@pytest.mark.parametrize("blocks, fragment", [
    (((0, 1), (3,)), "coordinate(s) [2] are in no block"),
    (((0, 1), (1, 2, 3)), "coordinate 1 is in blocks 0 and 1"),
    (((0, 1, 2, 3, 4),), "outside [0, 4)"),
    (((0, 1), (), (2, 3)), "block 1 is empty"),
    (((0, 1.5), (2, 3)), "not a coordinate index"),
    ((), "no block given"),
    (5, "5 blocks for d=4"),
    ("ab", "expected a number of blocks"),
])
def test_bad_partition_names_blocks(blocks, fragment):
    with pytest.raises(ValueError, match="blocks") as e:
        theory.check_partition(blocks, 4)
    assert fragment in str(e.value)


def test_block_probabilities_by_hand():
    M = [1.0, 4.0, 2.0, 8.0]
    blocks = ((0, 1), (2, 3))
    np.testing.assert_allclose(theory.block_probabilities(M, blocks, 1.0), [4 / 12, 8 / 12], rtol=1e-15)
    np.testing.assert_allclose(theory.block_probabilities(M, blocks, 0.0), [0.5, 0.5], rtol=1e-15)
    np.testing.assert_allclose(theory.coordinate_probabilities(M, blocks, 1.0), [1 / 3, 1 / 3, 2 / 3, 2 / 3],
                               rtol=1e-15)
    # b = d: importance is q_l = M_l / sum M
    np.testing.assert_allclose(theory.block_probabilities(M, 4, 1.0), np.array(M) / 15.0, rtol=1e-15)


def test_noise_scale_by_hand():
    # c L sqrt(T K log(1/delta)) / (n eps) with log(1/delta) = 1
    assert theory.dp_noise_scale(1.0, 1, 1, 1, 1.0, math.exp(-1.0)) == pytest.approx(math.sqrt(12.0), rel=1e-15)
    s = theory.dp_noise_scale([2.0, 0.5], 3, 4, 10, 0.5, 1e-5, constant=2.0)
    np.testing.assert_allclose(s, 2.0 * np.array([2.0, 0.5]) * math.sqrt(12 * math.log(1e5)) / 5.0, rtol=1e-14)
    assert theory.dp_noise_scale(1.0, 2, 2, 5, math.inf, 0.1) == 0.0


@pytest.mark.parametrize("eps, delta, field", [(0.0, 0.1, "eps"), (-1.0, 0.1, "eps"), (1.0, 0.0, "delta"),
                                               (1.0, 1.0, "delta"), (1.0, 1.5, "delta"), (math.nan, 0.1, "eps")])
def test_bad_privacy_parameters(eps, delta, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        theory.dp_noise_scale(1.0, 1, 1, 10, eps, delta)


# ----------------------------------------------------------------------------------------
# the problem's constants against their definitions
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_problem():
    with jax.enable_x64(True):
        return component_logistic(num_samples=30, dim=5, scales=[8.0, 1.0, 0.5, 2.0, 1.0], seed=3, l2=0.01)


def test_component_constants_bound_the_derivatives(small_problem):
    p = small_problem
    X, y, l2 = (np.asarray(p.X, np.float64), np.asarray(p.y, np.float64), float(p.l2))
    N, d = X.shape
    with jax.enable_x64(True):
        M = np.asarray(p.coordinate_smoothness())
        blocks = ((0, 3), (1,), (2, 4))
        L = np.asarray(p.block_lipschitz(blocks))
    rng = np.random.default_rng(0)
    for _ in range(20):
        w = rng.normal(size=d) * rng.uniform(0.01, 3.0)
        s = 1.0 / (1.0 + np.exp(y * (X @ w)))  # sigmoid(-y a.w)
        hess_diag = (X ** 2 * (s * (1 - s))[:, None]).mean(axis=0) + l2  # d^2 f / dw_l^2
        assert np.all(hess_diag <= M * (1 + 1e-12))
        per_sample = -(y * s)[:, None] * X  # rows: grad of each sample's loss
        for j, blk in enumerate(blocks):
            assert np.linalg.norm(per_sample[:, list(blk)], axis=1).max() <= L[j] * (1 + 1e-12)
    # both bounds are attained in the limit: sigmoid'' max 1/4 at w = 0, |sigmoid| -> 1
    np.testing.assert_allclose(M, (X ** 2).sum(axis=0) / (4 * N) + l2, rtol=1e-13)
    np.testing.assert_allclose(L, [max(np.linalg.norm(X[i, list(b)]) for i in range(N)) for b in blocks], rtol=1e-13)


def test_component_gradients_match_numpy(small_problem):
    p = small_problem
    X, y, l2 = (np.asarray(p.X, np.float64), np.asarray(p.y, np.float64), float(p.l2))
    w = np.linspace(-0.3, 0.4, X.shape[1])
    with jax.enable_x64(True):
        g = np.asarray(p.full_grad(w))
        f = float(p.loss(w))
    s = 1.0 / (1.0 + np.exp(y * (X @ w)))
    np.testing.assert_allclose(g, X.T @ (-y * s) / X.shape[0] + l2 * w, rtol=1e-12)
    assert f == pytest.approx(np.mean(np.log1p(np.exp(-y * (X @ w)))) + 0.5 * l2 * w @ w, rel=1e-12)
    assert p.f_star <= f


@pytest.mark.parametrize("kw, field", [({"scales": [1.0, -1.0]}, "scales"), ({"dim": 0}, "dim"),
                                       ({"num_samples": 2.5}, "num_samples"), ({"l2": -1.0}, "l2"),
                                       ({"labels": "both"}, "labels")])
def test_component_problem_bad_input(kw, field):
    args = dict(num_samples=10, dim=2, solve_f_star=False)
    args.update(kw)
    with pytest.raises(ValueError, match=field):
        component_logistic(**args)


# ----------------------------------------------------------------------------------------
# the method against independent NumPy loops
# ----------------------------------------------------------------------------------------


def _logistic_numpy(problem):
    X, y, l2 = (np.asarray(problem.X, np.float64), np.asarray(problem.y, np.float64), float(problem.l2))

    def loss(w):
        return float(np.mean(np.logaddexp(0.0, -y * (X @ w))) + 0.5 * l2 * w @ w)

    def grad(w):
        return X.T @ (-y / (1.0 + np.exp(y * (X @ w)))) / X.shape[0] + l2 * w

    return loss, grad


def test_one_full_block_without_noise_is_gradient_descent():
    """``blocks=1``, ``eps = inf``, scalar stepsizes: ``theta <- theta - gamma grad f(theta)``, ``K`` steps
    averaged per outer iteration, frozen after ``T``; time counts inner iterations."""
    import jaxsim

    T, Ks, gammas = 4, (1, 3), (0.3, 0.8)
    with jax.enable_x64(True):
        problem = component_logistic(num_samples=16, dim=4, scales=[4.0, 1.0, 0.5, 2.0], seed=2, l2=0.02)
        res = jaxsim.sweep(jaxsim.make_method("dp_rbcd", blocks=1, stepsizes="scalar"), problem,
                           jaxsim.make_timing(1, "sqrt", "none"), seeds=[0, 1],
                           grid={"gamma": list(gammas), "K": list(Ks), "T": T, "eps": math.inf},
                           horizon=float(T * max(Ks)), num_points=T * max(Ks))
    loss, grad = _logistic_numpy(problem)
    for a, gamma in enumerate(gammas):
        for b, K in enumerate(Ks):
            w, outer = np.zeros(problem.dim), [np.zeros(problem.dim)]
            for _ in range(T):
                theta, total = w.copy(), np.zeros_like(w)
                for _ in range(K):
                    theta = theta - gamma * grad(theta)
                    total += theta
                w = total / K
                outer.append(w)
            for i in range(T * max(Ks) + 1):  # grid point i is time i: the rounds that ended by then
                r = min(i // K, T)
                for s in range(2):  # no randomness: both seeds give the same run
                    assert res.metrics["loss"][s, a, b, i] == pytest.approx(loss(outer[r]), rel=1e-12)
                    assert res.metrics["grad_norm_sq"][s, a, b, i] == pytest.approx(
                        float(np.sum(grad(outer[r]) ** 2)), rel=1e-10)
                    assert res.metrics["updates"][s, a, b, i] == r
                    assert res.metrics["received"][s, a, b, i] == r * K


@pytest.fixture(scope="module")
def one_step():
    """``w^1`` of one inner step (``T = K = 1``) from ``x0`` for many keys, as a function of the
    method's options and hyperparameters (one compiled kernel per options)."""
    import jax.numpy as jnp

    from jaxsim.methods import RoundEnv, SeedContext, make_method
    from jaxsim.methods.dp_rbcd import DPState

    with jax.enable_x64(True):
        problem = component_logistic(num_samples=20, dim=3, scales=[3.0, 1.0, 0.4], seed=5, l2=0.05,
                                     solve_f_star=False)
    x0 = np.array([0.4, -1.0, 2.0])
    keys = jax.random.split(jax.random.PRNGKey(11), 4000)

    def run(options, **hp):
        method = make_method("dp_rbcd", **options)

        def one(key, hp):
            ctx = SeedContext(tau=jnp.ones(1), mean=jnp.ones(1), rank=jnp.zeros(1, jnp.int32), key=key)
            env = RoundEnv(problem, None, None, None, ctx, jnp.zeros(1, jnp.int32), jnp.zeros((), jnp.int32))
            return method.round(DPState(w=jnp.asarray(x0)), hp, env).state.w

        full = method.check_hparams(dict(hp, T=1, K=1))
        with jax.enable_x64(True):
            kernel = jax.jit(jax.vmap(one, in_axes=(0, None)))
            return np.asarray(kernel(keys, {k: jnp.asarray(v[0]) for k, v in full.items()}))

    return problem, x0, run


def test_coordinates_uniform_is_coordinate_descent_in_expectation(one_step):
    """``b = d``, uniform: ``E[w^1] = x0 - (gamma/d) M^-1 grad f(x0)`` (the sketch is unbiased, the
    noise has mean 0). Tolerance: 5 standard errors from the exact variance of one step,
    ``(gamma/M_l)^2 [(g_l^2 + sigma_l^2)/d - g_l^2/d^2]``."""
    problem, x0, run = one_step
    gamma, eps, delta = 0.8, 2.0, 1e-3
    w1 = run({}, gamma=gamma, eps=eps, delta=delta, importance=0.0)  # one block per coordinate
    S, d = w1.shape
    X = np.asarray(problem.X, np.float64)
    M = (X ** 2).sum(axis=0) / (4 * X.shape[0]) + float(problem.l2)
    L = np.abs(X).max(axis=0)  # one coordinate per block: L_l = max_i |a_il|
    sigma = math.sqrt(12.0) * L * math.sqrt(math.log(1 / delta)) / (X.shape[0] * eps)
    g = _logistic_numpy(problem)[1](x0)
    mean = x0 - gamma / d * g / M
    var = (gamma / M) ** 2 * ((g ** 2 + sigma ** 2) / d - g ** 2 / d ** 2)
    assert np.all(sigma > 0.1 * np.abs(g))  # the noise matters in this check
    np.testing.assert_array_less(np.abs(w1.mean(axis=0) - mean), 5 * np.sqrt(var / S))
    moved = (w1 != x0).sum(axis=1)
    assert np.all(moved == 1)  # one coordinate per step


def test_importance_sampling_frequencies(one_step):
    """Blocks ``{0, 2}`` and ``{1}``, ``importance = 1``: a block is updated whole, with probability
    ``q_j = max_{l in A_j} M_l / sum_i max_{l in A_i} M_l`` (5 binomial standard errors)."""
    problem, x0, run = one_step
    w1 = run({"blocks": ((0, 2), (1,))}, gamma=0.5, eps=3.0, delta=1e-4, importance=1.0)
    S = w1.shape[0]
    X = np.asarray(problem.X, np.float64)
    M = (X ** 2).sum(axis=0) / (4 * X.shape[0]) + float(problem.l2)
    q0 = max(M[0], M[2]) / (max(M[0], M[2]) + M[1])
    moved = w1 != x0
    np.testing.assert_array_equal(moved[:, 0], moved[:, 2])
    np.testing.assert_array_equal(moved[:, 0], ~moved[:, 1])
    assert abs(moved[:, 0].mean() - q0) < 5 * math.sqrt(q0 * (1 - q0) / S)


# ----------------------------------------------------------------------------------------
# bad input: refused before compiling, naming the field
# ----------------------------------------------------------------------------------------

BAD = component_logistic(num_samples=8, dim=4, seed=0, solve_f_star=False)


@pytest.mark.parametrize("grid, options, field", [
    ({"eps": 0.0}, {}, "eps"),
    ({"eps": [1.0, -2.0]}, {}, "eps"),
    ({"delta": 1.0}, {}, "delta"),
    ({"delta": 0.0}, {}, "delta"),
    ({"delta": [0.1, 1.5]}, {}, "delta"),
    ({}, {"blocks": ((0, 1), (3,))}, "blocks"),
    ({}, {"blocks": ((0, 1), (1, 2, 3))}, "blocks"),
    ({}, {"blocks": 5}, "blocks"),
    ({}, {"blocks": 0}, "blocks"),
    ({}, {"stepsizes": "newton"}, "stepsizes"),
    ({}, {"noise_constant": 0.0}, "noise_constant"),
])
def test_bad_input_names_the_field(grid, options, field, no_compile):
    import jaxsim

    with pytest.raises(ValueError, match=field):
        jaxsim.sweep("dp_rbcd", BAD, jaxsim.make_timing(1, "sqrt", "none"), grid=grid, horizon=5.0,
                     num_points=2, method_options=options)


def test_problem_without_constants_is_refused(no_compile):
    import jaxsim

    with pytest.raises(ValueError, match="problem: dp_rbcd needs a problem with coordinate-wise constants"):
        jaxsim.sweep("dp_rbcd", jaxsim.worst_case_quadratic(d=4), jaxsim.make_timing(1, "sqrt", "none"),
                     horizon=5.0, num_points=2)


def test_figure_selects_per_eps_by_the_verdict_protocol_and_predicts_the_bound_ratio():
    """The figure's protocol on a hand-made result: per eps, the (gamma, T) whose median over seeds
    of the tail mean is lowest, diverged settings excluded; and the predicted bound ratio rho."""
    from jaxsim.figures import dp_rbcd as fig
    from jaxsim.sweep import SweepResult

    seeds, eps = 3, (1.0, 4.0)
    gap = np.ones((seeds, 2, 2, len(eps), 2))
    gap[:, 1, 0, 0, -1] = [0.3, 0.4, 0.5]  # eps = 1: gamma index 1, T index 0
    gap[0, 0, 0, 0, -1] = 0.01  # best on one seed only: not selected
    gap[:, 0, 1, 1, -1] = 0.05  # eps = 4: the lowest, but one seed diverged on the way
    diverged = np.zeros(gap.shape, bool)
    diverged[2, 0, 1, 1, 0] = True
    gap[:, 1, 1, 1, -1] = 0.2  # so the next best is selected
    res = SweepResult(method="dp_rbcd", dims=("seed", "gamma", "T", "eps", "point"),
                      coords={"seed": np.arange(seeds), "gamma": np.array([0.3, 1.0]), "T": np.array([1, 3]),
                              "eps": np.array(eps)},
                      metrics={"loss_gap": gap, "diverged": diverged}, time=np.tile([0.0, 1.0], (seeds, 1)))
    cfg = fig.Config(eps=eps, seeds=tuple(range(seeds)), passes=(1, 3), gammas=(0.3, 1.0))
    sel = fig.selections({f"aligned-{k}": res for k in fig.METHODS}, cfg, "aligned")["importance"]
    assert (sel[0].hparams["gamma"], sel[0].hparams["T"], sel[0].value) == (1.0, 1, pytest.approx(0.4))
    assert (sel[1].hparams["gamma"], sel[1].hparams["T"], sel[1].value) == (1.0, 3, pytest.approx(0.2))
    assert sel[1].excluded == 1 and "eps" not in sel[1].edges
    # rho: sqrt(d) only for a dominant M_1 with the error along coordinate 1; below 1 off it
    M = np.array([1e6, 1.0, 1.0, 1.0])
    assert fig.bound_ratio(M, [1, 0, 0, 0]) == pytest.approx(2.0, rel=1e-5)
    assert fig.bound_ratio(np.ones(4), [3, 1, 0, 2]) == pytest.approx(1.0)
    assert fig.bound_ratio(M, [0, 1, 1, 0]) < 0.01
