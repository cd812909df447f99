"""The benchmark's reference kernels compute what they claim."""

import jax.numpy as jnp
import numpy as np

from jaxsim import make_method, make_timing, worst_case_quadratic
from jaxsim.bench import sync_batch
from jaxsim.sim.events import Horizon
from jaxsim.sim import stream
from jaxsim.sim.server import SGD
from jaxsim.sim.clocks import build_streams
from jaxsim.sweep import run


def test_sync_kernel_is_sgd_at_the_current_model():
    """With one worker every ASGD gradient is taken at the current model: the engine and the
    synchronous kernel (same stream, same draws) run the same SGD."""
    problem = worst_case_quadratic(d=4, noise_scale=0.1)
    timing = make_timing(1, "one_plus_sqrt", "halfnormal")
    method = make_method("asgd")
    seeds, gammas = [0, 1], [0.1, 0.3]
    settings = [{"gamma": g} for g in gammas]
    streams = build_streams(method, timing, seeds, Horizon(events=60), 5)
    metrics, _, _ = run(method, problem, timing, seeds, settings, Horizon(events=60), 5)
    setup = stream.setup(method, problem, timing, streams, seeds, settings, optimizer=SGD)
    loss, gns = sync_batch(setup.clock, problem, setup.seeds, setup.intervals, jnp.asarray(gammas, jnp.float32))
    assert metrics["updates"][..., -1].min() > 10
    np.testing.assert_allclose(np.asarray(loss), metrics["loss"][..., 1:], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(gns), metrics["grad_norm_sq"][..., 1:], rtol=1e-4)
    assert not np.allclose(metrics["loss"][:, 0, -1], metrics["loss"][:, 1, -1])  # the stepsizes matter


# ---- the benchmark of every clock and problem (jaxsim bench --method/--problem/--suite) ----------

import json  # noqa: E402

import pytest  # noqa: E402

from jaxsim import cli  # noqa: E402
from jaxsim.bench import cases  # noqa: E402
from jaxsim.bench.kernels import SYNC, sync_call  # noqa: E402
from jaxsim.sim.clocks import CLOCKS, clock_of  # noqa: E402
from jaxsim.sim.runner import run_setup  # noqa: E402
from jaxsim.sim.setup import hp_arrays  # noqa: E402

#: One tiny case per clock (the suite's methods); the CLI test below reuses the stream one's kernels.
TINY = {clock: cases.case_for(method, "quadratic", d=4, n=3, events=40) for clock, (method, _) in
        cases.SUITE_METHODS.items()}


def test_the_suite_covers_every_clock_and_problem_and_each_case_builds():
    suite = cases.suite_cases()
    assert suite[0] == cases.DEFAULT_CASE and suite[0].d == 100 and suite[0].method == "ringmaster"
    assert {clock_of(cases.prepare(c)[0]).name for c in suite} == set(CLOCKS) == set(SYNC)
    assert {c.problem for c in suite} == set(cases.PROBLEMS) == {"quadratic", "logistic", "mlp", "lm"}
    for case in suite:  # every entry validates as a sweep would, and has a horizon its clock takes
        method, problem, timing, settings, horizon = cases.prepare(case)
        assert len(settings) >= 2 and timing.n == case.n


@pytest.mark.parametrize("clock", sorted(TINY))
def test_each_clocks_sync_kernel_computes_the_gradients_the_engine_received(clock):
    """Per run and recording interval, the synchronous kernel counts as many gradients as the
    engine's ``received`` (the same work), and records the engine's grid of metrics."""
    case = TINY[clock]
    method, problem, timing, settings, horizon = cases.prepare(case)
    assert clock_of(method).name == clock
    setup = clock_of(method).setup(method, problem, timing, list(range(case.seeds)), settings, horizon, case.points)
    metrics, _ = run_setup(setup, method, problem, settings, batch_size=len(settings), dtype=problem.dtype)
    out = sync_call(clock, setup, method, problem, hp_arrays(method, settings, problem.dtype),
                    jnp.asarray(problem.init()), metrics["received"])()
    assert metrics["received"][..., -1].min() > 0
    np.testing.assert_array_equal(np.asarray(out["gradients"]), metrics["received"][..., 1:])
    for k in ("loss", "loss_gap", "grad_norm_sq"):
        assert np.asarray(out[k]).shape == metrics[k][..., 1:].shape


#: The keys ``jaxsim bench --method M --problem P --json FILE`` documents (jaxsim.bench.cases).
ROW_KEYS = ("method", "clock", "problem", "d", "n", "runs", "events_per_run", "engine_run_events_per_s",
            "sync_run_events_per_s", "fraction_of_sync", "compile_s", "sync_compile_s", "peak_rss_mib",
            "sync_peak_rss_mib", "xla_memory", "engine_events", "sync_events")


def test_bench_one_case_writes_json_with_the_documented_keys(tmp_path, capsys):
    path = tmp_path / "one.json"
    assert cli.main(["bench", "--method", "ringmaster", "--problem", "quadratic", "--d", "4", "--n", "3",
                     "--events", "40", "--repeats", "1", "--json", str(path)]) == 0
    assert "fraction of synchronous" in capsys.readouterr().out
    r = json.loads(path.read_text())
    for key in ROW_KEYS:
        assert key in r, key
    assert r["clock"] == "stream" and r["d"] == 4 and r["runs"] == 2 * 2 * 2
    assert r["engine_events"] == r["sync_events"] > 0
    for key in ("engine_run_events_per_s", "sync_run_events_per_s", "fraction_of_sync", "peak_rss_mib"):
        assert np.isfinite(r[key]) and r[key] > 0
    assert set(r["xla_memory"]) == {"engine", "sync"}


def test_the_suite_skips_what_a_method_cannot_run_with_its_reason(tmp_path):
    bad = cases.Case("dp_rbcd", "quadratic", n=3, d=4, grid=(("gamma", (0.1, 0.2)),), events=40)
    out = cases.suite([TINY["stream"], bad], repeats=1)
    assert [r["method"] for r in out["rows"]] == ["ringmaster"]
    assert out["skipped"] == [{"method": "dp_rbcd", "problem": "quadratic", "skipped": out["skipped"][0]["skipped"]}]
    assert "problem" in out["skipped"][0]["skipped"]
    lines = [cases.table_line(r) for r in out["rows"] + out["skipped"]]
    assert len(cases.table_header().split(" | ")) == len(lines[0].split(" | ")) == 11
    assert "skipped: problem: dp_rbcd needs" in lines[1]


@pytest.mark.parametrize("argv, field", [
    (["--method", "nope"], "--method"), (["--problem", "nope"], "--problem"),
    (["--method", "dp_rbcd"], "--problem"), (["--problem", "lm", "--d", "8"], "--d"),
    (["--suite", "--method", "asgd"], "--suite"), (["--json", "/proc/x.json", "--suite"], "--json")])
def test_bad_bench_options_are_one_line_naming_the_field(argv, field, capsys):
    assert cli.main(["bench", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"jaxsim: error: {field}: "), err
