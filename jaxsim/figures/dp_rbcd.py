"""DP random block coordinate descent: importance vs uniform block sampling vs DP-SGD at equal privacy.

    jaxsim figure dp-rbcd [--samples 1000] [--dim 20] [--dominance 10] [--labels unscaled|scaled]
                          [--eps 0.5 1 2 4 8] [--seeds 11] [--quick] [--out DIR]

(also ``python experiments/dp_rbcd.py``).

No experiment of the paper is known (spec experiments.md §10 [uncertain]); this is a project
recipe for its qualitative claim. The paper (arXiv 2412.17054,
spec lmo_vr_local.md §5) states that importance block sampling, ``q_j ∝ max_{l∈A_j} M_l``, can be
up to ``sqrt(d)`` times faster than DP-CD (uniform coordinates) when one coordinate dominates the
smoothness constants, and that the method keeps DP-SGD's and DP-CD's utility guarantees as
special cases. This figure reports whether the runs show it; the setup is fixed in advance and
not tuned to produce the claim.

Problem: L2-regularised (``l2 = 1e-3``) logistic regression on ``N`` synthetic samples whose
``d`` standard normal features are scaled by ``(dominance, 1, ..., 1)``, so
``M_1 / M_l ≈ dominance^2`` (:func:`jaxsim.problems.component_logistic`); ``f*`` by Newton. The
labels depend on the unscaled features (default; the minimizer's first coordinate is then small)
or, with ``--labels scaled``, on the scaled ones (the first feature then dominates the labels).
Methods (all :mod:`jaxsim.methods.dp_rbcd`, the same ``(eps, delta = 1e-5)``, noise calibrated by
DP-CD's constant, ``sigma_U = sqrt(12) L_U sqrt(T K log(1/delta)) / (N eps)``):

* DP-RBCD importance: one block per coordinate, ``q_l ∝ M_l``, steps ``gamma / M_l``;
* DP-CD: one block per coordinate, uniform, steps ``gamma / M_l``;
* DP-SGD: one full block, one stepsize ``gamma`` (``gamma`` on a grid of multiples of
  ``1 / max_l M_l``);
* DP-SGD (diagonal): one full block, steps ``gamma / M_l``.

An outer iteration is one pass in expectation (``K = d`` inner iterations for the coordinate
methods, ``K = 1`` for the full block), and each method tunes the number of passes ``T`` and
``gamma`` per ``eps`` (more passes mean more noise per step). Protocol (experiments.md §0):
select the setting with the smallest final ``f - f*`` on seed 0, report median and IQR over
the other seeds. Writes ``dp-rbcd.png`` (left: final ``f - f*`` against ``eps``; right: the
selected runs against passes at the middle ``eps``), ``summary.json`` and prints a table with
the importance-over-uniform ratio of the medians.

``--quick``: ``N = 200``, ``d = 10``, two ``eps``, four seeds, small grids: a smoke test on CPU.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from .. import make_timing, sweep
from ..methods import make_method
from ..problems import component_logistic
from . import format_hparams

NAME = "dp-rbcd"
DELTA = 1e-5
L2 = 1e-3
METHODS = {  # key -> (label, colour, static options, steps scale by 1 / max M)
    "importance": ("DP-RBCD importance", "#C00000", dict(blocks=None, stepsizes="smoothness"), False),
    "uniform": ("DP-CD (uniform)", "#1f77b4", dict(blocks=None, stepsizes="smoothness"), False),
    "sgd": ("DP-SGD", "#36454F", dict(blocks=1, stepsizes="scalar"), True),
    "sgd_diag": ("DP-SGD (diagonal steps)", "#B8860B", dict(blocks=1, stepsizes="smoothness"), False),
}
SIZES = {  # quick / full: samples, dim, passes grid, gamma multipliers, eps grid, seeds, points
    "quick": dict(samples=200, dim=10, passes=[1, 3, 10, 30], gammas=[0.1, 0.3, 1.0], eps=[1.0, 4.0], seeds=4,
                  points=30),
    "full": dict(samples=1000, dim=20, passes=[1, 2, 5, 10, 20, 50, 100], gammas=[0.1, 0.3, 1.0, 1.9],
                 eps=[0.5, 1.0, 2.0, 4.0, 8.0], seeds=11, points=60),
}


def run_method(key: str, problem, cfg: dict, progress: bool = True) -> dict:
    """One sweep (seeds x gamma x T x eps); selection on seed 0, statistics over the others."""
    label, _, opts, scalar = METHODS[key]
    d = problem.dim
    K = d if opts["blocks"] is None else 1
    M = np.asarray(problem.coordinate_smoothness(), np.float64)
    gammas = [g / float(M.max()) for g in cfg["gammas"]] if scalar else list(cfg["gammas"])
    grid = {"gamma": gammas, "T": list(cfg["passes"]), "eps": list(cfg["eps"]), "K": K, "delta": DELTA,
            "importance": 1.0 if key == "importance" else 0.0}
    horizon = float(max(cfg["passes"]) * K)
    t0 = time.perf_counter()
    res = sweep(make_method("dp_rbcd", **opts), problem, make_timing(1, "sqrt", "none"),
                seeds=list(range(cfg["seeds"])), grid=grid, horizon=horizon, num_points=cfg["points"],
                progress=progress)
    seconds = time.perf_counter() - t0
    final = res.final("loss_gap")  # [seed, gamma, T, eps]
    bad = res.diverged
    out = {"label": label, "seconds": seconds, "K": K, "per_eps": []}
    for e, eps in enumerate(cfg["eps"]):
        tune = np.where(bad[0, :, :, e], np.inf, final[0, :, :, e])
        a, b = np.unravel_index(int(np.argmin(tune)), tune.shape)
        rest = final[1:, a, b, e]
        q1, med, q3 = np.percentile(rest, [25, 50, 75])
        out["per_eps"].append(dict(eps=eps, gamma=gammas[a], T=int(cfg["passes"][b]), median=float(med),
                                   q1=float(q1), q3=float(q3),
                                   curve=np.median(res.metrics["loss_gap"][1:, a, b, e], axis=0).tolist()))
    out["time"] = res.time[0].tolist()
    return out


def run(cfg: dict, dominance: float, labels: str, out: Path, progress: bool = True) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    d = cfg["dim"]
    scales = np.ones(d)
    scales[0] = dominance
    problem = component_logistic(num_samples=cfg["samples"], dim=d, scales=scales, seed=0, labels=labels, l2=L2)
    M = np.asarray(problem.coordinate_smoothness(), np.float64)
    gap0 = float(problem.loss(problem.init())) - problem.f_star
    print(f"problem: N={cfg['samples']} samples, d={d}, labels from {labels} features, M_1/median M = "
          f"{M[0] / np.median(M):.1f}, f* = {problem.f_star:.6f}, f(0) - f* = {gap0:.4f}; (eps, delta={DELTA:g}) per "
          f"row, seeds: tune on 0, report median [IQR] of final f - f* over 1..{cfg['seeds'] - 1}")
    results = {key: run_method(key, problem, cfg, progress) for key in METHODS}
    header = "eps     " + "".join(f"{results[k]['label']:>34s}" for k in METHODS) + "   uniform/importance"
    print(header)
    for e, eps in enumerate(cfg["eps"]):
        cells = []
        for k in METHODS:
            r = results[k]["per_eps"][e]
            cells.append(f"{r['median']:.3e} [{r['q1']:.1e},{r['q3']:.1e}] T={r['T']}")
        ratio = results["uniform"]["per_eps"][e]["median"] / results["importance"]["per_eps"][e]["median"]
        print(f"{eps:<8g}" + "".join(f"{c:>34s}" for c in cells) + f"   {ratio:10.2f}")
    for k in METHODS:
        sel = ", ".join(format_hparams({"eps": r["eps"], "gamma": r["gamma"], "T": r["T"]})
                        for r in results[k]["per_eps"])
        print(f"{results[k]['label']}: {results[k]['seconds']:.1f} s; selected {sel}")
    _plot(results, cfg, out)
    summary = {"config": cfg, "dominance": dominance, "labels": labels, "delta": DELTA, "f_star": problem.f_star,
               "initial_gap": gap0,
               "methods": {k: {kk: v for kk, v in r.items() if kk != "time"} for k, r in results.items()}}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return results


def _plot(results: dict, cfg: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    mid = len(cfg["eps"]) // 2
    for k, (label, colour, _, _) in METHODS.items():
        r = results[k]
        med = np.array([p["median"] for p in r["per_eps"]])
        lo = med - np.array([p["q1"] for p in r["per_eps"]])
        hi = np.array([p["q3"] for p in r["per_eps"]]) - med
        ax.errorbar(cfg["eps"], med, yerr=[lo, hi], color=colour, label=label, marker="o", capsize=3)
        passes = np.asarray(r["time"]) / r["K"]
        bx.plot(passes, np.maximum(r["per_eps"][mid]["curve"], 1e-12), color=colour, label=label)
    ax.set(xscale="log", yscale="log", xlabel="privacy budget ε (δ = 1e-5)", ylabel="final f − f* (median, IQR)")
    ax.set_xticks(cfg["eps"], [f"{e:g}" for e in cfg["eps"]])
    ax.minorticks_off()
    bx.set(xscale="symlog", yscale="log", xlabel="passes (iterations / K)",
           ylabel=f"f − f* at ε = {cfg['eps'][mid]:g} (median)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "dp-rbcd.png", dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=f"jaxsim figure {NAME}", description=__doc__.replace("``", ""),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", type=int, default=None, help="N (default 1000; 200 with --quick)")
    p.add_argument("--dim", type=int, default=None, help="d (default 20; 10 with --quick)")
    p.add_argument("--dominance", type=float, default=10.0, help="scale of feature 1 (M_1/M_l ≈ its square)")
    p.add_argument("--labels", choices=("unscaled", "scaled"), default="unscaled",
                   help="features the synthetic labels depend on (default: unscaled)")
    p.add_argument("--eps", type=float, nargs="+", default=None)
    p.add_argument("--seeds", type=int, default=None, help="seeds (seed 0 tunes, the others are reported)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=Path(f"results/{NAME}"))
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    cfg = dict(SIZES["quick" if args.quick else "full"])
    for name, value in (("samples", args.samples), ("dim", args.dim), ("eps", args.eps), ("seeds", args.seeds)):
        if value is not None:
            cfg[name] = value
    if cfg["seeds"] < 2:
        p.error("--seeds: at least 2 (one tunes, the others are reported)")
    t0 = time.perf_counter()
    run(cfg, args.dominance, args.labels, args.out, progress=not args.no_progress)
    print(f"total {time.perf_counter() - t0:.1f} s; wrote {args.out / 'dp-rbcd.png'}")
    return 0
