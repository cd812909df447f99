"""The ASGD family on the free-running clock: hand-derived traces of Ringmaster ASGD (Alg. 4,
homogeneous.md §8.4) and Rennala SGD (§6.3, variant A) in the engine and the reference, and
special cases (§8.5, §12): Ringmaster never applies a delay >= R, Hero SGD updates at multiples
of its tau, delay-adaptive ASGD is ASGD while delays stay <= n, Ringmaster with a large R is
ASGD."""

import numpy as np
import pytest

import jaxsim
from jaxsim import reference
from tests.controlled_model import D_DIM as MODEL_DIM
from tests.controlled_model import gap, grad

TAU = np.array([1.0, 1.6, 3.5])
D_TRACE = np.tile(TAU[:, None], (1, 20))
TIMING3 = jaxsim.make_timing(3, TAU)
GAMMA = 0.5
D_DIM = 4
assert D_DIM == MODEL_DIM  # the NumPy model's dimension
QUAD0 = jaxsim.worst_case_quadratic(d=D_DIM, noise_scale=0.0)  # noiseless: grad = A x - b
HORIZON9 = jaxsim.Horizon(events=9)
EVENT_TIMES = [0.0, 1.0, 1.6, 2.0, 3.0, 3.2, 3.5, 4.0, 4.8, 5.0]


# ---- an independent NumPy model of the quadratic (tests/controlled_model.py) -------------------

_grad, _gap = grad, gap


def _replay(steps):
    """``steps``: per event, ``None`` (no update) or a list of iterate indices whose gradients are
    averaged into one step. Returns the model after every event (event 0 = x^0)."""
    xs = [np.zeros(D_DIM)]
    xs[0][0] = np.sqrt(D_DIM)
    after_event = [xs[0]]
    for st in steps:
        if st is not None:
            g = np.mean([_grad(xs[m]) for m in st], axis=0)
            xs.append(xs[-1] - GAMMA * g)
        after_event.append(xs[-1])
    return after_event


# §8.4, Alg. 4, R = 2: grad points per event (x^m), None = discarded
RINGMASTER_STEPS = [[0], [0], [1], [3], None, None, [4], [4], [5]]
RINGMASTER_EXPECTED = dict(
    time=EVENT_TIMES,
    updates=[0, 1, 2, 3, 4, 4, 4, 5, 6, 7],
    received=list(range(10)),
    discarded=[0, 0, 0, 0, 0, 1, 2, 2, 2, 2],
    used=[0, 1, 2, 3, 4, 4, 4, 5, 6, 7],
    max_delay=[0, 0, 1, 1, 1, 1, 1, 1, 1, 1],  # used delays 0,1,1,0,-,-,0,1,1
)
RINGMASTER_MEAN_DELAY = 4 / 7

# §6.3, variant A, B = 2: fresh gradients accumulate; the batch completes at events 2, 5, 9
RENNALA_STEPS = [None, [0, 0], None, None, [1, 1], None, None, None, [2, 2]]
RENNALA_EXPECTED = dict(
    time=EVENT_TIMES,
    updates=[0, 0, 1, 1, 1, 2, 2, 2, 2, 3],
    received=list(range(10)),
    discarded=[0, 0, 0, 1, 1, 1, 2, 3, 3, 3],
    used=[0, 1, 2, 2, 3, 4, 4, 4, 5, 6],
    max_delay=[0] * 10,  # only fresh gradients are used
)

CASES = {
    "ringmaster": ({"gamma": GAMMA, "R": 2}, RINGMASTER_STEPS, RINGMASTER_EXPECTED),
    "rennala": ({"gamma": GAMMA, "B": 2}, RENNALA_STEPS, RENNALA_EXPECTED),
}


def _check_trace(out, steps, expected):
    for k, v in expected.items():
        np.testing.assert_allclose(np.asarray(out[k], np.float64), v, rtol=0, atol=1e-6, err_msg=k)
    xs = _replay(steps)
    np.testing.assert_allclose(out["loss_gap"], [_gap(x) for x in xs], rtol=2e-5, atol=1e-5)
    np.testing.assert_allclose(out["grad_norm_sq"], [np.sum(_grad(x) ** 2) for x in xs], rtol=2e-5, atol=1e-5)
    assert not np.any(out["diverged"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_trace_engine(name):
    hp, steps, expected = CASES[name]
    out = jaxsim.simulate(name, QUAD0, TIMING3, hparams=hp, durations=D_TRACE, horizon=HORIZON9, num_points=9)
    _check_trace(out, steps, expected)
    if name == "ringmaster":
        assert out["mean_delay"][-1] == pytest.approx(RINGMASTER_MEAN_DELAY, rel=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_trace_reference(name):
    hp, steps, expected = CASES[name]
    out = reference.run(jaxsim.make_method(name), QUAD0, None, hp, durations=D_TRACE, seed=0, horizon=HORIZON9,
                        num_points=9)
    _check_trace(out, steps, expected)


def test_ringmaster_trace_with_noise_matches_reference():
    """Same trace with gradient noise: the engine and the oracle draw the same (seed, worker, job) noise."""
    prob = jaxsim.worst_case_quadratic(d=D_DIM, noise_scale=0.3)
    hp = {"gamma": GAMMA, "R": 2}
    eng = jaxsim.simulate("ringmaster", prob, TIMING3, seed=5, hparams=hp, durations=D_TRACE,
                          horizon=HORIZON9, num_points=9)
    ref = reference.run(jaxsim.make_method("ringmaster"), prob, None, hp, durations=D_TRACE, seed=5, horizon=HORIZON9,
                        num_points=9)
    np.testing.assert_array_equal(eng["updates"], RINGMASTER_EXPECTED["updates"])
    np.testing.assert_allclose(eng["loss_gap"], ref["loss_gap"], rtol=2e-5, atol=1e-5)
    # and the noise matters (the noiseless trajectory is different)
    assert not np.allclose(eng["loss_gap"], [_gap(x) for x in _replay(RINGMASTER_STEPS)], rtol=1e-3)


# ---- invariants over random configurations ----------------------------------------------------

TIMING6 = jaxsim.make_timing(6, "one_plus_sqrt", "halfnormal")
QUAD = jaxsim.worst_case_quadratic(d=D_DIM, noise_scale=0.1)
R_GRID = [1, 2, 3, 5]


def test_ringmaster_never_applies_delay_at_least_R():
    res = jaxsim.sweep("ringmaster", QUAD, TIMING6, seeds=[0, 1], grid={"gamma": 0.05, "R": R_GRID},
                       horizon=25.0, num_points=4)
    assert res.dims == ("seed", "R", "point")
    md = res.metrics["max_delay"]
    for i, R in enumerate(R_GRID):
        assert np.all(md[:, i] < R), (R, md[:, i])
    m = res.metrics
    np.testing.assert_array_equal(m["used"] + m["discarded"], m["received"])
    np.testing.assert_array_equal(m["used"], m["updates"])  # Ringmaster applies each used gradient
    assert np.all(m["discarded"][:, 0, -1] > 0)  # R = 1 with 6 workers must discard
    # the stream itself has larger delays than R = 1 could accept
    assert np.all(m["max_delay"][:, -1, -1] >= 1)


def test_hero_updates_at_multiples_of_tau():
    tm = jaxsim.make_timing(3, (1.5, 1.25, 2.0))  # fastest worker: index 1, tau = 1.25
    out = jaxsim.simulate("hero", QUAD, tm, hparams={"gamma": 0.1}, horizon=5.0, num_points=8)
    np.testing.assert_allclose(out["time"], np.arange(9) * 0.625)
    # update k at k * 1.25: grid point g (time 0.625 g) has seen floor(g / 2) updates
    np.testing.assert_array_equal(out["updates"], np.arange(9) // 2)
    np.testing.assert_array_equal(out["received"], out["updates"])  # nobody else reports
    np.testing.assert_array_equal(out["max_delay"], 0)
    np.testing.assert_allclose(out["busy_time"], out["time"])  # one busy worker


def _bounded_delay_durations(n=3, jobs=40, seed=0):
    rng = np.random.default_rng(seed)
    return 1.0 + 0.3 * rng.random((n, jobs))


def test_delay_adaptive_equals_asgd_when_delays_at_most_n():
    n = 3
    D = _bounded_delay_durations(n)
    st = jaxsim.free_running(D, 20.0, num_points=4)
    assert 2 <= st.max_delay <= n  # precondition: delays happen, none above n
    tm = jaxsim.make_timing(n, "constant")
    kw = dict(hparams={"gamma": 0.2}, durations=D, horizon=20.0, num_points=4, seed=3)
    a = jaxsim.simulate("asgd", QUAD, tm, **kw)
    b = jaxsim.simulate("delay_adaptive_asgd", QUAD, tm, **kw)
    assert a["updates"][-1] == st.num_events
    for k in ("loss_gap", "grad_norm_sq"):
        np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-7)
    for k in ("updates", "used", "max_delay"):
        np.testing.assert_array_equal(a[k], b[k])


def test_delay_adaptive_differs_from_asgd_when_delays_exceed_n():
    """Control for the test above: with delays > n the stepsizes shrink and the runs differ."""
    n = 3
    D = np.tile(np.array([1.0, 1.0, 8.0])[:, None], (1, 40))  # worker 2 sees 14 arrivals per job
    assert jaxsim.free_running(D, 20.0, num_points=4).max_delay > n
    tm = jaxsim.make_timing(n, "constant")
    kw = dict(hparams={"gamma": 0.2}, durations=D, horizon=20.0, num_points=4, seed=3)
    a = jaxsim.simulate("asgd", QUAD, tm, **kw)
    b = jaxsim.simulate("delay_adaptive_asgd", QUAD, tm, **kw)
    assert not np.allclose(a["loss_gap"][-1], b["loss_gap"][-1], rtol=1e-4)


def test_ringmaster_with_large_R_equals_asgd():
    kw = dict(seeds=[0, 1], horizon=25.0, num_points=4)
    a = jaxsim.sweep("asgd", QUAD, TIMING6, grid={"gamma": 0.05}, **kw)
    r = jaxsim.sweep("ringmaster", QUAD, TIMING6, grid={"gamma": 0.05, "R": 1000}, **kw)
    assert np.all(a.metrics["max_delay"] < 1000)
    np.testing.assert_array_equal(r.metrics["discarded"], 0)
    for k in ("updates", "received", "used", "max_delay"):
        np.testing.assert_array_equal(a.metrics[k], r.metrics[k])
    for k in ("loss_gap", "grad_norm_sq", "mean_delay"):
        np.testing.assert_allclose(a.metrics[k], r.metrics[k], rtol=1e-6, atol=1e-7)
