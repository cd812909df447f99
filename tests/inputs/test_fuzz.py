"""Hostile inputs, interrupted runs and damaged files: each gets one line naming what is wrong
(the option, field or file), before anything is compiled, and no result that was computed is lost.

Kept to tiny sizes: most cases compile nothing (``no_compile``); the two interrupted command lines
run in subprocesses that read this run's compilation cache."""

import functools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsim
from jaxsim import SweepResult, cli
from jaxsim.runtime.checkpoint import remove_stale_temporaries
from jaxsim.runtime.cpu_devices import max_cpu_devices
from jaxsim.problems import heterogeneous_quadratic, make_logistic
from jaxsim.problems.base import check_dtype
from jaxsim.problems.quadratic import WorstCaseQuadratic
from jaxsim.sim import runner

PROB = jaxsim.worst_case_quadratic(d=3, noise_scale=0.0)
TIMING = jaxsim.make_timing(3, "one_plus_sqrt")
RUN = ["run", "asgd", "--n", "3", "--d", "4", "--horizon", "5", "--points", "2"]


def _env():
    """A subprocess's environment: this test run's XLA flags and compilation cache."""
    env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
               JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0", PYTHONUNBUFFERED="1")
    env["JAXSIM_COMPILE_CACHE"] = os.environ.get("JAXSIM_TEST_CACHE", "")
    return env


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ---------------------------------------------------------------- results first

def test_run_saves_before_printing_so_a_closed_pipe_keeps_the_file(tmp_path):
    """``jaxsim run ... --out F | head -1`` with the reader gone before the first line: the
    results are on disk, and the closed pipe ends the command quietly (no traceback)."""
    out = tmp_path / "p.npz"
    proc = subprocess.Popen([sys.executable, "-m", "jaxsim.cli", *RUN, "--hp", "gamma=0.1,0.2", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    proc.stdout.close()  # unbuffered stdout: the first print meets a closed pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141, err
    assert "Traceback" not in err and "Broken pipe" not in err, err
    res = SweepResult.load(out)
    assert res.metrics["loss_gap"].shape == (1, 2, 3)


@pytest.mark.parametrize("argv, option", [
    ([*RUN, "--out", ""], "--out"),
    ([*RUN, "--out", "  "], "--out"),
    ([*RUN, "--checkpoint-dir", ""], "--checkpoint-dir"),
    (["replot", ".", "--out", ""], "--out"),
    (["--compile-cache", "", "list"], "--compile-cache"),
])
def test_empty_output_paths_are_refused_naming_the_option(argv, option, capsys, no_compile):
    assert cli.main(argv) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f"jaxsim: error: {option}: empty path"), line


# ---------------------------------------------------------------- damaged files

def _result():
    """A small valid result, built without simulating."""
    S, G, P = 2, 3, 4
    rng = np.random.default_rng(0)
    return SweepResult(method="asgd", dims=("seed", "gamma", "point"),
                       coords={"seed": np.arange(S), "gamma": np.array([0.1, 0.2, 0.4])},
                       metrics={"loss": rng.random((S, G, P)), "diverged": np.zeros((S, G, P), bool)},
                       time=np.tile(np.linspace(0, 1, P), (S, 1)), info={"n": 3})


def _npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def _damaged(tmp_path):
    """``{what: path}``: files :meth:`SweepResult.load` must refuse."""
    good = _result().save(tmp_path / "good.npz").read_bytes()
    header = json.dumps(dict(method="asgd", dims=["seed", "gamma", "point"], fixed={}, info={},
                             metrics=["loss"], coords=["seed", "gamma"]))
    files = {
        "zero bytes": b"",
        "random bytes": np.random.default_rng(1).bytes(4000),
        "a pickle": b"\x80\x04\x95" + bytes(64),
        "text": b"hello, world\n" * 20,
        **{f"truncated at {k}": good[:k] for k in (1, 10, 100, len(good) // 2, len(good) - 1)},
        "one flipped byte in the data": good[:200] + bytes([good[200] ^ 0xFF]) + good[201:],
    }
    out = {}
    for what, data in files.items():
        out[what] = tmp_path / f"{what.replace(' ', '_')}.npz"
        out[what].write_bytes(data)
    out["a .npy array"] = tmp_path / "array.npz"
    np.save(open(out["a .npy array"], "wb"), np.zeros(3))
    out["no header"] = _npz(tmp_path / "no_header.npz", x=np.zeros(3))
    out["an object array"] = _npz(tmp_path / "obj.npz", header=np.array([{"a": 1}], dtype=object))
    out["header not JSON"] = _npz(tmp_path / "bad_json.npz", header=np.array("{not json"))
    out["header a list"] = _npz(tmp_path / "list.npz", header=np.array("[1, 2]"))
    out["header without method"] = _npz(tmp_path / "nomethod.npz", header=np.array(json.dumps({"dims": []})))
    out["missing entries"] = _npz(tmp_path / "missing.npz", header=np.array(header), time=np.zeros((1, 2)))
    out["shapes that disagree"] = _npz(
        tmp_path / "shapes.npz", header=np.array(header), time=np.zeros((1, 2)), **{
            "coord/seed": np.arange(1), "coord/gamma": np.array([0.1, 0.2]), "metric/loss": np.zeros((1, 3, 2))})
    out["a folder"] = tmp_path / "folder.npz"
    out["a folder"].mkdir()
    return out


def test_damaged_result_files_give_one_line_naming_the_file(tmp_path):
    for what, path in _damaged(tmp_path).items():
        with pytest.raises(ValueError) as e:
            SweepResult.load(path)
        msg = str(e.value)
        assert str(path) in msg and "\n" not in msg, (what, msg)
        assert "allow_pickle" not in msg and "pickle.load" not in msg, (what, msg)
    with pytest.raises(FileNotFoundError, match="no such file"):
        SweepResult.load(tmp_path / "nothing_here.npz")


def test_every_truncation_of_a_saved_result_is_refused_or_exact(tmp_path):
    """A save cut anywhere (a copy that died, a full disk) never loads as different numbers."""
    res = _result()
    good = res.save(tmp_path / "good.npz").read_bytes()
    cut = tmp_path / "cut.npz"
    for k in np.unique(np.linspace(0, len(good) - 1, 60).astype(int)):
        cut.write_bytes(good[:k])
        with pytest.raises(ValueError, match="cut.npz"):
            SweepResult.load(cut)
    assert np.array_equal(SweepResult.load(tmp_path / "good.npz").metrics["loss"], res.metrics["loss"])


def _figure_dir(tmp_path, manifest=None):
    d = tmp_path / "fig"
    (d / "results").mkdir(parents=True, exist_ok=True)
    manifest = dict(figure="ringmaster-quadratic", config={}, forms="paper", results=["x"], seconds=1.0) \
        if manifest is None else manifest
    (d / "figure.json").write_text(manifest if isinstance(manifest, str) else json.dumps(manifest))
    return d


@pytest.mark.parametrize("manifest, says", [
    ("garbage{", "not valid JSON"), ("", "not valid JSON"), ("{}", "lacks the field"), ("[1, 2]", "JSON list"),
    ('{"figure": 3, "config": {}, "forms": "paper", "results": ["x"], "seconds": 1}', "wrong type"),
    ('{"figure": "nope", "config": {}, "forms": "paper", "results": ["x"], "seconds": 1}', "unknown figure"),
    ('{"figure": "ringmaster-quadratic", "config": {"bogus": 1}, "forms": "paper", "results": ["x"], '
     '"seconds": 1}', "unknown field"),
    ('{"figure": "ringmaster-quadratic", "config": {}, "forms": "paper", "results": ["../../x"], "seconds": 1}',
     "wrong type or value"),
])
def test_replot_of_a_damaged_figure_json_names_it(tmp_path, capsys, manifest, says):
    d = _figure_dir(tmp_path, manifest)
    assert cli.main(["replot", str(d)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert str(d / "figure.json") in line and says in line, line


def test_replot_of_damaged_results_names_the_file(tmp_path, capsys):
    d = _figure_dir(tmp_path)
    assert cli.main(["replot", str(d)]) == 2  # the listed result is missing
    line = _one_line(capsys.readouterr().err)
    assert str(d / "results" / "x.npz") in line and "missing" in line, line
    (d / "figure.json").write_bytes(b"\xff\xfe\x00garbage")  # not even text
    assert cli.main(["replot", str(d)]) == 2
    assert str(d / "figure.json") in _one_line(capsys.readouterr().err)
    _figure_dir(tmp_path)
    (tmp_path / "r").mkdir()
    for what, path in _damaged(tmp_path / "r").items():
        if path.is_dir():
            continue
        (d / "results" / "x.npz").write_bytes(path.read_bytes())
        assert cli.main(["replot", str(d)]) == 2, what
        line = _one_line(capsys.readouterr().err)
        assert str(d / "results" / "x.npz") in line and "allow_pickle" not in line, (what, line)


# ---------------------------------------------------------------- interrupts

INTERRUPTED = textwrap.dedent("""
    import functools, pathlib, signal, sys, time
    import jaxsim, jaxsim.cli
    import jaxsim.sim.runner as runner

    signal.signal(signal.SIGINT, signal.default_int_handler)  # a terminal's Ctrl-C, even when started in background
    marker = pathlib.Path(sys.argv[1])
    jaxsim.sweep = functools.partial(jaxsim.sweep, batch_size=1)  # one batch per setting
    real, calls = runner.run_batch, []

    def batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # two batches finished and saved: wait for Ctrl-C
            marker.write_text("waiting")
            time.sleep(300)
        return real(*args, **kwargs)

    runner.run_batch = batch
    sys.exit(jaxsim.cli.main(sys.argv[2:]))
""")


def test_ctrl_c_keeps_finished_batches_says_how_to_resume_and_exits_130(tmp_path, monkeypatch, capsys):
    script, marker, ck = tmp_path / "interrupted.py", tmp_path / "waiting", tmp_path / "ck"
    script.write_text(INTERRUPTED)
    argv = [*RUN, "--hp", "gamma=0.1,0.2,0.4", "--checkpoint-dir", str(ck)]
    # one device: a batch per setting (on two, a batch holds a setting per device)
    proc = subprocess.Popen([sys.executable, str(script), str(marker), *argv], env=dict(_env(), JAXSIM_CPU_DEVICES="1"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < 240, "the third batch never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    line = _one_line(err)
    assert f"2 finished batches kept in {ck}" in line and "run the same command again to resume" in line, line
    assert len(list(ck.glob("batch-*.npz"))) == 2 and not list(ck.glob(".*.tmp"))

    # what the line promises: the same command computes only the missing batch
    calls = []
    monkeypatch.setattr(jaxsim, "sweep", functools.partial(jaxsim.sweep, batch_size=1))
    real = runner.run_batch
    monkeypatch.setattr(runner, "run_batch", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    assert cli.main(argv) == 0
    assert len(calls) == 1 and len(list(ck.glob("batch-*.npz"))) == 3


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_ctrl_c_without_checkpoints_says_nothing_was_kept(monkeypatch, capsys):
    monkeypatch.setattr(jaxsim, "sweep", _interrupt)
    assert cli.main(RUN) == 130
    line = _one_line(capsys.readouterr().err)
    assert "interrupted: nothing was kept" in line and "--checkpoint-dir" in line, line


def test_ctrl_c_during_a_figure_says_what_was_kept(tmp_path, monkeypatch, capsys):
    from jaxsim.figures import base

    out = tmp_path / "fig"
    monkeypatch.setattr(base, "main", _interrupt)
    assert cli.main(["figure", "ringmaster-quadratic", "--out", str(out)]) == 130
    assert "nothing was kept" in _one_line(capsys.readouterr().err)

    def saved_then_interrupted(module, argv, **kwargs):
        out.mkdir(exist_ok=True)
        (out / "figure.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(base, "main", saved_then_interrupted)
    assert cli.main(["figure", "ringmaster-quadratic", f"--out={out}"]) == 130
    line = _one_line(capsys.readouterr().err)
    assert f"saved in {out}" in line and f"jaxsim replot {out}" in line, line


def test_stray_temporary_files_are_removed_on_the_next_run(tmp_path):
    ck = tmp_path / "ck"
    ck.mkdir()
    stray = [ck / ".batch-0123abcd.npz.k2j4h5.tmp", ck / ".manifest.json.x8y9.tmp"]
    for f in stray:
        f.write_bytes(b"")  # what a kill mid-save leaves
    other = ck / ".notes.tmp"  # not one of the checkpoint's own files
    other.write_bytes(b"mine")
    jaxsim.sweep("asgd", PROB, TIMING, grid={"gamma": [0.1]}, horizon=5.0, num_points=2, checkpoint_dir=ck)
    assert not any(f.exists() for f in stray) and other.exists()
    assert len(list(ck.glob("batch-*.npz"))) == 1

    # a saved result's folder too, on the next save of that file
    left = tmp_path / ".r.npz.abc123.tmp"
    left.write_bytes(b"partial")
    _result().save(tmp_path / "r.npz")
    assert not left.exists()


def test_a_live_writers_temporary_file_is_kept(tmp_path):
    """A temporary file whose writer still holds it (another process saving into the same
    checkpoint folder) is not removed; once released, it is."""
    fcntl = pytest.importorskip("fcntl")
    live = tmp_path / ".batch-feed.npz.live.tmp"
    live.write_bytes(b"")
    with open(live, "rb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        assert remove_stale_temporaries(tmp_path, ".batch-*.tmp") == [] and live.exists()
    assert remove_stale_temporaries(tmp_path, ".batch-*.tmp") == [live] and not live.exists()


# ---------------------------------------------------------------- types

@pytest.mark.parametrize("dtype, says", [
    (jnp.int32, "integer"), (np.int64, "integer"), (jnp.complex64, "complex"), ("float8_e4m3fn", "float8"),
    ("not-a-type", "not a dtype"),
])
def test_problem_builders_refuse_non_float_types(dtype, says, no_compile):
    for build in (lambda: jaxsim.worst_case_quadratic(d=4, dtype=dtype),
                  lambda: heterogeneous_quadratic(np.ones((2, 3)), dtype=dtype),
                  lambda: make_logistic(num_workers=2, samples_per_worker=4, dim=3, dtype=dtype)):
        with pytest.raises(ValueError, match="dtype") as e:
            build()
        assert says in str(e.value)


@pytest.mark.skipif(jax.config.jax_enable_x64, reason="x64 is on: float64 runs")
def test_float64_without_x64_is_refused_not_downcast(no_compile):
    with pytest.raises(ValueError, match="dtype: float64 needs JAX's 64-bit mode"):
        jaxsim.worst_case_quadratic(d=4, dtype=jnp.float64)
    with pytest.raises(ValueError, match="float64"):
        check_dtype(np.float64, "problem")
    for ok in (jnp.float16, jnp.bfloat16, jnp.float32, "float32"):
        assert check_dtype(ok).name in ("float16", "bfloat16", "float32")


@pytest.mark.filterwarnings("ignore:scatter inputs have incompatible types:FutureWarning")  # init of an int problem
@pytest.mark.parametrize("dtype, says", [(jnp.int32, "integer"), (jnp.complex64, "complex")])
def test_sweep_refuses_a_problem_of_another_type_before_compiling(dtype, says, no_compile):
    """A problem built by hand (not through a builder) with integer or complex parameters."""
    prob = WorstCaseQuadratic(noise_scale=jnp.asarray(1, dtype), d=3, L=1.0, noise="scalar", curvature=None)
    assert prob.dtype == dtype
    with pytest.raises(ValueError, match=rf"problem: parameters of type \w+ \(an? {says} type"):
        jaxsim.sweep("asgd", prob, TIMING, grid={"gamma": [0.1]}, horizon=5.0, num_points=2)


# ---------------------------------------------------------------- durations

D = np.ones((3, 10))


@pytest.mark.parametrize("durations, says", [
    (np.ones((3, 0)), "no jobs"), (np.full((3, 10), "1.0"), "real numbers"), (D.astype(np.complex64), "complex"),
    (D.astype(bool), "real numbers"), (np.array([[1.0, 2.0], [1.0], [3.0]], dtype=object), "real numbers"),
    ([[1.0, 2.0], [1.0], [3.0]], "ragged"), (np.where(np.eye(3, 10) > 0, -np.inf, 1.0), "> 0"),
    (np.full((3, 10), np.nan), "NaN"), (np.ones((3, 10, 1)), "2-D"), (np.ones(3), "2-D"),
    (np.ones((2, 10)), "workers"),
])
def test_bad_durations_are_refused_naming_the_field(durations, says, no_compile):
    with pytest.raises(ValueError, match="durations") as e:
        jaxsim.simulate("asgd", PROB, TIMING, hparams={"gamma": 0.1}, horizon=5.0, num_points=2, durations=durations)
    assert says in str(e.value)


def test_integer_and_infinite_durations_are_accepted(no_compile):
    from jaxsim.timing import validate_durations

    d = validate_durations(np.array([[1, 2], [3, 4]]), 2)
    assert d.dtype == np.float64 and d.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert np.isinf(validate_durations(np.array([[1.0, np.inf]]), 1)).any()


# ---------------------------------------------------------------- grids

@pytest.mark.parametrize("grid, says", [
    ({"gamma": [0.1, 0.1]}, "duplicate grid value"),
    ({"gamma": [0.1, 0.2, 0.1]}, "duplicate grid value"),
    ({"gamma": [0.1, 0.1 + 1e-12]}, "the same float32 number"),
    ({"gamma": [0.1, 0.2], "R": [2, 2]}, "duplicate grid value"),
])
def test_grid_values_equal_in_the_run_type_are_refused(grid, says, no_compile):
    with pytest.raises(ValueError, match=says) as e:
        jaxsim.sweep("ringmaster", PROB, TIMING, grid=grid, horizon=5.0, num_points=2)
    assert "hyperparameter" in str(e.value)


def test_close_but_distinct_grid_values_pass_the_check(no_compile):
    from jaxsim.methods import make_method
    from jaxsim.sweep import _split_grid

    axes, _ = _split_grid(make_method("ringmaster"), {"gamma": [0.1, 0.1000001], "R": [1, 2]}, jnp.float32)
    assert len(axes["gamma"]) == 2 and len(axes["R"]) == 2
    with pytest.raises(ValueError, match="the same float16 number"):  # the check follows the run's type
        _split_grid(make_method("ringmaster"), {"gamma": [0.1, 0.1000001]}, jnp.float16)


# ---------------------------------------------------------------- the command line names its options

@pytest.mark.parametrize("extra, option", [
    (["--problem", "het_quadratic", "--data-seed", "-1"], "--data-seed"),
    (["--problem", "lm", "--data-seed", "-1"], "--data-seed"),
    (["--problem", "het_quadratic", "--data-seed", str(2 ** 32)], "--data-seed"),
    (["--seeds", "-1"], "--seeds"), (["--seeds", "x"], "--seeds"), (["--seeds", "1", "1"], "--seeds"),
    (["--horizon", "-1"], "--horizon"), (["--horizon", "inf"], "--horizon"), (["--horizon", "nan"], "--horizon"),
    (["--noise-scale", "-1"], "--noise-scale"), (["--curvature", "nan"], "--curvature"),
    (["--problem", "logistic", "--samples", "4", "--l2", "-1"], "--l2"),
    (["--problem", "logistic", "--samples", "4", "--heterogeneity", "-1"], "--heterogeneity"),
    (["--problem", "logistic", "--samples", "4", "--batch", "9"], "--batch"),
    (["--hp", "gamma=0.1,0.1"], "--hp gamma"), (["--hp", "gamma=0.1,0.1000000000001"], "--hp gamma"),
    (["--hp", "gamma=-1"], "--hp gamma"), (["--hp", "lr=1"], "--hp"), (["--devices", "4096"], "--devices"),
    (["--points", "0"], "--points"),
])
def test_cli_errors_name_the_option(extra, option, capsys, no_compile):
    try:
        rc = cli.main([*RUN, *extra])
    except SystemExit as e:  # argparse's own check of the value
        rc = e.code
    assert rc == 2
    line = _one_line(capsys.readouterr().err)
    assert f"error: {option}:" in line or f"error: argument {option}:" in line, line


def test_cpu_devices_is_bounded_before_xla_starts(capsys, monkeypatch):
    import jaxsim.runtime.cpu_devices as cd

    use_cpu_devices = cd.use_cpu_devices  # the library's function, taken before the CLI's path is stubbed
    flags = os.environ.get("XLA_FLAGS")
    monkeypatch.setattr(cd, "use_cpu_devices", lambda k: pytest.fail("reached use_cpu_devices"))
    with pytest.raises(SystemExit) as e:
        cli.main(["--cpu-devices", str(max_cpu_devices() + 1), "list"])
    assert e.value.code == 2 and os.environ.get("XLA_FLAGS") == flags
    line = _one_line(capsys.readouterr().err)
    assert "argument --cpu-devices:" in line and f"at most {max_cpu_devices()}" in line, line
    k = max_cpu_devices() + 1
    with pytest.raises(ValueError, match=f"cpu_devices: {k} is more than 4 devices per core"):
        use_cpu_devices(k)  # the library's check, also before XLA reads the flag
