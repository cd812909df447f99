"""Ringmaster Muon against Rennala, delay-adaptive and PA Muon on a small LM, three heterogeneities (arXiv 2605.18174).

Setup (spec experiments.md §7.1, at CPU size): the small decoder-only transformer of
:mod:`jaxsim.problems.lm` (default :meth:`LMConfig.cpu <jaxsim.problems.lm_model.LMConfig.cpu>`: 2
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
Selection and verdict are on the "latest minibatch loss" (``batch_loss``: the loss of the
minibatch behind the latest received gradient, at the point where it was computed), the metric
the authors' figure plots and their tuning score (spec experiments.md §7.1 [code]), reduced as
the median over seeds of the mean over the last 10 % of the run (the code takes the last value
alone); the held-out loss at the current model (``loss``, 8 windows) is reported and drawn too.

Cost: each setting computes every gradient it receives; per simulated second a setting
receives about 8 (``c_i = 1``), 4.4 (``sqrt i``) and 2.7 (``i``) gradients, and one setting and
received gradient of the default model costs 15-17 ms on this project's 2-core CPU measured
alone (27 ms of CPU, marginal, with the machine shared), so FULL (the full grids, 39 settings per
level, 500 s, one seed: about 290 000 setting-gradients) takes about 1.5-2 hours (extrapolated,
not run, per seed; FULL runs the paper's 500 s with three seeds, so about three times that). Every method's
kernel compiles anew per level (the timing is static in the controlled kernels): 12 compiles
of 10-20 s CPU each. QUICK keeps every level and the code's defaults but a 60 s horizon and 7
settings per level, three seeds (a smoke test, not a reproduction); TINY is one level of a
one-layer width-8 model on 16-token windows over 5 s.

Forms: ``authors`` (the form the paper's figures were made with): Nesterov momentum, ``m^0 =
0``, the code's Muon partition (Newton--Schulz on the blocks' matrices with radius ``sqrt(max(1,
fan_out / fan_in))``, unnormalized momentum on embeddings, head and scalars), the code's PA
schedule. ``paper``: the analysed methods (no Nesterov, ``alpha_0 = 1``, the project's default
partition with a Euclidean step on the non-matrix leaves, the paper's PA schedule), same grids.

The paper's claim [uncertain: implied by its abstract]: Ringmaster Muon's advantage over the
baselines grows with heterogeneity; at ``c_i = i`` the code's figure orders Ringmaster < Rennala
< Delay-adaptive << PA. Parts, per level, tuned and at the code's defaults (what the authors'
figure plots): Ringmaster Muon below each baseline in the latest minibatch loss; and, tuned, its
per-seed margin over the best baseline larger at the most heterogeneous level than at the least.
Nothing is tuned to make that hold.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import TimingModel, sweep
from ..methods import CODE_FORM, make_method
from ..timing.noise import HalfNormal
from ..timing import BASE_PROFILES
from . import verdict as V
from .base import Comparison, Metric, powers_of_5, with_settings
# the same four methods, drawn alike in both LMO figures
from .ringmaster_lmo_quadratic import BETA, CURVES, METHODS, PARTS, ROWS, stated

NAME = "ringmaster-lmo-lm"
FORMS = ("paper", "authors")
#: Heterogeneity levels: name -> base-time profile ``c_i`` (``i = 1..n``).
LEVELS = {"1": "constant", "sqrt_i": "sqrt", "i": "linear"}
LEVEL_TITLES = {"1": r"$\tau_i = 1$", "sqrt_i": r"$\tau_i = \sqrt{i}$", "i": r"$\tau_i = i$"}
BASELINES = METHODS[1:]
#: The code's default settings (spec §7.1).
DEFAULTS = {"ringmaster_lmo_stops": {"gamma": 1.0, "R": 2}, "rennala_lmo": {"gamma": 1.0, "B": 2},
            "delay_adaptive_lmo": {"gamma": 1.0}, "ringmaster_lmo_pa": {"gamma": 5.0}}
BATCH = Metric("batch_loss", "minibatch loss", "latest minibatch loss", "experiments.md §7.1 Metric [code]")
HELDOUT = Metric("loss", "held-out", "held-out loss")
SPEC = Comparison(claim="Ringmaster Muon ends lowest in the latest minibatch loss", metric=BATCH,
                  metrics=(HELDOUT,), curves=CURVES, parts=PARTS,
                  rows=(ROWS[0], ("defaults", "the code's default settings")), hidden=("alpha", "beta"))
CLAIM = ("Ringmaster Muon ends lowest in the latest minibatch loss, and its advantage over the best baseline "
         "grows with heterogeneity (c_i = 1, sqrt i, i)")


@dataclasses.dataclass(frozen=True)
class Config:
    levels: tuple = dataclasses.field(default=tuple(LEVELS), metadata={
        "elem": str, "help": "heterogeneity levels c_i (rows): 1, sqrt_i, i"})
    n: int = dataclasses.field(default=8, metadata={"help": "workers"})
    horizon: float = dataclasses.field(default=500.0, metadata={"help": "simulated seconds"})
    seeds: tuple = dataclasses.field(default=(0, 1, 2), metadata={"elem": int})
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


def of_level(results: dict, level: str) -> dict:
    return {m: results[label(level, m)] for m in METHODS}


def margins(results: dict, cfg: Config, level: str) -> np.ndarray:
    """Per seed, the best baseline's (by median) tuned tail minibatch loss minus Ringmaster Muon's."""
    chosen = SPEC.choose(of_level(results, level), cfg)
    best = min(BASELINES, key=lambda m: chosen[m, "tuned"].value)
    return chosen[best, "tuned"].per_seed - chosen["ringmaster_lmo_stops", "tuned"].per_seed


def summarize(results: dict, cfg: Config, forms: str) -> dict:
    methods, parts, notes, per_level = {}, [], [], {}
    for level in cfg.levels:
        s = SPEC.summarize(of_level(results, level), cfg, stated(of_level(results, level), DEFAULTS))
        methods.update({f"{level}-{k}": dict(v, level=level) for k, v in s["methods"].items()})
        parts += [dict(p, text=f"c_i={level}, {p['text']}") for p in s["claim"]["parts"]]
        notes += [f"c_i={level}: {n}" for n in s["claim"]["notes"]]
        per_level[level] = margins(results, cfg, level)
    if len(cfg.levels) >= 2:
        lo, hi = cfg.levels[0], cfg.levels[-1]
        # "the margin at hi exceeds the margin at lo" as "-margin(hi) < -margin(lo)", seed by seed
        parts.append(V.compare(f"tuned: Ringmaster Muon's margin over the best baseline larger at c_i={hi} than at "
                               f"c_i={lo}", -per_level[hi], -per_level[lo],
                               names=(f"-margin(c_i={hi})", f"-margin(c_i={lo})")))
    return dict(methods=methods, claim=V.claim(CLAIM, parts, notes),
                margins={lv: m.tolist() for lv, m in per_level.items()},
                protocol=dict(metric=BATCH.key, metric_source=BATCH.source, tail=V.TAIL, tie_rtol=V.TIE_RTOL,
                              seeds=len(cfg.seeds)))


def plot(results: dict, cfg: Config, forms: str):
    import matplotlib.pyplot as plt

    from .base import seeds_text

    rows = len(cfg.levels)
    fig, axes = plt.subplots(rows + 1, 3, figsize=(15, 3.6 * (rows + 1)), squeeze=False)
    cols = (("tuned", BATCH, "latest minibatch loss (tuned)"), ("tuned", HELDOUT, "held-out loss (tuned)"),
            ("defaults", BATCH, "latest minibatch loss (the code's defaults)"))
    for row, level in zip(axes, cfg.levels):
        res = of_level(results, level)
        chosen = SPEC.choose(res, cfg, stated(res, DEFAULTS))
        for ax, (which, metric, title) in zip(row, cols):
            SPEC.draw_panel(ax, res, chosen, which, metric.key)
            ax.set(xlabel="runtime (simulated seconds)", ylabel=title, title=f"{LEVEL_TITLES[level]}: {title}")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=6)
    last = axes[rows]
    x = np.arange(rows)
    for ax, metric in ((last[0], BATCH), (last[1], HELDOUT)):
        for c in CURVES:
            vals = []
            for level in cfg.levels:
                r = results[label(level, c.key)]
                sel = SPEC.choose(of_level(results, level), cfg)[c.key, "tuned"]
                vals.append(np.median(V.tail_values(r.curve(sel.index, metric.key), upto=r.point_at(cfg.horizon))))
            ax.plot(x, vals, "o", ls=c.style, color=c.color, label=c.label)
        ax.set_xticks(x, [LEVEL_TITLES[lv] for lv in cfg.levels])
        ax.set(xlabel="heterogeneity", ylabel=metric.axis, title=f"{metric.axis} (tuned, end of run) against "
                                                                  "heterogeneity")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    ax = last[2]
    for i, level in enumerate(cfg.levels):
        m = margins(results, cfg, level)
        ax.plot(np.full(m.size, i), m, "o", color="#C00000", alpha=0.6)
    ax.axhline(0, color="grey", lw=1)
    ax.set_xticks(x, [LEVEL_TITLES[lv] for lv in cfg.levels])
    ax.set(xlabel="heterogeneity", ylabel="best baseline - Ringmaster Muon", title="per-seed margin (tuned)")
    ax.grid(alpha=0.3)
    form = ("the authors' code's forms (Nesterov, the code's Muon partition)" if forms == "authors" else
            "the paper's forms (no Nesterov, Euclidean step on non-matrix leaves)")
    fig.suptitle(f"Ringmaster LMO, small LM (layers {cfg.n_layer}, width {cfg.n_embd}, {cfg.batch} x {cfg.seq_len} "
                 f"tokens per gradient), n = {cfg.n}, {cfg.horizon:g} s, {seeds_text(cfg.seeds)}; {form}", fontsize=10)
    fig.tight_layout()
    return fig
