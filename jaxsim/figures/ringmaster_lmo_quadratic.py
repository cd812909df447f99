"""Ringmaster LMO paper's stochastic-quadratic experiment (spec experiments.md §7.2).

    jaxsim figure ringmaster-lmo-quadratic [--n 6174] [--horizon 2000] [--form code|paper]
                                           [--seeds 0] [--points 100] [--quick] [--out DIR]

(also ``python experiments/ringmaster_lmo_quadratic.py``).

Setup of the authors' development script ("Muon script"; the final paper's settings are
[uncertain]): worst-case quadratic ``d = 1729``, noise scale ``s = 0.01``; ``n = 6174`` workers
with durations ``1 + sqrt(w) + |N(0, w + 1)|``; 2000 simulated seconds. Methods and grids:
Ringmaster Muon (with stops) ``gamma in 5^{-6..1}``, ``R in {1, 2, 4, 6, 8, 16, 32}``; PA
Ringmaster ``eta in 5^{-4..3}``; Rennala Muon ``gamma in 5^{-6..1}``, ``B in {1, 2, 4, 6, 8, 16,
32}``; Delay-adaptive Muon ``gamma in 5^{-8..-1}``; ``beta = 0.95`` (``alpha = 0.05``). Each is
tuned on the final ``f(x) - f*`` (median over seeds).

The point is a vector, so in ``--form code`` (default; Nesterov, ``m^0 = 0``, the code's PA
schedule) Newton--Schulz acts on it as a ``1 x d`` block: a normalized step of length about
``0.859 gamma``. ``--form paper``: the analysed methods (no Nesterov, ``alpha_0 = 1``, the
paper's PA schedule), where the vector takes the Euclidean LMO ``-m / ||m||`` (the older
script's "normalized Ringmaster"). The development history notes that Muon "does not give good
result on simple objective"; this figure reports what it measures either way.

``--quick``: ``n = 100`` (the older script's worker count), 500 s, one seed: CPU minutes.
Writes ``ringmaster-lmo-quadratic.png`` (``f - f*`` and ``||grad f||^2`` of each method's
tuned setting against simulated time), ``summary.json`` and one ``.npz`` per sweep.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from .. import make_timing, sweep, worst_case_quadratic
from ..methods import make_method
from ..methods import CODE_FORM
from . import format_hparams

NAME = "ringmaster-lmo-quadratic"
BETA = 0.95
POW5 = lambda lo, hi: [5.0 ** k for k in range(lo, hi + 1)]  # noqa: E731
THRESHOLDS = [1, 2, 4, 6, 8, 16, 32]
METHODS = {  # name -> (label, colour, grid), the Muon script's grids
    "ringmaster_lmo_stops": ("Ringmaster Muon", "#C00000", {"gamma": POW5(-6, 1), "R": THRESHOLDS}),
    "rennala_lmo": ("Rennala Muon", "#006666", {"gamma": POW5(-6, 1), "B": THRESHOLDS}),
    "delay_adaptive_lmo": ("Delay-adaptive Muon", "#B8860B", {"gamma": POW5(-8, -1)}),
    "ringmaster_lmo_pa": ("PA Ringmaster Muon", "#5B3A8E", {"gamma": POW5(-4, 3)}),
}


def options(name: str, form: str) -> dict:
    """Static options of ``name`` in ``form``; in the code's form the vector is one NS block."""
    opts = {} if form == "paper" else dict(CODE_FORM, partition="all")
    if name == "ringmaster_lmo_pa":
        opts["schedule"] = form
    return opts


def main(argv=None) -> int:
    """Run every method's grid, print the tuned settings and final values, write the figure."""
    p = argparse.ArgumentParser(prog=f"jaxsim figure {NAME}", description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=None, help="workers (default 6174; --quick: 100)")
    p.add_argument("--d", type=int, default=1729)
    p.add_argument("--noise-scale", type=float, default=0.01)
    p.add_argument("--horizon", type=float, default=None, help="simulated seconds (default 2000; --quick: 500)")
    p.add_argument("--form", choices=["code", "paper"], default="code")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--points", type=int, default=100)
    p.add_argument("--quick", action="store_true", help="n = 100, 500 s: CPU minutes")
    p.add_argument("--out", type=Path, default=Path("results/ringmaster-lmo-quadratic"))
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    n = args.n if args.n is not None else (100 if args.quick else 6174)
    horizon = args.horizon if args.horizon is not None else (500.0 if args.quick else 2000.0)
    if n < 1 or args.d < 1 or not horizon > 0 or args.points < 1:
        p.error("--n, --d, --horizon and --points must be positive")
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    problem = worst_case_quadratic(d=args.d, noise_scale=args.noise_scale)
    timing = make_timing(n, "one_plus_sqrt", "halfnormal", var="i")
    rows, curves = {}, {}
    for name, (label, _, grid) in METHODS.items():
        grid = dict(grid) if name == "ringmaster_lmo_pa" else dict(grid, beta=BETA)
        t1 = time.perf_counter()
        res = sweep(make_method(name, **options(name, args.form)), problem, timing, seeds=args.seeds, grid=grid,
                    horizon=horizon, num_points=args.points, progress=not args.no_progress)
        wall = time.perf_counter() - t1
        res.save(args.out / f"{name}.npz")
        best = res.best("loss_gap")
        idx = best["index"]
        rows[name] = {"label": label, "best": best["hparams"], "final_loss_gap": best["value"],
                      "final_grad_norm_sq": float(np.median(res.curve(idx, "grad_norm_sq")[:, -1])),
                      "updates": float(np.median(res.curve(idx, "updates")[:, -1])),
                      "settings": int(np.prod([len(res.coords[d]) for d in res.grid_dims])),
                      "diverged_runs": int(res.diverged.sum()), "wall_s": wall}
        curves[name] = {m: np.median(res.curve(idx, m), axis=0) for m in ("loss_gap", "grad_norm_sq")}
        curves[name]["time"] = np.median(res.time, axis=0)
        r = rows[name]
        print(f"{label:20s} {r['settings']:3d} settings {wall:7.1f} s  best {format_hparams(r['best'])}  "
              f"final f-f* {r['final_loss_gap']:.4g}  |grad|^2 {r['final_grad_norm_sq']:.4g}  "
              f"updates {r['updates']:.0f}  diverged runs {r['diverged_runs']}")
    order = sorted(rows, key=lambda k: rows[k]["final_loss_gap"])
    print("order (final f - f*): " + " < ".join(rows[k]["label"] for k in order))
    _plot(curves, rows, n, args, horizon, args.out / f"{NAME}.png")
    wall = time.perf_counter() - t0
    (args.out / "summary.json").write_text(json.dumps(
        {"form": args.form, "n": n, "d": args.d, "noise_scale": args.noise_scale, "horizon": horizon,
         "seeds": args.seeds, "wall_s": wall, "order": [rows[k]["label"] for k in order], "methods": rows},
        indent=1, default=float))
    print(f"wrote {args.out / (NAME + '.png')} and summary.json; wall time {wall:.1f} s")
    return 0


def _plot(curves: dict, rows: dict, n: int, args, horizon: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, c in curves.items():
        label, color, _ = METHODS[name]
        hp = format_hparams(rows[name]["best"])
        for ax, metric in zip(axes, ("loss_gap", "grad_norm_sq")):
            ax.semilogy(c["time"], np.maximum(c[metric], 1e-16), color=color, label=f"{label} ({hp})")
    for ax, ylabel in zip(axes, (r"$f(x) - f^*$", r"$\|\nabla f(x)\|^2$")):
        ax.set(xlabel="runtime (simulated seconds)", ylabel=ylabel)
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Ringmaster LMO, worst-case quadratic: n={n}, d={args.d}, s={args.noise_scale}, {horizon:g} s, "
                 f"{len(args.seeds)} seed(s); {args.form} form")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
