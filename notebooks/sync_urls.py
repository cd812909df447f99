"""Write the repository's address from ``pyproject.toml`` into every notebook's Colab badge and install cell.

    python notebooks/sync_urls.py          # rewrite the notebooks whose badge or install line differ
    python notebooks/sync_urls.py --check  # change nothing; exit 1 naming the notebooks that differ

The address is written once, as ``[project.urls] Repository`` in ``pyproject.toml``. Each notebook's
first cell (markdown) links its "Open in Colab" badge to
``https://colab.research.google.com/github/OWNER/REPO/blob/main/notebooks/FILE``, and its first code
cell, the install cell, is written whole by this script (:func:`install_cell`): it installs the
package with ``!pip install -q "jaxsim-asgd @ git+URL"`` (extras such as ``jaxsim-asgd[analysis]``
are kept), then imports it and stops the notebook with a ``RuntimeError`` saying what failed and
what to do when that fails (``!pip`` does not stop a notebook when it fails, so a failed install
would surface only at the first use of ``jaxsim``). ``tests/test_notebooks.py`` checks that every
notebook agrees with ``pyproject.toml`` and this script; after moving the repository, change the
address there and run this script.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYPROJECT = HERE.parent / "pyproject.toml"
DIST = "jaxsim-asgd"  # the distribution's name (the import name, jaxsim, is taken on PyPI)
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")
#: the install line; ``extras`` (e.g. ``[analysis]``) is kept when the line is rewritten
INSTALL = re.compile(rf"^!pip install .*\"{re.escape(DIST)}(?P<extras>\[[\w,-]+\])? @ [^\"]*\".*$", re.M)


def url_from_text(text: str) -> str:
    """``[project.urls] Repository`` of a ``pyproject.toml``'s text: ``tomllib`` where Python has it
    (3.11+), else a regex that reads just that key of that table (Python 3.10)."""
    try:
        import tomllib
    except ModuleNotFoundError:
        return url_by_regex(text)
    return tomllib.loads(text)["project"]["urls"]["Repository"]


def url_by_regex(text: str) -> str:
    table = re.search(r"^\[project\.urls\][ \t]*\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    key = table and re.search(r"^Repository\s*=\s*[\"']([^\"']+)[\"']", table.group(1), re.M)
    if not key:
        raise ValueError("pyproject.toml: no Repository key in a [project.urls] table")
    return key.group(1)


def repository_url(pyproject: Path = PYPROJECT) -> str:
    return url_from_text(Path(pyproject).read_text(encoding="utf-8"))


def colab_url(url: str, notebook: str) -> str:
    """The Colab address that opens ``notebooks/<notebook>`` of GitHub repository ``url``'s main branch."""
    m = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", url)
    if not m:
        raise ValueError(f"repository URL {url!r}: Colab opens notebooks from https://github.com/OWNER/REPO")
    return f"https://colab.research.google.com/github/{m[1]}/{m[2]}/blob/main/notebooks/{notebook}"


def badge(url: str, notebook: str) -> str:
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(url, notebook)})"


def install_line(url: str, extras: str = "") -> str:
    return f'!pip install -q "{DIST}{extras} @ git+{url}"'


#: The install cell's first line: who runs the cell.
INSTALL_NOTE = ("# On Colab or any fresh runtime. In a clone of the repository, run `pip install -e .` instead "
                "and skip this cell.")

#: What follows the install line: ``!pip`` does not stop a notebook when it fails, so the cell
#: imports the package (and, through ``jaxsim.sweep``, JAX and the other dependencies) and stops
#: with one clear error when that fails.
INSTALL_CHECK = """\
# `!pip` does not stop the notebook when it fails: check the install here, not at the first use of jaxsim.
try:
    import jaxsim

    jaxsim.sweep  # imports JAX and jaxsim's other dependencies
except Exception as e:
    raise RuntimeError(
        f"jaxsim-asgd did not install or does not import ({type(e).__name__}: {e}). Read pip's messages "
        "above: the runtime needs network access to the repository. Fix that, run this cell again, "
        "and on Colab restart the session (Runtime > Restart session) if jaxsim was imported before. "
        "In a clone of the repository, run `pip install -e .` there instead of this cell.") from e"""


def install_cell(url: str, extras: str = "") -> str:
    """The whole install cell (the notebook's first code cell)."""
    return "\n".join([INSTALL_NOTE, install_line(url, extras), INSTALL_CHECK])


def _source(cell) -> str:
    s = cell["source"]
    return s if isinstance(s, str) else "".join(s)


def _set_source(cell, text: str) -> None:
    if text != _source(cell):
        cell["source"] = text.splitlines(keepends=True)


def synced(nb: dict, name: str, url: str) -> dict:
    """``nb`` with its badge (first cell) pointing at ``url`` and its first code cell the install
    cell for ``url`` (:func:`install_cell`, with the extras its install line names)."""
    cells = nb["cells"]
    if not cells or cells[0]["cell_type"] != "markdown" or not BADGE.search(_source(cells[0])):
        raise ValueError(f"{name}: the first cell must be markdown holding an Open In Colab badge")
    _set_source(cells[0], BADGE.sub(lambda _: badge(url, name), _source(cells[0]), count=1))
    code = [c for c in cells if c["cell_type"] == "code"]
    if not code or not INSTALL.search(_source(code[0])):
        raise ValueError(f"{name}: the first code cell must install {DIST} with !pip install")
    _set_source(code[0], install_cell(url, INSTALL.search(_source(code[0]))["extras"] or ""))
    return nb


def dumps(nb: dict) -> str:
    """The layout Jupyter writes (so that saving from Jupyter changes no unrelated lines)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    check = "--check" in argv
    url = repository_url()
    differ = []
    for path in sorted(HERE.glob("*.ipynb")):
        old = json.loads(path.read_text(encoding="utf-8"))
        new = synced(json.loads(json.dumps(old)), path.name, url)
        if new != old:  # compared as JSON values: a notebook saved with another layout is left alone
            differ.append(path.name)
            if not check:
                path.write_text(dumps(new), encoding="utf-8")
    verb = "differ from" if check else "rewritten to"
    print(f"{len(differ)} notebook(s) {verb} {url} and the install cell" + (": " + ", ".join(differ) if differ else ""))
    return 1 if check and differ else 0


if __name__ == "__main__":
    sys.exit(main())
