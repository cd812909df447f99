"""ATA paper (arXiv 2502.00775), its quadratic figure at reduced size.

    jaxsim figure ata-quadratic [--n 17 51] [--iterations 3000] [--horizon SECONDS]
                                [--seeds 0 1 2] [--points 300] [--out DIR]

(also ``python experiments/ata_quadratic.py``).

Setup as in the authors' code: worst-case quadratic ``d = 100``, noise scale ``s = 0.001``,
SGD with ``gamma = 1e-4``, ``B = 23`` gradients per iteration, ``n`` workers whose task
times are ``X_i = 29 i + Exp(mean 29 i)`` (``mu_i = 58 i``). Methods: ATA (poster
constants, ``alpha = 2 max_i mu_i``), ATA-Empirical (poster constants, ``eta = 1``; the
law's ``||X - mu||_psi1 / mu`` is about 0.77), FTA (known means), UTA (uniform) and GTA
(Rennala SGD with stops, ``B = 23``).

Reduced size: the paper runs ``K = 3e6`` iterations per method. Here all methods share one
horizon in seconds, by default ``iterations * ceil(B/n) * max_i mu_i`` (the slowest policy,
UTA, then completes about ``iterations`` iterations; the others more). At this size ATA
with ``alpha = 2 max_i mu_i`` is still exploring: a worker's LCB ``mu_hat_i - 2 alpha
(sqrt(L/K_i) + L/K_i)`` (``L = ln(2 k^2)``) is 0 until ``K_i > (4 max mu / mu_i)^2 L``
tasks, about ``4 600 L`` for the fastest worker at ``n = 17``, so every score is 0 and
ATA spreads tasks uniformly (like UTA) for tens of thousands of iterations. ATA-Empirical
leaves that phase after about ``80 L``/worker tasks. Use ``--iterations`` to go further.

Every ATA-family policy takes ``B`` gradients at ``x^k`` keyed by ``(seed, k, slot)``, so
their optimisation trajectories coincide; they differ in how long iterations take and
how much worker time they cost. The table compares the policies at ``K*`` = the fewest
iterations any policy completed (the same ``||grad f||^2`` for the ATA family):
runtime and total worker time to reach ``K*`` and their ratios to GTA's.

Writes ``ata-quadratic.png`` (one row per ``n``; columns: runtime vs ``||grad f||^2``,
total worker time vs ``||grad f||^2``, average iteration time vs iterations, average
cumulative proxy regret vs iterations) and ``summary.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

import jaxsim

NAME = "ata-quadratic"
D, NOISE, GAMMA, B = 100, 0.001, 1e-4, 23
METHODS = {  # name -> (label, colour, marker, extra hyperparameters); colours/markers of the authors' plots
    "ata": ("ATA", "#C00000", "d", {"alpha_scale": 2.0}),
    "ata_empirical": ("ATA-Empirical", "#B8860B", "*", {"eta": 1.0}),
    "fta": ("FTA (known means)", "#006666", "^", {}),
    "rennala_stops": ("GTA", "#36454F", "H", {}),
    "uta": ("UTA", "#8B2500", "v", {}),
}


def timing_for(n: int):
    return jaxsim.make_timing(n, "linear", "exponential", scale="base", base_scale=29.0)


def v_b(mu, B):
    """``v_B``: the B-th smallest ``j mu_i`` (the optimal proxy loss)."""
    return float(np.sort(np.outer(np.arange(1, B + 1), mu).ravel())[B - 1])


def run_n(n: int, iterations: int, horizon, seeds, points: int) -> dict:
    problem = jaxsim.worst_case_quadratic(d=D, noise_scale=NOISE)
    timing = timing_for(n)
    mu = timing.mean()
    T = float(horizon) if horizon else iterations * math.ceil(B / n) * float(mu.max())
    out = {"n": n, "horizon": T, "v_B": v_b(mu, B), "methods": {}}
    for name, (_, _, _, extra) in METHODS.items():
        t0 = time.perf_counter()
        res = jaxsim.sweep(name, problem, timing, seeds=seeds, grid={"gamma": GAMMA, "B": B, **extra},
                           horizon=T, num_points=points)
        m = {k: v.astype(np.float64) for k, v in res.metrics.items()}
        m["time"] = res.time.astype(np.float64)
        m["seconds"] = time.perf_counter() - t0
        out["methods"][name] = m
    return out


def at_iterations(m: dict, K: int, metric: str) -> float:
    """Median over seeds of ``metric`` at the first grid point with ``updates >= K``."""
    vals = []
    for s in range(m["updates"].shape[0]):
        g = int(np.argmax(m["updates"][s] >= K))
        vals.append(m[metric][s, g])
    return float(np.median(vals))


def summarize(res: dict) -> tuple[list, dict]:
    ms = res["methods"]
    K = int(min(np.min(m["updates"][:, -1]) for m in ms.values()))
    gta_rt, gta_w = at_iterations(ms["rennala_stops"], K, "time"), at_iterations(ms["rennala_stops"], K, "busy_time")
    rows, summary = [], {"n": res["n"], "horizon": res["horizon"], "v_B": res["v_B"], "K_star": K, "methods": {}}
    for name, m in ms.items():
        k_final = np.median(m["updates"][:, -1])
        rt, w = at_iterations(m, K, "time"), at_iterations(m, K, "busy_time")
        regret = np.median(m["proxy_regret"][:, -1] / np.maximum(m["updates"][:, -1], 1)) if "proxy_regret" in m \
            else float("nan")
        row = {"method": METHODS[name][0], "iters_T": float(k_final),
               "grad_norm_sq_T": float(np.median(m["grad_norm_sq"][:, -1])),
               "loss_gap_T": float(np.median(m["loss_gap"][:, -1])),
               "grad_norm_sq_K": at_iterations(m, K, "grad_norm_sq"),
               "runtime_K": rt, "worker_time_K": w, "runtime_vs_gta": rt / gta_rt, "worker_time_vs_gta": w / gta_w,
               "worker_time_T": float(np.median(m["busy_time"][:, -1])), "avg_regret_T": float(regret),
               "avg_iter_time_T": float(np.median(res["horizon"] / np.maximum(m["updates"][:, -1], 1))),
               "seconds": m["seconds"]}
        rows.append(row)
        summary["methods"][name] = row
    return rows, summary


def print_table(res: dict, rows: list, K: int) -> None:
    print(f"\nn = {res['n']}: horizon {res['horizon']:.4g} s, v_B = {res['v_B']:.0f} s, "
          f"K* = {K} iterations (fewest completed by any policy)")
    hdr = (f"{'method':<18}{'iters@T':>9}{'|grad|^2@T':>12}{'|grad|^2@K*':>12}{'runtime@K*':>12}"
           f"{'work@K*':>11}{'rt/GTA':>8}{'work/GTA':>9}{'T/k':>8}{'regret/k':>10}{'sec':>6}")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print(f"{r['method']:<18}{r['iters_T']:>9.0f}{r['grad_norm_sq_T']:>12.4g}{r['grad_norm_sq_K']:>12.4g}"
              f"{r['runtime_K']:>12.4g}{r['worker_time_K']:>11.4g}{r['runtime_vs_gta']:>8.2f}"
              f"{r['worker_time_vs_gta']:>9.3f}{r['avg_iter_time_T']:>8.0f}{r['avg_regret_T']:>10.1f}"
              f"{r['seconds']:>6.1f}")


def plot(results: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 4, figsize=(18, 3.8 * len(results)), squeeze=False)
    for row, res in zip(axes, results):
        for name, m in res["methods"].items():
            label, color, marker, _ = METHODS[name]
            style = {"color": color, "marker": marker, "markevery": 0.1, "markersize": 5, "lw": 1.4, "label": label}

            def med(a):
                return np.median(a, axis=0)

            k = med(m["updates"])
            row[0].plot(med(m["time"]), med(m["grad_norm_sq"]), **style)
            row[1].plot(med(m["busy_time"]), med(m["grad_norm_sq"]), **style)
            ok = k > 0
            row[2].plot(k[ok], med(m["time"] / np.maximum(m["updates"], 1))[ok], **style)
            if "proxy_regret" in m:
                row[3].plot(k[ok], med(m["proxy_regret"] / np.maximum(m["updates"], 1))[ok], **style)
        n = res["n"]
        row[0].set(xlabel="runtime (s)", ylabel=r"$\|\nabla f(x_k)\|^2$", yscale="log", title=f"n = {n}")
        row[1].set(xlabel="total worker time (s)", ylabel=r"$\|\nabla f(x_k)\|^2$", xscale="log", yscale="log")
        row[2].set(xlabel="iterations k", ylabel="average iteration time (s)")
        row[3].set(xlabel="iterations k", ylabel="average cumulative proxy regret", yscale="symlog")
        row[2].axhline(res["v_B"], color="grey", ls=":", lw=1)
        for ax in row:
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"ATA quadratic (d={D}, s={NOISE}, gamma={GAMMA}, B={B}; "
                 r"$X_i = 29i + \mathrm{Exp}(29i)$; median over seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=f"jaxsim figure {NAME}", description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[17, 51], help="worker counts (rows)")
    p.add_argument("--iterations", type=int, default=3000,
                   help="horizon = iterations * ceil(B/n) * max mu (about this many UTA iterations)")
    p.add_argument("--horizon", type=float, default=None, help="simulated seconds (overrides --iterations)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--points", type=int, default=300, help="recording points")
    p.add_argument("--out", type=Path, default=Path("results/ata-quadratic"))
    args = p.parse_args(argv)
    if args.iterations < 1 or args.points < 1 or any(n < 1 for n in args.n):
        p.error("--n, --iterations and --points must be positive")
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results, summaries = [], []
    for n in args.n:
        res = run_n(n, args.iterations, args.horizon, args.seeds, args.points)
        rows, summary = summarize(res)
        print_table(res, rows, summary["K_star"])
        results.append(res)
        summaries.append(summary)
    plot(results, args.out / "ata-quadratic.png")
    (args.out / "summary.json").write_text(json.dumps({"seeds": args.seeds, "rows": summaries}, indent=1))
    print(f"\nwrote {args.out / 'ata-quadratic.png'} and summary.json; wall time {time.perf_counter() - t0:.1f} s")
    return 0
