"""The command line starts without JAX: ``--version``, ``--help``, ``list`` and argument errors
read names from the stored catalog (``jaxsim/catalog.json``), which must agree with the live
registries (``python -m jaxsim.catalog`` rewrites it)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jaxsim import catalog, cli
from jaxsim.figures import FIGURES

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, **env) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter that imports this checkout (no user cache)."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    full.pop("JAXSIM_COMPILE_CACHE", None)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True, text=True,
                          timeout=300)


def test_stored_catalog_matches_the_registries():
    diff = catalog.differences(catalog.stored() or {}, catalog.live(package_only=True))
    assert not diff, ("jaxsim/catalog.json is stale: run 'python -m jaxsim.catalog' to rewrite it\n"
                      + "\n".join(diff[:20]))


#: Each call returns (exit code, what it printed); none may import JAX.
_LIGHT = """
import contextlib, io, json, sys
from jaxsim import cli
from jaxsim.figures import FIGURES, describe
import jaxsim
out = {}
for argv in ([ "--version"], ["--help"], ["list"], ["run", "--help"], ["check", "--help"], ["run"],
             ["run", "asgd", "--d", "-3"], ["run", "nope"], ["run", "asgd", "--opt", "nope=1"],
             ["run", "asgd", "--problem", "nope"], ["run", "asgd", "--hp", "gamma=x"], ["bench", "--d", "0"],
             ["figure", "nope"]):
    text, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(text), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as e:
            code = e.code
    out[" ".join(argv)] = [code, text.getvalue(), err.getvalue()]
out["describe"] = {name: describe(name) for name in FIGURES}
out["jax"] = sorted(m for m in sys.modules if m == "jax" or m.startswith(("jax.", "jaxlib", "flax", "optax")))
print(json.dumps(out))
"""


def test_version_help_list_and_argument_errors_import_no_jax():
    proc = _python(_LIGHT)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out.pop("jax") == []
    for name, doc in out.pop("describe").items():  # read from the source, the same as the module's
        import importlib

        assert doc == importlib.import_module(FIGURES[name]).__doc__.strip().splitlines()[0]
    for argv, (code, text, err) in out.items():
        if argv.endswith("--help") or argv in ("--version", "list"):
            assert code == 0 and text and not err, (argv, err)
        else:  # one line, exit code 2
            assert code == 2 and len(err.strip().splitlines()) == 1 and "error:" in err, (argv, err)
    assert "--problem" in out["run --help"][1] and "ringmaster" in out["list"][1]


def test_the_stored_and_the_live_catalog_print_the_same():
    """``jaxsim list`` and ``jaxsim run --help`` from the stored catalog (a fresh process) and from
    the registries (a process that imported them first) print the same text."""
    show = ("import contextlib, io, sys\n{first}from jaxsim import cli\n"
            "for argv in (['list'], ['run', '--help'], ['--help']):\n"
            "    try:\n        cli.main(argv)\n    except SystemExit:\n        pass\n"
            "print('jax' in sys.modules)\n")
    stored, live = _python(show.format(first="")), _python(show.format(first="import jaxsim.methods\n"))
    assert stored.returncode == 0 and live.returncode == 0, stored.stderr + live.stderr
    assert stored.stdout.splitlines()[-1] == "False" and live.stdout.splitlines()[-1] == "True"
    assert stored.stdout.splitlines()[:-1] == live.stdout.splitlines()[:-1]


def test_a_method_module_the_catalog_does_not_list_makes_it_read_the_registries(monkeypatch):
    """A method file added without rewriting the catalog: the command line reads the registries."""
    monkeypatch.delitem(sys.modules, "jaxsim.methods")  # as in a fresh process (restored after)
    monkeypatch.setattr(catalog, "live", lambda **kw: "live")
    assert catalog.load() == catalog.stored()
    modules = catalog.method_modules()
    monkeypatch.setattr(catalog, "method_modules", lambda: [*modules, "a_new_method"])
    assert catalog.load() == "live"


def test_user_methods_registered_in_the_process_are_listed(capsys):
    """With the registries imported, ``list`` shows them live: the methods of ``tests/user_methods``
    (registered by ``conftest.py``) too, which the stored catalog does not hold."""
    from jaxsim import REGISTRY

    assert "smoothed_delay_asgd" in REGISTRY and "smoothed_delay_asgd" not in catalog.stored()["methods"]
    assert cli.main(["list"]) == 0
    assert "smoothed_delay_asgd" in [ln.strip() for ln in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize("argv", [["--version"], ["list"]])
def test_console_entry_point_runs(argv):
    """``python -m jaxsim.cli`` (what the ``jaxsim`` script calls) answers at once, exit code 0."""
    proc = subprocess.run([sys.executable, "-m", "jaxsim.cli", *argv], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 0 and proc.stdout, proc.stderr
