"""Ringmaster Muon against Rennala, delay-adaptive and PA Ringmaster on the worst-case quadratic (arXiv 2605.18174).

Setup of the authors' development script ("Muon script", spec experiments.md §7.2; the final
paper's settings are [uncertain]): worst-case quadratic ``d = 1729``, noise scale ``s = 0.01``;
``n = 6174`` workers with durations ``1 + sqrt(w) + |N(0, w + 1)|``; 2000 simulated seconds.
Methods and grids: Ringmaster Muon (with stops) ``gamma in 5^{-6..1}``, ``R in {1, 2, 4, 6, 8,
16, 32}``; PA Ringmaster ``eta in 5^{-4..3}``; Rennala Muon ``gamma in 5^{-6..1}``, ``B`` over
the same thresholds; Delay-adaptive Muon ``gamma in 5^{-8..-1}``; ``beta = 0.95`` (``alpha =
0.05``). Each is tuned on the median final ``f(x) - f*`` at the horizon (best of grid); the
second row shows the script's default settings (Ringmaster Muon gamma = 0.04, R = 6; Rennala
Muon gamma = 0.04, B = 6; PA eta = 0.5; Delay-adaptive gamma = 0.005), added to the grids where
they are not on them. Curves: median over seeds, inter-quartile band.

Forms: the point is a vector. ``authors`` (the script's methods): Nesterov momentum, ``m^0 =
0``, the code's PA schedule, and Newton--Schulz acting on the vector as one ``1 x d`` block (a
normalized step of length about ``0.859 gamma``). ``paper``: the analysed methods (no Nesterov,
``alpha_0 = 1``, the paper's PA schedule), where the vector takes the Euclidean LMO ``-m /
||m||`` (the older script's "normalized Ringmaster").

The paper's claim [uncertain: the final paper's quadratic figure is not known]: Ringmaster Muon
reaches the lowest ``f - f*`` of the four. The development history notes that Muon "does not
give good result on simple objective"; this figure reports what it measures either way.
"""

from __future__ import annotations

import dataclasses


from .. import make_timing, sweep, worst_case_quadratic
from ..methods import CODE_FORM, make_method
from .base import band, claim, fmt_hparams, powers_of_5, stats, time_axis, with_settings
from .ringmaster_quadratic import QuadraticProblem

NAME = "ringmaster-lmo-quadratic"
FORMS = ("paper", "authors")
BETA = 0.95
METHODS = ("ringmaster_lmo_stops", "rennala_lmo", "delay_adaptive_lmo", "ringmaster_lmo_pa")
LABELS = {"ringmaster_lmo_stops": "Ringmaster Muon", "rennala_lmo": "Rennala Muon",
          "delay_adaptive_lmo": "Delay-adaptive Muon", "ringmaster_lmo_pa": "PA Ringmaster Muon"}
COLORS = {"ringmaster_lmo_stops": "#C00000", "rennala_lmo": "#006666", "delay_adaptive_lmo": "#B8860B",
          "ringmaster_lmo_pa": "#5B3A8E"}
STYLES = {"ringmaster_lmo_stops": "-", "rennala_lmo": "--", "delay_adaptive_lmo": "-.", "ringmaster_lmo_pa": ":"}
#: The Muon script's default settings (spec §7.2).
DEFAULTS = {"ringmaster_lmo_stops": {"gamma": 0.04, "R": 6}, "rennala_lmo": {"gamma": 0.04, "B": 6},
            "delay_adaptive_lmo": {"gamma": 0.005}, "ringmaster_lmo_pa": {"gamma": 0.5}}


@dataclasses.dataclass(frozen=True)
class Config(QuadraticProblem):  # the Ringmaster figure's quadratic, with the Muon methods' grids
    ringmaster_gammas: tuple = powers_of_5(-6, 1)
    rennala_gammas: tuple = powers_of_5(-6, 1)
    thresholds: tuple = dataclasses.field(default=(1, 2, 4, 6, 8, 16, 32), metadata={
        "elem": int, "help": "Ringmaster's R and Rennala's B"})
    delay_adaptive_gammas: tuple = powers_of_5(-8, -1)
    pa_gammas: tuple = dataclasses.field(default=powers_of_5(-4, 3), metadata={"help": "PA Ringmaster's eta"})
    num_points: int = 100


FULL = Config()
QUICK = Config(n=100, horizon=500.0, seeds=(0,))  # the older script's worker count, a quarter of the horizon
TINY = Config(n=8, d=10, horizon=30.0, seeds=(0, 1), ringmaster_gammas=(0.04, 0.2), rennala_gammas=(0.04, 0.2),
              thresholds=(1, 6), delay_adaptive_gammas=(0.005, 0.04), pa_gammas=(0.5, 2.5), num_points=10)


def options(name: str, forms: str) -> dict:
    """Static options of ``name`` under ``forms``; under the authors' the vector is one NS block."""
    opts = {} if forms == "paper" else dict(CODE_FORM, partition="all")
    if name == "ringmaster_lmo_pa":
        opts["schedule"] = "paper" if forms == "paper" else "code"
    return opts


def grids(cfg: Config) -> dict:
    """Each method's grid, with the script's defaults added where the grid lacks them."""
    g = {"ringmaster_lmo_stops": {"gamma": list(cfg.ringmaster_gammas), "R": list(cfg.thresholds)},
         "rennala_lmo": {"gamma": list(cfg.rennala_gammas), "B": list(cfg.thresholds)},
         "delay_adaptive_lmo": {"gamma": list(cfg.delay_adaptive_gammas)},
         "ringmaster_lmo_pa": {"gamma": list(cfg.pa_gammas)}}
    return with_settings(g, DEFAULTS)


def simulate(cfg: Config, forms: str = "paper", progress: bool = False) -> dict:
    """One sweep per method over its grid (which holds the script's defaults too)."""
    problem = worst_case_quadratic(d=cfg.d, noise_scale=cfg.noise_scale)
    timing = make_timing(cfg.n, "one_plus_sqrt", "halfnormal", var="i")
    out = {}
    for m, grid in grids(cfg).items():
        if m != "ringmaster_lmo_pa":  # PA's momentum weight is its schedule's
            grid = dict(grid, beta=BETA)
        out[m] = sweep(make_method(m, **options(m, forms)), problem, timing, seeds=list(cfg.seeds), grid=grid,
                       horizon=cfg.horizon, num_points=cfg.num_points, progress=progress)
    return out


def selections(results: dict, cfg: Config) -> dict:
    """``(method, "tuned" | "defaults") -> (grid index, hparams)``."""
    out = {}
    for m in METHODS:
        res = results[m]
        best = res.best("loss_gap", at=cfg.horizon)
        out[m, "tuned"] = (best["index"], {k: v for k, v in best["hparams"].items() if k not in ("alpha", "beta")})
        hp = dict(DEFAULTS[m], **({"beta": BETA} if "beta" in res.grid_dims else {}))
        out[m, "defaults"] = (res.index_of(**hp), DEFAULTS[m])
    return out


def summarize(results: dict, cfg: Config, forms: str) -> dict:
    methods = {}
    for (m, which), (idx, hp) in selections(results, cfg).items():
        res = results[m]
        p = res.point_at(cfg.horizon)
        s = dict(method=res.method, hparams=hp, loss_gap=stats(res.curve(idx, "loss_gap")[:, p]),
                 grad_norm_sq=stats(res.curve(idx, "grad_norm_sq")[:, p]),
                 updates=stats(res.curve(idx, "updates")[:, p]),
                 diverged_runs=int(res.diverged[(slice(None),) + idx].sum()))
        if which == "tuned":
            s.update(runs=int(res.diverged.size), diverged_total=int(res.diverged.sum()),
                     seconds=res.info["seconds_total"])
        s["line"] = (f"{fmt_hparams(hp)}: f-f* {s['loss_gap']['median']:.4g}, |grad|^2 "
                     f"{s['grad_norm_sq']['median']:.4g}, updates {s['updates']['median']:.0f}" +
                     (f" ({s['runs']} runs, {s['diverged_total']} diverged, {s['seconds']:.1f} s)"
                      if which == "tuned" else ""))
        methods[m if which == "tuned" else f"{m}@defaults"] = s
    tuned = {m: methods[m]["loss_gap"]["median"] for m in METHODS}
    order = sorted(METHODS, key=tuned.get)
    holds = order[0] == "ringmaster_lmo_stops"
    evidence = "median final f-f*, tuned: " + " < ".join(f"{LABELS[m]} {tuned[m]:.3g}" for m in order)
    return dict(methods=methods, claim=claim("Ringmaster Muon reaches the lowest f - f* of the four (tuned)",
                                             holds, evidence))


def plot(results: dict, cfg: Config, forms: str):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharex=True)
    chosen = selections(results, cfg)
    rows = (("tuned", "tuned (best of grid at the horizon)"), ("defaults", "the Muon script's default settings"))
    for (which, title), row in zip(rows, axes):
        for ax, metric, ylabel in zip(row, ("loss_gap", "grad_norm_sq"), (r"$f(x) - f^*$", r"$\|\nabla f(x)\|^2$")):
            for m in METHODS:
                res = results[m]
                idx, hp = chosen[m, which]
                band(ax, time_axis(res), res.curve(idx, metric), color=COLORS[m], style=STYLES[m],
                     label=f"{LABELS[m]} ({fmt_hparams(hp)})")
            ax.set_ylabel(ylabel)
            ax.set_title(title, fontsize=9)
            ax.grid(alpha=0.3, which="both")
        row[0].legend(fontsize=7)
    for ax in axes[1]:
        ax.set_xlabel("Runtime (simulated seconds)")
    form = ("the authors' script's forms (Nesterov, Newton-Schulz on the 1 x d block)" if forms == "authors" else
            "the paper's forms (Euclidean LMO on the vector, no Nesterov)")
    fig.suptitle(f"Ringmaster LMO, worst-case quadratic: n={cfg.n}, d={cfg.d}, s={cfg.noise_scale}, {cfg.horizon:g} s, "
                 f"{len(cfg.seeds)} seed(s) (median, IQR band)\n{form}", fontsize=10)
    fig.tight_layout()
    return fig
