"""Ringleader ASGD against its baselines on MNIST with label-skewed workers.

    jaxsim figure ringleader-mnist --data PATH [--split train|test] [--horizon SECONDS]
        [--seeds K] [--authors] [--no-permute] [--out DIR]

(also ``python experiments/ringleader_mnist.py``).

The Ringleader paper's MNIST setup (arXiv 2509.22860, appendix): ``n = 100`` workers,
Dirichlet(0.1) label skew with equal client sizes, a 784-128-10 MLP with mean
cross-entropy, minibatches of 4 from each worker's own samples, compute times
``tau_i = pi(i) + |N(0, i)|`` (``pi`` a per-seed permutation of ``1..n``, as in the
authors' code; ``--no-permute`` for ``tau_i = i + |N(0, i)|``). Every method runs as
one sweep over seeds x its stepsize grid (the authors' grids) and is reported at the
stepsize with the best median final ``||grad f||^2`` (diverged settings excluded).

Methods: Ringleader ASGD, IA²SGD, Malenia SGD (a round ends when every worker has
contributed) and naive Minibatch SGD. ``--authors`` switches to the forms of the
authors' simulator (Ringleader ``redispatch="current"``, Malenia with restarts).

Data: the MNIST IDX files in ``--data`` (``train-*`` for the 60 000 training images, or
``--split test`` for the 10 000 ``t10k-*`` images, then 100 per worker). The paper's
horizon is 200 000 s; the default here is far shorter so that the whole sweep fits a
laptop CPU. Writes ``ringleader-mnist.png`` and ``summary.json`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import jaxsim
from jaxsim.problems.mlp import mnist_mlp

NAME = "ringleader-mnist"
GRID_SMALL = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2]  # Ringleader and IA²SGD (authors' grid)
GRID_LARGE = [0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0]  # Malenia (authors' grid), also Minibatch
STYLE = {"ringleader": ("#C00000", "*", "Ringleader ASGD"), "ia2sgd": ("#B8860B", "^", "IA²SGD"),
         "malenia": ("#006666", "h", "Malenia SGD"), "minibatch": ("#36454F", "o", "Naive Minibatch SGD")}


def methods(authors: bool) -> dict:
    """name -> (registered method, options, stepsize grid)."""
    return {
        "ringleader": ("ringleader", {"redispatch": "current" if authors else "own"}, GRID_SMALL),
        "ia2sgd": ("ia2sgd", {}, GRID_SMALL),
        "malenia": ("malenia_stops" if authors else "malenia", {}, GRID_LARGE),
        "minibatch": ("minibatch", {}, GRID_LARGE),
    }


def run(args) -> dict:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    problem = mnist_mlp(args.data, train=args.split == "train", num_workers=args.workers, alpha=args.alpha)
    timing = jaxsim.make_timing(args.workers, "linear", "halfnormal", var="i", permute_base=not args.no_permute)
    seeds = list(range(args.seeds))
    summary = dict(n=args.workers, d=problem.dim, samples_per_worker=int(problem.parts.shape[1]),
                   horizon=args.horizon, seeds=seeds, split=args.split, authors=args.authors,
                   permute=not args.no_permute, methods={})
    curves = {}
    t_all = time.perf_counter()
    for label, (name, options, grid) in methods(args.authors).items():
        t0 = time.perf_counter()
        res = jaxsim.sweep(name, problem, timing, seeds=seeds, grid={"gamma": grid}, horizon=args.horizon,
                           num_points=args.num_points, method_options=options, progress=args.progress)
        wall = time.perf_counter() - t0
        best = res.best("grad_norm_sq")
        curve = res.curve(best["index"])
        final = curve[:, -1]
        curves[label] = (res.time[0], curve)
        summary["methods"][label] = dict(
            method=name, options=options, grid=grid, best_gamma=best["hparams"]["gamma"],
            median_final=float(np.median(final)), q25=float(np.quantile(final, 0.25)),
            q75=float(np.quantile(final, 0.75)), diverged_settings=best["excluded"],
            updates=float(np.median(res.metrics["updates"][(slice(None),) + best["index"]][:, -1])),
            runs=int(np.prod(res.metrics["updates"].shape[:-1])), seconds=wall,
            events_per_seed=res.info.get("events_per_seed"))
        per_gamma = np.median(res.final("grad_norm_sq"), axis=0)
        summary["methods"][label]["per_gamma"] = {
            f"{g:g}": (None if div else float(v)) for g, v, div in zip(grid, per_gamma, res.diverged.any(axis=0))}
        m = summary["methods"][label]
        print(f"{label:11s} gamma*={m['best_gamma']:<6g} median final ||grad f||^2 = {m['median_final']:.3e} "
              f"[{m['q25']:.2e}, {m['q75']:.2e}]  updates {m['updates']:.0f}  "
              f"{m['runs']} runs in {wall:.0f} s", flush=True)
        print("            per gamma (median final; None = a seed diverged):", m["per_gamma"], flush=True)
    summary["seconds_total"] = time.perf_counter() - t_all
    order = sorted(summary["methods"], key=lambda k: summary["methods"][k]["median_final"])
    summary["ordering"] = order
    print("ordering (best first):", " < ".join(order), f"; total {summary['seconds_total']:.0f} s")
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    _plot(curves, summary, out / "ringleader-mnist.png")
    return summary


def _plot(curves, summary, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (t, c) in curves.items():
        color, marker, name = STYLE[label]
        med = np.median(c, axis=0)
        ax.plot(t, med, color=color, marker=marker, markevery=max(1, len(t) // 8),
                label=f"{name} (γ={summary['methods'][label]['best_gamma']:g})")
        ax.fill_between(t, np.quantile(c, 0.25, axis=0), np.quantile(c, 0.75, axis=0), color=color, alpha=0.2)
    ax.set_yscale("log")
    ax.set_xlabel("Runtime (seconds)")
    ax.set_ylabel(r"$\|\nabla f(x)\|^2$")
    ax.set_title(f"MNIST, n={summary['n']}, Dirichlet(0.1), {len(summary['seeds'])} seeds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=f"jaxsim figure {NAME}", description=__doc__.replace("``", ""),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder with the MNIST IDX files")
    p.add_argument("--split", choices=("train", "test"), default="train")
    p.add_argument("--workers", type=int, default=100)
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--horizon", type=float, default=1000.0)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--num-points", type=int, default=20)
    p.add_argument("--authors", action="store_true", help="the authors' simulator forms")
    p.add_argument("--no-permute", action="store_true", help="tau_i = i + |N(0, i)| (no permutation)")
    p.add_argument("--progress", action="store_true")
    p.add_argument("--out", default="results/ringleader-mnist")
    run(p.parse_args(argv))
    return 0
