"""Bad inputs raise ValueError naming the field, before anything is compiled."""

import logging

import jax
import numpy as np
import pytest

import jaxsim
from jaxsim.sim import runner

TIMING = jaxsim.make_timing(3, "one_plus_sqrt")
PROB = jaxsim.worst_case_quadratic(d=3, noise_scale=0.0)
D_OK = np.ones((3, 10))


def _sim(method="ringmaster", **kw):
    args = dict(hparams={"gamma": 0.1}, horizon=5.0, num_points=2)
    args.update(kw)
    return jaxsim.simulate(method, PROB, TIMING, **args)


def _sweep(method="ringmaster", **kw):
    args = dict(seeds=[0], grid={"gamma": [0.1]}, horizon=5.0, num_points=2)
    args.update(kw)
    return jaxsim.sweep(method, PROB, TIMING, **args)


@pytest.mark.parametrize("n", [0, -2])
def test_bad_n(n, no_compile):
    with pytest.raises(ValueError, match=r"\bn\b"):
        jaxsim.make_timing(n, "sqrt")


@pytest.mark.parametrize("gamma", [0.0, -0.1, float("nan"), float("inf")])
def test_bad_gamma(gamma, no_compile):
    with pytest.raises(ValueError, match="gamma"):
        _sim(hparams={"gamma": gamma})
    with pytest.raises(ValueError, match="gamma"):
        _sweep(grid={"gamma": [0.1, gamma]})


@pytest.mark.parametrize("R", [0, -1, 2.5])
def test_bad_R(R, no_compile):
    with pytest.raises(ValueError, match=r"\bR\b"):
        _sim(hparams={"gamma": 0.1, "R": R})
    with pytest.raises(ValueError, match=r"\bR\b"):
        _sweep(grid={"gamma": 0.1, "R": [1, R]})


@pytest.mark.parametrize("Bval", [0, 1.5])
def test_bad_B(Bval, no_compile):
    with pytest.raises(ValueError, match=r"\bB\b"):
        _sim("rennala", hparams={"gamma": 0.1, "B": Bval})


def test_empty_grid_list(no_compile):
    with pytest.raises(ValueError, match="gamma"):
        _sweep(grid={"gamma": []})


@pytest.mark.parametrize("h", [0.0, -1.0, 0, float("inf"), float("nan")])
def test_bad_horizon_time(h, no_compile):
    with pytest.raises(ValueError, match="horizon"):
        _sim(horizon=h)


@pytest.mark.parametrize("kw", [dict(events=0), dict(events=-3), dict(time=0.0), dict(events=2.5),
                                dict(), dict(time=1.0, events=3)])
def test_bad_horizon_object(kw, no_compile):
    with pytest.raises(ValueError, match="horizon"):
        jaxsim.Horizon(**kw)


def test_unknown_method(no_compile):
    with pytest.raises(ValueError, match="method"):
        _sim("nope")
    with pytest.raises(ValueError, match="method"):
        jaxsim.make_method("nope")


def test_unknown_problem(no_compile):
    with pytest.raises(ValueError, match="problem"):
        jaxsim.make_problem("nope")


@pytest.mark.parametrize("bad", [-1.0, float("nan"), 0.0])
def test_bad_durations(bad, no_compile):
    D = D_OK.copy()
    D[1, 4] = bad
    with pytest.raises(ValueError, match="durations"):
        _sim(durations=D)


def test_durations_worker_mismatch(no_compile):
    with pytest.raises(ValueError, match="durations"):
        _sim(durations=np.ones((2, 10)))
    with pytest.raises(ValueError, match="durations"):
        _sim(durations=np.ones(10))  # not 2-D


def test_durations_too_short(no_compile):
    with pytest.raises(ValueError, match="durations"):
        _sim(durations=np.ones((3, 2)), horizon=5.0)


def test_unknown_hyperparameter(no_compile):
    with pytest.raises(ValueError, match="lr"):
        _sim(hparams={"gamma": 0.1, "lr": 0.3})
    with pytest.raises(ValueError, match="'R'"):  # Rennala has no R
        _sim("rennala", hparams={"R": 2})


@pytest.mark.parametrize("seeds", [[], ()])
def test_empty_seeds(seeds, no_compile):
    with pytest.raises(ValueError, match="seeds"):
        _sweep(seeds=seeds)


def test_non_integer_seed(no_compile):
    with pytest.raises(ValueError, match="seed"):
        _sweep(seeds=[0, 1.5])


def test_simulate_rejects_grids(no_compile):
    with pytest.raises(ValueError, match="gamma"):
        _sim(hparams={"gamma": [0.1, 0.2]})


@pytest.mark.parametrize("kw, field", [
    (dict(d=0), "d"), (dict(noise_scale=-1.0), "noise_scale"), (dict(noise_scale=float("nan")), "noise_scale"),
    (dict(L=0.0), "L"), (dict(noise="gaussian"), "noise"),
])
def test_bad_problem_parameters(kw, field, no_compile):
    with pytest.raises(ValueError, match=rf"problem\.{field}"):
        jaxsim.make_problem("quadratic", **kw)


@pytest.mark.parametrize("kw, field", [
    (dict(base="cubic"), "base"), (dict(base=[1.0, 2.0]), "base"), (dict(base=[1.0, -1.0, 2.0]), "base"),
    (dict(scale=0.0), "scale"), (dict(noise="gamma"), "noise"),
    (dict(noise="halfnormal", var=-1.0), "var"), (dict(noise="lognormal", sigma=0.0), "sigma"),
    (dict(noise="uniform", low=2.0, high=1.0), "low"),
])
def test_bad_timing_parameters(kw, field, no_compile):
    with pytest.raises(ValueError, match=field):
        jaxsim.make_timing(3, **kw)


def test_bad_num_points(no_compile):
    with pytest.raises(ValueError, match="num_points"):
        _sim(num_points=0)


def test_hero_index_out_of_range(no_compile):
    with pytest.raises(ValueError, match="hero"):
        _sim("hero", method_options={"hero": 3})


def test_valid_input_does_compile(monkeypatch, caplog):
    """Control: the spy and the log capture do see a real run (so the checks above can fail)."""
    calls = []
    real = runner.run_batch
    monkeypatch.setattr(runner, "run_batch", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    caplog.set_level(logging.DEBUG, logger="jax")
    with jax.log_compiles(True):
        # a shape no other test uses, so this compiles afresh
        jaxsim.simulate("asgd", jaxsim.worst_case_quadratic(d=2, noise_scale=0.0), TIMING,
                        hparams={"gamma": 0.1}, horizon=3.0, num_points=3)
    assert calls
    assert any("Compiling" in r.getMessage() and "run_batch" in r.getMessage() for r in caplog.records)


def test_zero_base_time_is_rejected():
    # A zero-length job would report and restart forever at one instant.
    with pytest.raises(ValueError, match="timing.base"):
        jaxsim.make_timing(2, [0.0, 1.0])


def test_inf_bernoulli_accepts_integer_one_and_rejects_bool():
    assert jaxsim.make_timing(2, "sqrt", "inf_bernoulli", p=np.int64(1)).noise.p == 1
    with pytest.raises(ValueError, match="timing.noise.p"):
        jaxsim.make_timing(2, "sqrt", "inf_bernoulli", p=True)
