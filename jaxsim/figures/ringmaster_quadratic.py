"""The Ringmaster ASGD paper's quadratic experiment (arXiv 2501.16168, Appendix G.1).

Worst-case quadratic, ``d = 1729``, noise scale ``s = 0.01`` (one scalar per call);
``n = 6174`` workers with durations ``(1 + sqrt(w)) + |N(0, w + 1)|``; 2000 simulated
seconds. Ringmaster ASGD (Alg. 4, without stops) against Rennala SGD (without stops)
and delay-adaptive ASGD, each tuned over its full grid: ``gamma`` over powers of 5,
``R`` and ``B`` over ``{n, n/4, n/16, ..., 1}``. Best-of-grid on the final
``f(x) - f*`` (median over seeds); curves are medians over seeds with the
inter-quartile band. ``--quick`` shrinks sizes, horizon and grid to CPU minutes: a
smoke test of the pipeline, not a reproduction.

``--stops`` runs the forms that made the paper's figure: Ringmaster ASGD with stops (Alg. 5,
``ringmaster_stops``) and Rennala SGD with restarts (``rennala_stops``); at the paper legend's
settings (gamma = 0.25, R = 6) Ringmaster with stops gives the paper simulator's update count
within 0.4 %. Its results are labeled with the form.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from .. import make_timing, sweep, worst_case_quadratic

NAME = "ringmaster-quadratic"
COLORS = {"ringmaster": "#C00000", "rennala": "#006666", "delay_adaptive_asgd": "#B8860B"}
STYLES = {"ringmaster": "-", "rennala": "--", "delay_adaptive_asgd": "-."}  # curves can coincide
LABELS = {"ringmaster": "Ringmaster ASGD", "rennala": "Rennala SGD",
          "delay_adaptive_asgd": "Delay-adaptive ASGD"}


@dataclasses.dataclass(frozen=True)
class Config:
    n: int = 6174
    d: int = 1729
    noise_scale: float = 0.01
    horizon: float = 2000.0
    seeds: tuple = (0, 1, 2)
    gammas: tuple = tuple(5.0 ** i for i in range(-5, 5))
    num_points: int = 100
    stops: bool = False  # the controlled forms (Alg. 5, Rennala with restarts)

    @property
    def thresholds(self) -> list[int]:
        """``{n, n/4, n/16, ...}`` down to 1 (integer division), as in the paper."""
        out, r = [], self.n
        while r > 1:
            out.append(r)
            r //= 4
        return out + [1]


FULL = Config()
QUICK = Config(horizon=500.0, seeds=(0,), num_points=50)  # paper sizes, a quarter of the horizon, one seed


def grids(cfg: Config) -> dict:
    """Method name -> its grid (the controlled forms' names with ``cfg.stops``)."""
    g = list(cfg.gammas)
    suffix = "_stops" if cfg.stops else ""
    return {"ringmaster" + suffix: {"gamma": g, "R": cfg.thresholds},
            "rennala" + suffix: {"gamma": g, "B": cfg.thresholds},
            "delay_adaptive_asgd": {"gamma": g}}


def _base(name: str) -> str:
    return name.removesuffix("_stops")


def run(cfg: Config = FULL, out: Path | str = "out", progress: bool = True) -> dict:
    """Run every method's grid, select, plot; returns the summary written to ``summary.json``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    problem = worst_case_quadratic(d=cfg.d, noise_scale=cfg.noise_scale)
    timing = make_timing(cfg.n, "one_plus_sqrt", "halfnormal", var="i")
    summary = {"config": {**dataclasses.asdict(cfg), "thresholds": cfg.thresholds}, "methods": {}}
    results = {}
    for name, grid in grids(cfg).items():
        t0 = time.perf_counter()
        res = sweep(name, problem, timing, seeds=list(cfg.seeds), grid=grid, horizon=cfg.horizon,
                    num_points=cfg.num_points, progress=progress)
        wall = time.perf_counter() - t0
        res.save(out / f"{name}.npz")
        best = res.best("loss_gap")
        idx = best["index"]
        runs = int(np.prod(res.metrics["loss_gap"].shape[:-1]))
        summary["methods"][name] = {
            "best": best["hparams"], "final_loss_gap_median": best["value"],
            "final_grad_norm_sq_median": float(np.median(res.curve(idx, "grad_norm_sq")[:, -1])),
            "runs": runs, "diverged_runs": int(res.diverged.sum()), "wall_s": wall,
            "events_per_seed": res.info.get("events_per_seed"), "window": res.info.get("window"),
            "store": res.info.get("store"), "devices": res.info["devices"]}
        results[name] = (res, idx)
    _plot(results, cfg, out / f"{NAME}.png")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    return summary


def main(argv=None) -> int:
    """``jaxsim figure ringmaster-quadratic [--quick] [--out DIR] [--no-progress]``: run, print the summary."""
    p = argparse.ArgumentParser(prog=f"jaxsim figure {NAME}", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="CPU-minutes version (smoke test)")
    p.add_argument("--out", default="out")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--stops", action="store_true",
                   help="the paper figure's forms: Ringmaster with stops (Alg. 5), Rennala with restarts")
    args = p.parse_args(argv)
    cfg = dataclasses.replace(QUICK if args.quick else FULL, stops=args.stops)
    summary = run(cfg, out=args.out, progress=not args.no_progress)
    for name, s in summary["methods"].items():
        print(f"{name:22s} best {s['best']}  final f-f* {s['final_loss_gap_median']:.4g}  "
              f"final |grad|^2 {s['final_grad_norm_sq_median']:.4g}  ({s['runs']} runs, {s['wall_s']:.1f} s)")
    print(f"wrote {Path(args.out) / (NAME + '.png')} and {Path(args.out) / 'summary.json'}")
    return 0


def _plot(results: dict, cfg: Config, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, metric, ylabel in zip(axes, ("grad_norm_sq", "loss_gap"),
                                  (r"$\|\nabla f(x)\|^2$", r"$f(x) - f^*$")):
        for name, (res, idx) in results.items():
            y = np.maximum(res.curve(idx, metric), 1e-16)
            t = np.median(res.time, axis=0)
            q25, med, q75 = np.quantile(y, [0.25, 0.5, 0.75], axis=0)
            hp = ", ".join(f"{k}={v:g}" for k, v in res.best("loss_gap")["hparams"].items())
            b = _base(name)
            label = LABELS[b] + (" with stops" if name != b else "")
            ax.semilogy(t, med, STYLES[b], color=COLORS[b], label=f"{label} ({hp})")
            ax.fill_between(t, q25, q75, color=COLORS[b], alpha=0.2)
        ax.set_xlabel("Runtime (seconds)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    form = "the paper figure's forms (with stops)" if cfg.stops else "free-running forms"
    fig.suptitle(f"Worst-case quadratic: n={cfg.n}, d={cfg.d}, s={cfg.noise_scale}, "
                 f"{len(cfg.seeds)} seeds (median, IQR band); {form}")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
