"""The README's code runs as written."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python_block(containing: str) -> str:
    blocks = [b.split("```", 1)[0] for b in ROOT.joinpath("README.md").read_text().split("```python\n")[1:]]
    hits = [b for b in blocks if containing in b]
    assert len(hits) == 1, f"one README python block with {containing!r}, found {len(hits)}"
    return hits[0]


def test_own_method_block_runs_as_written(tmp_path):
    """The method section: define, check against the reference rule, sweep (a fresh interpreter, as a
    reader pasting it would have)."""
    code = _python_block("class SmoothedDelayASGD")
    script = tmp_path / "own_method.py"
    script.write_text(code)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "smoothed_delay_asgd (stream clock): PASS" in out.stdout
    assert "'hparams'" in out.stdout  # the best setting was printed
