"""Ringmaster LMO paper's language-model experiment (spec experiments.md §7.1) at CPU size.

    jaxsim figure ringmaster-lmo-lm [--levels 1 sqrt_i i] [--form code|paper] [--horizon 500]
                                    [--seeds 0] [--points 50] [--text FILE] [--quick] [--out DIR]

(also ``python experiments/ringmaster_lmo_lm.py``).

Setup: the small transformer of :mod:`jaxsim.problems.lm` (:meth:`LMConfig.cpu
<jaxsim.problems.lm.LMConfig.cpu>`; model seed 7) on a byte-level corpus (``--text FILE``, else
the standard library's docstrings, nothing downloaded); ``n = 8`` workers, job ``j`` of worker
``i`` takes ``tau_i + |N(0, (0.05 tau_i)^2)|`` simulated seconds with ``tau_i = c_i``, ``c_i``
in ``{1, sqrt(i), i}`` (one heterogeneity level each; the spec's ``b = 1`` second per
gradient); 500 simulated seconds. Methods and grids of the authors' code (``beta = 0.95``,
i.e. ``alpha = 0.05``): Ringmaster Muon (with stops) ``gamma in {5^-2..5^1}``, ``R in {1, 2, 4,
8, 16}``; PA Ringmaster Muon ``eta in {5^-2..5^2}``; Rennala Muon ``gamma = 5``, ``B in {1, 2,
4, 8, 16}``; Delay-adaptive Muon ``gamma in {5^-2..5^1}``. Every setting of a grid runs; the
tuning score is the last recorded "latest minibatch loss" (``batch_loss``: the loss of the
minibatch behind the latest received gradient, at the point where it was computed), median
over seeds, lowest wins. The held-out loss at the current model (``loss``) is reported too.

``--form code`` (default: the form the paper's figures were made with): Nesterov momentum,
``m^0 = 0``, the code's Muon partition (Newton--Schulz on the blocks' matrices with radius
``sqrt(max(1, fan_out / fan_in))``, unnormalized momentum on embeddings, head and scalars), the
code's PA schedule. ``--form paper``: the analysed methods (no Nesterov, ``alpha_0 = 1``, the
project's default partition with a Euclidean step on the non-matrix leaves, the paper's PA
schedule), same grids. Every figure and the summary say which form ran.

The paper's claim [uncertain: implied by its abstract]: Ringmaster Muon's advantage over the
baselines grows with heterogeneity. The summary prints, per level, the methods ordered by their
tuned score and Ringmaster's margin over the best baseline; nothing here is tuned to make that
hold. ``--quick`` (horizon 60 s, one seed, small grids) is a smoke test of the pipeline.

Writes ``ringmaster-lmo-lm-<level>.png`` (per level: tuned latest-minibatch loss and held-out
loss against simulated time), ``ringmaster-lmo-lm-summary.png`` (final losses against
heterogeneity), ``summary.json`` and one ``.npz`` per sweep into ``--out``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from .. import TimingModel, sweep
from ..methods import CODE_FORM
from . import format_hparams
from ..noise import HalfNormal
from ..problems.lm import language_model
from ..timing import BASE_PROFILES

NAME = "ringmaster-lmo-lm"
#: Heterogeneity levels: name -> base-time profile ``c_i`` (``i = 1..n``).
LEVELS = {"1": "constant", "sqrt_i": "sqrt", "i": "linear"}
LEVEL_TITLES = {"1": r"$\tau_i = 1$", "sqrt_i": r"$\tau_i = \sqrt{i}$", "i": r"$\tau_i = i$"}
BETA = 0.95
POW5 = lambda lo, hi: [5.0 ** k for k in range(lo, hi + 1)]  # noqa: E731
#: name -> (label, colour, grid); the code's methods and grids (spec experiments.md §7.1).
METHODS = {
    "ringmaster_lmo_stops": ("Ringmaster Muon", "#C00000", {"gamma": POW5(-2, 1), "R": [1, 2, 4, 8, 16]}),
    "rennala_lmo": ("Rennala Muon", "#006666", {"gamma": [5.0], "B": [1, 2, 4, 8, 16]}),
    "delay_adaptive_lmo": ("Delay-adaptive Muon", "#B8860B", {"gamma": POW5(-2, 1)}),
    "ringmaster_lmo_pa": ("PA Ringmaster Muon", "#5B3A8E", {"gamma": POW5(-2, 2)}),
}
QUICK_GRIDS = {"ringmaster_lmo_stops": {"gamma": [1.0], "R": [2, 8]}, "rennala_lmo": {"gamma": [5.0], "B": [2]},
               "delay_adaptive_lmo": {"gamma": [0.2, 1.0]}, "ringmaster_lmo_pa": {"gamma": [5.0]}}


def timing_for(level: str, n: int = 8) -> TimingModel:
    """``tau_i = c_i`` of ``level`` plus ``|N(0, (0.05 tau_i)^2)|`` per job."""
    tau = BASE_PROFILES[LEVELS[level]](n)
    return TimingModel(n=n, base=tau, noise=HalfNormal(var=tuple((0.05 * tau) ** 2)))


def options(name: str, form: str) -> dict:
    """The method's static options in ``form`` ("code" or "paper")."""
    if form == "paper":
        return {"schedule": "paper"} if name == "ringmaster_lmo_pa" else {}
    opts = dict(CODE_FORM)
    if name == "ringmaster_lmo_pa":
        opts["schedule"] = "code"
    return opts


def grid_of(name: str, quick: bool) -> dict:
    grid = dict((QUICK_GRIDS if quick else {k: v[2] for k, v in METHODS.items()})[name])
    if name != "ringmaster_lmo_pa":  # PA's momentum weight is its schedule's
        grid["beta"] = BETA
    return grid


def run_level(level: str, problem, form: str, seeds, horizon: float, points: int, quick: bool,
              out: Path, progress: bool) -> dict:
    """Every method's grid at one heterogeneity level; returns the level's summary and curves."""
    from ..methods import make_method

    timing = timing_for(level)
    rows, curves = {}, {}
    for name, (label, _, _) in METHODS.items():
        method = make_method(name, **options(name, form))
        t0 = time.perf_counter()
        res = sweep(method, problem, timing, seeds=list(seeds), grid=grid_of(name, quick), horizon=horizon,
                    num_points=points, progress=progress)
        wall = time.perf_counter() - t0
        res.save(out / f"{level}-{name}.npz")
        best = res.best("batch_loss")
        idx = best["index"]
        heldout = res.curve(idx, "loss")
        rows[name] = {
            "label": label, "best": best["hparams"], "final_batch_loss": best["value"],
            "final_heldout_loss": float(np.median(heldout[:, -1])),
            "updates": float(np.median(res.curve(idx, "updates")[:, -1])),
            "settings": int(np.prod([len(res.coords[d]) for d in res.grid_dims])),
            "diverged_runs": int(res.diverged.sum()), "excluded_settings": best["excluded"], "wall_s": wall}
        curves[name] = {"time": np.median(res.time, axis=0), "batch_loss": np.median(res.curve(idx, "batch_loss"), 0),
                        "loss": np.median(heldout, axis=0)}
        if progress:
            print(f"  [{level}] {label:20s} {rows[name]['settings']:3d} settings  {wall:7.1f} s  best {format_hparams(best['hparams'])}"
                  f"  final minibatch {best['value']:.3f}  held-out {rows[name]['final_heldout_loss']:.3f}")
    order = sorted(rows, key=lambda k: rows[k]["final_batch_loss"])
    baselines = [k for k in rows if k != "ringmaster_lmo_stops"]
    best_base = min(baselines, key=lambda k: rows[k]["final_batch_loss"])
    best_base_h = min(baselines, key=lambda k: rows[k]["final_heldout_loss"])
    rm = rows["ringmaster_lmo_stops"]
    summary = {"level": level, "methods": rows, "order_by_batch_loss": [rows[k]["label"] for k in order],
               "order_by_heldout_loss": [rows[k]["label"] for k in
                                         sorted(rows, key=lambda k: rows[k]["final_heldout_loss"])],
               "margin_batch_loss": rows[best_base]["final_batch_loss"] - rm["final_batch_loss"],
               "margin_heldout_loss": rows[best_base_h]["final_heldout_loss"] - rm["final_heldout_loss"],
               "best_baseline": rows[best_base]["label"]}
    return {"summary": summary, "curves": curves}


def main(argv=None) -> int:
    """Run the levels, print each level's ordering and Ringmaster's margin, write figures."""
    p = argparse.ArgumentParser(prog=f"jaxsim figure {NAME}", description=__doc__.splitlines()[0])
    p.add_argument("--levels", nargs="+", choices=list(LEVELS), default=list(LEVELS),
                   help="heterogeneity levels c_i: 1, sqrt_i, i (default: all three)")
    p.add_argument("--form", choices=["code", "paper"], default="code",
                   help="the authors' code's methods (default) or the paper's analysed form")
    p.add_argument("--horizon", type=float, default=None, help="simulated seconds (default: 500; --quick: 60)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--points", type=int, default=50, help="recording points")
    p.add_argument("--text", type=Path, default=None, help="UTF-8 corpus (default: the stdlib's docstrings)")
    p.add_argument("--quick", action="store_true", help="60 s, small grids: a smoke test, not a reproduction")
    p.add_argument("--out", type=Path, default=Path("results/ringmaster-lmo-lm"))
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    horizon = args.horizon if args.horizon is not None else (60.0 if args.quick else 500.0)
    if not horizon > 0 or args.points < 1:
        p.error("--horizon and --points must be positive")
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    problem = language_model(path=args.text)
    print(f"{NAME}: form {args.form}, d = {problem.dim}, corpus sha {problem.corpus_sha[:12]}, "
          f"{len(problem.train)} training tokens, horizon {horizon:g} s, seeds {args.seeds}")
    levels = {}
    for level in args.levels:
        levels[level] = run_level(level, problem, args.form, args.seeds, horizon, args.points, args.quick, args.out,
                                  not args.no_progress)
        _plot_level(levels[level], level, args.form, args.out / f"{NAME}-{level}.png")
    summaries = [lv["summary"] for lv in levels.values()]
    for s in summaries:
        print(f"c_i = {s['level']:>6}: order (final minibatch loss) {' < '.join(s['order_by_batch_loss'])}; "
              f"Ringmaster's margin over the best baseline ({s['best_baseline']}): "
              f"{s['margin_batch_loss']:+.3f} minibatch, {s['margin_heldout_loss']:+.3f} held-out")
    _plot_summary(summaries, args.form, args.out / f"{NAME}-summary.png")
    wall = time.perf_counter() - t0
    (args.out / "summary.json").write_text(json.dumps(
        {"form": args.form, "horizon": horizon, "seeds": args.seeds, "quick": args.quick, "d": problem.dim,
         "config": dataclasses.asdict(problem.config), "corpus_sha": problem.corpus_sha, "wall_s": wall,
         "levels": summaries}, indent=1, default=float))
    print(f"wrote {args.out}/{NAME}-*.png and summary.json; wall time {wall:.1f} s")
    return 0


def _plot_level(level_result: dict, level: str, form: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = level_result["summary"]["methods"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, c in level_result["curves"].items():
        label, color, _ = METHODS[name]
        hp = format_hparams(rows[name]["best"])
        for ax, metric in zip(axes, ("batch_loss", "loss")):
            ax.semilogy(c["time"], c[metric], color=color, label=f"{label} ({hp})")
    for ax, ylabel in zip(axes, ("latest minibatch loss (at its stale point)", "held-out loss (current model)")):
        ax.set(xlabel="runtime (simulated seconds)", ylabel=ylabel)
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Ringmaster LMO, small LM, n = 8, {LEVEL_TITLES[level]}; {form} form")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_summary(summaries: list, form: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    x = np.arange(len(summaries))
    for name, (label, color, _) in METHODS.items():
        for ax, key in zip(axes, ("final_batch_loss", "final_heldout_loss")):
            ax.plot(x, [s["methods"][name][key] for s in summaries], "o-", color=color, label=label)
    for ax, ylabel in zip(axes, ("final minibatch loss (tuned)", "final held-out loss")):
        ax.set_xticks(x, [LEVEL_TITLES[s["level"]] for s in summaries])
        ax.set(xlabel="heterogeneity", ylabel=ylabel)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Ringmaster LMO, small LM: final losses against heterogeneity ({form} form)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
