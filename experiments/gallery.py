"""Run every figure's ``--quick`` preset, one at a time, and build the README gallery.

    python experiments/gallery.py --data PATH/TO/MNIST [--out out/gallery] [--only NAME ...] [--saved [--images-only]]

Each figure runs as its own ``jaxsim figure NAME --quick`` process (so its wall time and peak
memory are its own), into ``OUT/NAME``. Then each PNG is copied whole to
``docs/gallery/full/NAME.png`` with a preview at most :data:`PREVIEW` pixels wide (and high) in
``docs/gallery/NAME.png``, and one record per figure (command, wall seconds, peak RSS, the
summary's verdict on the paper's claim) goes to ``docs/gallery/gallery.json``; the README's gallery
(:func:`gallery_markdown`: the table of verdicts, then one preview per row, each linked to its
full-size image) and its table of the MNIST figures' data (:func:`mnist_markdown`, from the
presets) are printed; ``tests/test_gallery_docs.py`` checks that the README holds both as printed.
Run it on an otherwise idle machine: the times are what the README quotes. ``--saved`` simulates
nothing: it redraws runs already in ``OUT/NAME`` (``jaxsim replot``) and records the simulation
time their ``figure.json`` holds; with ``--images-only`` it writes the images and keeps the
records (runs made on a loaded machine, whose times are not the ones to quote).
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


#: The README's previews: at most this many pixels wide and high (the full-size image is linked).
PREVIEW = 1000


def images(png: Path, name: str) -> None:
    """The figure's PNG whole in ``docs/gallery/full/NAME.png``, its preview in ``docs/gallery/NAME.png``."""
    import shutil

    from PIL import Image  # matplotlib's own dependency

    (GALLERY / "full").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, GALLERY / "full" / f"{name}.png")
    with Image.open(png) as im:
        im = im.convert("RGB")
        im.thumbnail((PREVIEW, PREVIEW), Image.LANCZOS)
        im.quantize(256).save(GALLERY / f"{name}.png", optimize=True)  # a palette: a third of the bytes


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
    p.add_argument("--images-only", action="store_true", help="with --saved: write the images, keep the records")
    args = p.parse_args(argv)
    if args.images_only and not args.saved:
        p.error("--images-only goes with --saved")
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
            if args.images_only:
                images(out / f"{name}.png", name)
                continue
            rec = saved_one(name, out)
        else:
            rec = run_one(name, out, data_options(name, args.data))
        images(out / f"{name}.png", name)
        rec.update(machine=f"{platform.machine()}, {os.cpu_count()} cores",
                   date=time.strftime("%Y-%m-%d", time.gmtime()))
        records[name] = rec
        record_path.write_text(json.dumps(records, indent=2) + "\n")
    print(gallery_markdown(records))
    print()
    print(mnist_markdown())
    return 0


def gallery_markdown(records: dict) -> str:
    """The README's gallery: a table of commands, times and verdicts, then each figure's preview,
    one per row, linked to its full-size image."""
    rows = ["| Figure | Command (`--quick`) | Time | The paper's claim in the `--quick` run, part by part |",
            "|---|---|---|---|"]
    shown = []
    for name, r in sorted(records.items()):
        peak = f" ({r['peak_rss_gib']:.1f} GiB peak)" if r.get("peak_rss_gib") is not None else ""
        rows.append(f"| [{name}](docs/gallery/full/{name}.png) | `{r['command']}` | {r['wall_s'] / 60:.1f} min{peak} | "
                    f"{claim_text(r.get('claim') or {}).replace('|', '/')} |")  # a | would end the cell
        shown += [f"**{name}** (`{r['command']}`)", "",
                  f"[![{name}](docs/gallery/{name}.png)](docs/gallery/full/{name}.png)", ""]
    return "\n".join(rows + [""] + shown).rstrip("\n")


#: MNIST's splits: images in each (the IDX files ``train-*`` and ``t10k-*``).
MNIST_SPLITS = {"train": (60_000, "training"), "test": (10_000, "test")}


def mnist_data(cfg) -> str:
    """The MNIST images a figure's config uses, in words: its split, how many (``samples`` or
    ``max_samples``: the first ones), and per worker where the data are split over workers."""
    total, split = MNIST_SPLITS[cfg.split]
    first = getattr(cfg, "samples", None) or getattr(cfg, "max_samples", None)
    count = min(first, total) if first else total
    words = f"the first {count:,} {split} images" if first else f"all {count:,} {split} images"
    workers = getattr(cfg, "workers", None)
    if workers:
        words += f" ({count // workers:,} per worker)"
    return words.replace(",", " ")


def mnist_markdown() -> str:
    """The README's table of the data each MNIST figure's FULL and QUICK presets use."""
    from jaxsim.figures import FIGURES, load

    rows = ["| Figure | `FULL` | `QUICK` (the gallery) |", "|---|---|---|"]
    for name in sorted(FIGURES):
        module = load(name)
        if "data" in {f for f in module.Config.__dataclass_fields__} and "mnist" in name:
            rows.append(f"| {name} | {mnist_data(module.FULL)} | {mnist_data(module.QUICK)} |")
    return "\n".join(rows)


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
