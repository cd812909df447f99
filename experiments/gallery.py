"""Run every figure's ``--quick`` preset, one at a time, and build the README gallery.

    python experiments/gallery.py --data PATH/TO/MNIST [--out out/gallery] [--only NAME ...] [--saved]

Each figure runs as its own ``jaxsim figure NAME --quick`` process (so its wall time and peak
memory are its own), into ``OUT/NAME``. Then a thumbnail of each PNG goes to
``docs/gallery/NAME.png`` and one record per figure (command, wall seconds, peak RSS, the
summary's verdict on the paper's claim) to ``docs/gallery/gallery.json``; the Markdown table for
the README is printed. Run it on an otherwise idle machine: the times are what the README quotes.
``--saved`` simulates nothing: it redraws runs already in ``OUT/NAME`` (``jaxsim replot``) and
records the simulation time their ``figure.json`` holds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "docs" / "gallery"


def data_options(name: str, mnist: str | None) -> list[str]:
    """The options a figure needs for data this project does not ship (MNIST: the test split)."""
    from jaxsim.figures import load

    fields = {f for f in load(name).Config.__dataclass_fields__}
    if "data" not in fields or "mnist" not in name:
        return []
    if mnist is None:
        raise SystemExit(f"{name} needs --data (a folder with the MNIST IDX files)")
    return ["--data", mnist] + (["--split", "test"] if "split" in fields else [])


def run_one(name: str, out: Path, extra: list[str]) -> dict:
    cmd = [sys.executable, "-m", "jaxsim.cli", "figure", name, "--quick", "--no-progress", "--out", str(out), *extra]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    print(output, flush=True)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed ({proc.returncode})")
    summary = json.loads((out / "summary.json").read_text())
    return dict(name=name, command=portable_command(name, ["--quick", *extra]), wall_s=round(wall, 1),
                peak_rss_gib=round(usage.ru_maxrss / 2**20, 2), claim=summary.get("claim"))


def portable_command(name: str, options: list[str]) -> str:
    """The command a reader types: no output folder or progress flag, the data folder as ``DIR``."""
    shown, skip = [], False
    for prev, a in zip(["", *options], options):
        if skip or a in ("--out", "--no-progress"):
            skip = a == "--out"
            continue
        shown.append("DIR" if prev == "--data" else a)
    return " ".join(["jaxsim", "figure", name, *shown])


def thumbnail(png: Path, dst: Path, scale: float = 0.3) -> None:
    from PIL import Image  # matplotlib's own dependency

    with Image.open(png) as im:
        im.thumbnail((int(im.width * scale), int(im.height * scale)))
        im.save(dst, optimize=True)


def saved_one(name: str, out: Path) -> dict:
    from jaxsim.figures.base import render

    summary = render(out)
    manifest = json.loads((out / "figure.json").read_text())
    return dict(name=name, command=portable_command(name, manifest["argv"][2:]),
                wall_s=round(manifest["seconds"], 1), peak_rss_gib=None, claim=summary.get("claim"))


def main(argv=None) -> int:
    from jaxsim.figures import FIGURES

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="folder with the MNIST IDX files (the MNIST figures)")
    p.add_argument("--out", default="out/gallery")
    p.add_argument("--only", nargs="+", choices=sorted(FIGURES))
    p.add_argument("--saved", action="store_true", help="redraw the runs already in OUT instead of simulating")
    args = p.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")

    GALLERY.mkdir(parents=True, exist_ok=True)
    record_path = GALLERY / "gallery.json"
    records = json.loads(record_path.read_text()) if record_path.exists() else {}
    for name in args.only or sorted(FIGURES):
        out = Path(args.out) / name
        if args.saved:
            if not (out / "figure.json").is_file():
                continue
            rec = saved_one(name, out)
        else:
            rec = run_one(name, out, data_options(name, args.data))
        rec.update(machine=f"{platform.machine()}, {os.cpu_count()} cores",
                   date=time.strftime("%Y-%m-%d", time.gmtime()))
        thumbnail(out / f"{name}.png", GALLERY / f"{name}.png")
        records[name] = rec
        record_path.write_text(json.dumps(records, indent=2) + "\n")
    print("| Figure | Command | Time (wall) | The paper's claim, part by part |\n|---|---|---|---|")
    for name, r in sorted(records.items()):
        print(f"| ![{name}](docs/gallery/{name}.png) | `{r['command']}` | {r['wall_s'] / 60:.1f} min | "
              f"{claim_text(r.get('claim') or {})} |")
    return 0


def claim_text(c: dict) -> str:
    """The verdict and each part's class with its two medians, for a table cell."""
    words = {"holds": "holds", "does_not_hold": "does not hold", "tie": "tie", "vacuous": "vacuous",
             "undecided": "undecided"}
    parts = []
    for p in c.get("parts", ()):
        nums = ", ".join(f"{k} {v['median']:.3g}" for k, v in p.get("numbers", {}).items())
        lean = f" (leaning {words[p['leaning']]})" if p.get("leaning") else ""
        parts.append(f"{p['text']}: **{words[p['verdict']]}**{lean}" + (f" ({nums})" if nums else ""))
    return f"**{words.get(c.get('verdict'), 'undecided')}**. " + "; ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
