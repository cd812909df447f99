"""The command line and the figure pipeline, at tiny sizes."""

import importlib
import json

import numpy as np
import pytest

from jaxsim import REGISTRY, cli
from jaxsim.figures import FIGURES, describe
from jaxsim.figures import ringmaster_quadratic as rq
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
    monkeypatch.setattr(bench, "run", lambda events: real(n=6, d=3, events=events, seeds=2, gammas=2,
                                                          thresholds=(1, 2), repeats=1, reference_runs=1))
    assert cli.main(["bench", "--json", "--events", "300"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    r = json.loads(last)
    for key in ("engine_run_events_per_s", "reference_run_events_per_s", "speedup_vs_reference",
                "fraction_of_floor", "compile_s"):
        assert key in r and np.isfinite(r[key]) and r[key] >= 0
    assert r["runs"] == 2 * 2 * 2


def test_figure_pipeline_tiny(tmp_path):
    cfg = rq.Config(n=6, d=3, horizon=20.0, seeds=(0, 1), gammas=(0.05, 0.2), num_points=5)
    assert cfg.thresholds == [6, 1]
    summary = rq.run(cfg, out=tmp_path, progress=False)
    assert (tmp_path / "ringmaster-quadratic.png").stat().st_size > 0
    assert json.loads((tmp_path / "summary.json").read_text())["methods"].keys() == summary["methods"].keys()
    for name, grid in rq.grids(cfg).items():
        res = SweepResult.load(tmp_path / f"{name}.npz")
        assert res.metrics["loss_gap"].shape[:-1] == (2,) + tuple(len(v) for v in grid.values())
        assert summary["methods"][name]["best"] == res.best("loss_gap")["hparams"]


@pytest.mark.parametrize("n, expected", [(6174, [6174, 1543, 385, 96, 24, 6, 1]), (1, [1]), (4, [4, 1])])
def test_thresholds_follow_the_paper(n, expected):
    assert rq.Config(n=n).thresholds == expected


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_figure_imports_documents_and_parses(name, capsys):
    """Each registered figure: a docstring whose first line `jaxsim list` shows, a `main`, and `--help`."""
    mod = importlib.import_module(FIGURES[name])
    assert mod.__doc__ and mod.__doc__.strip() and callable(mod.main)
    assert describe(name) == mod.__doc__.strip().splitlines()[0]
    assert cli.main(["list"]) == 0
    lines = [ln.strip() for ln in capsys.readouterr().out.splitlines()]
    assert name in lines and describe(name) in lines
    with pytest.raises(SystemExit) as exc:
        cli.main(["figure", name, "--help"])
    assert exc.value.code == 0
    assert f"jaxsim figure {name}" in capsys.readouterr().out
