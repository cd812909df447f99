"""LOSCAR-SGD, a9a-shaped logistic regression: delay-corrected merge vs overwrite vs no overlap vs dense Local SGD.

Spec ``experiments.md`` §9 and ``lmo_vr_local.md`` §4 (arXiv 2605.20866), all **[uncertain]**:
the paper's settings are not known, so every number below is a project choice.

Setup: L2-regularised logistic regression (``l2 = 1e-4``, minibatch 32 per local step) on a9a
when ``--data`` names the LIBSVM file (123 features, labels mapped to ±1, split i.i.d. over the
workers), else on a synthetic a9a-shaped set (32,561 samples, 123 Gaussian features, labels from
a logistic ground truth, homogeneous workers: :func:`jaxsim.problems.data.synthetic_logistic`); ``f*`` by
Newton-CG. ``n = 10`` workers with step times ``tau_i = sqrt(i)`` (fixed model), compute window
``T = 10 s``, 3000 simulated seconds, 3 seeds. Communication ``T_comm = latency + per_float * K``:
"normal" ``latency = 5 s`` (half the window), ``per_float = 0.01 s``, so 30-36 % of the local
steps run in the overlap (a latency of 1 s left 2-10 %, where the two merges differ by under 1 %
by construction); "stress" ``latency = 20 s``, ``per_float = 0.2 s`` (68-82 %). The summary
reports each regime's overlap share per ``K``, from the fixed model
(:func:`jaxsim.theory.loscar_round`) and measured. Sparsity ``p in {1, 0.1, 0.01, 0.001}``, ``K =
max(1, round(p d))`` (``d = 123``: the two smallest ``p`` both give ``K = 1``). Variants: LOSCAR
(delay-corrected merge, overlap), naive overwrite (overlap), no overlap (``Q_i = 0``, where both
merges coincide), dense Local SGD (no overlap, ``K = d``, drawn in every column).

Selection metric: ``f(x̄) - f*`` against time (the recipe's "loss of ``x̄`` vs time",
experiments.md §9 [uncertain]); each variant and ``K`` takes its stepsize by
:func:`jaxsim.figures.verdict.select` (tail mean, median over seeds, edges flagged). Curves
against time and communicated floats; rows: the two regimes. Forms: ``paper`` only.

The paper's claim: the delay-corrected merge beats naive overwriting, most clearly with large
communication delays (the stress regime); overlap reduces training time. Parts, per regime and
``K``: LOSCAR ends below overwrite, and below no overlap at the same time; per ``K``, LOSCAR's
per-seed ratio to overwrite is lower in the stress regime than in the normal one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import numpy as np

from .. import make_timing, sweep
from ..problems.logistic import make_logistic
from ..theory import loscar_round
from . import verdict as V
from .base import band, edge_text, fmt_hparams, seeds_text, tail_stats, time_axis

NAME = "loscar-a9a"
FORMS = ("paper",)
REGIMES = {"normal": {"latency": 5.0, "per_float": 0.01}, "stress": {"latency": 20.0, "per_float": 0.2}}
VARIANTS = {  # name -> (label, colour, static options)
    "loscar": ("LOSCAR (delay-corrected)", "#C00000", {}),
    "overwrite": ("naive overwrite", "#1F4E9A", {"merge": "overwrite"}),
    "no_overlap": ("no overlap", "#6A6A6A", {"overlap": False}),
}
DENSE = ("dense Local SGD", "#B8860B")
METRIC = ("loss_gap", "experiments.md §9 [uncertain]: loss of x̄ vs time")
A9A_SAMPLES, A9A_FEATURES = 32561, 123


@dataclasses.dataclass(frozen=True)
class Config:
    data: Optional[str] = dataclasses.field(default=None, metadata={
        "help": "a9a in LIBSVM format (unset or 'synthetic': the synthetic a9a-shaped set)"})
    n: int = dataclasses.field(default=10, metadata={"help": "workers, tau_i = sqrt(i)"})
    compute_time: float = dataclasses.field(default=10.0, metadata={"help": "compute window T per round (seconds)"})
    horizon: float = dataclasses.field(default=3000.0, metadata={"help": "simulated seconds"})
    seeds: tuple = dataclasses.field(default=(0, 1, 2), metadata={"elem": int})
    gammas: tuple = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
    ps: tuple = dataclasses.field(default=(1.0, 0.1, 0.01, 0.001), metadata={
        "help": "sparsity levels p: K = max(1, round(p d)) coordinates per round"})
    samples: int = dataclasses.field(default=A9A_SAMPLES, metadata={"help": "samples of the synthetic set"})
    features: int = dataclasses.field(default=A9A_FEATURES, metadata={
        "help": "features (of the synthetic set; of the LIBSVM file with --data)"})
    batch: int = dataclasses.field(default=32, metadata={"help": "minibatch per local step"})
    l2: float = dataclasses.field(default=1e-4, metadata={"help": "L2 regularisation"})
    num_points: int = 100


FULL = Config()
QUICK = Config(horizon=600.0, gammas=(0.03, 0.1, 0.3))
# data="synthetic": the test suite fills a None `data` with an MNIST folder, which is not a LIBSVM file
TINY = Config(data="synthetic", n=3, compute_time=2.0, horizon=100.0, seeds=(0, 1), gammas=(0.1, 1.0), ps=(1.0, 0.1),
              samples=300, features=10, num_points=10)


def sparsity(p: float, d: int) -> int:
    """``K = max(1, round(p d))`` coordinates per round."""
    return max(1, min(d, int(round(p * d))))


def synthetic(cfg: Config) -> bool:
    return cfg.data is None or cfg.data == "synthetic"


def make_problem(cfg: Config):
    if not synthetic(cfg):
        path = Path(cfg.data)
        if not path.is_file():
            raise ValueError(f"data: {cfg.data!r} is not a file; --data takes a9a in LIBSVM format "
                             "(or 'synthetic' for the a9a-shaped synthetic set)")
    return make_logistic(None if synthetic(cfg) else cfg.data, num_workers=cfg.n,
                         samples_per_worker=cfg.samples // cfg.n, dim=cfg.features, heterogeneity=0.0,
                         n_features=None if synthetic(cfg) else cfg.features, batch=cfg.batch, l2=cfg.l2,
                         solve_f_star=True)


def simulate(cfg: Config, forms: str = "paper", progress: bool = False) -> dict:
    """One sweep (stepsize x K) per regime and variant: labels ``REGIME-VARIANT``."""
    problem = make_problem(cfg)
    Ks = sorted({sparsity(q, problem.dim) for q in cfg.ps}, reverse=True)
    timing = make_timing(cfg.n, "sqrt")
    return {f"{regime}-{name}": sweep("loscar", problem, timing, seeds=list(cfg.seeds), method_options=opts,
                                      grid={"gamma": list(cfg.gammas), "K": Ks, "compute_time": cfg.compute_time,
                                            **comm},
                                      horizon=cfg.horizon, num_points=cfg.num_points, progress=progress)
            for regime, comm in REGIMES.items() for name, (_, _, opts) in VARIANTS.items()}


def dim(results: dict) -> int:
    return int(next(iter(results.values())).info["d"])


def Ks_of(results: dict) -> list:
    return [int(k) for k in next(iter(results.values())).coords["K"]]


def theory_rounds(cfg: Config, d: int, regime: str, K: int, overlap: bool) -> dict:
    """The fixed model's round (:func:`jaxsim.theory.loscar_round`), the rounds by the horizon
    and the share of the local steps that run in the overlap."""
    r = loscar_round(np.sqrt(np.arange(1, cfg.n + 1)), K, compute_time=cfg.compute_time, overlap=overlap,
                     **REGIMES[regime])
    return {"round_time": r.time, "comm_time": r.comm, "local_steps_per_round": r.local_steps,
            "overlap_share": float(np.sum(r.overlap_steps) / max(r.local_steps, 1)),
            "rounds": int(np.floor(cfg.horizon / r.time + 1e-9))}


def selections(results: dict, cfg: Config, regime: str) -> dict:
    """``{(variant, K): Selection}``: each variant's best stepsize at each ``K`` (``None`` where
    every stepsize diverged: the parts then say "undecided")."""
    def pick(res, K):
        try:
            return V.select(res, METRIC[0], at=cfg.horizon, where={"K": K})
        except ValueError:
            return None
    return {(v, K): pick(results[f"{regime}-{v}"], K) for v in VARIANTS for K in Ks_of(results)}


def label_of(name: str, K: int, d: int) -> str:
    return DENSE[0] if (name == "no_overlap" and K == d) else VARIANTS[name][0]


def summarize(results: dict, cfg: Config, forms: str) -> dict:
    d, Ks = dim(results), Ks_of(results)
    methods, regimes, parts, ratios, edges = {}, {}, [], {}, {}
    for regime in REGIMES:
        chosen, shares = selections(results, cfg, regime), {}
        start = V.start_value(results[f"{regime}-loscar"], METRIC[0])
        for K in Ks:
            th = theory_rounds(cfg, d, regime, K, overlap=True)
            # local steps do not depend on the stepsize (fixed model): the grid's first one
            lo_steps, no_steps = (float(np.median(results[f"{regime}-{v}"].curve((0, Ks.index(K)), "received")[:, -1]))
                                  for v in ("loscar", "no_overlap"))
            shares[f"K={K}"] = dict(theory=th["overlap_share"], measured=1 - no_steps / max(lo_steps, 1.0),
                                    comm_time=th["comm_time"], round_time=th["round_time"], rounds=th["rounds"])
            for v in VARIANTS:
                sel, res, name = chosen[v, K], results[f"{regime}-{v}"], label_of(v, K, d)
                edges[f"{regime} {name} K={K}"] = sel
                gap = None if sel is None else tail_stats(res, sel.index, METRIC[0], at=cfg.horizon)
                methods[f"{regime}/{'dense' if name == DENSE[0] else v}/K={K}"] = dict(
                    line="every stepsize diverged") if sel is None else dict(
                    variant=v, K=K, selection=sel.to_json(), loss_gap=gap,
                    line=f"gamma={sel.hparams['gamma']:g}{edge_text(sel)}: f-f* {gap['median']:.4g}")
            per = {v: None if chosen[v, K] is None else chosen[v, K].per_seed for v in VARIANTS}
            parts += [V.compare(f"{regime}, K={K}: LOSCAR < naive overwrite in f - f*", per["loscar"],
                                per["overwrite"], names=("LOSCAR", "overwrite"), start=start),
                      V.compare(f"{regime}, K={K}: overlap (LOSCAR) < {label_of('no_overlap', K, d)} in f - f* at "
                                "equal time", per["loscar"], per["no_overlap"], names=("LOSCAR", "no overlap"),
                                start=start)]
            ratios[regime, K] = None if per["loscar"] is None or per["overwrite"] is None else \
                per["loscar"] / per["overwrite"]
        regimes[regime] = dict(comm=REGIMES[regime], overlap_share=shares,
                               seconds=sum(results[f"{regime}-{v}"].info["seconds_total"] for v in VARIANTS))
        methods[f"{regime}/overlap share"] = dict(line=", ".join(
            f"{k}: {s['theory']:.0%} (measured {s['measured']:.0%}), round {s['round_time']:g} s, {s['rounds']} rounds"
            for k, s in shares.items()))
    parts += [V.compare(f"K={K}: LOSCAR / overwrite lower in the stress regime than in the normal one",
                        ratios["stress", K], ratios["normal", K], names=("stress", "normal")) for K in Ks]
    notes = V.edge_notes(edges) + [
        "settings unknown (experiments.md §9 [uncertain]): regimes, window, workers and grids are project choices; "
        "overlap share of the local steps: " + "; ".join(f"{r} " + ", ".join(
            f"{k} {s['theory']:.0%}" for k, s in g["overlap_share"].items()) for r, g in regimes.items())]
    claim = V.claim("the delay-corrected merge beats naive overwriting, most clearly with large communication delays "
                    "(stress regime); overlap reduces training time", parts, notes)
    return dict(methods=methods, regimes=regimes, d=d, data=cfg.data if not synthetic(cfg) else
                "synthetic a9a-shaped", claim=claim,
                protocol=dict(metric=METRIC[0], metric_source=METRIC[1], tail=V.TAIL, tie_rtol=V.TIE_RTOL,
                              seeds=len(cfg.seeds)))


def plot(results: dict, cfg: Config, forms: str):
    import matplotlib.pyplot as plt

    d, Ks = dim(results), Ks_of(results)
    fig, axes = plt.subplots(2 * len(REGIMES), len(Ks), figsize=(4 * len(Ks), 3.2 * 2 * len(REGIMES)), squeeze=False)
    for r_i, regime in enumerate(REGIMES):
        chosen = selections(results, cfg, regime)
        ax_t, ax_f = axes[2 * r_i], axes[2 * r_i + 1]
        for col, K in enumerate(Ks):
            curves = [(v, K) for v in VARIANTS] + ([("no_overlap", d)] if K != d and d in Ks else [])
            for v, k in curves:
                sel, res, name = chosen[v, k], results[f"{regime}-{v}"], label_of(v, k, d)
                if sel is None:
                    continue
                style = dict(color=DENSE[1] if name == DENSE[0] else VARIANTS[v][1], floor=1e-12,
                             label=f"{name} (gamma={sel.hparams['gamma']:g}){edge_text(sel)}")
                floats = np.maximum(np.median(res.curve(sel.index, "comm_floats"), axis=0), 1.0)
                for ax, x in ((ax_t[col], time_axis(res)), (ax_f[col], floats)):
                    band(ax, x, res.curve(sel.index, METRIC[0]), **style)
            th = theory_rounds(cfg, d, regime, K, overlap=True)
            ax_t[col].set_title(f"{regime}: K={K}; T_comm={th['comm_time']:g} s, round {th['round_time']:g} s, "
                                f"overlap {th['overlap_share']:.0%} of steps", fontsize=8)
            ax_t[col].set(xlabel="time (simulated seconds)", ylabel=r"$f(\bar x) - f^*$")
            ax_f[col].set(xlabel="communicated floats", ylabel=r"$f(\bar x) - f^*$", xscale="log")
            for ax in (ax_t[col], ax_f[col]):
                ax.grid(alpha=0.3, which="both")
                ax.legend(fontsize=6)
    data = "synthetic a9a-shaped" if synthetic(cfg) else Path(cfg.data).name
    fig.suptitle(f"LOSCAR-SGD, logistic regression on {data} (d={d}), n={cfg.n}, tau_i=sqrt(i), "
                 f"T={cfg.compute_time:g} s, {cfg.horizon:g} s, {seeds_text(cfg.seeds)}\n"
                 + "; ".join(f"{k}: {fmt_hparams(v)}" for k, v in REGIMES.items()), fontsize=10)
    fig.tight_layout()
    return fig
