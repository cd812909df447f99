"""LOSCAR-SGD (spec lmo_vr_local.md §4, [uncertain]): its options against the reference rule,
the special cases (no overlap: both merges coincide; no overlap and K = d: Local SGD with
heterogeneous local steps, checked against an independent NumPy loop), exact counts in the
fixed timing model, the round-time theory, and bad input.

The default options are covered by ``tests/reference/test_oracle.py``.
"""

import math

import jax
import numpy as np
import pytest

import jaxsim
from jaxsim import reference, theory
from jaxsim.methods import make_method
from jaxsim.runtime.rng import grad_root
from jaxsim.sweep import run
from jaxsim.timing import NOISE_LAWS, Comm, TimingModel

N_W, D = 3, 4
TAU = [0.5, 1.0, 2.0]  # seconds per local step (fixed model: exact binary fractions)
T_C, LATENCY, PER_FLOAT = 4.25, 1.0, 0.25
KS = (2, D)
HORIZON, POINTS = 30.0, 5


def _het(seed=0, dtype=None):
    rng = np.random.default_rng(seed)
    return jaxsim.problems.heterogeneous_quadratic(a=rng.normal(size=(N_W, D)), h=rng.uniform(0.3, 1.5, (N_W, D)),
                                                   x0=rng.normal(size=D), noise_scale=0.3, noise="scalar", dtype=dtype)


def _rounds(K):
    """Rounds completed by each grid time: a round lasts ``T + latency + per_float K``."""
    return np.floor(np.linspace(0.0, HORIZON, POINTS + 1) / (T_C + LATENCY + PER_FLOAT * K)).astype(int)


@pytest.fixture(scope="module")
def runs():
    """Float64 sweeps on the fixed timing model over ``gamma`` x ``K in {2, d}``, one per option set."""
    out = {}
    with jax.enable_x64(True):
        problem = _het()
        timing = TimingModel(n=N_W, base=TAU)
        for opts in (dict(overlap=False), dict(overlap=False, merge="overwrite"), dict()):
            out[tuple(sorted(opts.items()))] = jaxsim.sweep(
                make_method("loscar", **opts), problem, timing, seeds=[0, 1],
                grid={"gamma": [0.05, 0.1], "K": list(KS), "latency": LATENCY, "per_float": PER_FLOAT,
                      "compute_time": T_C}, horizon=HORIZON, num_points=POINTS)
        out["problem"] = problem
    return out


def test_without_overlap_both_merges_give_identical_iterates(runs):
    a = runs[(("overlap", False),)].metrics
    b = runs[(("merge", "overwrite"), ("overlap", False))].metrics
    assert set(a) == set(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert a["disagreement"][:, :, 0, -1].min() > 0  # K = 2 < d: the models differ


def _local_sgd(problem, seed, gamma, steps, rounds):
    """Local SGD in plain NumPy: every round each worker runs its ``steps[i]`` local steps from
    the common model and the models are averaged; the models after 0..rounds rounds. Worker
    ``i``'s step uses its next job index; the step cut off by the end of the compute window
    uses one index too (LOSCAR's window mode)."""
    oracle = problem.numpy_oracle(grad_root(seed), N_W, 1000)
    x = np.asarray(problem.init(), np.float64)
    job = [0] * N_W
    out = [x.copy()]
    for _ in range(rounds):
        ws = []
        for i in range(N_W):
            w = x.copy()
            for t in range(steps[i]):
                w = w - gamma * oracle(w, i, job[i] + t)
            job[i] += steps[i] + 1
            ws.append(w)
        x = sum(ws) / N_W
        out.append(x.copy())
    return out


def test_dense_without_overlap_is_local_sgd(runs):
    res = runs[(("overlap", False),)]
    problem = runs["problem"]
    k = KS.index(D)
    steps = [math.floor(T_C / t) for t in TAU]  # 8, 4, 2
    rounds = _rounds(D)
    assert rounds[-1] >= 3
    with jax.enable_x64(True):
        for s, seed in enumerate(res.coords["seed"]):
            for g, gamma in enumerate(res.coords["gamma"]):
                models = _local_sgd(problem, int(seed), float(gamma), steps, rounds[-1])
                want = [float(problem.loss(jax.numpy.asarray(models[r]))) for r in rounds]
                np.testing.assert_allclose(res.metrics["loss"][s, g, k], want, rtol=1e-10)
                np.testing.assert_allclose(res.metrics["disagreement"][s, g, k], 0.0, atol=1e-24)


def test_counts_in_the_fixed_model(runs):
    """Rounds, local steps, floats and busy time by hand: ``N_i = floor(T / tau_i)`` steps,
    then ``Q_i = floor(T_comm / tau_i)`` overlap steps; a round lasts ``T + T_comm``."""
    for k, K in enumerate(KS):
        t_comm = LATENCY + PER_FLOAT * K
        rounds = _rounds(K)
        compute = sum(math.floor(T_C / t) for t in TAU)
        overlap = sum(math.floor(t_comm / t) for t in TAU)
        for opts, steps in ((), compute + overlap), ((("overlap", False),), compute):
            m = {name: v[:, :, k] for name, v in runs[opts].metrics.items()}
            shape = m["updates"].shape
            np.testing.assert_array_equal(m["updates"], np.broadcast_to(rounds, shape))
            np.testing.assert_array_equal(m["received"], np.broadcast_to(steps * rounds, shape))
            np.testing.assert_array_equal(m["comm_floats"], np.broadcast_to(2 * N_W * K * rounds, shape))
        busy = N_W * (T_C + t_comm) * rounds  # every worker computes through the window and the transfer
        np.testing.assert_allclose(runs[()].metrics["busy_time"][:, :, k], np.broadcast_to(busy, shape))
        th = theory.loscar_round(TAU, K, LATENCY, PER_FLOAT, compute_time=T_C)
        assert th.time == T_C + t_comm and th.local_steps == compute + overlap and th.floats == 2 * N_W * K


def test_theory_round_in_both_modes():
    r = theory.loscar_round([0.5, 1.0, 2.0], 4, 0.5, 0.125, compute_time=3.0)
    assert r.comm == 1.0 and r.time == 4.0
    np.testing.assert_array_equal(r.compute_steps, [6, 3, 1])
    np.testing.assert_array_equal(r.overlap_steps, [2, 1, 0])
    f = theory.loscar_round([0.5, 1.0, 2.0], 4, 0.5, 0.125, mode="fixed_steps", N=3, overlap=False)
    assert f.time == 3 * 2.0 + 1.0 and f.local_steps == 9
    np.testing.assert_array_equal(f.overlap_steps, [0, 0, 0])
    assert theory.loscar_round([0.1], 1, 0.0, 0.0, compute_time=0.3).compute_steps[0] == 3  # 0.3/0.1 in floats
    with pytest.raises(ValueError, match="compute_time"):
        theory.loscar_round([1.0], 1, 0.0, 0.0)
    with pytest.raises(ValueError, match="latency"):
        theory.loscar_comm_time(1, -1.0, 0.0)


OPTION_SETS = [dict(mode="fixed_steps", merge="overwrite"), dict(weights="steps")]


@pytest.mark.parametrize("opts", OPTION_SETS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_options_match_reference(opts):
    """Random noise laws, hyperparameters and seeds; one engine call per option set."""
    method = make_method("loscar", **opts)
    rng = np.random.default_rng(len(str(opts)))
    with jax.enable_x64(True):
        problem = _het(1)
        noise = NOISE_LAWS["lognormal"](sigma=0.7) if "mode" in opts else NOISE_LAWS["exponential"](scale=0.8)
        timing = TimingModel(n=N_W, base=rng.uniform(0.3, 2.0, N_W), noise=noise)
        seeds = [int(s) for s in rng.integers(0, 2**31 - 1, 3)]
        settings = [{k: v.item() for k, v in method.check_hparams(
            {name: spec.sample(rng, N_W) for name, spec in method.hparams.items()}).items()} for _ in seeds]
        out, _, _ = run(method, problem, timing, seeds, settings, 30.0, 6)
        for i, seed in enumerate(seeds):
            ref = reference.run_rounds(method, problem, timing, settings[i], seed=seed, horizon=30.0, num_points=6)
            assert ref["updates"][-1] >= 2
            for name in sorted(set(out) - {"diverged"}):
                np.testing.assert_allclose(out[name][i, i], ref[name], rtol=1e-9, atol=1e-12,
                                           err_msg=f"{opts}: {name} (config {i}, hp={settings[i]})")


PROBLEM = jaxsim.worst_case_quadratic(d=D)
TIMING = jaxsim.make_timing(N_W, "sqrt")


@pytest.mark.parametrize("grid, field", [
    ({"K": D + 1}, "K"), ({"K": [1, 9]}, "K"), ({"K": 0}, "K"), ({"K": 1.5}, "K"),
    ({"latency": -1.0}, "latency"), ({"per_float": -0.1}, "per_float"), ({"latency": float("inf")}, "latency"),
    ({"compute_time": 0.0}, "compute_time"), ({"N": 0}, "N"),
])
def test_bad_hyperparameters_name_the_field(no_compile, grid, field):
    with pytest.raises(ValueError, match=rf"\b{field}\b"):
        jaxsim.sweep("loscar", PROBLEM, TIMING, grid=grid, horizon=10.0, num_points=2)


@pytest.mark.parametrize("options, field", [({"mode": "rounds"}, "mode"), ({"merge": "average"}, "merge"),
                                            ({"weights": "n"}, "weights"), ({"overlap": "yes"}, "overlap")])
def test_bad_options_name_the_field(no_compile, options, field):
    with pytest.raises(ValueError, match=field):
        jaxsim.sweep("loscar", PROBLEM, TIMING, method_options=options, horizon=10.0, num_points=2)


def test_unsupported_settings_are_refused(no_compile):
    import optax

    with pytest.raises(ValueError, match="optimizer"):
        jaxsim.sweep("loscar", PROBLEM, TIMING, optimizer=optax.sgd(1.0), horizon=10.0, num_points=2)
    with pytest.raises(ValueError, match="timing.comm"):
        jaxsim.sweep("loscar", PROBLEM, TimingModel(n=N_W, comm=Comm(up=1.0)), horizon=10.0, num_points=2)
    with pytest.raises(ValueError, match="horizon"):
        jaxsim.sweep("loscar", PROBLEM, TIMING, horizon=jaxsim.Horizon(events=10), num_points=2)


def test_cli_runs_loscar(capsys):
    from jaxsim import cli

    assert cli.main(["run", "loscar", "--n", "3", "--d", "2", "--horizon", "30", "--points", "2",
                     "--hp", "K=1,2", "compute_time=5"]) == 0
    out = capsys.readouterr().out
    assert "diverged runs 0 of 2" in out and "'K': 2" in out


def test_figure_sparsity_rounds_and_data(tmp_path):
    """The a9a figure's own logic, without simulating (tests/figures/test_figures_end_to_end.py
    runs it end to end)."""
    import dataclasses

    from jaxsim.figures import loscar_a9a as fig

    assert [fig.sparsity(p, 123) for p in fig.FULL.ps] == [123, 12, 1, 1]  # p = 0.01 and 0.001 coincide
    # normal regime, K = d = 123: a round is T + 5 + 0.01 K = 16.23 s, 36 of them in 600 s; 27 of its
    # 74 local steps (10 workers, tau_i = sqrt(i)) run in the overlap
    th = fig.theory_rounds(fig.QUICK, 123, "normal", 123, overlap=True)
    assert th["round_time"] == pytest.approx(16.23) and th["rounds"] == 36
    assert th["overlap_share"] == pytest.approx(27 / 74)
    assert fig.theory_rounds(fig.QUICK, 123, "stress", 1, overlap=True)["overlap_share"] == pytest.approx(98 / 145)
    with pytest.raises(ValueError, match="data: .* is not a file"):  # e.g. a folder (of MNIST files)
        fig.make_problem(dataclasses.replace(fig.TINY, data=str(tmp_path)))
