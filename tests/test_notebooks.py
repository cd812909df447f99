"""Notebooks run top to bottom (at tiny size: ``JAXSIM_NOTEBOOK_TINY=1``), are stored without outputs, and
their Colab badge and install cell use the repository address written once in ``pyproject.toml``."""

import importlib.util
import json
import re
import sys
import types
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pytest

from jaxsim.methods import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]


def _namespace() -> dict:
    """A fresh ``__main__`` namespace. Without IPython installed, the notebook's own
    ``from IPython.display import ...`` gets a stand-in (``Image`` checks that its file is a PNG,
    ``display`` shows nothing); libraries keep the real import, since some look for IPython in
    ``sys.modules`` to detect a Jupyter session."""
    namespace = {"__name__": "__main__"}
    if importlib.util.find_spec("IPython") is not None:
        return namespace
    import builtins

    display = types.ModuleType("IPython.display")

    class Image:
        def __init__(self, filename=None, data=None, **kw):
            self.data = Path(filename).read_bytes() if filename is not None else data
            assert self.data[:8] == b"\x89PNG\r\n\x1a\n", f"{filename}: not a PNG"

    display.Image = Image
    display.display = lambda *objs, **kw: None

    def import_(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "IPython.display" and fromlist:
            return display
        return builtins.__import__(name, globals, locals, fromlist, level)

    namespace["__builtins__"] = {**vars(builtins), "__import__": import_}
    return namespace


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs(path, monkeypatch, tmp_path):
    matplotlib.use("Agg")
    monkeypatch.setenv("JAXSIM_NOTEBOOK_TINY", "1")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # notebooks write under tempfile.mkdtemp()
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    cells = json.loads(path.read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    namespace = _namespace()
    registered = dict(REGISTRY)  # a notebook may register its own method: later tests must not see it
    try:
        for i, src in enumerate(code):
            lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith(("!", "%"))]
            exec(compile("\n".join(lines), f"{path.name}[cell {i}]", "exec"), namespace)
    finally:
        REGISTRY.clear()
        REGISTRY.update(registered)
        plt.close("all")
    assert namespace.get("TINY") is True


def test_the_notebooks_exist():
    assert {"00_quickstart.ipynb", "01_sweeps.ipynb", "02_your_own_method.ipynb",
            "03_reproduce_a_figure.ipynb"} <= set(IDS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_stored_clean(path):
    """nbformat 4, no outputs or execution counts (a notebook is source, diffs stay readable)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    for cell in nb["cells"]:
        assert cell["cell_type"] in ("markdown", "code")
        assert isinstance(cell["source"], list)
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name}: stored outputs"


def _url_by_regex(text: str) -> str:
    table = re.search(r"^\[project\.urls\][^\n]*\n((?:(?!\[).*\n?)*)", text, re.M)
    m = table and re.search(r'^Repository\s*=\s*"([^"]+)"', table.group(1), re.M)
    assert m, "pyproject.toml: no [project.urls] Repository"
    return m.group(1)


def _repository_url(text: str) -> str:
    """``[project.urls] Repository``, read independently of ``notebooks/sync_urls.py``: ``tomllib`` on
    Python 3.11+, a regex on 3.10."""
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)["project"]["urls"]["Repository"]
    return _url_by_regex(text)


PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
URL = _repository_url(PYPROJECT)


def test_repository_url_is_read_alike_on_every_python():
    assert _url_by_regex(PYPROJECT) == URL


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_links_use_the_repository_url(path):
    owner_repo = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+)", URL).group(1)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    first = "".join(cells[0]["source"])
    assert cells[0]["cell_type"] == "markdown" and first.startswith("# "), "first cell: markdown with a title"
    colab = f"https://colab.research.google.com/github/{owner_repo}/blob/main/notebooks/{path.name}"
    assert f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})" in first
    install = "".join(next(c for c in cells if c["cell_type"] == "code")["source"]).splitlines()
    pips = [ln for ln in install if ln.startswith("!pip install")]
    assert pips in ([f'!pip install -q "jaxsim-asgd @ git+{URL}"'],
                    [f'!pip install -q "jaxsim-asgd[analysis] @ git+{URL}"']), pips
    # no other copy of an address anywhere in the notebook
    text = "".join("".join(c["source"]) for c in cells)
    for m in re.finditer(r"github\.com/[\w.-]+/[\w.-]+", text):
        assert m.group(0) == f"github.com/{owner_repo}", m.group(0)
    assert text.count("git+") == 1


def _sync_urls():
    spec = importlib.util.spec_from_file_location("sync_urls", ROOT / "notebooks" / "sync_urls.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sync_urls_reads_pyproject_and_changes_nothing(capsys):
    sync = _sync_urls()
    assert sync.repository_url() == URL
    assert sync.url_by_regex(PYPROJECT) == URL  # the Python 3.10 path, exercised on any version
    assert sync.main(["--check"]) == 0, capsys.readouterr().out


def test_sync_urls_rewrites_badge_and_install_line():
    sync = _sync_urls()
    nb = json.loads(NOTEBOOKS[1].read_text(encoding="utf-8"))
    moved = "https://github.com/someone-else/fork"
    out = sync.synced(json.loads(json.dumps(nb)), NOTEBOOKS[1].name, moved)
    text = "".join("".join(c["source"]) for c in out["cells"])
    assert URL not in text
    assert f"colab.research.google.com/github/someone-else/fork/blob/main/notebooks/{NOTEBOOKS[1].name}" in text
    assert '"jaxsim-asgd[analysis] @ git+https://github.com/someone-else/fork"' in text  # extras kept
    assert sync.synced(out, NOTEBOOKS[1].name, URL) == nb  # and back
    with pytest.raises(ValueError, match="Colab opens notebooks from"):
        sync.colab_url("https://gitlab.com/a/b", "x.ipynb")


def _install_check(path):
    """The install cell of ``path`` without its ``!`` lines (what runs after pip)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    src = "".join(next(c for c in cells if c["cell_type"] == "code")["source"])
    return "\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith("!"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_install_cell_stops_with_a_clear_message_when_the_install_failed(path):
    """``!pip`` failures do not stop a notebook: the install cell imports jaxsim right after pip and
    raises one RuntimeError saying what failed and what to do, for a package that is missing and for
    another package of the same import name (the robotics ``jaxsim`` on PyPI)."""
    import builtins

    check = _install_check(path)
    assert "import jaxsim" in check and "raise RuntimeError" in check
    for imported in (None, types.ModuleType("jaxsim")):
        def import_(name, globals=None, locals=None, fromlist=(), level=0, imported=imported):
            if name == "jaxsim":
                if imported is None:
                    raise ModuleNotFoundError("No module named 'jaxsim'")
                return imported
            return builtins.__import__(name, globals, locals, fromlist, level)

        namespace = {"__name__": "__main__", "__builtins__": {**vars(builtins), "__import__": import_}}
        with pytest.raises(RuntimeError) as exc:
            exec(compile(check, f"{path.name}[install]", "exec"), namespace)
        message = str(exc.value)
        assert "jaxsim-asgd did not install or does not import" in message
        assert ("No module named 'jaxsim'" if imported is None else "AttributeError") in message
        assert "pip's messages" in message and "pip install -e ." in message and "Restart session" in message
    namespace = {"__name__": "__main__"}
    exec(compile(check, f"{path.name}[install]", "exec"), namespace)  # installed: passes quietly
    assert callable(namespace["jaxsim"].sweep)
