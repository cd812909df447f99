"""Universal computation model (README spec §5.4): speed profiles, finish-time inversion,
outages in free-running streams, the counting rule ``floor(W(t) / tau)``."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsim import Horizon, free_running, make_method, sample_stream
from jaxsim.timing.speed import SpeedProfile
from jaxsim.sim.clocks import build_streams
from jaxsim.timing import TimingModel

# Dyadic breakpoints and speeds: every W, target and finish time below is exact in float64.
OUT = SpeedProfile.trace((0.0, 2.0, 5.0), [[1.0, 0.0, 1.0],    # outage on [2, 5)
                                           [0.5, 2.0, 2.0],    # slow, then fast
                                           [1.0, 0.0, 0.0]])   # dies at t = 2


def _rand(shape, seed=0, lo=0.0, hi=10.0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


def _mixed_profile(n=3):
    """Outages, periodic and trend rows in one per-worker profile (non-dyadic)."""
    o = SpeedProfile.outages(n, 3.0, 1.5, 40.0, seed=4)
    p = SpeedProfile.periodic(n, 0.7, 5.0, horizon=40.0, points=40, seed=1)
    t = SpeedProfile.trend(n, -0.02, 40.0, 16)
    rows = [(o.breakpoints[0], o.values[0]), (p.breakpoints, p.values[1]), (t.breakpoints, t.values[2])]
    return SpeedProfile.trace([b for b, _ in rows], [v for _, v in rows])


# ----------------------------------------------------------------------------------------
# Fixed speed is start + duration, bit for bit
# ----------------------------------------------------------------------------------------

def test_constant_profile_is_exactly_start_plus_duration():
    s, d = _rand(200, 1), _rand(200, 2, 0.01, 3.0)
    w = np.arange(200) % 4
    grid_ones = SpeedProfile.trace(np.linspace(0, 7, 9), np.ones((4, 9)))  # merged to one segment
    for prof in (SpeedProfile.constant(4), grid_ones):
        tm = TimingModel(n=4, base="constant", speed=prof)
        np.testing.assert_array_equal(tm.finish_np(w, s, d), s + d)
        with jax.enable_x64(True):
            got = np.asarray(jax.jit(tm.finish)(jnp.asarray(w), jnp.asarray(s), jnp.asarray(d)))
        np.testing.assert_array_equal(got, s + d)
    # a free-running stream with the constant profile is the plain cumsum stream
    D = 1.0 + _rand((4, 50), 3, 0.0, 1.0)
    a, b = free_running(D, 20.0, 5), free_running(D, 20.0, 5, timing=tm)
    for x, y in zip(a.flat(), b.flat(), strict=True):
        np.testing.assert_array_equal(x, y)


# ----------------------------------------------------------------------------------------
# Hand-computed inversions
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("w, s, d, e", [
    (0, 0.0, 1.0, 1.0),
    (0, 1.0, 1.0, 2.0),     # ends exactly when the outage starts
    (0, 1.5, 1.0, 5.5),     # pauses on [2, 5), resumes, 0.5 left
    (0, 3.0, 1.0, 6.0),     # started inside the outage: waits for t = 5
    (0, 2.0, 0.25, 5.25),   # started at the outage's first instant
    (0, 5.0, 2.0, 7.0),
    (0, 0.5, 4.0, 7.5),     # spans the whole outage
    (1, 1.0, 1.0, 2.25),    # W(1) = 0.5, target 1.5, reached on the fast segment
    (1, 0.0, 1.0, 2.0),
    (1, 3.0, 1.0, 3.5),
    (2, 1.0, 0.5, 1.5),
    (2, 1.0, 1.0, 2.0),     # finishes just as the worker dies
    (2, 1.0, 1.5, math.inf),  # never: the held last speed is 0
    (2, 3.0, 0.25, math.inf),
    (0, 1.0, math.inf, math.inf),  # a hung job stays hung
    (1, math.inf, 1.0, math.inf),
])
def test_hand_computed_finish(w, s, d, e):
    tm = TimingModel(n=3, base="constant", speed=OUT)
    assert float(tm.finish_np(w, s, d)) == e
    with jax.enable_x64(True):
        assert float(tm.finish(w, jnp.float64(s), jnp.float64(d))) == e
    assert float(tm.finish(w, jnp.float32(s), jnp.float32(d))) == pytest.approx(e, rel=1e-6)


def test_integral_at_breakpoints_and_beyond():
    np.testing.assert_array_equal(OUT.integral(0, [0.0, 1.0, 2.0, 3.0, 5.0, 6.5]), [0, 1, 2, 2, 2, 3.5])
    np.testing.assert_array_equal(OUT.integral(1, [1.0, 2.0, 3.0, math.inf]), [0.5, 1.0, 3.0, math.inf])
    assert OUT.integral(2, math.inf) == 2.0


# ----------------------------------------------------------------------------------------
# Monotonicity, NumPy/JAX agreement
# ----------------------------------------------------------------------------------------

def test_finish_monotone_in_duration_and_start():
    prof = _mixed_profile()
    s = np.sort(_rand(400, 5, 0.0, 45.0))
    d = np.sort(_rand(400, 6, 0.0, 8.0))
    for w in range(prof.n):
        e_d = prof.finish_np(w, 3.7, d)
        e_s = prof.finish_np(w, s, 1.3)
        assert np.all(e_d[1:] >= e_d[:-1]) and np.all(e_s[1:] >= e_s[:-1])  # (+inf allowed)
        assert np.all(e_d >= 3.7) and np.all(e_s >= s)
        # the work done between start and finish is the nominal duration
        ok = np.isfinite(e_s)
        np.testing.assert_allclose(prof.integral(w, e_s[ok]) - prof.integral(w, s[ok]), 1.3, rtol=1e-9)


def test_numpy_and_jax_agree():
    prof = _mixed_profile()
    tm = TimingModel(n=prof.n, speed=prof)
    w = np.arange(300) % prof.n
    s, d = _rand(300, 7, 0.0, 45.0), _rand(300, 8, 0.05, 6.0)
    ref = tm.finish_np(w, s, d)
    with jax.enable_x64(True):
        f = jax.jit(lambda tm, *a: tm.finish(*a), static_argnums=0)  # the model as a static argument
        got = np.asarray(f(tm, jnp.asarray(w), jnp.asarray(s), jnp.asarray(d)))
    np.testing.assert_array_equal(got, ref)  # same IEEE operations (no fusable multiply-add)
    got32 = np.asarray(tm.finish(jnp.asarray(w), jnp.asarray(s, jnp.float32), jnp.asarray(d, jnp.float32)))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(got32[fin], ref[fin], rtol=1e-4)
    # broadcasting: one worker against a grid of (start, duration)
    np.testing.assert_array_equal(tm.finish_np(1, s[:, None], d[None, :5]).shape, (300, 5))


# ----------------------------------------------------------------------------------------
# Free-running streams: outages, counting rule, coverage
# ----------------------------------------------------------------------------------------

def test_outage_produces_no_arrival_from_that_worker():
    tm = TimingModel(n=2, base=(0.75, 1.0), speed=SpeedProfile.trace((0.0, 2.0, 5.0), [[1, 0, 1], [1, 1, 1]]))
    st, _ = sample_stream(tm, jax.random.key(0), Horizon(time=8.0), num_points=4)
    w, j, t = st.flat()
    np.testing.assert_array_equal(t[w == 0], [0.75, 1.5, 5.25, 6.0, 6.75, 7.5])  # paused on [2, 5)
    np.testing.assert_array_equal(j[w == 0], np.arange(6))
    np.testing.assert_array_equal(t[w == 1], np.arange(1.0, 9.0))  # the other worker runs on
    assert not np.any((w == 0) & (t > 2.0) & (t <= 5.0))
    # random outages: no arrival of a worker strictly inside one of its down periods
    prof = SpeedProfile.outages(3, 4.0, 2.0, 60.0, seed=2)
    tm = TimingModel(n=3, base="sqrt", speed=prof)
    st, D = sample_stream(tm, jax.random.key(1), Horizon(time=50.0), num_points=5)
    w, j, t = st.flat()
    for k in range(3):
        b, v = np.asarray(prof.breakpoints[k]), np.asarray(prof.values[k])
        ends = np.r_[b[1:], np.inf]
        mine = t[w == k]
        for lo, hi in zip(b[v == 0], ends[v == 0], strict=True):
            assert not np.any((mine > lo) & (mine <= hi)), (k, lo, hi)
    # build_streams (the sweep's path, here with given durations) applies the profile too
    st2 = build_streams(make_method("asgd"), tm, [1], Horizon(time=50.0), 5, durations=[D])[0]
    for x, y in zip(st.flat(), st2.flat(), strict=True):
        np.testing.assert_array_equal(x, y)


def test_counting_rule_floor_W_over_tau():
    tau = np.array([0.25, 0.5, 0.75])
    prof = SpeedProfile.trace((0.0, 1.0, 3.0, 4.5, 6.0), [[2.0, 0.0, 0.5, 4.0, 1.0],
                                                        [0.5, 1.0, 0.0, 2.0, 0.25],
                                                        [1.0, 4.0, 0.25, 0.0, 1.0]])
    tm = TimingModel(n=3, base=tuple(tau), speed=prof)
    T = 9.0
    st, _ = sample_stream(tm, jax.random.key(0), Horizon(time=T), num_points=3)
    w, _, t = st.flat()
    for k in range(3):
        mine = np.sort(t[w == k])
        ts = np.r_[np.linspace(0.0, T, 73), mine]  # a grid plus the arrival times themselves
        done = np.searchsorted(mine, ts, side="right")  # jobs completed in [0, t]
        np.testing.assert_array_equal(done, np.floor(prof.integral(k, ts) / tau[k]))


def test_jobs_to_cover_with_fast_and_stalled_workers():
    fast = TimingModel(n=2, base="constant", speed=SpeedProfile.constant(2, 4.0))
    assert fast.jobs_to_cover(10.0) >= 40
    st, D = sample_stream(fast, jax.random.key(0), 10.0, num_points=2)
    w, _, t = st.flat()
    assert np.sum(w == 0) == 40 and t.max() == 10.0
    # a worker that stops for good does not make coverage loop: its stalled job is +inf
    tm = TimingModel(n=3, base="constant", speed=OUT)
    st, _ = sample_stream(tm, jax.random.key(0), 12.0, num_points=2)
    w, _, t = st.flat()
    np.testing.assert_array_equal(t[w == 2], [1.0, 2.0])
    assert np.sum(w == 1) == 21 and np.sum(w == 0) == 9  # W_1(12) = 0.5 * 2 + 2 * 10, W_0(12) = 2 + 7
    # with a horizon in events, too
    st, _ = sample_stream(tm, jax.random.key(0), Horizon(events=40), num_points=2)
    assert st.num_events == 40


# ----------------------------------------------------------------------------------------
# Constructors
# ----------------------------------------------------------------------------------------

def test_periodic_profile_integral_is_exact_on_its_grid():
    a, P, H, G = 0.5, 3.0, 6.0, 24
    prof = SpeedProfile.periodic(2, a, P, phases=[0.0, 1.0], horizon=H, points=G)
    b = np.asarray(prof.breakpoints)
    assert b.size == G + 1 and b[-1] == H and prof.values[0][-1] == 1.0  # speed 1 after the horizon
    for w, phi in enumerate([0.0, 1.0]):
        exact = b + a * P / (2 * np.pi) * (np.cos(phi) - np.cos(2 * np.pi * b / P + phi))
        np.testing.assert_allclose(prof.integral(w, b), exact, rtol=1e-12, atol=1e-12)
        assert min(prof.values[w]) > 0
    r1 = SpeedProfile.periodic(3, 0.3, 2.0, horizon=4.0, seed=5)
    assert r1 == SpeedProfile.periodic(3, 0.3, 2.0, horizon=4.0, seed=5) and hash(r1) == hash(
        SpeedProfile.periodic(3, 0.3, 2.0, horizon=4.0, seed=5))
    assert r1 != SpeedProfile.periodic(3, 0.3, 2.0, horizon=4.0, seed=6)


def test_outage_profile_alternates_and_is_per_worker():
    prof = SpeedProfile.outages(4, 2.0, 1.0, 30.0, seed=3)
    for b, v in zip(prof.breakpoints, prof.values, strict=True):
        b, v = np.asarray(b), np.asarray(v)
        assert b[0] == 0 and np.all(np.diff(b) > 0) and b[-1] < 30.0
        assert v[0] == 1.0 and set(v.tolist()) <= {0.0, 1.0} and np.all(v[1:] != v[:-1])
    small = SpeedProfile.outages(2, 2.0, 1.0, 30.0, seed=3)
    assert small.breakpoints == prof.breakpoints[:2] and small.values == prof.values[:2]
    down = SpeedProfile.outages(1, 2.0, 1.0, 30.0, seed=3, start_up=False)
    assert down.values[0][0] == 0.0
    # long-run fraction of time up is about U / (U + O)
    big = SpeedProfile.outages(50, 2.0, 1.0, 400.0, seed=0)
    up = np.mean([big.integral(w, 400.0) for w in range(50)]) / 400.0
    assert up == pytest.approx(2.0 / 3.0, abs=0.03)


def test_trend_profile_clips_at_zero():
    prof = SpeedProfile.trend(2, [-0.25, 0.5], horizon=8.0, points=8)
    np.testing.assert_allclose(prof.values[0], [0.875, 0.625, 0.375, 0.125, 0, 0, 0, 0, 0], atol=1e-15)
    np.testing.assert_allclose(prof.values[1], [1.25, 1.75, 2.25, 2.75, 3.25, 3.75, 4.25, 4.75, 5.0])
    assert prof.integral(0, 100.0) == pytest.approx(2.0)  # int_0^4 (1 - t/4) dt
    assert prof.finish_np(0, 0.0, 3.0) == math.inf


# ----------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, field", [
    (lambda: SpeedProfile.trace((0.0, 1.0), [[1.0, -0.5]]), "speed.values"),
    (lambda: SpeedProfile.trace((0.0, 1.0), [[1.0, np.nan]]), "speed.values"),
    (lambda: SpeedProfile.trace((0.0, 1.0), [[1.0, np.inf]]), "speed.values"),
    (lambda: SpeedProfile.trace((0.0, 1.0), [[1.0, 2.0, 3.0]]), "speed.values"),
    (lambda: SpeedProfile.trace((0.0, 1.0), [1.0, 2.0]), "speed.values"),  # one row needs n=
    (lambda: SpeedProfile.trace((0.0, 1.0), [[1.0, 2.0]], n=2), "speed.values"),
    (lambda: SpeedProfile.trace((0.0, 2.0, 1.0), [[1.0, 1.0, 1.0]]), "speed.breakpoints"),
    (lambda: SpeedProfile.trace((0.0, 1.0, 1.0), [[1.0, 1.0, 1.0]]), "speed.breakpoints"),
    (lambda: SpeedProfile.trace((0.5, 1.0), [[1.0, 1.0]]), "speed.breakpoints"),
    (lambda: SpeedProfile.trace((0.0, np.inf), [[1.0, 1.0]]), "speed.breakpoints"),
    (lambda: SpeedProfile.trace([(0.0, 1.0)], [[1.0, 1.0], [1.0, 1.0]]), "speed.breakpoints"),
    (lambda: SpeedProfile.periodic(2, 1.0, 2.0, horizon=4.0), "speed.amplitude"),
    (lambda: SpeedProfile.periodic(2, -1.5, 2.0, horizon=4.0), "speed.amplitude"),
    (lambda: SpeedProfile.periodic(2, 0.5, 0.0, horizon=4.0), "speed.period"),
    (lambda: SpeedProfile.periodic(2, 0.5, 2.0, phases=[0.0, 1.0, 2.0], horizon=4.0), "speed.phases"),
    (lambda: SpeedProfile.periodic(2, 0.5, 2.0, horizon=4.0, points=0), "speed.points"),
    (lambda: SpeedProfile.outages(2, 0.0, 1.0, 10.0), "speed.mean_up"),
    (lambda: SpeedProfile.outages(2, 1.0, -1.0, 10.0), "speed.mean_down"),
    (lambda: SpeedProfile.outages(2, 1.0, 1.0, np.inf), "speed.horizon"),
    (lambda: SpeedProfile.trend(2, [0.1, 0.2, 0.3], 10.0), "speed.slope"),
    (lambda: SpeedProfile.constant(0), "n (number of workers)"),
    (lambda: TimingModel(n=3, speed=SpeedProfile.constant(2)), "timing.speed"),
    (lambda: TimingModel(n=3, speed=[1.0, 1.0, 1.0]), "timing.speed"),
    (lambda: free_running(np.ones((3, 10)), 5.0, timing=TimingModel(n=2, speed=SpeedProfile.constant(2))),
     "durations"),
])
def test_bad_input_names_the_field(make, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.").replace("(", r"\(").replace(")", r"\)")):
        make()
