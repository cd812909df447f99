"""Ringleader ASGD against Malenia SGD and IA²SGD on MNIST with label-skewed workers (arXiv 2509.22860, appendix).

The setup of "Ringleader ASGD: The First Asynchronous SGD with Optimal Time Complexity under Data
Heterogeneity" (arXiv 2509.22860): ``n = 100`` workers, Dirichlet(0.1) label skew with equal client
sizes (one partition for every seed and method), a 784-128-10 MLP with mean cross-entropy,
minibatches of 4 from each worker's own samples, compute times ``tau_i = i + |N(0, i)|``. Each
method runs over seeds x the authors' stepsize grid (Ringleader and IA²SGD
``{0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2}``, Malenia ``{0.02, 0.05, 0.1, 0.2, 0.5, 1, 2}``; Naive
Minibatch SGD on Malenia's grid) and is shown at the stepsize with the best median
``||grad f||^2`` at the horizon (diverged settings excluded); the second row shows the paper's
tuned stepsizes (Ringleader 0.005, Malenia 0.5, IA²SGD 0.005), added to a grid that lacks them.
Curves: median over seeds, inter-quartile band. Naive Minibatch SGD is not in the paper's plot:
it is drawn in grey as a reference and labeled so.

Data: the MNIST IDX files in ``--data`` (required): ``--split train`` is the paper's 60 000
training images (600 per worker), ``--split test`` the 10 000 ``t10k`` images (100 per worker),
the only split this project ships. Every result records the split and sample count it used.

Presets: ``FULL`` is the paper's long horizon (200 000 s, 30 seeds, the training split), a run
meant for a GPU. ``QUICK`` is a CPU smoke test on the test split at 0.5 % of that horizon, where
the paper's own curves still have IA²SGD ahead (Ringleader passes it at about 25 000-30 000 s),
so its verdict on the claim is "undecided"; it prints the ratios all the same.

Rounds: a Ringleader round is its ``n`` updates (collect until every worker is in the table,
then one update per worker); a round of Malenia SGD or of Minibatch SGD is one update. A mean
round length is the time the last complete round ended over the number of rounds completed,
compared in the summary with ``tau_n``, the slowest worker's mean time (per seed, ``max_i`` of
base time plus ``E|eta_i|``). Ringleader's round lasts at most ``2 tau_n`` in the fixed model
(heterogeneous.md §5.6 [uncertain]), and its applied delays stay below ``2n - 2``
(:func:`jaxsim.theory.ringleader_delay_bound`, own-point form). A round of Malenia with restarts
or of Minibatch SGD is the longest of ``n`` fresh jobs, whose mean ``E max_i D_i`` follows from
the timing law [derived]; the free-running Malenia waits for each worker's first job started in
the round, so its round lies between that and about twice it.

Forms (heterogeneous.md §3, §5.3-5.4; experiments.md §4): ``paper`` runs Ringleader with
``redispatch="own"`` (a worker keeps its point until its own update), the free-running Malenia
SGD (jobs of an older round are discarded on arrival) and ``tau_i = i + |N(0, i)|``. ``authors``
runs the authors' simulator: Ringleader ``redispatch="current"`` (every arrival without an update
sends the worker the current model), Malenia SGD with restarts (``malenia_stops``: every worker
restarts at each new model) and base times permuted per seed, ``tau_i = pi(i) + |N(0, i)|``
(``permute_base=True``; the noise variance stays ``i``).

The paper's claim: at the end of its 200 000 s horizon Ringleader ASGD reaches about 6-7x lower
``||grad f||^2`` than both Malenia SGD and IA²SGD (IA²SGD leads only at the very beginning).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

import numpy as np

from .. import make_timing, sweep
from ..rng import time_key
from ..theory import ringleader_delay_bound
from .base import band, claim, fmt_hparams, stats, time_axis, with_value

NAME = "ringleader-mnist"
FORMS = ("paper", "authors")
METHODS = ("ringleader", "ia2sgd", "malenia", "minibatch")
COMPARED = ("ringleader", "ia2sgd", "malenia")  # the paper's plot; Minibatch SGD is a reference only
GRID_SMALL = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)  # Ringleader and IA²SGD (the authors' grid)
GRID_LARGE = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)  # Malenia (the authors' grid), also Minibatch
PAPER_GAMMA = {"ringleader": 0.005, "malenia": 0.5, "ia2sgd": 0.005}  # the authors' tuned MNIST values
PAPER_HORIZON = 200_000.0
DECIDE_FROM = 100_000.0  # below this the paper's own curves are not yet at their final gap (see summarize)
COLORS = {"ringleader": "#C00000", "malenia": "#006666", "ia2sgd": "#B8860B", "minibatch": "#808080"}
MARKERS = {"ringleader": "*", "malenia": "h", "ia2sgd": "^", "minibatch": "o"}
STYLES = {"ringleader": "-", "malenia": "-", "ia2sgd": "-", "minibatch": "--"}


@dataclasses.dataclass(frozen=True)
class MnistProblem:
    """The options of :func:`build_problem`: the paper's MLP on label-skewed MNIST workers."""

    data: Optional[str] = dataclasses.field(default=None, metadata={
        "type": str, "help": "folder with the MNIST IDX files (required): train-* for --split train, t10k-* for test"})
    split: str = dataclasses.field(default="train", metadata={
        "choices": ("train", "test"), "help": "train: the paper's 60 000 images; test: the 10 000 t10k images"})
    workers: int = dataclasses.field(default=100, metadata={"help": "workers n"})
    alpha: float = dataclasses.field(default=0.1, metadata={"help": "Dirichlet label-skew concentration"})
    hidden: int = dataclasses.field(default=128, metadata={"help": "hidden units of the MLP (the paper: 128)"})
    batch: int = dataclasses.field(default=4, metadata={"help": "samples per stochastic gradient"})
    max_samples: Optional[int] = dataclasses.field(default=None, metadata={
        "type": int, "help": "keep only the first samples of the split (default: all)"})


@dataclasses.dataclass(frozen=True)
class Config(MnistProblem):
    horizon: float = dataclasses.field(default=PAPER_HORIZON, metadata={"help": "simulated seconds"})
    seeds: tuple = dataclasses.field(default=tuple(range(30)), metadata={"elem": int})
    gammas_small: tuple = dataclasses.field(default=GRID_SMALL, metadata={
        "help": "stepsize grid of Ringleader ASGD and IA²SGD"})
    gammas_large: tuple = dataclasses.field(default=GRID_LARGE, metadata={
        "help": "stepsize grid of Malenia SGD and Minibatch SGD"})
    num_points: int = dataclasses.field(default=200, metadata={"help": "recording intervals"})
    minibatch: bool = dataclasses.field(default=True, metadata={
        "help": "also run Naive Minibatch SGD (a reference; not in the paper's plot)"})


FULL = Config()
# 0.5 % of the paper's horizon; 10 points: full-batch metrics at 20 cost more than all the events
QUICK = Config(split="test", horizon=1000.0, seeds=(0, 1), num_points=10)
# TINY is compile-bound (one MLP kernel per method): Minibatch SGD, a reference only, is left out
TINY = Config(split="test", workers=4, hidden=8, max_samples=200, horizon=60.0, seeds=(0,),
              gammas_small=(0.005, 0.05), gammas_large=(0.5,), num_points=8, minibatch=False)


# ---- the problem and the clock (shared with rescaled_mnist) ------------------------------------


def build_problem(cfg, name: str = NAME):
    """The MLP on the Dirichlet-split MNIST folder ``cfg.data`` (``ValueError`` naming ``--data`` if unset)."""
    from ..problems.mlp import mnist_mlp

    if cfg.data is None:
        raise ValueError(f"{name}: give the MNIST folder with --data FOLDER (IDX files train-* for --split train, "
                         f"t10k-* for --split test)")
    return mnist_mlp(cfg.data, train=cfg.split == "train", num_workers=cfg.workers, alpha=cfg.alpha,
                     hidden=cfg.hidden, batch=cfg.batch, max_samples=cfg.max_samples)


def build_timing(workers: int, permute: bool = False):
    """``tau_i = i + |N(0, i)|``; ``permute``: base times ``pi(i)`` permuted per seed (the authors' code)."""
    return make_timing(workers, "linear", "halfnormal", var="i", permute_base=permute)


def data_info(cfg, problem) -> dict:
    """What data a run used, stored in each result's ``info`` (the project prints it)."""
    parts = np.asarray(problem.parts)
    return dict(folder=str(cfg.data), split=cfg.split, samples=int(parts.size), per_worker=int(parts.shape[1]),
                d=int(problem.dim))


def data_text(info: dict) -> str:
    return (f"MNIST {info['split']} split, {info['samples']} images ({info['per_worker']} per worker), "
            f"d = {info['d']}")


# ---- methods and grids -------------------------------------------------------------------------


def registered(m: str, forms: str) -> tuple:
    """``(registered method, method options)`` running ``m`` under ``forms``."""
    authors = forms == "authors"
    return {"ringleader": ("ringleader", {"redispatch": "current" if authors else "own"}),
            "ia2sgd": ("ia2sgd", {}),
            "malenia": ("malenia_stops" if authors else "malenia", {}),
            "minibatch": ("minibatch", {})}[m]


def label(m: str, forms: str) -> str:
    authors = forms == "authors"
    return {"ringleader": "Ringleader ASGD" + (" (redispatch=current)" if authors else " (own point)"),
            "ia2sgd": "IA²SGD",
            "malenia": "Malenia SGD" + (" with restarts" if authors else " (free-running)"),
            "minibatch": "Naive Minibatch SGD (not in the paper's plot)"}[m]


def grid(cfg: Config, m: str) -> list:
    """``m``'s stepsize grid, with the paper's tuned value added when missing."""
    g = list(cfg.gammas_small if m in ("ringleader", "ia2sgd") else cfg.gammas_large)
    return with_value(g, PAPER_GAMMA[m]) if m in PAPER_GAMMA else g


def simulate(cfg: Config, forms: str = "paper", progress: bool = False) -> dict:
    """One sweep per method over seeds x its stepsize grid."""
    problem = build_problem(cfg)
    timing = build_timing(cfg.workers, permute=forms == "authors")
    info = data_info(cfg, problem)
    out = {}
    for m in METHODS if cfg.minibatch else COMPARED:
        name, options = registered(m, forms)
        res = sweep(name, problem, timing, seeds=list(cfg.seeds), grid={"gamma": grid(cfg, m)}, horizon=cfg.horizon,
                    num_points=cfg.num_points, method_options=options, progress=progress)
        res.info["data"] = info
        out[m] = res
    return out


# ---- rounds and their theory -------------------------------------------------------------------


def slowest_mean(cfg, forms: str) -> np.ndarray:
    """``tau_n`` per seed: the slowest worker's mean time (base times as that seed draws them)."""
    timing = build_timing(cfg.workers, permute=forms == "authors")
    return np.array([float(np.max(timing.mean(time_key(s)))) for s in cfg.seeds])


def expected_max_duration(cfg, forms: str) -> np.ndarray:
    """``E max_i D_i`` per seed: the mean round of Malenia with restarts and of Minibatch SGD, where
    all ``n`` workers start a fresh job together [derived: ``E max = int (1 - prod_i F_i(t)) dt`` with
    ``F_i`` the half-normal law shifted by the worker's base time]."""
    from scipy.special import erf

    timing = build_timing(cfg.workers, permute=forms == "authors")
    sd = np.sqrt(timing.noise.variance(cfg.workers))
    out = []
    for s in cfg.seeds:
        base = timing.base_for(time_key(s))
        t = np.linspace(0.0, float(np.max(base + 10 * sd)), 20001)
        cdf = np.prod(erf(np.maximum(t[:, None] - base, 0.0) / (sd * math.sqrt(2.0))), axis=1)
        out.append(float(np.trapezoid(1.0 - cdf, t)))
    return np.array(out)


def mean_round(res, idx, per_round: int, p: int) -> np.ndarray:
    """Mean round length per seed: the time the last complete round ended, over the rounds
    completed (``per_round`` updates each), up to point ``p``. That time is taken at the middle of
    the recording interval in which the update count reached it, so the error is at most half an
    interval over the number of rounds; a trailing partial round does not bias it (``nan`` when
    no round ended)."""
    u, t = res.curve(idx, "updates")[:, :p + 1], res.time[:, :p + 1]
    out = []
    for us, ts in zip(u, t):
        done = int(us[-1] // per_round)
        if done == 0:
            out.append(np.nan)
            continue
        k = int(np.argmax(us >= done * per_round))
        out.append(0.5 * (ts[max(k - 1, 0)] + ts[k]) / done)
    return np.array(out)


def rounds(res, idx, cfg, per_round: int) -> np.ndarray:
    """Rounds completed per seed over time, ``updates / per_round`` (``[seed, point]``)."""
    return res.curve(idx, "updates") / per_round


def per_round(m: str, cfg) -> int:
    return cfg.workers if m == "ringleader" else 1


# ---- selection, summary, plot ------------------------------------------------------------------


def ran(results: dict) -> list:
    """The methods of this run, in the figure's order (Minibatch SGD is optional)."""
    return [m for m in METHODS if m in results]


def selections(results: dict, cfg: Config) -> dict:
    """``(method, "tuned" | "paper") -> (grid index, hparams)``: best median ``||grad f||^2`` at the
    horizon, and the paper's tuned stepsize (Minibatch SGD has none)."""
    out = {}
    for m in ran(results):
        res = results[m]
        best = res.best("grad_norm_sq", at=cfg.horizon)
        out[m, "tuned"] = (best["index"], best["hparams"])
        if m in PAPER_GAMMA:
            out[m, "paper"] = (res.index_of(gamma=PAPER_GAMMA[m]), {"gamma": PAPER_GAMMA[m]})
    return out


def summarize(results: dict, cfg: Config, forms: str) -> dict:
    tau_n = slowest_mean(cfg, forms)
    emax = expected_max_duration(cfg, forms)
    bound = ringleader_delay_bound(cfg.workers)
    methods = {}
    for (m, which), (idx, hp) in selections(results, cfg).items():
        res = results[m]
        p = res.point_at(cfg.horizon)
        s = dict(method=res.method, options=registered(m, forms)[1], hparams=hp,
                 grad_norm_sq=stats(res.curve(idx, "grad_norm_sq")[:, p]), loss=stats(res.curve(idx, "loss")[:, p]),
                 updates=stats(res.curve(idx, "updates")[:, p]),
                 diverged_runs=int(res.diverged[(slice(None),) + idx].sum()))
        line = (f"{fmt_hparams(hp)}: |grad f|^2 {s['grad_norm_sq']['median']:.3g}, loss {s['loss']['median']:.3g}, "
                f"updates {s['updates']['median']:.0f}")
        if which == "tuned":
            final = np.median(res.metrics["grad_norm_sq"][..., p], axis=0)
            bad = res.diverged.any(axis=0)
            s.update(per_gamma={f"{g:g}": None if b else float(v)
                                for g, v, b in zip(res.coords["gamma"], final, bad)},
                     diverged_settings=int(bad.sum()), runs=int(res.diverged.size),
                     seconds=res.info["seconds_total"])
            if m != "ia2sgd":  # IA²SGD updates at every arrival: it has no rounds
                length = mean_round(res, idx, per_round(m, cfg), p)
                r = dict(mean_round_s=stats(length), tau_n=stats(tau_n), over_tau_n=stats(length / tau_n))
                if m == "ringleader":
                    r.update(predicted_at_most_s=stats(2 * tau_n),
                             max_delay=float(np.max(res.curve(idx, "max_delay")[:, p])), delay_bound=bound)
                    line += (f", round {r['mean_round_s']['median']:.1f} s = {r['over_tau_n']['median']:.2f} tau_n "
                             f"(tau_n {r['tau_n']['median']:.1f} s; theory <= 2 tau_n), max delay "
                             f"{r['max_delay']:.0f} (bound 2n-2 = {bound})")
                else:
                    exact = m == "minibatch" or forms == "authors"  # every worker restarts at each round
                    r.update(expected_max_job_s=stats(emax), round_model="E max_i D_i" if exact else
                             "between E max_i D_i and about twice it (free-running: jobs of older rounds discarded)")
                    line += (f", round {r['mean_round_s']['median']:.1f} s = {r['over_tau_n']['median']:.2f} tau_n "
                             f"(E max_i D_i {np.median(emax):.1f} s{'' if exact else ', a lower bound here'})")
                s["rounds"] = r
            line += f" ({s['runs']} runs, {s['seconds']:.1f} s)"
        s["line"] = line
        methods[m if which == "tuned" else f"{m}@paper"] = s

    data = next(iter(results.values())).info.get("data", {})
    tuned = {m: methods[m]["grad_norm_sq"]["median"] for m in ran(results)}
    paper = {m: methods[f"{m}@paper"]["grad_norm_sq"]["median"] for m in COMPARED}
    rl = tuned["ringleader"]
    ratio = {m: tuned[m] / rl if rl > 0 else math.inf for m in ("malenia", "ia2sgd")}
    ratio_p = {m: paper[m] / paper["ringleader"] if paper["ringleader"] > 0 else math.inf
               for m in ("malenia", "ia2sgd")}
    evidence = (f"median |grad f|^2 at t = {cfg.horizon:g} s ({cfg.horizon / PAPER_HORIZON:.1%} of the paper's "
                f"200 000 s), tuned: " + ", ".join(f"{m} {tuned[m]:.3g}" for m in COMPARED) +
                (f" (minibatch {tuned['minibatch']:.3g})" if "minibatch" in tuned else "") +
                f"; Malenia/Ringleader {ratio['malenia']:.2f}x, IA²SGD/Ringleader {ratio['ia2sgd']:.2f}x; at the "
                f"paper's stepsizes: Malenia/Ringleader {ratio_p['malenia']:.2f}x, IA²SGD/Ringleader "
                f"{ratio_p['ia2sgd']:.2f}x")
    if data:
        evidence += f"; {data_text(data)}"
    if cfg.horizon < DECIDE_FROM:
        holds = None
        evidence += ("; undecided below 100 000 s: the paper's own curves have IA²SGD ahead until "
                     "about 25 000-30 000 s and reach the final gap only on Ringleader's plateau (from about "
                     "65 000 s)")
    else:  # half the claimed factor counts as reproducing "several times lower"
        holds = min(ratio.values()) >= 3.0
        evidence += "; holds when both tuned ratios are >= 3x (half the claimed 6-7x)"
    return dict(methods=methods, data=data,
                claim=claim("Ringleader ASGD ends about 6-7x lower |grad f|^2 than Malenia SGD and IA²SGD",
                            holds, evidence))


def plot(results: dict, cfg: Config, forms: str):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(16, 8.5))
    chosen = selections(results, cfg)
    rows = (("tuned", "tuned (best median |grad f|² at the horizon)"), ("paper", "the paper's settings"))
    for r, (which, title) in enumerate(rows):
        for c, (metric, ylabel) in enumerate((("grad_norm_sq", r"$\|\nabla f(x)\|^2$"),
                                               ("loss", "training loss (cross-entropy)"))):
            ax = axes[r, c]
            for m in ran(results):
                if (m, which) not in chosen:
                    continue
                res = results[m]
                idx, hp = chosen[m, which]
                band(ax, time_axis(res), res.curve(idx, metric), color=COLORS[m], style=STYLES[m],
                     marker=MARKERS[m], label=f"{label(m, forms)} ({fmt_hparams(hp)})")
            ax.set_ylabel(ylabel)
            ax.set_xlabel("Runtime (seconds)")
            ax.set_title(title, fontsize=9)
            ax.grid(alpha=0.3)
        axes[r, 0].legend(fontsize=7)

    # rounds completed against the round-length theory (tuned settings; timing does not depend on gamma)
    ax = axes[0, 2]
    tau_n, emax = float(np.median(slowest_mean(cfg, forms))), float(np.median(expected_max_duration(cfg, forms)))
    for m in [m for m in ran(results) if m != "ia2sgd"]:
        res = results[m]
        idx, _ = chosen[m, "tuned"]
        what = "rounds (n updates)" if m == "ringleader" else "rounds (updates)"
        band(ax, time_axis(res), rounds(res, idx, cfg, per_round(m, cfg)), color=COLORS[m], style=STYLES[m],
             marker=MARKERS[m], log=False, label=f"{label(m, forms)}: {what}")
    t = time_axis(results["ringleader"])
    ax.plot(t, t / tau_n, ":", color="k", lw=1, label=rf"one round per $\tau_n$ = {tau_n:.1f} s")
    ax.plot(t, t / (2 * tau_n), "--", color="k", lw=1, label=r"one per $2\tau_n$ (Ringleader's bound)")
    ax.plot(t, t / emax, "-.", color="0.5", lw=1, label=rf"one per $E\,\max_i D_i$ = {emax:.1f} s")
    ax.set_xlabel("Runtime (seconds)")
    ax.set_ylabel("rounds completed")
    ax.set_title("round lengths against theory", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)

    # the tuning curves: median final |grad f|^2 per stepsize
    ax = axes[1, 2]
    for m in ran(results):
        res = results[m]
        p = res.point_at(cfg.horizon)
        final = np.median(res.metrics["grad_norm_sq"][..., p].astype(np.float64), axis=0)
        final = np.where(res.diverged.any(axis=0), np.nan, final)
        ax.plot(res.coords["gamma"], final, STYLES[m], color=COLORS[m], marker=MARKERS[m], label=label(m, forms))
        if m in PAPER_GAMMA:
            ax.axvline(PAPER_GAMMA[m], color=COLORS[m], lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"stepsize $\gamma$ (dotted: the paper's)")
    ax.set_ylabel(r"median final $\|\nabla f\|^2$ (diverged: missing)")
    ax.set_title("tuning curves", fontsize=9)
    ax.grid(alpha=0.3)

    data = next(iter(results.values())).info.get("data")
    form = ("the authors' simulator forms (Ringleader redispatch=current, Malenia with restarts, permuted base "
            "times)" if forms == "authors" else "the paper's forms (own points, free-running Malenia, "
            r"$\tau_i = i + |N(0, i)|$)")
    fig.suptitle(f"MNIST, n = {cfg.workers}, Dirichlet({cfg.alpha:g}), {len(cfg.seeds)} seeds (median, IQR band)"
                 f"{'; ' + data_text(data) if data else ''}\n{form}", fontsize=10)
    fig.tight_layout()
    return fig
