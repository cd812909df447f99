"""Progress inside a batch: the bar (or, off a terminal, a plain line at most every 30 s)
advances after each segment of a batch's loop, and reporting changes no number."""

import io
import re

import numpy as np
import pytest

import jaxsim
from jaxsim import cli
from jaxsim.sim import kernel, runner


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize("name,grid", [("ringmaster", {"gamma": [0.1, 0.2], "R": 2}),  # stream clock
                                       ("ringmaster_stops", {"gamma": [0.1, 0.2], "R": 2})])  # loop clock
def test_progress_changes_no_number_and_moves_inside_a_batch(monkeypatch, capsys, name, grid):
    """One batch cut into many segments: with progress (a line after every segment, the
    throttle's interval 0; or the bar) the metrics equal those without, bit for bit, and the
    lines report the batch's runs and simulated time growing to the end."""
    problem = jaxsim.worst_case_quadratic(d=3, noise_scale=0.1)
    timing = jaxsim.make_timing(3, "one_plus_sqrt", "halfnormal")
    run = lambda progress: jaxsim.sweep(name, problem, timing, seeds=[0, 1], grid=grid, horizon=60.0,  # noqa: E731
                                        num_points=4, progress=progress)
    real_run = runner.run_batch
    monkeypatch.setattr(kernel, "PIECE_WORK", 16)  # streams: pieces of a few events
    monkeypatch.setattr(runner, "run_batch", lambda *a, **k: real_run(*a, **k, first_segment=1))
    quiet = run(False)
    assert quiet.info["batches"] == 1 and capsys.readouterr().err == ""
    monkeypatch.setattr(runner, "LINES", runner.Throttle(interval=0.0))
    lines = run("lines")
    err = capsys.readouterr().err.splitlines()
    bar = run("bar")
    capsys.readouterr()
    for k in quiet.metrics:
        np.testing.assert_array_equal(lines.metrics[k], quiet.metrics[k], err_msg=k)
        np.testing.assert_array_equal(bar.metrics[k], quiet.metrics[k], err_msg=k)
    assert len(err) > 4 and all(ln.startswith(f"jaxsim: {name}: ") for ln in err), err
    done = [float(re.search(r"([\d.]+)/4 runs", ln).group(1)) for ln in err]
    assert done == sorted(done) and any(0 < x < 4 for x in done) and done[-1] == 4, done  # inside the batch too
    times = [float(m.group(1)) for ln in err if (m := re.search(r"t=([\d.]+)/60 s", ln))]
    assert len(set(times)) >= 3 and times == sorted(times) and times[-1] == 60.0, times
    assert all("run-events/s" in ln for ln in err) and any("ETA" in ln for ln in err)


def test_plain_lines_come_at_most_every_interval():
    """Off a terminal a line comes when 30 s have passed since the previous one (in the process:
    across sweeps), never sooner, however often the segments report."""
    clock, out = FakeClock(), io.StringIO()
    throttle = runner.Throttle(interval=30.0, clock=clock)
    bar = runner.ProgressBar(10, "asgd", "lines", throttle=throttle, stream=out, clock=clock,
                             times=np.linspace(0.0, 100.0, 11)[None])
    bar.batch_start(10)
    printed = []
    for t in np.arange(0.0, 100.0, 0.25):  # a segment every 0.25 s
        clock.now = t
        bar.segment(t / 100.0, int(t // 10), int(t) * 50)
        printed.append(out.getvalue().count("\n"))
    bar.batch_end(5000)
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines  # at 30, 60 and 90 s
    assert [printed.index(i + 1) * 0.25 for i in range(3)] == [30.0, 60.0, 90.0]
    assert lines[0].startswith("jaxsim: asgd: 30.0 %: 3/10 runs, t=30/100 s, ") and "ETA 1:10" in lines[0], lines[0]
    # a second sweep shares the throttle: its first line still waits for 30 s after the last one
    clock.now = 100.0
    second = runner.ProgressBar(4, "rennala", "lines", throttle=throttle, stream=out, clock=clock)
    second.batch_start(4)
    for t in (100.0, 110.0, 119.9):
        clock.now = t
        second.segment(0.5, 1, 10)
    assert len(out.getvalue().splitlines()) == 3
    clock.now = 120.0
    second.segment(0.6, 1, 10)
    assert out.getvalue().splitlines()[-1].startswith("jaxsim: rennala: 60.0 %: 2.4/4 runs")


def test_progress_mode_is_checked_before_simulating(no_compile):
    with pytest.raises(ValueError, match="progress"):
        jaxsim.sweep("asgd", jaxsim.worst_case_quadratic(d=3), jaxsim.make_timing(3), progress="loud")


def test_run_prints_progress_lines_off_a_terminal(monkeypatch, capsys):
    """``jaxsim run`` with stderr not a terminal prints plain lines (here after every segment:
    the throttle's interval 0); ``--no-progress`` none."""
    monkeypatch.setattr(runner, "LINES", runner.Throttle(interval=0.0))
    argv = ["run", "asgd", "--n", "3", "--d", "2", "--horizon", "10", "--points", "2", "--hp", "gamma=0.1"]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err.splitlines()
    assert err and all(re.match(r"jaxsim: asgd: [\d.]+ %: .*runs, .*run-events/s", ln) for ln in err), err
    assert cli.main(argv + ["--no-progress"]) == 0
    assert capsys.readouterr().err == ""
