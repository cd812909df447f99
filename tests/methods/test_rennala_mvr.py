"""Rennala MVR: exact facts besides the oracle (tests/reference/test_oracle.py runs both
variants and their options against the reference rules)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsim
from jaxsim.methods import make_method
from jaxsim.timing import TimingModel

SEEDS = [3, 4]
HORIZON, POINTS = 60.0, 4


@pytest.fixture(scope="module")
def problem():
    return jaxsim.worst_case_quadratic(d=5, noise_scale=0.2, curvature=0.5)


def _run(method, problem, timing, grid):
    return jaxsim.sweep(method, problem, timing, seeds=SEEDS, grid=grid, horizon=HORIZON, num_points=POINTS)


@pytest.mark.parametrize("mvr,rennala", [("rennala_mvr", "rennala"), ("rennala_mvr_stops", "rennala_stops")])
def test_a_equal_one_is_rennala_sgd(problem, mvr, rennala):
    """With a = 1 the momentum term vanishes: g = N, the mean of the round's fresh gradients,
    so Rennala MVR (pair cost 1, S0 = S) makes Rennala SGD's updates: the same events and counts
    exactly; the model to float32 rounding (the two programs are compiled separately, and XLA may
    fuse the same arithmetic differently -- the free-running pair is bit-identical today)."""
    timing = jaxsim.make_timing(4, "sqrt", "exponential", scale=0.5)
    ours = _run(make_method(mvr, kappa=1.0), problem, timing, {"gamma": [0.1, 0.4], "a": 1.0, "S": 3, "S0": 3})
    theirs = _run(rennala, problem, timing, {"gamma": [0.1, 0.4], "B": 3})
    assert np.all(ours.metrics["updates"][..., -1] > 5)
    for metric in ("updates", "received", "used", "discarded"):
        np.testing.assert_array_equal(ours.metrics[metric], theirs.metrics[metric], err_msg=metric)
    for metric in ("loss", "grad_norm_sq"):
        np.testing.assert_allclose(ours.metrics[metric], theirs.metrics[metric], rtol=1e-6, atol=1e-7,
                                   err_msg=metric)


def test_pair_cost_scales_durations(problem):
    """A pair job of cost kappa on base times tau runs as a pair of cost 1 on base times kappa tau."""
    tau = np.array([0.5, 1.0, 1.5])
    grid = {"gamma": 0.2, "a": [0.3, 0.9], "S": 2}
    two = _run(make_method("rennala_mvr", kappa=2.0), problem, TimingModel(n=3, base=tau), grid)
    one = _run(make_method("rennala_mvr", kappa=1.0), problem, TimingModel(n=3, base=2 * tau), grid)
    assert np.all(two.metrics["updates"][..., -1] > 3)
    for metric in ("grad_norm_sq", "updates", "received"):
        np.testing.assert_array_equal(two.metrics[metric], one.metrics[metric], err_msg=metric)


def test_curvature_noise_reaches_the_correction():
    """With additive noise the pair difference is A(x - y) exactly (the degenerate benchmark the
    spec warns about); with curvature it varies with the sample and averages to A(x - y)."""
    x, y = jnp.linspace(-1.0, 1.0, 6), jnp.linspace(0.5, -0.5, 6)
    keys = jax.random.split(jax.random.key(0), 4000)
    for c, varies in ((0.0, False), (0.7, True)):
        p = jaxsim.worst_case_quadratic(d=6, noise_scale=0.3, curvature=c)
        diff = jax.vmap(lambda k, p=p: p.stoch_grad(x, k, 0) - p.stoch_grad(y, k, 0))(keys)
        exact = p.full_grad(x) - p.full_grad(y)
        spread = np.asarray(jnp.std(diff, axis=0))
        if not varies:
            np.testing.assert_allclose(diff, np.broadcast_to(exact, diff.shape), atol=1e-5)
            continue
        # u * (x - y) per coordinate: standard deviation c |x - y|, mean A (x - y)
        np.testing.assert_allclose(spread, c * np.abs(np.asarray(x - y)), rtol=0.1)
        se = spread / np.sqrt(len(keys))
        assert np.all(np.abs(np.asarray(jnp.mean(diff, axis=0) - exact)) < 5 * se + 1e-6)


def test_curvature_keeps_the_gradient_unbiased():
    p = jaxsim.worst_case_quadratic(d=4, noise_scale=0.1, curvature=0.8)
    x = jnp.array([1.0, -2.0, 0.5, 3.0])
    g = jax.vmap(lambda k: p.stoch_grad(x, k, 1))(jax.random.split(jax.random.key(1), 4000))
    se = np.asarray(jnp.std(g, axis=0)) / np.sqrt(g.shape[0])
    assert np.all(np.abs(np.asarray(jnp.mean(g, axis=0) - p.full_grad(x))) < 5 * se)
    assert p.lbar > p.L * 0.99 and p.lbar ** 2 == pytest.approx((0.5 * (1 + np.cos(np.pi / 5))) ** 2 + 0.64)


@pytest.mark.parametrize("build,field", [
    (lambda: make_method("rennala_mvr", kappa=0.0), "kappa"),
    (lambda: make_method("rennala_mvr_stops", kappa=-1.0), "kappa"),
    (lambda: make_method("rennala_mvr", kappa=float("inf")), "kappa"),
    (lambda: make_method("rennala_mvr", form="stored"), "form"),
    (lambda: jaxsim.worst_case_quadratic(d=3, curvature=-0.1), "curvature"),
])
def test_bad_options_name_the_field(build, field):
    with pytest.raises(ValueError, match=field):
        build()


@pytest.mark.parametrize("grid,field", [
    ({"a": 0.0}, "a"), ({"a": 1.5}, "a"), ({"a": -0.2}, "a"), ({"S": 0}, "S"), ({"S0": 2.5}, "S0"),
    ({"S2": -1}, "S2"),
])
def test_bad_hyperparameters_name_the_field(no_compile, grid, field):
    p = jaxsim.worst_case_quadratic(d=3)
    with pytest.raises(ValueError, match=rf"\b{field}\b"):
        jaxsim.sweep("rennala_mvr", p, jaxsim.make_timing(3, "sqrt", "none"), grid=grid, horizon=5.0)


def test_figure_grids_and_theory():
    """The MVR figure's own logic, without simulating (tests/figures/test_figures_end_to_end.py
    runs it end to end): S0 fixed on MVR's grid, a pair counts two gradients, positive theory
    estimates for the two methods it has one for."""
    from types import SimpleNamespace

    from jaxsim.figures import rennala_mvr_quadratic as fig

    g = fig.grids(fig.TINY)
    assert set(g) == {c.key for c in fig.COMPARISON.curves} and g["rennala_mvr"]["S0"] == fig.TINY.S0
    # MVR's S, Rennala's B and Ringmaster's R run over one grid (a symmetric comparison)
    grid = list(fig.TINY.batches)
    assert list(g["rennala_mvr"]["S"]) == list(g["rennala"]["B"]) == list(g["ringmaster"]["R"]) == grid
    pair = SimpleNamespace(method="rennala_mvr", curve=lambda index, metric: np.array([[3.0]]))
    one = SimpleNamespace(method="rennala", curve=lambda index, metric: np.array([[3.0]]))
    assert fig.gradients(pair, ())[0, 0] == 6.0 and fig.gradients(one, ())[0, 0] == 3.0
    pred = fig.predictions(fig.TINY)
    assert pred["eps"] > 0 and set(pred["time"]) == {"rennala_mvr", "rennala"}
    assert all(t > 0 for t in pred["time"].values())
    # a pair job's cost enters the MVR estimate linearly (every job, the initial batch's too, is a pair)
    half = fig.predictions(dataclasses.replace(fig.TINY, kappa=1.0))["time"]["rennala_mvr"]
    assert pred["time"]["rennala_mvr"] == pytest.approx(2 * half)
