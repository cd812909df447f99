"""The loop clocks keep exact time and bounded loops (controlled, allocation, rounds).

* Time: a clock that kept time in the problem's float type drifted (float32 time with 1 ms jobs
  over 1000 s: ``ringmaster_stops`` on three workers counted 249 201 arrivals in the first
  quarter, not 250 000) or stopped (float16: ``t + 1e-3 == t`` from ``t = 4``). Here every count
  is checked against exact rational arithmetic on the clock's durations, in float32 and float16
  models alike.
* Bounds: before compiling, a run's events are bounded from the horizon and the shortest
  durations; a run past the event budget is refused with its sizes, and the loop stops at its
  bound. The loop runs in segments (the host sees Ctrl-C between two), and cutting it into
  segments changes no number.
"""

import os
import signal
import subprocess
import sys
import textwrap
from fractions import Fraction

import jax.numpy as jnp
import numpy as np
import pytest

import jaxsim
from jaxsim.sim import clocktime as ct
from jaxsim.sim import kernel, runner

TAU = 1e-3  # base_scale: jobs of 1 ms, where float32 time drifted
HORIZON = 50.0  # 50 000 jobs: float32 time was 11 events off at the end, float16 time stopped at t = 4
POINTS = 4
DTYPES = [jnp.float32, jnp.float16]


def exact_counts(duration) -> list:
    """Events ``k >= 1`` with ``k * duration <= t`` at each recording time ``t`` (rationals: exact)."""
    d = Fraction(float(duration))
    return [int(Fraction(float(t)) // d) for t in np.linspace(0.0, HORIZON, POINTS + 1)]


def clock_duration():
    """The duration the clocks draw for a base time of 1 ms (the time's float type, not the model's)."""
    return np.asarray(TAU, np.dtype(ct.time_dtype())).item()


def _run(name, dtype, timing, **grid):
    return jaxsim.sweep(name, jaxsim.worst_case_quadratic(d=4, dtype=dtype), timing, grid=grid,
                        horizon=HORIZON, num_points=POINTS)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: jnp.dtype(d).name)
def test_controlled_clock_counts_every_event_of_a_long_run(dtype):
    """Ringmaster with stops, R = 1, three workers of 1 ms jobs over 50 s (float32 time drifted on
    this run over 1000 s). Worker 0 reports at every multiple of the duration and the others restart, so the arrivals by
    time ``t`` are ``floor(t / duration)``, exactly, whatever the model's float type."""
    timing = jaxsim.make_timing(3, "constant", base_scale=TAU)
    res = _run("ringmaster_stops", dtype, timing, gamma=[0.1], R=1)
    np.testing.assert_array_equal(res.metrics["received"][0, 0], exact_counts(clock_duration()))
    np.testing.assert_allclose(res.metrics["busy_time"][0, 0], 3 * np.linspace(0, HORIZON, POINTS + 1), rtol=1e-6)


def test_controlled_and_free_running_clocks_agree_on_1ms_jobs():
    """The free-running clock (host float64 time) sees three arrivals per duration: the controlled
    clock's count times three."""
    timing = jaxsim.make_timing(3, "constant", base_scale=TAU)
    free = _run("asgd", jnp.float32, timing, gamma=[0.1])
    np.testing.assert_array_equal(free.metrics["received"][0, 0], 3 * np.asarray(exact_counts(clock_duration())))


@pytest.mark.parametrize("name", ["uta", "gta"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: jnp.dtype(d).name)
def test_allocation_clock_counts_every_iteration(dtype, name):
    """Uniform allocation of B = n = 3 tasks, or a race for them: an iteration lasts one duration,
    B gradients each."""
    timing = jaxsim.make_timing(3, "constant", base_scale=TAU)
    res = _run(name, dtype, timing, gamma=[0.1], B=3)
    np.testing.assert_array_equal(res.metrics["received"][0, 0], 3 * np.asarray(exact_counts(clock_duration())))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: jnp.dtype(d).name)
def test_rounds_clock_counts_every_round(dtype):
    """LOSCAR rounds of a 1 ms window and free communication: the method states each round's
    duration in the model's float type; the clock adds them exactly."""
    timing = jaxsim.make_timing(3, "constant")
    res = _run("loscar", dtype, timing, gamma=[0.1], compute_time=TAU, latency=0.0, per_float=0.0, K=1)
    np.testing.assert_array_equal(res.metrics["updates"][0, 0], exact_counts(np.asarray(TAU, dtype).item()))


def test_split_time_arithmetic_is_exact_where_float32_drifts():
    """Two-float sums of float32 durations are exact while their bits fit in 48; comparisons order
    the values; a duration is the difference of two times, to float32 precision."""
    import jax

    d = np.float32(TAU)
    t = jax.jit(lambda t: jax.lax.fori_loop(0, 250_000, lambda i, t: ct.add(t, d), t))(ct.full((), 0.0, True))
    exact = Fraction(float(d)) * 250_000
    assert Fraction(float(t.hi)) + Fraction(float(t.lo)) == exact
    assert bool(ct.lt(ct.host(250.0, True), t))  # 250 000 jobs of float32(1 ms) end just after 250 s
    assert float(ct.sub(t, ct.host(250.0, True))) == pytest.approx(float(exact - 250), rel=1e-6)


# ---------------------------------------------------------------------------- bounds

@pytest.mark.parametrize("name,grid,scale", [("ringmaster_stops", {"gamma": 0.1}, 1.0),
                                             ("ringmaster_stops", {"gamma": 0.1}, 1e-6),
                                             ("uta", {"gamma": 0.1, "B": 3}, 1.0),
                                             ("loscar", {"gamma": 0.1, "compute_time": 1e-3}, 1.0)])
def test_a_horizon_of_1e9_is_refused_with_its_sizes(no_compile, name, grid, scale):
    timing = jaxsim.make_timing(3, "one_plus_sqrt", base_scale=scale)
    with pytest.raises(ValueError, match=r"events: .* can see up to [\d,]+ arrivals .* event budget"):
        jaxsim.sweep(name, jaxsim.worst_case_quadratic(d=4), timing, grid=grid, horizon=1e9, num_points=2)


def test_cli_refuses_a_horizon_of_1e9_at_once():
    """``jaxsim run ringmaster_stops --n 3 --d 4 --horizon 1e9`` ran forever (the guard: the
    subprocess timeout)."""
    out = subprocess.run([sys.executable, "-m", "jaxsim.cli", "run", "ringmaster_stops", "--n", "3", "--d", "4",
                          "--horizon", "1e9"], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, JAX_PLATFORMS="cpu"))
    assert out.returncode == 2, out.stderr
    assert "events" in out.stderr and "1,914,213,549 arrivals" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("module,name,grid", [("controlled", "ringmaster_stops", {"gamma": 0.1}),
                                              ("allocation", "uta", {"gamma": 0.1, "B": 3}),
                                              ("rounds", "loscar", {"gamma": 0.1})])
def test_the_loop_stops_at_its_bound(monkeypatch, module, name, grid):
    """A bound too small for the run (as if the clock were wrong) ends the loop with an error
    instead of running on."""
    import importlib

    monkeypatch.setattr(importlib.import_module(f"jaxsim.sim.{module}"), "loop_cap", lambda events: 3)
    with pytest.raises(RuntimeError, match="its bound"):
        jaxsim.sweep(name, jaxsim.worst_case_quadratic(d=4), jaxsim.make_timing(3), grid=grid, horizon=100.0,
                     num_points=2)


@pytest.mark.parametrize("name,grid", [("ringmaster_stops", {"gamma": [0.1, 0.2], "R": 2}),
                                       ("uta", {"gamma": [0.1, 0.2], "B": 4}),
                                       ("loscar", {"gamma": [0.1, 0.2], "compute_time": 2.0}),
                                       ("asgd", {"gamma": [0.1, 0.2]})])
def test_segments_give_the_numbers_of_one_loop(monkeypatch, name, grid):
    """A batch run one unit per segment (a compiled call per event, iteration, round or piece of
    stream, each carrying the state) equals the same batch in one segment, bit for bit."""
    problem = jaxsim.worst_case_quadratic(d=3, noise_scale=0.1)
    timing = jaxsim.make_timing(3, "one_plus_sqrt", "halfnormal")
    run = lambda: jaxsim.sweep(name, problem, timing, seeds=[0, 1], grid=grid, horizon=60.0,  # noqa: E731
                               num_points=3)
    real_run, real_segment, calls = runner.run_batch, kernel._segment, []
    monkeypatch.setattr(kernel, "PIECE_WORK", 16)  # streams: pieces of a few events (both runs)
    monkeypatch.setattr(runner, "run_batch", lambda *a, **k: real_run(*a, **k, first_segment=10 ** 6))
    whole = run()
    monkeypatch.setattr(runner, "run_batch", lambda *a, **k: real_run(*a, **k, first_segment=1))
    monkeypatch.setattr(kernel, "_segment", lambda *a, **k: (calls.append(1), real_segment(*a, **k))[1])
    cut = run()
    assert len(calls) > 2 * POINTS, len(calls)  # one unit per call: intervals cut into several segments
    assert whole.metrics["received"][..., -1].min() > 10
    for k in whole.metrics:
        np.testing.assert_array_equal(cut.metrics[k], whole.metrics[k], err_msg=k)


SIGINT_SCRIPT = textwrap.dedent("""
    import signal
    import sys
    # a shell running the suite in the background starts it with SIGINT ignored, which Python
    # then never turns into KeyboardInterrupt: restore the terminal's Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import jaxsim
    import jaxsim.sim.kernel as kernel

    real = kernel._segment

    def segment(*a, **k):  # the first segment has compiled and the loop runs
        out = real(*a, **k)
        print("looping", flush=True)
        return out

    kernel._segment = segment
    name, d, horizon = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    jaxsim.sweep(name, jaxsim.worst_case_quadratic(d=d), jaxsim.make_timing(3), grid={"gamma": 0.01},
                 horizon=horizon, num_points=1)
    print("finished", flush=True)
""")


@pytest.mark.parametrize("name,d,horizon", [("ringmaster_stops", 4, 1e7),  # ~2e7 events: minutes
                                            ("asgd", 2 * 10 ** 6, 3e3)])  # 5 000 events of d = 2e6
def test_sigint_stops_a_long_run(tmp_path, name, d, horizon):
    """Ctrl-C during a long compiled loop stops the process (it used to run on for 30 s and more):
    the guard is the timeout of the wait after the signal."""
    script = tmp_path / "long_run.py"
    script.write_text(SIGINT_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), name, str(d), str(horizon)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, JAX_PLATFORMS="cpu"))
    try:
        line = proc.stdout.readline()
        assert line.strip() == "looping", (line, proc.stderr.read() if proc.poll() is not None else "")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0 and "finished" not in out
    assert "KeyboardInterrupt" in err, err[-2000:]


@pytest.mark.parametrize("profile", ["periodic", "outages"])
def test_split_time_follows_speed_profiles(profile):
    """Under a speed profile a job's end in two-float time agrees with the float64 formula to the
    float32 rounding of the job's own span (not of the time): starts near 1e6 s included, where
    float32 spaces times 0.06 s apart; outages, zero durations and jobs that never end included."""
    from jaxsim.timing.speed import SpeedProfile

    n, rng = 4, np.random.default_rng(3)
    prof = (SpeedProfile.periodic(n, 0.6, 7.0, horizon=300.0) if profile == "periodic" else
            SpeedProfile.outages(n, 3.0, 1.0, horizon=300.0, seed=1, start_up=False))
    w = rng.integers(0, n, 400)
    s = np.concatenate([rng.uniform(0.0, 320.0, 300), 1e6 + rng.uniform(0.0, 10.0, 100)])
    d = rng.exponential(2.0, 400).astype(np.float32)
    d[:10] = 0.0
    ref = prof.finish_np(w, s, d.astype(np.float64))
    import jax

    start = ct.host(s, True)  # s to 48 bits
    got = jax.jit(lambda w, s, d: ct._speed_finish(prof, w, s, d))(w, start, d)
    e = np.asarray(got.hi, np.float64) + np.asarray(got.lo, np.float64)
    s = np.asarray(start.hi, np.float64) + np.asarray(start.lo, np.float64)
    np.testing.assert_array_equal(np.isfinite(e), np.isfinite(ref))
    ok = np.isfinite(ref)
    np.testing.assert_array_less(np.abs(e[ok] - ref[ok]), 1e-6 * (1.0 + ref[ok] - s[ok]) + 1e-12 * ref[ok])
    assert np.all(e[ok] >= s[ok])


def test_split_time_orders_events_as_the_reference_loop():
    """Without x64 the durations are float32 and the reference loops add them in float64: the
    two-float clocks see the same events (counts equal, a speed profile and attempt budgets
    included), and busy time to float32 precision."""
    import dataclasses

    from jaxsim import reference
    from jaxsim.timing.speed import SpeedProfile
    from jaxsim.sweep import run

    assert ct.split_mode()
    n, horizon, seeds = 4, 60.0, [3, 7]
    problem = jaxsim.worst_case_quadratic(d=3, noise_scale=0.1)
    timing = dataclasses.replace(jaxsim.make_timing(n, "one_plus_sqrt", "halfnormal"),
                                 speed=SpeedProfile.periodic(n, 0.6, 7.0, horizon=80.0))
    cases = [("mindflayer", reference.run_controlled, {"gamma": 0.05}),
             ("ata", reference.run_allocation, {"gamma": 0.05, "B": 5}),
             ("gta", reference.run_allocation, {"gamma": 0.05, "B": 5})]
    for name, ref_loop, grid in cases:
        method = jaxsim.make_method(name)
        hp = {k: v.item() for k, v in method.check_hparams(grid).items()}
        out, _, _ = run(method, problem, timing, seeds, [hp, hp], horizon, 6)
        for i, seed in enumerate(seeds):
            ref = ref_loop(method, problem, timing, hp, seed=seed, horizon=horizon, num_points=6)
            for k in ("received", "updates", "cancelled", "timeouts"):
                np.testing.assert_array_equal(out[k][i, i], ref[k], err_msg=f"{name}: {k}")
            assert out["received"][i, i, -1] > 20
            np.testing.assert_allclose(out["busy_time"][i, i], ref["busy_time"], rtol=1e-6, err_msg=name)
