"""Ringmaster ASGD against Rennala SGD and delay-adaptive ASGD on the worst-case quadratic (arXiv 2501.16168, G.1).

Worst-case quadratic, ``d = 1729``, noise scale ``s = 0.01`` (one scalar per call); ``n = 6174``
workers with durations ``(1 + sqrt(w)) + |N(0, w + 1)|``; 2000 simulated seconds. Each method is
tuned over the paper's full grid (``gamma`` over powers of 5, ``R`` and ``B`` over
``{n, n/4, n/16, ..., 1}``), best-of-grid on the median final ``f(x) - f*`` at the horizon; the
second row shows the settings of the paper's legend (Ringmaster gamma = 0.2, R = 6; Rennala
gamma = 1, B = 6; delay-adaptive gamma = 0.00032), added to the grids where they are not on
them. Curves: median over seeds, inter-quartile band.

Forms: ``paper`` runs the algorithms as stated (Ringmaster Alg. 4, free-running; Rennala SGD
without stops). ``authors`` runs the forms that made the paper's picture (the authors' simulator):
Ringmaster with stops (Alg. 5) and Rennala with restarts, and the script's Ringmaster
gamma = 0.25 in the legend row; at those settings the update count matches the paper simulator's
within 0.4 %.

The paper's claim: Ringmaster ASGD outperforms the baselines, Rennala SGD close behind and
delay-adaptive ASGD far slower.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import make_timing, sweep, worst_case_quadratic
from .base import band, claim, fmt_hparams, powers_of_5, stats, time_axis, with_value

NAME = "ringmaster-quadratic"
FORMS = ("paper", "authors")
METHODS = ("ringmaster", "rennala", "delay_adaptive_asgd")
COLORS = {"ringmaster": "#C00000", "rennala": "#006666", "delay_adaptive_asgd": "#B8860B"}
STYLES = {"ringmaster": "-", "rennala": "--", "delay_adaptive_asgd": "-."}  # tuned curves can coincide
LABELS = {"ringmaster": "Ringmaster ASGD", "rennala": "Rennala SGD", "delay_adaptive_asgd": "Delay-adaptive ASGD"}


def thresholds(n: int) -> list[int]:
    """``{n, n/4, n/16, ...}`` down to 1 (integer division): the paper's grid of ``R`` and ``B``."""
    out, r = [], n
    while r > 1:
        out.append(r)
        r //= 4
    return out + [1]


@dataclasses.dataclass(frozen=True)
class QuadraticProblem:
    """The paper's worst-case quadratic (G.1): workers, dimension, noise, horizon and seeds."""

    n: int = dataclasses.field(default=6174, metadata={"help": "workers"})
    d: int = dataclasses.field(default=1729, metadata={"help": "dimension of the quadratic"})
    noise_scale: float = dataclasses.field(default=0.01, metadata={"help": "gradient noise s (one scalar per call)"})
    horizon: float = dataclasses.field(default=2000.0, metadata={"help": "simulated seconds"})
    seeds: tuple = dataclasses.field(default=(0, 1, 2), metadata={"elem": int})


@dataclasses.dataclass(frozen=True)
class Config(QuadraticProblem):
    gammas: tuple = powers_of_5(-5, 4)
    num_points: int = 100

    @property
    def thresholds(self) -> list[int]:
        return thresholds(self.n)


FULL = Config()
QUICK = Config(horizon=500.0, seeds=(0,), num_points=50)  # paper sizes, a quarter of the horizon, one seed
TINY = Config(n=8, d=10, horizon=30.0, seeds=(0, 1), gammas=(0.04, 0.2, 1.0), num_points=10)

# The metrics this figure reports, the first one the selection's: (recorded name, printed name, axis label).
METRICS = (("loss_gap", "f-f*", r"$f(x) - f^*$"), ("grad_norm_sq", "|grad|^2", r"$\|\nabla f(x)\|^2$"))
CLAIM = "Ringmaster ASGD ends lowest; Rennala SGD close; delay-adaptive ASGD far behind"


def paper_settings(forms: str) -> dict:
    """The legend's settings (the script's Ringmaster gamma = 0.25 under the authors' forms)."""
    return {"ringmaster": {"gamma": 0.25 if forms == "authors" else 0.2, "R": 6},
            "rennala": {"gamma": 1.0, "B": 6}, "delay_adaptive_asgd": {"gamma": 0.00032}}


def registered(method: str, forms: str) -> str:
    """The registered method running ``method`` under ``forms``."""
    return method + "_stops" if forms == "authors" and method != "delay_adaptive_asgd" else method


# ---- shared with the paper's other Appendix G figure (ringmaster_mnist): the problem-specific
# bits (legend settings, metrics, claim, title) are parameters; cfg needs n, gammas, thresholds,
# seeds, horizon and num_points.


def grids(cfg, forms: str = "paper", settings: dict | None = None) -> dict:
    """Each method's tuning grid, with the legend's values (``settings``, default this figure's)
    added where the paper grid lacks them."""
    paper = paper_settings(forms) if settings is None else settings
    g = {"ringmaster": {"gamma": list(cfg.gammas), "R": cfg.thresholds},
         "rennala": {"gamma": list(cfg.gammas), "B": cfg.thresholds},
         "delay_adaptive_asgd": {"gamma": list(cfg.gammas)}}
    for m, axes in g.items():
        for k, v in paper[m].items():
            if k == "gamma" or v <= cfg.n:
                axes[k] = with_value(axes[k], v, descending=k != "gamma")
    return g


def sweeps(problem, cfg, forms: str, settings: dict, progress: bool = False) -> dict:
    """One sweep per method over its grid on the paper's workers: ``(1 + sqrt(w)) + |N(0, w + 1)|``."""
    timing = make_timing(cfg.n, "one_plus_sqrt", "halfnormal", var="i")
    return {m: sweep(registered(m, forms), problem, timing, seeds=list(cfg.seeds), grid=grid, horizon=cfg.horizon,
                     num_points=cfg.num_points, progress=progress)
            for m, grid in grids(cfg, forms, settings).items()}


def selections(results: dict, cfg, forms: str, settings: dict | None = None, metric: str = "loss_gap") -> dict:
    """``(method, "tuned" | "paper") -> (grid index, hparams)``: best of grid on ``metric`` at the
    horizon, and the legend's setting (absent when it does not fit, e.g. R = 6 > n at a tiny size)."""
    paper = paper_settings(forms) if settings is None else settings
    out = {}
    for m in METHODS:
        res = results[m]
        best = res.best(metric, at=cfg.horizon)
        out[m, "tuned"] = (best["index"], best["hparams"])
        hp = paper[m]
        if all(k == "gamma" or v <= cfg.n for k, v in hp.items()):
            out[m, "paper"] = (res.index_of(**hp), hp)
    return out


def summary(results: dict, cfg, chosen: dict, metrics=METRICS, claim_text: str = CLAIM, note: str = "") -> dict:
    """Per selected setting: the median and quartiles of each of ``metrics`` and of the update count
    at the horizon; the verdict: the tuned Ringmaster (and at the legend's settings, when they fit)
    lowest on the first metric. ``note`` ends the evidence (e.g. which data the run used)."""
    first = metrics[0][0]
    methods = {}
    for (m, which), (idx, hp) in chosen.items():
        res = results[m]
        p = res.point_at(cfg.horizon)
        s = dict(method=res.method, hparams=hp)
        for key, _, _ in metrics:
            s[key] = stats(res.curve(idx, key)[:, p])
        s.update(updates=stats(res.curve(idx, "updates")[:, p]),
                 diverged_runs=int(res.diverged[(slice(None),) + idx].sum()))
        if which == "tuned":
            s.update(runs=int(res.diverged.size), diverged_settings=int(res.diverged.any(axis=0).sum()),
                     seconds=res.info["seconds_total"])
        s["line"] = (f"{fmt_hparams(hp)}: " + ", ".join(f"{name} {s[key]['median']:.4g}" for key, name, _ in metrics) +
                     f", updates {s['updates']['median']:.0f}" +
                     (f" ({s['runs']} runs, {s['seconds']:.1f} s)" if which == "tuned" else ""))
        methods[m if which == "tuned" else f"{m}@paper"] = s

    name = dict((k, n) for k, n, _ in metrics)[first]
    tuned = {m: methods[m][first]["median"] for m in METHODS}
    legend = {m: methods[f"{m}@paper"][first]["median"] for m in METHODS if f"{m}@paper" in methods}
    rm, rn = methods["ringmaster"]["hparams"], methods["rennala"]["hparams"]
    same = rm["R"] == rn["B"] == 1 and rm["gamma"] == rn["gamma"]
    holds = tuned["ringmaster"] <= min(tuned.values()) * (1 + 1e-6) and \
        (not legend or legend.get("ringmaster", np.inf) <= min(legend.values()) * (1 + 1e-6))
    evidence = (f"median final {name}, tuned: " + ", ".join(f"{m} {v:.3g}" for m, v in tuned.items()) +
                ("; at the legend's settings: " + ", ".join(f"{m} {v:.3g}" for m, v in legend.items())
                 if legend else "") +
                ("; tuned Ringmaster and Rennala both chose R = B = 1 with the same gamma (the same rule)"
                 if same else "") + (f"; {note}" if note else ""))
    return dict(methods=methods, claim=claim(claim_text, holds, evidence))


def draw(results: dict, cfg, forms: str, chosen: dict, metrics=METRICS, title: str = ""):
    """Rows: tuned, the legend's settings; columns: ``metrics`` (the selection's first, as the paper
    plots ``||grad f||^2`` first when it is the selection's)."""
    import matplotlib.pyplot as plt

    cols = sorted(metrics, key=lambda mt: mt[0] != "grad_norm_sq")  # the paper's plotted metric first
    fig, axes = plt.subplots(2, len(cols), figsize=(5.5 * len(cols), 8), sharex=True, squeeze=False)
    rows = (("tuned", "tuned (best of grid at the horizon)"), ("paper", "the paper legend's settings"))
    for (which, title_row), row in zip(rows, axes):
        for ax, (metric, _, ylabel) in zip(row, cols):
            for m in METHODS:
                if (m, which) not in chosen:
                    continue
                res = results[m]
                idx, hp = chosen[m, which]
                name = LABELS[m] + (" with stops" if res.method.endswith("_stops") else "")
                band(ax, time_axis(res), res.curve(idx, metric), color=COLORS[m], style=STYLES[m],
                     label=f"{name} ({fmt_hparams(hp)})")
            ax.set_ylabel(ylabel)
            ax.set_title(title_row, fontsize=9)
            ax.grid(alpha=0.3)
        row[0].legend(fontsize=7)
    for ax in axes[1]:
        ax.set_xlabel("Runtime (seconds)")
    form = "the authors' simulator forms (with stops)" if forms == "authors" else "the paper's forms (free-running)"
    fig.suptitle(f"{title}, {len(cfg.seeds)} seeds (median, IQR band); {form}", fontsize=10)
    fig.tight_layout()
    return fig


# ---- this figure ---------------------------------------------------------------------------------


def simulate(cfg: Config, forms: str = "paper", progress: bool = False) -> dict:
    """One sweep per method over its grid (which holds the paper's settings too)."""
    return sweeps(worst_case_quadratic(d=cfg.d, noise_scale=cfg.noise_scale), cfg, forms, paper_settings(forms),
                  progress)


def summarize(results: dict, cfg: Config, forms: str) -> dict:
    return summary(results, cfg, selections(results, cfg, forms))


def plot(results: dict, cfg: Config, forms: str):
    return draw(results, cfg, forms, selections(results, cfg, forms),
                title=f"Worst-case quadratic: n={cfg.n}, d={cfg.d}, s={cfg.noise_scale}")
