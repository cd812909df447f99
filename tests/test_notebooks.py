"""Notebooks run top to bottom (at tiny size: ``JAXSIM_NOTEBOOK_TINY=1``)."""

import json
from pathlib import Path

import matplotlib
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.setenv("JAXSIM_NOTEBOOK_TINY", "1")
    cells = json.loads(path.read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    namespace = {"__name__": "__main__"}
    for i, src in enumerate(code):
        lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith(("!", "%"))]
        exec(compile("\n".join(lines), f"{path.name}[cell {i}]", "exec"), namespace)
    assert namespace.get("TINY") is True
