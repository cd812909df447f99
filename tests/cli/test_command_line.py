"""The command line and the figure pipeline, at tiny sizes."""

import importlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from jaxsim import REGISTRY, cli
from jaxsim.figures import FIGURES, describe
from jaxsim.figures import ringmaster_quadratic as rq
from jaxsim.problems import PROBLEMS
from jaxsim.sweep import SweepResult


def test_list_names_every_registered_method(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    lines = [ln.strip() for ln in out.splitlines()]
    for name in REGISTRY:
        assert name in lines
    for header in ("methods:", "problems:", "timing base profiles:", "timing noise laws:", "figures:"):
        assert header in lines
    assert "quadratic" in lines and "ringmaster-quadratic" in lines


def test_run_prints_summary_and_saves(tmp_path, capsys):
    out_file = tmp_path / "rm.npz"
    rc = cli.main(["run", "ringmaster", "--n", "4", "--d", "3", "--horizon", "20", "--points", "4",
                   "--seeds", "0", "1", "--hp", "gamma=0.05,0.1", "R=1,2", "--out", str(out_file)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "best (final loss_gap)" in out and "diverged runs 0 of 8" in out
    res = SweepResult.load(out_file)
    assert res.dims == ("seed", "gamma", "R", "point")
    np.testing.assert_allclose(res.coords["gamma"], [0.05, 0.1])


@pytest.mark.parametrize("method", ["rennala_stops", "fta"])
def test_run_controlled_and_allocation_methods(method, capsys):
    """Every engine's results print the same summary (controlled and allocation loops too)."""
    assert cli.main(["run", method, "--n", "3", "--d", "2", "--horizon", "10", "--points", "2",
                     "--hp", "gamma=0.1", "B=2"]) == 0
    assert "gradients received" in capsys.readouterr().out


def test_run_bad_input_exits_with_message(capsys):
    assert cli.main(["run", "ringmaster", "--hp", "gamma=-1"]) == 2
    assert "gamma" in capsys.readouterr().err
    assert cli.main(["run", "no-such-method"]) == 2


def test_bench_json_last_line_has_required_keys(capsys, monkeypatch):
    from jaxsim import bench

    real = bench.run
    monkeypatch.setattr(bench, "run", lambda events, d: real(n=6, d=d, events=events, seeds=2, gammas=2,
                                                             thresholds=(1, 2), repeats=1, reference_runs=1))
    assert cli.main(["bench", "--json", "--events", "300", "--d", "3"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    r = json.loads(last)
    assert r["d"] == 3
    for key in ("engine_run_events_per_s", "reference_run_events_per_s", "sync_run_events_per_s",
                "speedup_vs_reference", "fraction_of_sync", "fraction_of_floor", "compile_s"):
        assert key in r and np.isfinite(r[key]) and r[key] >= 0
    assert r["runs"] == 2 * 2 * 2


@pytest.mark.parametrize("n, expected", [(6174, [6174, 1543, 385, 96, 24, 6, 1]), (1, [1]), (4, [4, 1])])
def test_thresholds_follow_the_paper(n, expected):
    assert rq.Config(n=n).thresholds == expected


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_figure_imports_documents_and_parses(name, capsys):
    """Each registered figure: a docstring whose first line `jaxsim list` shows, and `--help`."""
    mod = importlib.import_module(FIGURES[name])
    assert mod.__doc__ and mod.__doc__.strip()
    assert describe(name) == mod.__doc__.strip().splitlines()[0]
    assert cli.main(["list"]) == 0
    lines = [ln.strip() for ln in capsys.readouterr().out.splitlines()]
    assert name in lines and describe(name) in lines
    with pytest.raises(SystemExit) as exc:
        cli.main(["figure", name, "--help"])
    assert exc.value.code == 0
    assert f"jaxsim figure {name}" in capsys.readouterr().out


# ---- every user error is one line naming the field, exit code 2, no traceback --------

def _one_line_error(capsys, *fields):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("jaxsim") and "error:" in lines[0] and "Traceback" not in err, err
    for field in fields:
        assert field in lines[0], (field, err)
    return lines[0]


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if the CLI starts simulating (input errors must be caught before)."""
    import jaxsim

    def boom(*a, **k):
        raise AssertionError("simulated before checking the command line")

    monkeypatch.setattr(jaxsim, "sweep", boom)


@pytest.mark.parametrize("hp, fields", [
    (["gamma=abc"], ["--hp gamma", "could not parse 'abc' as a number"]),
    (["gamma=0.1,,0.2"], ["--hp gamma", "could not parse"]),
    (["gamma="], ["--hp gamma", "no value"]),
    (["gamma=0.1", "gamma=0.2"], ["--hp gamma", "given twice"]),
    (["gamma=0.1", "--hp", "gamma=0.2"], ["--hp gamma", "given twice"]),  # repeated --hp accumulate
    (["gamma"], ["--hp", "name=value"]),
    (["=0.1"], ["--hp", "name=value"]),
])
def test_hp_errors_name_the_field(hp, fields, capsys, no_simulation):
    assert cli.main(["run", "ringmaster", "--hp", *hp]) == 2
    _one_line_error(capsys, *fields)


def test_hp_values_parse_exactly():
    assert cli._parse_hp(["gamma=0.5,1e-2,3", "R=4294967297"]) == {"gamma": [0.5, 0.01, 3], "R": 4294967297}
    assert isinstance(cli._parse_hp(["R=2"])["R"], int) and isinstance(cli._parse_hp(["g=2.0"])["g"], float)


def test_out_unwritable_is_refused_before_simulating(tmp_path, capsys, no_simulation):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert cli.main(["run", "ringmaster", "--out", str(a_file / "sub" / "rm.npz")]) == 2
    _one_line_error(capsys, "--out", "not a directory")
    assert cli.main(["run", "ringmaster", "--out", str(tmp_path)]) == 2  # a directory where a file is expected
    _one_line_error(capsys, "--out", "is a directory")


def test_figure_out_existing_file_is_one_line_error(tmp_path, capsys, monkeypatch):
    from jaxsim import figures

    monkeypatch.setattr(figures, "load", lambda name: pytest.fail("ran the figure"))
    a_file = tmp_path / "summary.txt"
    a_file.write_text("x")
    for opts in (["--out", str(a_file)], [f"--out={a_file}"], ["--out", str(a_file / "deeper")]):
        assert cli.main(["figure", "rescaled-bias", *opts]) == 2
        _one_line_error(capsys, "--out")


def test_parse_errors_and_library_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "ringmaster", "--d", "-3"])
    assert exc.value.code == 2
    _one_line_error(capsys, "--d", "positive integer")
    assert cli.main(["run", "ringmaster", "--n", "3", "--d", "2", "--hp", "gamma=-1"]) == 2  # the library's check
    _one_line_error(capsys, "gamma")
    assert cli.main(["run", "ringmaster", "--select", "nonsense"]) == 2
    _one_line_error(capsys, "--select")


# ---- every problem `jaxsim list` shows runs from the CLI with its own options -----------------

TINY_RUN = ["--n", "2", "--horizon", "6", "--points", "2", "--hp", "gamma=0.01,0.05"]


@pytest.fixture
def mnist_folder(shared_dir, tmp_path):
    """``(folder, options)``: the shared MNIST test files when present, else tiny IDX files written here."""
    folder = shared_dir / "data" / "mnist" if shared_dir is not None else None
    if folder is not None and (folder / "t10k-images-idx3-ubyte.gz").is_file():
        return folder, ["--data-part", "test", "--max-samples", "40"]
    import gzip
    import struct

    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (40, 4, 4)).astype(np.uint8), (np.arange(40) % 10).astype(np.uint8)
    for name, arr in (("train-images-idx3-ubyte.gz", images), ("train-labels-idx1-ubyte.gz", labels)):
        head = bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
        (tmp_path / name).write_bytes(gzip.compress(head + arr.tobytes()))
    return tmp_path, []


def _problem_args(name, mnist_folder, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a small corpus for a tiny language model run. " * 40)
    return {
        "quadratic": ["--d", "3"],
        "het_quadratic": ["--d", "2", "--heterogeneity", "0.5", "--noise-scale", "0.1"],
        "logistic": ["--d", "3", "--samples", "6", "--batch", "2"],
        "mnist_mlp": ["--data", str(mnist_folder[0]), *mnist_folder[1], "--hidden", "3", "--split", "iid"],
        "lm": ["--data", str(corpus), "--batch", "2"],
        "component_logistic": ["--d", "3", "--samples", "6"],
    }[name]  # a KeyError here: a newly listed problem needs its CLI options in this test


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_every_listed_problem_runs_from_the_cli(name, mnist_folder, capsys, tmp_path):
    assert cli.main(["list"]) == 0
    assert name in [ln.strip() for ln in capsys.readouterr().out.splitlines()]
    assert cli.main(["run", "asgd", "--problem", name, *_problem_args(name, mnist_folder, tmp_path), *TINY_RUN]) == 0
    out = capsys.readouterr().out
    assert "gradients received" in out and "diverged runs 0 of 2" in out
    selected = "loss_gap" if name in ("quadratic", "het_quadratic", "component_logistic") else "loss"  # f* known?
    assert f"best (final {selected})" in out


def test_problem_options_are_checked(capsys, no_simulation, tmp_path):
    assert cli.main(["run", "asgd", "--problem", "mnist_mlp"]) == 2
    _one_line_error(capsys, "--data", "mnist_mlp")
    assert cli.main(["run", "asgd", "--problem", "mnist_mlp", "--data", str(tmp_path / "none")]) == 2
    _one_line_error(capsys, "--data")
    assert cli.main(["run", "asgd", "--problem", "quadratic", "--alpha", "0.5"]) == 2
    _one_line_error(capsys, "--alpha", "'quadratic' does not take it")
    assert cli.main(["run", "asgd", "--problem", "logistic", "--split", "iid"]) == 2  # only with --data
    _one_line_error(capsys, "--split", "--data")
    assert cli.main(["run", "asgd", "--problem", "logistic", "--select", "loss_gap"]) == 2
    _one_line_error(capsys, "--select", "f*")
    assert cli.main(["run", "asgd", "--problem", "no_such_problem"]) == 2
    _one_line_error(capsys, "--problem")


def test_problem_options_follow_the_builders():
    """Only options whose parameter the builder's signature has are passed; an option several
    problems declare is read the same way by all of them (the parser builds)."""
    import inspect

    from jaxsim.problems import PROBLEMS

    for name in PROBLEMS:
        opts = cli.problem_options(name)
        params = inspect.signature(cli.problem_builder(name)).parameters
        assert all(p in params for p in opts.values()), name
        required = [p for p, v in params.items() if v.default is inspect.Parameter.empty]
        assert set(required) <= set(opts.values()), (name, required)
    assert cli.problem_options("mnist_mlp")["n"] == "num_workers"
    assert "d" not in cli.problem_options("mnist_mlp")
    assert cli.build_parser() is not None


# ---- honest metric names ---------------------------------------------------------------------

def _ls_problem(f_star=None):
    import jax
    import jax.numpy as jnp

    from jaxsim.problems import from_loss

    X = jnp.asarray(np.random.default_rng(0).normal(size=(8, 2)), jnp.float32)

    def loss_fn(w, batch):
        return 0.5 * jnp.sum(w ** 2) + 0.0 * jnp.sum(batch)

    return from_loss(loss_fn, lambda key, w, data: data[jax.random.randint(key, (2,), 0, 8)],
                     lambda w, data: 0.5 * jnp.sum(w ** 2) + 1.0, jnp.ones(2), data=X, f_star=f_star)


def test_loss_is_recorded_and_loss_gap_only_with_f_star():
    import jaxsim

    timing = jaxsim.make_timing(2, "one_plus_sqrt")
    plain = jaxsim.sweep("asgd", _ls_problem(), timing, grid={"gamma": [0.1, 1e6]}, horizon=20.0, num_points=3)
    assert "loss" in plain.metrics and "loss_gap" not in plain.metrics  # f(x) is not labelled a gap
    np.testing.assert_allclose(plain.metrics["loss"][0, 0, 0], 2.0, rtol=1e-6)  # f(x0) = 1/2 |x0|^2 + 1
    with pytest.raises(ValueError, match="'loss'"):
        plain.best("loss_gap")
    assert plain.best("loss")["hparams"] == {"gamma": 0.1}
    # gamma = 1e6 blows f up: the server's flag counts a non-finite loss as divergence
    assert not np.isfinite(plain.metrics["loss"][0, 1, -1]) and plain.metrics["diverged"][0, 1, -1]
    known = jaxsim.sweep("asgd", _ls_problem(f_star=1.0), timing, grid={"gamma": [0.1]}, horizon=20.0,
                         num_points=3)
    np.testing.assert_allclose(known.metrics["loss"] - known.metrics["loss_gap"], 1.0, rtol=1e-6)
    assert known.best("loss_gap")["index"] == known.best("loss")["index"]


# ---- CLI conventions -------------------------------------------------------------------------

RST = ("``", "`", ":func:", ":class:", ":meth:", ":mod:", ":data:", ":attr:")


@pytest.mark.parametrize("argv", [[], ["list"], ["run"], ["bench"], ["figure"], ["replot"], ["live"], ["replay"]])
def test_help_is_plain_text_with_defaults(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([*argv, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert not [m for m in RST if m in out], out
    if argv == ["run"]:
        flat = " ".join(out.split())  # help text is wrapped to the terminal width
        assert "(default: 200.0)" in flat and "(default: 100)" in flat and "(default: quadratic)" in flat


def test_every_option_of_every_subcommand_has_help():
    parser = cli.build_parser()
    subs = parser._subparsers._group_actions[0].choices
    assert set(subs) == {"list", "run", "check", "bench", "figure", "replot", "live", "replay"}
    for name, p in [("jaxsim", parser), *subs.items()]:
        for action in p._actions:
            assert action.help and action.help.strip(), (name, action.dest)


def test_version(capsys):
    import importlib.metadata

    import jaxsim

    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"jaxsim {jaxsim.__version__}"
    assert jaxsim.__version__ == importlib.metadata.version("jaxsim-asgd")


def test_run_json_is_one_object(tmp_path, capsys):
    out_file = tmp_path / "rm.npz"
    rc = cli.main(["run", "ringmaster", "--n", "4", "--d", "3", "--horizon", "20", "--points", "4",
                   "--seeds", "0", "1", "--hp", "gamma=0.05,0.1", "R=1,2", "--json", "--out", str(out_file)])
    assert rc == 0
    s = json.loads(capsys.readouterr().out)
    assert s["method"] == "ringmaster" and s["grid_sizes"] == {"gamma": 2, "R": 2} and s["seeds"] == [0, 1]
    assert s["runs"] == 8 and s["diverged"] == 0
    assert s["best"]["metric"] == "loss_gap" and set(s["best"]["hparams"]) == {"gamma", "R"}
    for m in ("loss_gap", "loss", "grad_norm_sq", "updates"):
        assert np.isfinite(s["final"][m]["median"])
    assert SweepResult.load(s["saved"]).dims == ("seed", "gamma", "R", "point")


def test_list_shows_every_nameable_thing(capsys):
    from jaxsim.timing.speed import SpeedProfile
    from jaxsim.sweep import METRICS

    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    lines = [ln.strip() for ln in out.splitlines()]
    for header in ("speed profiles:", "metrics:"):
        assert header in lines
    for name in ("constant", "periodic", "outages", "trend", "trace"):
        assert callable(getattr(SpeedProfile, name)) and f"SpeedProfile.{name}(" in out
    for name in (*METRICS, "loss"):
        assert name in lines
    assert any(ln.startswith("--hp gamma=0.01") and "R=1" in ln for ln in lines)  # ringmaster's hyperparameters
    assert any(ln.startswith("options:") and "--data (required)" in ln for ln in lines)  # mnist_mlp


# ---- two commands on a fresh clone -----------------------------------------------------------

def test_make_targets_create_the_environment_and_ci_calls_make_test():
    import shutil
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    first_block = readme.split("```bash", 1)[1].split("```", 1)[0]
    assert "make figure" in first_block and "make test" in first_block
    assert "make test" in (root / ".ci" / "run").read_text()
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry = subprocess.run(["make", "-n", "-B", "test", "figure"], cwd=root, capture_output=True, text=True,
                         check=True).stdout
    assert "-m venv .venv" in dry and 'pip install -e ".[test]"' in dry
    assert "-m pytest -q" in dry and "jaxsim figure ringmaster-quadratic --quick --out out/" in dry


def test_compile_cache_flag_points_jax_at_the_folder(tmp_path):
    import jax

    before = jax.config.jax_compilation_cache_dir
    folder = tmp_path / "kernels"
    try:
        assert cli.main(["--compile-cache", str(folder), "list"]) == 0
        assert jax.config.jax_compilation_cache_dir == str(folder) and folder.is_dir()
    finally:
        jax.config.update("jax_compilation_cache_dir", before)


def test_compile_cache_that_cannot_be_a_folder_is_a_one_line_error(tmp_path, capsys):
    import jax

    before = jax.config.jax_compilation_cache_dir
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli.main(["--compile-cache", str(blocker / "sub"), "list"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--compile-cache" in err[0]
    assert jax.config.jax_compilation_cache_dir == before


def test_compile_cache_from_the_environment(tmp_path):
    folder = tmp_path / "env-kernels"
    out = subprocess.run([sys.executable, "-c", "import jaxsim, jax; print(jax.config.jax_compilation_cache_dir)"],
                         env={**os.environ, "JAXSIM_COMPILE_CACHE": str(folder)}, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == str(folder) and folder.is_dir()


def test_compile_cache_from_the_environment_that_cannot_be_a_folder_warns(tmp_path):
    """``import jaxsim`` with ``JAXSIM_COMPILE_CACHE`` naming a folder that cannot be made: one
    warning naming the variable and the folder, the cache off, and the import succeeds."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    folder = blocker / "sub"
    out = subprocess.run([sys.executable, "-c", "import jaxsim, jax; print(jax.config.jax_compilation_cache_dir)"],
                         env={**os.environ, "JAXSIM_COMPILE_CACHE": str(folder)}, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None"
    warned = [ln for ln in out.stderr.splitlines() if "JAXSIM_COMPILE_CACHE" in ln]
    assert len(warned) == 1 and str(folder) in warned[0] and "stays off" in warned[0], out.stderr



# ---- jaxsim check and method options --------------------------------------------------------------

_WRONG_RULE = '''
import dataclasses

import jax.numpy as jnp

from jaxsim.methods import GAMMA, Decision, StreamMethod, reference_rule, register
from jaxsim.reference import Rule


@register
@dataclasses.dataclass(frozen=True)
class HalfRuleASGD(StreamMethod):
    name = "half_rule_asgd_cli_test"
    hparams = {"gamma": GAMMA}

    def on_arrival(self, state, a, hp):
        return state, Decision(direction=a.grad, step=hp["gamma"], update=jnp.asarray(True), used=jnp.asarray(True))


@reference_rule(HalfRuleASGD)
class HalfRule(Rule):
    def arrival(self, srv, worker, delay, g):
        srv.step(0.5 * self.hp["gamma"], g)  # deliberately not the engine's rule
        return True
'''


def test_check_passes_a_registered_method_and_a_user_file(capsys):
    assert cli.main(["check", "ringmaster_stops", "--configs", "1"]) == 0
    assert "ringmaster_stops (controlled clock): PASS" in capsys.readouterr().out
    path = os.path.join(os.path.dirname(__file__), "..", "user_methods", "smoothed_delay_asgd.py")
    assert cli.main(["check", path, "--configs", "1"]) == 0
    assert "PASS" in capsys.readouterr().out


def test_check_fails_a_wrong_reference_rule_naming_the_metric(tmp_path, capsys):
    path = tmp_path / "half_rule.py"
    path.write_text(_WRONG_RULE)
    try:
        assert cli.main(["check", str(path), "--configs", "1"]) == 1
    finally:
        REGISTRY.pop("half_rule_asgd_cli_test", None)
    out = capsys.readouterr().out
    assert "FAIL" in out and "loss_gap differs" in out


def test_check_refuses_what_is_neither_a_method_nor_a_file(capsys):
    assert cli.main(["check", "no_such_method"]) == 2
    assert "neither a registered method nor a file" in capsys.readouterr().err


def test_run_takes_method_options(capsys):
    args = ["run", "ringleader", "--problem", "het_quadratic", "--n", "3", "--d", "2", "--horizon", "10",
            "--points", "2"]
    assert cli.main(args + ["--opt", "redispatch=current"]) == 0
    assert cli.main(args + ["--opt", "redispatch=nowhere"]) == 2
    assert "--opt" in capsys.readouterr().err
    assert cli.main(["run", "asgd", "--opt", "nope=1"]) == 2
    assert "asgd has no such option; its options: skip_delay_above=None" in capsys.readouterr().err


# ---- honest summaries, checks before simulating, runs that can be made again ---------------

TINY_RM = ["run", "ringmaster", "--n", "4", "--d", "3", "--horizon", "20", "--points", "4", "--seeds", "0", "1"]


def test_summary_leaves_out_diverged_runs_and_says_how_many(capsys):
    """A diverged run (gamma = 1e6) no longer turns every statistic into nan: the text and the
    JSON summary give the statistics of the other runs and count those left out."""
    argv = TINY_RM + ["--hp", "gamma=0.05,1e6", "R=1,2"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    finals = [ln for ln in out.splitlines() if ln.strip().startswith("final ")]
    assert finals and all("(4 of 8 runs diverged, left out)" in ln and "nan" not in ln for ln in finals), out
    assert "diverged runs 4 of 8 (left out of the statistics above)" in out
    assert cli.main(argv + ["--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["runs"] == 8 and s["diverged"] == 4
    for m, st in s["final"].items():
        assert st["left_out"] == 4 and st["runs"] == 8 and np.isfinite(st["median"]), (m, st)
    assert s["best"]["hparams"]["gamma"] == 0.05


def test_summary_warns_of_an_edge_pick_and_of_a_grid_that_learned_nothing(capsys):
    assert cli.main(TINY_RM + ["--hp", "gamma=1e-9,2e-9", "--json"]) == 0  # too small to move
    s = json.loads(capsys.readouterr().out)
    b = s["best"]
    assert b["improved"] is False and b["value"] >= b["start"] and b["edges"] == {"gamma": "low"}  # a tie: the first
    assert s["warnings"] == [
        "the best setting sits on the grid's edge (gamma low): widen the grid",
        f"no setting ends below its start (loss_gap {b['start']:.3g} -> {b['value']:.3g}): the grid learned nothing"]
    assert cli.main(TINY_RM + ["--hp", "gamma=0.001,0.05,1e6", "R=1"]) == 0  # a pick inside the grid
    out = capsys.readouterr().out
    assert "best (final loss_gap): {'gamma': 0.05, 'R': 1}" in out and "warning" not in out, out
    # a value no grid can go past is no edge: R >= 1 (a count), a fraction <= 1
    assert cli._hard_bounds(cli._make_method("ringmaster", None))["R"] == (1, None)


@pytest.fixture
def unwritable_dir():
    """A folder that exists but where no file can be created, whatever the user (root included)."""
    if not os.path.isdir("/proc"):
        pytest.skip("no /proc here")
    try:
        open("/proc/jaxsim-probe", "w").close()
    except OSError:
        return "/proc"
    os.unlink("/proc/jaxsim-probe")
    pytest.skip("/proc is writable here")


def test_unwritable_out_fails_fast_before_anything_is_built(unwritable_dir, capsys, monkeypatch, no_simulation):
    """The folder exists and os.access may say it is writable (it does for root): creating a file
    there is what is checked, before the problem, the timing or the kernel are made."""
    monkeypatch.setattr(os, "access", lambda *a, **k: True)
    monkeypatch.setattr(cli, "_make_problem", lambda args: pytest.fail("built the problem"))
    assert cli.main(["run", "ringmaster", "--out", f"{unwritable_dir}/x.npz"]) == 2
    _one_line_error(capsys, "--out", f"cannot create a file in {unwritable_dir}")
    assert cli.main(["run", "ringmaster", "--checkpoint-dir", f"{unwritable_dir}/ckpt"]) == 2
    _one_line_error(capsys, "--checkpoint-dir", unwritable_dir)
    assert cli.main(["run", "ringmaster", "--out", f"{unwritable_dir}/no/such/folder/x.npz"]) == 2
    _one_line_error(capsys, "--out")


def test_figure_out_that_cannot_be_created_and_bad_options_are_one_line(unwritable_dir, capsys, monkeypatch):
    from jaxsim.figures import base

    monkeypatch.setattr(base, "run", lambda *a, **k: pytest.fail("simulated the figure"))
    for opts in (["--out", f"{unwritable_dir}/fig"], ["--ou", f"{unwritable_dir}/fig"]):  # abbreviated too
        assert cli.main(["figure", "ringmaster-quadratic", "--tiny", *opts]) == 2
        _one_line_error(capsys, "--out", unwritable_dir)
    with pytest.raises(SystemExit) as exc:
        cli.main(["figure", "ringmaster-quadratic", "--quick", "--gammas"])
    assert exc.value.code == 2
    line = _one_line_error(capsys, "--gammas", "expected at least one argument")
    assert line.startswith("jaxsim figure ringmaster-quadratic: error:") and "usage" not in line


def test_run_from_a_saved_run_gives_identical_arrays(tmp_path, capsys, monkeypatch):
    first, again = tmp_path / "first.npz", tmp_path / "again.npz"
    argv = ["run", "ringmaster", "--n", "3", "--d", "4", "--noise-scale", "0.3", "--noise", "exponential",
            "--base", "linear", "--horizon", "12", "--points", "3", "--seeds", "5", "7",
            "--hp", "gamma=0.05,0.2", "R=2", "--out", str(first)]
    assert cli.main(argv) == 0
    res = SweepResult.load(first)
    cmd, cfg = res.info["command"], res.info["config"]
    assert cmd["argv"] == ["jaxsim", *argv]
    assert cmd["run"]["noise_scale"] == 0.3 and cmd["run"]["method"] == "ringmaster"
    assert cfg["problem"]["registered"] == "quadratic" and cfg["problem"]["options"]["noise_scale"] == 0.3
    assert cfg["problem"]["params"]["d"] == 4 and cfg["method"] == "ringmaster"
    from jaxsim import make_timing
    from jaxsim.results.recipe import timing_from_config

    assert timing_from_config(cfg["timing"]) == make_timing(3, "linear", "exponential")
    monkeypatch.chdir(tmp_path)  # the recorded configuration, not the folder, makes the run
    capsys.readouterr()
    assert cli.main(["run", "--from", str(first), "--out", str(again), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["from"] == str(first)
    back = SweepResult.load(again)
    assert back.dims == res.dims and set(back.metrics) == set(res.metrics)
    for k in res.metrics:
        np.testing.assert_array_equal(back.metrics[k], res.metrics[k], err_msg=k)
    np.testing.assert_array_equal(back.time, res.time)
    for k in res.coords:
        np.testing.assert_array_equal(back.coords[k], res.coords[k])
    assert back.info["command"]["run"] == cmd["run"] and back.info["command"]["from"] == str(first)


def test_run_from_refuses_options_that_would_change_the_run(tmp_path, capsys, no_simulation):
    saved = tmp_path / "hand.npz"
    SweepResult(method="hand", dims=("seed", "point"), coords={"seed": np.arange(1)},
                metrics={"loss": np.zeros((1, 2))}, time=np.zeros((1, 2))).save(saved)
    assert cli.main(["run", "--from", str(saved)]) == 2  # saved from Python: no command line recorded
    _one_line_error(capsys, "--from", "records no 'jaxsim run' command line")
    for extra, named in ((["--n", "100"], "--n"), (["--hp", "gamma=1"], "--hp"), (["asgd"], "METHOD"),
                         (["--d", "3", "--seeds", "0"], "--d, --seeds")):
        assert cli.main(["run", "--from", str(saved), *extra]) == 2
        _one_line_error(capsys, "--from", named, "cannot be given with it")
    assert cli.main(["run", "--from", str(tmp_path / "missing.npz")]) == 2
    _one_line_error(capsys, "--from", "no such file")
    assert cli.main(["run"]) == 2
    _one_line_error(capsys, "METHOD", "--from FILE")
