"""Every registered figure end to end at its TINY size: sweeps, saved results with provenance,
summary with a verdict on the paper's claim, PNG and PDF; ``jaxsim replot`` redraws the same
PNG byte for byte from the saved files alone."""

import dataclasses
import json

import pytest

from jaxsim import cli
from jaxsim.figures import FIGURES, base, load
from jaxsim.figures import verdict as V
from jaxsim.sweep import SweepResult

NAMES = sorted(FIGURES)


def tiny(module, mnist_dir):
    cfg = module.TINY
    if "data" in {f.name for f in dataclasses.fields(cfg)} and cfg.data is None:
        cfg = dataclasses.replace(cfg, data=str(mnist_dir))
    return cfg


@pytest.fixture(scope="module")
def runs(tmp_path_factory, mnist_dir):
    """Each figure run once at TINY (its first form), shared by the tests below."""
    done = {}

    def get(name):
        if name not in done:
            module = load(name)
            out = tmp_path_factory.mktemp(name)
            done[name] = (module, out, base.run(module, tiny(module, mnist_dir), out))
        return done[name]
    return get


@pytest.mark.parametrize("name", NAMES)
def test_figure_runs_saves_and_replots_identically(name, runs, tmp_path, mnist_dir):
    module, out, summary = runs(name)
    png, pdf = out / f"{name}.png", out / f"{name}.pdf"
    assert png.stat().st_size > 1000 and pdf.stat().st_size > 1000
    manifest = json.loads((out / "figure.json").read_text())
    assert manifest["figure"] == name and manifest["forms"] == "paper"
    prov = manifest["provenance"]
    for key in ("jaxsim", "jax", "jaxlib", "device_kind", "date", "git"):
        assert key in prov, key
    assert base.config_from_dict(module.Config, manifest["config"]) == tiny(module, mnist_dir)
    for label in manifest["results"]:
        res = SweepResult.load(out / "results" / f"{label}.npz")
        assert res.info["provenance"]["jax"] == prov["jax"] and res.info["config"]["seeds"]
    c = summary["claim"]
    assert c["text"] and c["evidence"] and c["verdict"] in V.VERDICTS
    assert json.loads((out / "summary.json").read_text())["claim"] == json.loads(json.dumps(c))
    # replot: nothing simulated, the same bytes
    assert cli.main(["replot", str(out), "--out", str(tmp_path)]) == 0
    assert (tmp_path / f"{name}.png").read_bytes() == png.read_bytes()
    assert json.loads((tmp_path / "summary.json").read_text()) == json.loads((out / "summary.json").read_text())


@pytest.mark.parametrize("name", NAMES)
def test_figure_verdicts_follow_from_their_numbers(name, runs):
    """Every part of every figure's claim has the class its own per-seed numbers give (a tie or
    a comparison of runs that learned nothing is never "holds"), and the claim's verdict is the
    weakest part's."""
    _, _, summary = runs(name)
    c = summary["claim"]
    assert c["parts"], "a claim is judged part by part"
    for part in c["parts"]:
        V.check_part(part)
    assert c["verdict"] == V.claim(c["text"], c["parts"])["verdict"]
    assert summary["protocol"]["metric"], "the selection metric is declared"


@pytest.mark.parametrize("name", NAMES)
def test_presets_never_run_a_lone_seed(name):
    """No preset pads a lone seed (the engine never runs a size-1 seed axis); QUICK and FULL
    compare methods over at least three."""
    module = load(name)
    assert len(module.TINY.seeds) >= 2
    assert len(module.QUICK.seeds) >= 3 and len(module.FULL.seeds) >= 3


@pytest.mark.parametrize("name", NAMES)
def test_figure_module_contract(name):
    """A docstring stating the claim, presets of one Config, known forms, the pipeline's functions."""
    module = load(name)
    assert module.NAME == name and "claim" in module.__doc__
    assert dataclasses.is_dataclass(module.Config)
    for preset in (module.FULL, module.QUICK, module.TINY):
        assert isinstance(preset, module.Config)
    assert set(base.forms_of(module)) <= {"paper", "authors"} and base.forms_of(module)[0] == "paper"
    for fn in ("simulate", "summarize", "plot"):
        assert callable(getattr(module, fn))


def test_figure_list_names_every_figure(capsys):
    assert cli.main(["figure", "--list"]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert name in out


def test_config_options_round_trip():
    """Each Config field is an option; values given override the preset, and a saved config loads back."""
    import argparse

    from jaxsim.figures import ringmaster_quadratic as rq

    p = argparse.ArgumentParser()
    base.add_config_options(p, rq.Config, rq.QUICK)
    args = p.parse_args(["--horizon", "7", "--seeds", "3", "4", "--gammas", "0.5"])
    cfg = base.config_from_args(rq.Config, rq.QUICK, args)
    assert cfg == dataclasses.replace(rq.QUICK, horizon=7.0, seeds=(3, 4), gammas=(0.5,))
    assert base.config_from_dict(rq.Config, json.loads(json.dumps(dataclasses.asdict(cfg)))) == cfg
    with pytest.raises(ValueError, match="unknown field"):
        base.config_from_dict(rq.Config, {"nope": 1})


def test_replot_refuses_a_directory_without_a_run(tmp_path, capsys):
    assert cli.main(["replot", str(tmp_path)]) == 2
    assert "figure.json" in capsys.readouterr().err


def test_bad_forms_named_before_simulating(tmp_path):
    import types

    module = types.SimpleNamespace(NAME="x", FORMS=("paper",), simulate=lambda *a, **k: pytest.fail("simulated"))
    with pytest.raises(ValueError, match="forms: x runs paper"):
        base.run(module, None, tmp_path, forms="authors")


def test_figure_help_shows_each_options_full_and_quick_values(capsys):
    with pytest.raises(SystemExit):
        cli.main(["figure", "ringmaster-quadratic", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "simulated seconds (FULL: 2000; QUICK: 500)" in out
