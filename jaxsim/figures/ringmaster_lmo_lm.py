"""Ringmaster Muon against Rennala, delay-adaptive and PA Muon on a small LM, three heterogeneities (arXiv 2605.18174).

Setup (spec experiments.md §7.1, at CPU size): the small decoder-only transformer of
:mod:`jaxsim.problems.lm` (default :meth:`LMConfig.cpu <jaxsim.problems.lm.LMConfig.cpu>`: 2
layers, 2 heads, width 32, 8 windows of 64 byte tokens per gradient, d = 40 964; model seed 7)
on a byte-level corpus (``--text FILE``, else the standard library's docstrings; nothing
downloaded); ``n = 8`` workers; job ``j`` of worker ``i`` takes ``tau_i + |N(0, (0.05
tau_i)^2)|`` simulated seconds with ``tau_i = c_i``, ``c_i`` in ``{1, sqrt(i), i}`` (one row
each; the spec's ``b = 1`` second per gradient); 500 simulated seconds. Methods and grids of the
authors' code (``beta = 0.95``): Ringmaster Muon (with stops) ``gamma in {5^-2..5^1}``, ``R in
{1, 2, 4, 8, 16}``; PA Ringmaster Muon ``eta in {5^-2..5^2}``; Rennala Muon ``gamma = 5``, ``B in
{1, 2, 4, 8, 16}``; Delay-adaptive Muon ``gamma in {5^-2..5^1}``; the code's defaults
(Ringmaster gamma = 1, R = 2; PA eta = 5; Rennala gamma = 1, B = 2; Delay-adaptive gamma = 1)
are added to the grids (Rennala's gamma = 1 is not on its grid) and drawn in the third column.
The tuning score is the last recorded "latest minibatch loss" (``batch_loss``: the loss of the
minibatch behind the latest received gradient, at the point where it was computed), median
over seeds, lowest wins; the held-out loss at the current model (``loss``, 8 windows) is
reported too.

Cost: each setting computes every gradient it receives; per simulated second a setting
receives about 8 (``c_i = 1``), 4.4 (``sqrt i``) and 2.7 (``i``) gradients, and one setting and
received gradient of the default model costs 15-17 ms on this project's 2-core CPU measured
alone (27 ms of CPU, marginal, with the machine shared), so FULL (the full grids, 39 settings per
level, 500 s, one seed: about 290 000 setting-gradients) takes about 1.5-2 hours (extrapolated,
not run; the old 34-setting grid at 200 s took 55 min on a loaded machine). Every method's
kernel compiles anew per level (the timing is static in the controlled kernels): 12 compiles
of 10-20 s CPU each. QUICK keeps every level and the code's defaults but a 60 s horizon and 7
settings per level (a smoke test, not a reproduction: 4.4 min of wall time
on an idle 2-core CPU); TINY is one level of a
one-layer width-8 model on 16-token windows over 5 s.

Forms: ``authors`` (the form the paper's figures were made with): Nesterov momentum, ``m^0 =
0``, the code's Muon partition (Newton--Schulz on the blocks' matrices with radius ``sqrt(max(1,
fan_out / fan_in))``, unnormalized momentum on embeddings, head and scalars), the code's PA
schedule. ``paper``: the analysed methods (no Nesterov, ``alpha_0 = 1``, the project's default
partition with a Euclidean step on the non-matrix leaves, the paper's PA schedule), same grids.

The paper's claim [uncertain: implied by its abstract]: Ringmaster Muon's advantage over the
baselines grows with heterogeneity (at ``c_i = i`` the code's figure orders Ringmaster <
Rennala < Delay-adaptive << PA). The verdict reads it on the held-out loss of the tuned
settings (the latest minibatch loss is one minibatch's, too noisy to order close methods):
Ringmaster's margin over the best baseline grows from level to level and is positive at the
most heterogeneous one; nothing is tuned to make that hold.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import TimingModel, sweep
from ..methods import CODE_FORM, make_method
from ..noise import HalfNormal
from ..timing import BASE_PROFILES
from .base import band, claim, fmt_hparams, powers_of_5, stats, time_axis, with_settings
# the same four methods, drawn alike in both LMO figures
from .ringmaster_lmo_quadratic import BETA, COLORS, LABELS, METHODS, STYLES

NAME = "ringmaster-lmo-lm"
FORMS = ("paper", "authors")
#: Heterogeneity levels: name -> base-time profile ``c_i`` (``i = 1..n``).
LEVELS = {"1": "constant", "sqrt_i": "sqrt", "i": "linear"}
LEVEL_TITLES = {"1": r"$\tau_i = 1$", "sqrt_i": r"$\tau_i = \sqrt{i}$", "i": r"$\tau_i = i$"}
BASELINES = METHODS[1:]
#: The code's default settings (spec §7.1).
DEFAULTS = {"ringmaster_lmo_stops": {"gamma": 1.0, "R": 2}, "rennala_lmo": {"gamma": 1.0, "B": 2},
            "delay_adaptive_lmo": {"gamma": 1.0}, "ringmaster_lmo_pa": {"gamma": 5.0}}


@dataclasses.dataclass(frozen=True)
class Config:
    levels: tuple = dataclasses.field(default=tuple(LEVELS), metadata={
        "elem": str, "help": "heterogeneity levels c_i (rows): 1, sqrt_i, i"})
    n: int = dataclasses.field(default=8, metadata={"help": "workers"})
    horizon: float = dataclasses.field(default=500.0, metadata={"help": "simulated seconds"})
    seeds: tuple = dataclasses.field(default=(0,), metadata={"elem": int})
    ringmaster_gammas: tuple = powers_of_5(-2, 1)
    thresholds: tuple = dataclasses.field(default=(1, 2, 4, 8, 16), metadata={"elem": int, "help": "Ringmaster's R"})
    rennala_gammas: tuple = (5.0,)
    rennala_batches: tuple = dataclasses.field(default=(1, 2, 4, 8, 16), metadata={"elem": int, "help": "Rennala's B"})
    delay_adaptive_gammas: tuple = powers_of_5(-2, 1)
    pa_gammas: tuple = dataclasses.field(default=powers_of_5(-2, 2), metadata={"help": "PA Ringmaster's eta"})
    n_layer: int = dataclasses.field(default=2, metadata={"help": "LM: transformer blocks"})
    n_head: int = dataclasses.field(default=2, metadata={"help": "LM: attention heads"})
    n_embd: int = dataclasses.field(default=32, metadata={"help": "LM: width"})
    seq_len: int = dataclasses.field(default=64, metadata={"help": "LM: predicted tokens per window"})
    batch: int = dataclasses.field(default=8, metadata={"help": "LM: windows per gradient"})
    text: str = dataclasses.field(default=None, metadata={
        "type": str, "help": "a UTF-8 corpus file (default: the standard library's docstrings)"})
    max_bytes: int = dataclasses.field(default=1_000_000, metadata={"help": "bytes of the default corpus"})
    num_points: int = 50


FULL = Config()
QUICK = Config(horizon=60.0, ringmaster_gammas=(1.0,), thresholds=(2, 8), rennala_gammas=(5.0,), rennala_batches=(2,),
               delay_adaptive_gammas=(0.2, 1.0), pa_gammas=(5.0,))
# one level: each method's kernel compiles anew per level (the timing is static in it), ~10 s each
TINY = Config(levels=("i",), horizon=5.0, seeds=(0, 1), ringmaster_gammas=(0.2, 1.0), thresholds=(2,),
              rennala_gammas=(5.0,), rennala_batches=(2,), delay_adaptive_gammas=(1.0,), pa_gammas=(5.0,), n_layer=1,
              n_head=1, n_embd=8, seq_len=16, batch=2, max_bytes=50_000, num_points=10)


def timing_for(level: str, n: int = 8) -> TimingModel:
    """``tau_i = c_i`` of ``level`` plus ``|N(0, (0.05 tau_i)^2)|`` per job."""
    if level not in LEVELS:
        raise ValueError(f"levels: unknown level {level!r}; use {', '.join(LEVELS)}")
    tau = BASE_PROFILES[LEVELS[level]](n)
    return TimingModel(n=n, base=tau, noise=HalfNormal(var=tuple((0.05 * tau) ** 2)))


def options(name: str, forms: str) -> dict:
    """The method's static options under ``forms`` ("paper", or "authors": the code's)."""
    if forms == "paper":
        return {"schedule": "paper"} if name == "ringmaster_lmo_pa" else {}
    opts = dict(CODE_FORM)
    if name == "ringmaster_lmo_pa":
        opts["schedule"] = "code"
    return opts


def grids(cfg: Config) -> dict:
    """Each method's grid, with the code's defaults added where the grid lacks them."""
    g = {"ringmaster_lmo_stops": {"gamma": list(cfg.ringmaster_gammas), "R": list(cfg.thresholds)},
         "rennala_lmo": {"gamma": list(cfg.rennala_gammas), "B": list(cfg.rennala_batches)},
         "delay_adaptive_lmo": {"gamma": list(cfg.delay_adaptive_gammas)},
         "ringmaster_lmo_pa": {"gamma": list(cfg.pa_gammas)}}
    return with_settings(g, DEFAULTS)


def grid_of(name: str, cfg: Config) -> dict:
    """The sweep's grid of ``name``: its tuning grid plus the momentum weight (PA's is its schedule's)."""
    grid = grids(cfg)[name]
    return grid if name == "ringmaster_lmo_pa" else dict(grid, beta=BETA)


def problem_for(cfg: Config):
    from ..problems.lm import language_model

    return language_model(path=cfg.text, max_bytes=cfg.max_bytes,
                          config=dict(n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd,
                                      seq_len=cfg.seq_len, batch=cfg.batch))


def label(level: str, method: str) -> str:
    return f"{level}-{method}"


def simulate(cfg: Config, forms: str = "paper", progress: bool = False) -> dict:
    """Every method's grid at every level (one sweep each)."""
    for level in cfg.levels:
        timing_for(level, cfg.n)  # an unknown level is refused before anything runs
    problem = problem_for(cfg)
    return {label(level, m): sweep(make_method(m, **options(m, forms)), problem, timing_for(level, cfg.n),
                                   seeds=list(cfg.seeds), grid=grid_of(m, cfg), horizon=cfg.horizon,
                                   num_points=cfg.num_points, progress=progress)
            for level in cfg.levels for m in METHODS}


def selections(results: dict, cfg: Config) -> dict:
    """``(level, method, "tuned" | "defaults") -> (grid index, hparams)``; tuned on the latest
    minibatch loss at the horizon (the code's rule)."""
    out = {}
    for level in cfg.levels:
        for m in METHODS:
            res = results[label(level, m)]
            best = res.best("batch_loss", at=cfg.horizon)
            out[level, m, "tuned"] = (best["index"], {k: v for k, v in best["hparams"].items()
                                                      if k not in ("alpha", "beta")})
            hp = dict(DEFAULTS[m], **({"beta": BETA} if "beta" in res.grid_dims else {}))
            out[level, m, "defaults"] = (res.index_of(**hp), DEFAULTS[m])
    return out


def summarize(results: dict, cfg: Config, forms: str) -> dict:
    methods, final = {}, {}
    for (level, m, which), (idx, hp) in selections(results, cfg).items():
        res = results[label(level, m)]
        p = res.point_at(cfg.horizon)
        s = dict(method=res.method, level=level, hparams=hp, batch_loss=stats(res.curve(idx, "batch_loss")[:, p]),
                 heldout_loss=stats(res.curve(idx, "loss")[:, p]), updates=stats(res.curve(idx, "updates")[:, p]),
                 diverged_runs=int(res.diverged[(slice(None),) + idx].sum()))
        if which == "tuned":
            s.update(runs=int(res.diverged.size), diverged_total=int(res.diverged.sum()),
                     received=float(np.sum(res.metrics["received"][..., p])), seconds=res.info["seconds_total"])
            s["ms_per_setting_gradient"] = 1e3 * s["seconds"] / max(s["received"], 1.0)  # compile included
            final[level, m] = (s["batch_loss"]["median"], s["heldout_loss"]["median"])
        s["line"] = (f"c_i={level}: {fmt_hparams(hp)}: minibatch {s['batch_loss']['median']:.4f}, held-out "
                     f"{s['heldout_loss']['median']:.4f}, updates {s['updates']['median']:.0f}" +
                     (f" ({s['runs']} runs, {s['diverged_total']} diverged, {s['seconds']:.1f} s, "
                      f"{s['ms_per_setting_gradient']:.1f} ms per setting and gradient received, compile included)"
                      if which == "tuned" else ""))
        methods[label(level, m) + ("" if which == "tuned" else "@defaults")] = s
    margins, parts = [], []
    for level in cfg.levels:
        rm_b, rm_h = final[level, "ringmaster_lmo_stops"]
        best_b = min(BASELINES, key=lambda m: final[level, m][0])
        best_h = min(BASELINES, key=lambda m: final[level, m][1])
        mb, mh = final[level, best_b][0] - rm_b, final[level, best_h][1] - rm_h
        margins.append(mh)
        order = sorted(METHODS, key=lambda m: final[level, m][1])
        parts.append(f"c_i={level}: held-out margin {mh:+.4f} over {LABELS[best_h]} (minibatch {mb:+.4f} over "
                     f"{LABELS[best_b]}); held-out order " + " < ".join(LABELS[m] for m in order))
    grows = all(b > a for a, b in zip(margins, margins[1:]))
    holds = None if len(margins) < 2 else grows and margins[-1] > 0
    return dict(methods=methods, claim=claim(
        "Ringmaster Muon's advantage over the best baseline (tuned, final held-out loss) grows with heterogeneity "
        "(c_i = 1, sqrt i, i) and is positive at the most heterogeneous level", holds, "; ".join(parts)))


def plot(results: dict, cfg: Config, forms: str):
    import matplotlib.pyplot as plt

    chosen = selections(results, cfg)
    rows = len(cfg.levels)
    fig, axes = plt.subplots(rows + 1, 3, figsize=(15, 3.6 * (rows + 1)), squeeze=False)
    cols = (("tuned", "batch_loss", "latest minibatch loss (tuned)"), ("tuned", "loss", "held-out loss (tuned)"),
            ("defaults", "batch_loss", "latest minibatch loss (the code's defaults)"))
    for row, level in zip(axes, cfg.levels):
        for ax, (which, metric, title) in zip(row, cols):
            for m in METHODS:
                res = results[label(level, m)]
                idx, hp = chosen[level, m, which]
                y = res.curve(idx, metric)
                ok = np.isfinite(y).any(axis=0)  # batch_loss is NaN until the first gradient arrives
                band(ax, time_axis(res)[ok], y[:, ok], color=COLORS[m], style=STYLES[m],
                     label=f"{LABELS[m]} ({fmt_hparams(hp)})")
            ax.set(xlabel="runtime (simulated seconds)", ylabel=title, title=f"{LEVEL_TITLES[level]}: {title}")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=6)
    last = axes[rows]
    x = np.arange(rows)
    for ax, metric, title in ((last[0], "batch_loss", "final latest minibatch loss"),
                              (last[1], "loss", "final held-out loss")):
        for m in METHODS:
            vals = []
            for level in cfg.levels:
                res = results[label(level, m)]
                vals.append(np.median(res.curve(chosen[level, m, "tuned"][0], metric)[:, res.point_at(cfg.horizon)]))
            ax.plot(x, vals, "o", ls=STYLES[m], color=COLORS[m], label=LABELS[m])
        ax.set_xticks(x, [LEVEL_TITLES[lv] for lv in cfg.levels])
        ax.set(xlabel="heterogeneity", ylabel=title, title=f"{title} (tuned) against heterogeneity")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    last[2].axis("off")
    form = ("the authors' code's forms (Nesterov, the code's Muon partition)" if forms == "authors" else
            "the paper's forms (no Nesterov, Euclidean step on non-matrix leaves)")
    fig.suptitle(f"Ringmaster LMO, small LM (layers {cfg.n_layer}, width {cfg.n_embd}, {cfg.batch} x {cfg.seq_len} "
                 f"tokens per gradient), n = {cfg.n}, {cfg.horizon:g} s, {len(cfg.seeds)} seed(s) (median, IQR band); "
                 f"{form}", fontsize=10)
    fig.tight_layout()
    return fig
