"""Live runs on real worker processes, and their replay in the engine.

What makes these runs' arrival order deterministic: the workers' nominal arrival times (fixed
base times, no noise) are at least 0.2 simulated seconds apart up to the horizon, and the horizon
lies 0.3 s from the nearest arrival; at 200 wall milliseconds per simulated second that is 40 ms
and more, against overheads of about a millisecond per job (a few under load). The replay uses
the measured durations (send to receipt), so it sees the live order unless the server's own time
(well under a millisecond per arrival) adds up to such a gap. No timing is asserted.
"""

import threading
import time

import numpy as np
import pytest

from jaxsim import cli
from jaxsim.live import STATUS, LiveLog, live, replay
from jaxsim.timing import TimingModel

TAU = (1.0, 1.8, 2.25)  # arrivals k * tau_w: 1, 1.8, 2, 2.25, 3, 3.6, 4, 4.5, 5, 5.4 up to the horizon
HORIZON = 5.7
SCALE = 0.2  # wall seconds per simulated second
TIMING = TimingModel(n=3, base=TAU)
PROBLEM = {"d": 8}
USED, CANCELLED = STATUS.index("used"), STATUS.index("cancelled")


def _check_replay(log, rep):
    assert rep["order"]["identical"], rep["order"]
    assert rep["order"]["arrivals_live"] == log.arrays["arrivals/worker"].size > 0
    u = rep["updates"]
    assert u["live"] == u["replay"] == u["heap"] > 0
    for m, by in rep["by_update"].items():  # the replay's model after k updates is the live one's
        assert by["points"] == log.config["num_points"] + 1
        assert by["max_rel"] <= 1e-12, (m, by)
    sim = rep["result"].metrics
    same = log.arrays["metric/updates"] == sim["updates"][0]  # where the overheads moved no update
    assert same.any()
    for m in rep["timed"]:
        a, b = log.arrays[f"metric/{m}"][same], sim[m][0][same]
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


@pytest.fixture(scope="module")
def asgd_log(tmp_path_factory):
    out = tmp_path_factory.mktemp("live") / "asgd.npz"
    log = live("asgd", "quadratic", TIMING, hparams={"gamma": 0.2}, seed=3, horizon=HORIZON, time_scale=SCALE,
               num_points=12, problem_options=PROBLEM, out=out)
    return log, out


def test_live_asgd_replays_to_float_rounding(asgd_log):
    log, out = asgd_log
    assert log.error is None
    saved = LiveLog.load(out)
    assert saved.header["provenance"]["jax"] and saved.config["method"] == "asgd"
    np.testing.assert_array_equal(saved.arrays["arrivals/worker"], log.arrays["arrivals/worker"])
    # every completed job: sent <= start <= finish <= received, one clock for all processes
    done = log.jobs("status") == USED
    sent, start, finish, rec = (log.jobs(k)[done] for k in ("sent", "start", "finish", "received"))
    assert (sent <= start).all() and (start <= finish).all() and (finish <= rec).all()
    # a job waits out its drawn duration (times the scale) after it starts
    assert (finish - start >= log.jobs("nominal")[done] * SCALE).all()
    assert log.arrays["arrivals/worker"].size == 10  # the nominal arrivals up to the horizon
    _check_replay(log, replay(out))


def test_cli_replay_reports_the_same_order(asgd_log, capsys):
    _, out = asgd_log
    assert cli.main(["replay", str(out)]) == 0
    text = capsys.readouterr().out
    assert "arrival order: identical (10 arrivals)" in text and "updates: live 10, replay 10" in text


def test_live_cancellations_are_never_applied_and_replay(tmp_path):
    """Ringmaster ASGD with stops (R = 2): every update restarts the jobs two updates stale."""
    log = live("ringmaster_stops", "quadratic", TIMING, hparams={"gamma": 0.2, "R": 2}, seed=1, horizon=HORIZON,
               time_scale=SCALE, num_points=12, problem_options=PROBLEM, out=tmp_path / "stops.npz")
    assert log.error is None
    status = log.jobs("status")
    assert (status == CANCELLED).sum() >= 2
    cancelled = {(w, j) for w, j, s in zip(log.jobs("worker"), log.jobs("job"), status) if s == CANCELLED}
    applied = set(zip(log.arrays["arrivals/worker"], log.arrays["arrivals/job"]))
    assert not cancelled & applied
    assert int(log.arrays["metric/updates"][-1]) == (status == USED).sum() == len(applied)
    # a cancelled job's index is used up: the worker's next job has the next index
    for w in range(3):
        jobs = log.jobs("job")[log.jobs("worker") == w]
        np.testing.assert_array_equal(jobs, np.arange(jobs.size))
    _check_replay(log, replay(log))


def test_a_killed_worker_ends_the_run_with_a_message_and_the_log_saved(tmp_path):
    out = tmp_path / "killed.npz"

    def kill_soon(procs):
        threading.Timer(0.6, procs[1].kill).start()

    t0 = time.monotonic()
    log = live("asgd", "quadratic", TIMING, hparams={"gamma": 0.2}, seed=0, horizon=100.0, time_scale=0.05,
               num_points=10, problem_options=PROBLEM, out=out, on_start=kill_soon)
    assert "worker 1" in log.error and ("exited" in log.error or "closed its pipe" in log.error)
    assert time.monotonic() - t0 < log.header["startup"] + 5.0 * 0.6 + 30  # nowhere near the 5 s horizon + hang
    saved = LiveLog.load(out)
    assert saved.error == log.error
    assert 0 < saved.arrays["arrivals/worker"].size < 100
    assert saved.arrays["metric/loss"].shape == (11,)
    with pytest.raises(ValueError, match="ended early"):
        replay(saved)


def test_a_silent_worker_ends_the_run(tmp_path):
    """A worker stopped (SIGSTOP) mid-run: the server gives up after ``stall`` seconds."""
    import os
    import signal

    def freeze_soon(procs):
        threading.Timer(0.3, os.kill, (procs[2].pid, signal.SIGSTOP)).start()

    log = live("asgd", "quadratic", TIMING, hparams={"gamma": 0.2}, seed=0, horizon=100.0, time_scale=0.05,
               num_points=10, problem_options=PROBLEM, stall=1.0, on_start=freeze_soon)
    assert "worker 2 sent nothing" in log.error


def test_live_refuses_what_it_cannot_run():
    with pytest.raises(ValueError, match="rounds clock"):
        live("loscar", "quadratic", TIMING, horizon=1.0)
    with pytest.raises(ValueError, match="timing.comm"):
        from jaxsim.timing import Comm

        live("asgd", "quadratic", TimingModel(n=3, comm=Comm(0.1, 0.1)), horizon=1.0)


def test_cli_live_then_replay(tmp_path, capsys):
    """The command line end to end: a live run with noisy durations, then its replay as JSON."""
    import json

    out = tmp_path / "cli.npz"
    assert cli.main(["live", "ringmaster_stops", "--n", "3", "--d", "5", "--hp", "gamma=0.2", "R=2", "--horizon", "6",
                     "--time-scale", "0.05", "--points", "6", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "arrivals" in text and "overheads (mean ms): down" in text and f"log saved in {out}" in text
    assert cli.main(["replay", str(out), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["method"] == "ringmaster_stops" and rep["updates"]["replay"] == rep["updates"]["heap"]


def test_calibration_fits_nonnegative_communication_and_measures_both_sides(asgd_log):
    from jaxsim.live import calibrate

    log, _ = asgd_log
    cal = calibrate(log)
    assert len(cal["comm"]["down"]) == 3 and min(cal["comm"]["down"] + cal["comm"]["up"]) >= 0
    for side in ("before", "after"):
        assert cal[side]["metric"] == "loss_gap" and cal[side]["updates_live"] == 10
        assert np.isfinite(cal[side]["mean_log"])
