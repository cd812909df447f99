"""Ringmaster LMO and its baselines (spec lmo_vr_local.md §2.3–2.8).

* the engine agrees with the reference on a *pytree* problem (matrix and other leaves, the
  spectral and sign LMOs, the code form's options), float64 (the flat quadratics are covered
  for every method by ``tests/reference/test_oracle.py``). Runs are short (tens of updates):
  Newton--Schulz multiplies small singular values by about 10^3 per step and normalized steps
  do not contract, so two correct implementations that round differently separate exponentially
  (about tenfold every five events here: 1e-15 at the start, 1e-7 by event 60, 1e-2 by event
  150);
* the shared path: LMO ``m -> -m`` with ``alpha = 1`` is the plain method, bit for bit;
* bad input is refused before compiling, naming the field.
"""

import math
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsim
from jaxsim import reference
from jaxsim.sim.events import Horizon
from jaxsim.methods import REGISTRY, ControlledMethod, make_method
from jaxsim.methods._lmo_base import CODE_FORM, LMOOptions, isqrt

LMO_METHODS = sorted(k for k, v in REGISTRY.items() if issubclass(v, LMOOptions))

#: One option set per method on the pytree problem (the defaults run in tests/reference/test_oracle.py).
VARIANTS = {
    "ringmaster_lmo": dict(),
    "ringmaster_lmo_stops": dict(CODE_FORM),
    "ringmaster_lmo_pa": dict(CODE_FORM, schedule="code", r_max=8),
    "rennala_lmo": dict(lmo="sign", nesterov=True),
    "delay_adaptive_lmo": dict(radius="muon", m0="zero", other="sign"),
}


def test_every_lmo_method_has_a_variant_here():
    assert set(VARIANTS) == set(LMO_METHODS)


def _pytree_problem(seed=0, noise=0.3):
    """sum_leaf 0.5 c ||leaf - t||^2 plus a linear noise term, on a pytree with 2-D block
    matrices (tall and wide), a vector and an output head."""
    rng = np.random.default_rng(seed)
    shapes = {"h_0": {"q": (3, 2), "fc": (2, 4)}, "scale": (2,), "lm_head": {"kernel": (2, 3)}}
    is_shape = lambda s: isinstance(s, tuple)  # noqa: E731
    target = jax.tree.map(lambda s: jnp.asarray(rng.normal(size=s)), shapes, is_leaf=is_shape)
    curv = jax.tree.map(lambda s: jnp.asarray(rng.uniform(0.5, 2.0, size=s)), shapes, is_leaf=is_shape)
    params0 = jax.tree.map(lambda s: jnp.asarray(rng.normal(size=s)), shapes, is_leaf=is_shape)

    def objective(p, data):
        t, c = data
        return sum(jnp.sum(0.5 * cc * (pp - tt) ** 2) for pp, tt, cc in
                   zip(jax.tree.leaves(p), jax.tree.leaves(t), jax.tree.leaves(c)))

    def sampler(key, worker, data):
        leaves, treedef = jax.tree.flatten(data[0])
        keys = jax.random.split(key, len(leaves))
        return jax.tree.unflatten(treedef, [noise * jax.random.normal(k, v.shape, v.dtype)
                                            for k, v in zip(keys, leaves)])

    def loss_fn(p, z):
        return objective(p, (target, curv)) + sum(jnp.sum(a * b) for a, b in zip(jax.tree.leaves(p),
                                                                               jax.tree.leaves(z)))

    return jaxsim.from_loss(loss_fn, sampler, objective, params0, data=(target, curv), name="pytree_quadratic")


COMPARED = ("loss", "batch_loss", "grad_norm_sq", "updates", "received", "used", "discarded", "max_delay",
            "mean_delay")


@pytest.mark.parametrize("name", LMO_METHODS)
def test_engine_matches_reference_on_a_pytree(name):
    method = make_method(name, **VARIANTS[name])
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    n = 4
    with jax.enable_x64(True):
        problem = _pytree_problem(int(rng.integers(100)))
        timing = jaxsim.TimingModel(n=n, base=rng.uniform(0.3, 2.0, n), noise=jaxsim.timing.NOISE_LAWS["exponential"](
            scale=0.5))
        seed = int(rng.integers(2 ** 31))
        hp = {k: spec.sample(rng, n) for k, spec in method.hparams.items()}
        if isinstance(method, ControlledMethod):
            T = 12.0 * hp.get("B", 1)  # a few tens of updates
            eng = jaxsim.simulate(method, problem, timing, seed=seed, hparams=hp, horizon=T, num_points=6)
            ref = reference.run_controlled(method, problem, timing, method.check_hparams(hp), seed=seed,
                                           horizon=T, num_points=6)
            compared = COMPARED + ("cancelled", "busy_time")
        else:
            D = timing.sample(jaxsim.runtime.rng.time_key(seed), 200)
            eng = jaxsim.simulate(method, problem, timing, seed=seed, hparams=hp, horizon=Horizon(events=40),
                                  num_points=6, durations=D)
            ref = reference.run(method, problem, timing, method.check_hparams(hp), durations=D, seed=seed,
                                horizon=Horizon(events=40), num_points=6)
            compared = COMPARED
    assert eng["updates"][-1] >= 10
    assert np.all(np.isfinite(eng["batch_loss"][1:]))  # the problem has a sample loss
    for metric in compared:
        np.testing.assert_allclose(eng[metric], ref[metric], rtol=1e-9, atol=1e-12,
                                   err_msg=f"{name} {VARIANTS[name]}: {metric} (hp={hp})")


IDENTITY = dict(lmo="momentum", other="momentum", partition="none")


@pytest.mark.parametrize("lmo_name, plain, grid", [
    ("ringmaster_lmo", "ringmaster", {"gamma": [0.05, 0.2], "R": [1, 3]}),
    ("ringmaster_lmo_stops", "ringmaster_stops", {"gamma": [0.05, 0.2], "R": [1, 3]}),
])
def test_lmo_minus_m_with_alpha_one_is_the_plain_method_bit_for_bit(lmo_name, plain, grid):
    problem = jaxsim.worst_case_quadratic(d=6, noise_scale=0.2)
    timing = jaxsim.make_timing(5, "sqrt", "exponential", scale=0.5)
    kw = dict(seeds=[0, 1], horizon=30.0, num_points=5)
    got = jaxsim.sweep(make_method(lmo_name, **IDENTITY), problem, timing, grid={**grid, "alpha": 1.0}, **kw)
    want = jaxsim.sweep(plain, problem, timing, grid=grid, **kw)
    assert want.metrics["updates"][..., -1].min() > 5
    for k, v in want.metrics.items():
        np.testing.assert_array_equal(got.metrics[k], v, err_msg=k)


def test_beta_is_accepted_as_one_minus_alpha(no_compile):
    m = make_method("ringmaster_lmo")
    assert m.translate({"beta": [0.9, 0.5]})["alpha"] == pytest.approx([0.1, 0.5])
    assert m.translate({"beta": 0.95})["alpha"] == pytest.approx(0.05)


def test_isqrt_is_exact():
    k = np.arange(0, 300_000, dtype=np.int64)
    k = np.concatenate([k, np.array([r * r + d for r in range(500, 46_000, 997) for d in (-1, 0, 1)])])
    got = np.asarray(isqrt(jnp.asarray(k, jnp.int32)))
    np.testing.assert_array_equal(got, [math.isqrt(int(v)) for v in k])


def test_pa_thresholds_by_hand():
    paper, shifted, code = (make_method("ringmaster_lmo_pa", **kw) for kw in
                            (dict(), dict(threshold_shift=1), dict(schedule="code")))
    ks = jnp.arange(10)
    np.testing.assert_array_equal(paper.threshold(ks), [1, 1, 1, 1, 2, 2, 2, 2, 2, 3])  # max(1, floor(sqrt k))
    np.testing.assert_array_equal(shifted.threshold(ks), [1, 1, 1, 2, 2, 2, 2, 2, 3, 3])
    np.testing.assert_array_equal(code.threshold(ks), [1, 1, 1, 1, 1, 2, 2, 2, 2, 2])  # one update behind
    capped = make_method("ringmaster_lmo_pa", r_max=2)
    assert int(capped.threshold(jnp.asarray(10_000))) == 2


# ---- bad input: refused before compiling, naming the field -----------------------------------

QUAD = jaxsim.worst_case_quadratic(d=4)
TIMING = jaxsim.make_timing(3, "sqrt")


@pytest.mark.parametrize("kw, field", [
    (dict(lmo="nuclear"), "lmo.matrix"), (dict(other="adamw"), "lmo.other"), (dict(partition="blocks"), "partition"),
    (dict(radius=2.0), "radius"), (dict(m0="ones"), "m0"), (dict(nesterov="yes"), "nesterov"),
])
def test_bad_options(kw, field, no_compile):
    with pytest.raises(ValueError, match=field):
        make_method("ringmaster_lmo", **kw)


@pytest.mark.parametrize("kw, field", [(dict(schedule="fast"), "schedule"), (dict(r_max=0), "r_max"),
                                       (dict(threshold_shift=-1), "threshold_shift")])
def test_bad_pa_options(kw, field, no_compile):
    with pytest.raises(ValueError, match=field):
        make_method("ringmaster_lmo_pa", **kw)


@pytest.mark.parametrize("grid, field", [
    ({"alpha": 0.0}, "alpha"), ({"alpha": [0.5, 1.5]}, "alpha"), ({"alpha": float("nan")}, "alpha"),
    ({"beta": 1.0}, "beta"), ({"beta": [-0.1, 0.5]}, "beta"), ({"beta": 0.9, "alpha": 0.1}, "beta"),
])
def test_bad_momentum(grid, field, no_compile):
    with pytest.raises(ValueError, match=field):
        jaxsim.sweep("ringmaster_lmo", QUAD, TIMING, grid=grid, horizon=5.0)


def test_unlabeled_leaf_is_refused_before_compiling(no_compile):
    def forgets_head(params):
        labels = jax.tree.map(lambda _: "matrix", params)
        labels["lm_head"]["kernel"] = None
        return labels

    problem = _pytree_problem()
    with pytest.raises(ValueError, match="partition"):
        jaxsim.sweep(make_method("ringmaster_lmo", partition=forgets_head), problem, TIMING, horizon=5.0)


# ---- the figures' recipes (spec experiments.md §7): settings, not runs ----------------------------

def test_lm_figure_timing_is_the_spec_law():
    """tau_i = c_i for c_i in {1, sqrt(i), i}, plus |N(0, (0.05 tau_i)^2)|."""
    from jaxsim.figures import ringmaster_lmo_lm as fig

    i = np.arange(1, 9, dtype=np.float64)
    for level, c in (("1", np.ones(8)), ("sqrt_i", np.sqrt(i)), ("i", i)):
        timing = fig.timing_for(level)
        np.testing.assert_allclose(timing.tau, c)
        np.testing.assert_allclose(timing.noise.variance(8), (0.05 * c) ** 2)
        D = timing.sample(jaxsim.runtime.rng.time_key(0), 4000)
        excess = (D - c[:, None]) / (0.05 * c[:, None])  # |N(0, 1)| per worker
        assert np.all(excess >= 0)
        np.testing.assert_allclose(excess.mean(axis=1), math.sqrt(2 / math.pi), rtol=0.08)


@pytest.mark.parametrize("forms", ["authors", "paper"])
def test_lmo_figures_build_their_methods_and_grids(forms, no_compile):
    """``--forms authors`` runs the code's methods (Nesterov, m^0 = 0, the code's PA schedule)."""
    from jaxsim.figures import ringmaster_lmo_lm as lm_fig
    from jaxsim.figures import ringmaster_lmo_quadratic as q_fig

    code = forms == "authors"
    for fig in (lm_fig, q_fig):
        for name in fig.METHODS:
            method = make_method(name, **fig.options(name, forms))
            assert method.nesterov == code and method.m0 == ("zero" if code else "grad")
            if name == "ringmaster_lmo_pa":
                assert method.schedule == ("code" if code else "paper")
    assert make_method("ringmaster_lmo_stops", **q_fig.options("ringmaster_lmo_stops", "authors")).partition == "all"
    assert lm_fig.grid_of("ringmaster_lmo_stops", lm_fig.FULL) == {
        "gamma": [0.04, 0.2, 1.0, 5.0], "R": [1, 2, 4, 8, 16], "beta": 0.95}
    assert lm_fig.grid_of("ringmaster_lmo_pa", lm_fig.FULL) == {"gamma": [0.04, 0.2, 1.0, 5.0, 25.0]}
    # the code's defaults join the grids where they are missing (Rennala's gamma = 1, the script's PA eta = 0.5)
    assert lm_fig.grid_of("rennala_lmo", lm_fig.FULL)["gamma"] == [1.0, 5.0]
    assert 0.5 in q_fig.grids(q_fig.FULL)["ringmaster_lmo_pa"]["gamma"]
    assert 0.005 in q_fig.grids(q_fig.FULL)["delay_adaptive_lmo"]["gamma"]
