"""ATA against greedy, optimal fixed and uniform task allocation: runtime and total worker time (arXiv 2502.00775).

Setup of the authors' code (spec experiments.md §6.1): worst-case quadratic ``d = 100``, noise
scale ``s = 0.001`` (0.01 is also reported: ``--noise-scale``), SGD with ``gamma = 1e-4``,
``B = 23`` gradients per iteration; one row per worker count ``n`` (the paper's 17, 51, 153,
459), task times ``X_i = 29 i + Exp(mean 29 i)`` (``mu_i = 58 i``). Policies: ATA
(``alpha = 2 max_i mu_i``), ATA-Empirical (``eta = 1``; the law's ``||X - mu||_psi1 / mu`` is
about 0.77), FTA (the optimal allocation for the known means), UTA (uniform) and GTA (greedy:
everyone computes, the first ``B`` count: ``gta``, a race on the allocation clock whose iterations
end where Rennala SGD with stops updates). The paper runs ``K = 3e6``
iterations of each policy (seed 5); here every policy of a row runs for ``iterations * E C(a*)``
seconds, ``E C(a*)`` the optimal allocation's expected iteration time
(:func:`jaxsim.theory.allocation.optimal_allocation` and the law), so FTA completes about
``iterations`` iterations, GTA 1.58x more, the others fewer. Nothing is selected: every policy
runs the paper's hyperparameters.

The ATA-family policies take ``B`` gradients at ``x^k`` keyed by ``(seed, k, slot)``: their
trajectories coincide per iteration (GTA's too, as in the authors' code), and they differ in time
and worker time per iteration. ``--gta rennala_stops`` runs GTA as Rennala SGD with stops on the
controlled clock instead: the same iteration times and worker time (tested), but gradients drawn
per ``(worker, job)``, so its trajectory is its own, and one loop step per arrival. The
summary compares each policy with GTA at equal iterations (the policy's count at the horizon),
in runtime and total worker time, cumulative (the paper's plotted totals) and over the last
quarter of the horizon. Columns (the paper's layout): runtime and total worker time against
``||grad f||^2``, average iteration time and average cumulative proxy regret against
iterations, with ``E C(a*)`` and the proxy optimum ``v_B``. Metric: the code stores and plots
``||grad f(x_k)||^2`` but labels it ``f(x_k) - f*`` (spec §6.1 DIFF): the figure draws the stored
series, the summary records both (mean of the last 10 % of the points).

ATA explores until its iteration time stays within 20 % of ``E C(a*)`` (shaded; ATA-Empirical's
end is a dashed line; the summary reports the iteration). Its LCB of a worker is 0 until ``K_i``
exceeds about ``(4 max mu / mu_i)^2 ln(2k^2)`` tasks, so the phase grows faster than ``n^2``: it
ends at ATA's iteration 6 300 at ``n = 17`` and 141 000 at ``n = 51`` (measured, seeds 0-2; 84 %
of that run's time); in FULL (seeds 5-7) at iteration 13 060 (``n = 17``) and 139 701 (``n = 51``),
and past the horizon at ``n = 153`` and ``459``, whose rows are therefore undecided (ATA-Empirical's
ends at iterations 59 888 and 675 033 there).

Cost (2026-12-08, this project's 2-core CPU, the default two devices): per iteration, three seeds
and the batch's padded copy (``experiments/ata_cost.py --iterations 30000``, one run, load 1.5; a
second run of a policy varies by up to a third): FTA 24-47 us, GTA's race (``gta``: ``n`` first
draws and ``B`` merge steps, :func:`jaxsim.sim.allocation.race`) 52-169 us, ATA 58-246 us and
ATA-Empirical 80-244 us over ``n = 17 ... 459`` (before the solver's ``top_k`` and one-reduce steps:
ATA 64-771 us, ATA-Empirical 79-648 us, GTA 54-170 us); Rennala SGD with stops (``--gta
rennala_stops``, one controlled step per arrival) takes 390-630 us per iteration (``n = 17 ...
459``, load 2.6-3.4, an earlier version). FULL at the paper's ``K = 3e6``, all four rows: 63.7 min
wall and 1.5 GiB (load 1.1-1.9); per row, the sweeps' times in minutes (ATA, ATA-Empirical, FTA,
GTA, UTA): ``n = 17`` 2.4, 2.4, 0.9, 2.8, 0.5; ``n = 51`` 3.6, 3.9, 0.9, 3.4, 0.3; ``n = 153`` 2.6,
7.4, 1.2, 4.5, 0.2; ``n = 459`` 0.4, 15.2, 1.9, 8.8, 0.15 (ATA, exploring to the horizon at ``n =
153`` and ``459``, completes 1.5e6 and 1.4e5 iterations there; ATA-Empirical ends its exploration and
completes 2.1e6 at ``n = 459``). Rows 17 and 51 had taken 22.1 min before. QUICK (``n = 17``, 40 000
iterations, seeds 0-2: past ATA's exploration, but FTA does not reach an order of magnitude there)
takes about a minute; TINY is one row of 300 iterations (still exploring).

Forms: ``paper`` uses the poster's confidence widths; ``authors`` the authors' code
(``constants="code"``: width ``4e alpha (...)``, never-sampled workers scored ``-inf``; the
empirical variant's width ``8e mu_hat (...)``), which explore several times longer.

The paper's claim: ATA uses about an order of magnitude less total worker time than greedy
allocation at a runtime only slightly above greedy's, approaching the optimal fixed allocation.
Verdict per ``n``, on the per-seed totals at the horizon, at equal iterations: (1)
"approaching": ATA's worker-time ratio to GTA below ``1.2`` times FTA's (20 %, the exploration
rule's tolerance); (2) "slightly above": ATA's runtime below 2 x GTA's (FTA itself needs 1.58x);
(3) "an order of magnitude": ATA's worker time below ``10^-0.5`` x GTA's, judged only where FTA
itself reaches that ratio (0.48x at ``n = 17``, 0.16x at ``n = 51``; elsewhere a note says so).
A row whose horizon ends before ATA's exploration does is ``undecided``. ATA-Empirical and UTA
are reported outside the verdict.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from .. import make_timing, sweep, worst_case_quadratic
from ..methods import make_method
from ..theory.allocation import optimal_allocation
from . import verdict as V
from .base import band, seeds_text, stats, tail_stats

NAME = "ata-quadratic"
FORMS = ("paper", "authors")
BASE = 29.0  #: X_i = BASE i + Exp(mean BASE i)
POLICIES = {  # key -> (label, colour, marker): the authors' colours and markers (spec §6)
    "ata": ("ATA", "#C00000", "d"), "ata_empirical": ("ATA-Empirical", "#B8860B", "*"),
    "fta": ("FTA (optimal, known means)", "#006666", "^"), "gta": ("GTA (greedy)", "#36454F", "H"),
    "uta": ("UTA (uniform)", "#8B2500", "v")}
GTA_FORMS = ("race", "rennala_stops")  #: how GTA runs (Config.gta)
ADAPTIVE = ("ata", "ata_empirical")
EXPLORE_TOL = 1.2  #: exploration ends when the iteration time stays within 20 % of E C(a*)
APPROACH = EXPLORE_TOL  #: "approaching FTA": ATA's worker-time ratio to GTA within 20 % of FTA's
ORDER_OF_MAGNITUDE, SLIGHTLY_ABOVE = 10 ** -0.5, 2.0  #: the verdict's reading of the claim
METRIC = ("grad_norm_sq", "experiments.md §6.1 [code]: the series the code stores and plots (its y-label says "
          "f(x_k) - f*: DIFF; loss_gap is recorded beside it)")


@dataclasses.dataclass(frozen=True)
class Config:
    n: tuple = dataclasses.field(default=(17, 51, 153, 459), metadata={"elem": int, "help": "worker counts (rows)"})
    iterations: int = dataclasses.field(default=3_000_000, metadata={
        "help": "horizon = iterations * E C(a*) seconds: about this many FTA iterations (the paper: K = 3e6)"})
    d: int = dataclasses.field(default=100, metadata={"help": "dimension of the quadratic"})
    noise_scale: float = dataclasses.field(default=0.001, metadata={"help": "gradient noise s (one scalar per "
                                                                      "call; 0.01 is also reported)"})
    gamma: float = 1e-4
    B: int = dataclasses.field(default=23, metadata={"help": "gradients (tasks) per iteration"})
    alpha_scale: float = dataclasses.field(default=2.0, metadata={"help": "ATA: alpha = alpha_scale * max_i mu_i"})
    eta: float = dataclasses.field(default=1.0, metadata={"help": "ATA-Empirical: bound on max_i alpha_i / mu_i"})
    seeds: tuple = dataclasses.field(default=(5, 6, 7), metadata={"elem": int, "help": "the paper: seed 5"})
    num_points: int = 300
    gta: str = dataclasses.field(default="race", metadata={"choices": GTA_FORMS, "help": (
        "GTA as a race on the allocation clock (race: the B gradients at x^k keyed by (seed, k, slot), the "
        "trajectory shared with the other policies as in the authors' code) or as Rennala SGD with stops on the "
        "controlled clock (rennala_stops: the same times, gradients drawn per (worker, job), one loop step per "
        "arrival)")})


FULL = Config()
QUICK = Config(n=(17,), iterations=40_000, seeds=(0, 1, 2), num_points=100)
TINY = Config(n=(17,), iterations=300, seeds=(0, 1), num_points=10)


def timing_for(n: int):
    return make_timing(n, "linear", "exponential", scale="base", base_scale=BASE)


@functools.lru_cache(maxsize=None)
def optimum(n: int, B: int) -> dict:
    """The optimal allocation ``a*`` for the true means (what FTA runs), its proxy loss
    ``v_B = max_i a*_i mu_i`` and its expected iteration time ``E C(a*) = E max_i S_i``, where
    ``S_i`` (worker ``i``'s ``a*_i`` tasks) is ``a*_i c_i + Gamma(a*_i, scale c_i)``,
    ``c_i = 29 i``; by numerical integration of ``1 - prod_i P(S_i <= t)``. Also the expected
    worker time per iteration ``sum_i a*_i mu_i``."""
    from scipy import stats as st

    c = BASE * np.arange(1, n + 1, dtype=np.float64)
    alloc = optimal_allocation(2.0 * c, B)
    used = alloc.a > 0
    a, c = alloc.a[used].astype(np.float64), c[used]
    t = np.linspace(0.0, float(np.max(2.0 * a * c + 40.0 * np.sqrt(a) * c)), 200_001)
    cdf = np.ones_like(t)
    for ai, ci in zip(a, c):
        cdf *= st.gamma.cdf(t - ai * ci, ai, scale=ci)
    return {"a": alloc.a.tolist(), "v_B": alloc.value, "time": float(np.trapezoid(1.0 - cdf, t)),
            "work": float(np.sum(a * 2.0 * c))}


def horizon(cfg: Config, n: int) -> float:
    return cfg.iterations * optimum(n, cfg.B)["time"]


def label(method: str, n: int) -> str:
    return f"{method}-n{n}"


def method_name(policy: str, cfg: Config) -> str:
    """The registered method a policy runs: GTA's is ``gta`` (the race) or ``rennala_stops``
    (``cfg.gta``); the others' are their keys."""
    return "rennala_stops" if policy == "gta" and cfg.gta == "rennala_stops" else policy


def method_for(name: str, forms: str):
    """ATA and ATA-Empirical in the poster's constants (``paper``) or the code's (``authors``)."""
    return make_method(name, constants="code" if forms == "authors" else "poster") if name in ADAPTIVE else name


def simulate(cfg: Config, forms: str = "paper", progress: bool = False) -> dict:
    """One sweep per policy and ``n`` (each a single setting: the paper's hyperparameters)."""
    problem = worst_case_quadratic(d=cfg.d, noise_scale=cfg.noise_scale)
    extra = {"ata": {"alpha_scale": cfg.alpha_scale}, "ata_empirical": {"eta": cfg.eta}}
    if cfg.gta not in GTA_FORMS:
        raise ValueError(f"gta: expected one of {GTA_FORMS}, got {cfg.gta!r}")
    return {label(method_name(m, cfg), n): sweep(method_for(method_name(m, cfg), forms), problem, timing_for(n),
                                                 seeds=list(cfg.seeds),
                                                 grid={"gamma": cfg.gamma, "B": cfg.B, **extra.get(m, {})},
                                                 horizon=horizon(cfg, n), num_points=cfg.num_points, progress=progress)
            for n in cfg.n for m in POLICIES}


def _series(res) -> dict:
    """Per seed and point (one setting): iterations, runtime, worker time, metrics."""
    get = {k: np.asarray(res.curve((), k), np.float64) for k in ("updates", "busy_time", "grad_norm_sq",
                                                                  "proxy_regret") if k in res.metrics}
    return dict(get, time=np.asarray(res.time, np.float64))


def exploration_end(s: dict, ec: float):
    """``(k, t, w)``: iterations, runtime and worker time (medians over seeds) where the policy's
    iteration time (between recording points) falls to ``EXPLORE_TOL * E C(a*)`` and stays
    there; ``None`` if it is still above at the horizon."""
    k, t, w = (np.median(s[key], axis=0) for key in ("updates", "time", "busy_time"))
    dk = np.diff(k)
    above = np.flatnonzero(np.where(dk > 0, np.diff(t) / np.maximum(dk, 1), np.inf) > EXPLORE_TOL * ec)
    if above.size and above[-1] == dk.size - 1:
        return None
    j = 0 if not above.size else above[-1] + 1  # interval j runs from point j to j + 1
    return float(k[j]), float(t[j]), float(w[j])


def _at_iterations(s: dict, K: np.ndarray, key: str) -> np.ndarray:
    """Per seed: ``key`` (runtime or worker time) when the ``K[seed]``-th iteration was recorded
    (linear between recording points; NaN beyond the horizon)."""
    return np.array([np.interp(k, u, v) if k <= u[-1] else np.nan for k, u, v in zip(K, s["updates"], s[key])])


def _tail_rate(s: dict, key: str) -> np.ndarray:
    """Per seed: ``key`` per iteration over the last quarter of the horizon."""
    p0 = (3 * (s["time"].shape[1] - 1)) // 4
    return (s[key][:, -1] - s[key][:, p0]) / np.maximum(s["updates"][:, -1] - s["updates"][:, p0], 1)


def _med(x) -> float:
    x = np.asarray(x, np.float64)
    return float(np.nanmedian(x)) if np.isfinite(x).any() else float("nan")


def row_summary(results: dict, cfg: Config, n: int) -> tuple:
    """``(methods, totals)`` of one row: each policy's reported numbers, and per policy the
    per-seed totals at the horizon beside GTA's at the same iteration count."""
    opt, gta = optimum(n, cfg.B), _series(results[label(method_name("gta", cfg), n)])
    methods, totals = {}, {}
    for m in POLICIES:
        res = results[label(method_name(m, cfg), n)]
        s = _series(res)
        K = s["updates"][:, -1]
        e = dict(method=res.method, n=n, horizon=horizon(cfg, n), iterations=stats(K),
                 grad_norm_sq=tail_stats(res, (), "grad_norm_sq"), loss_gap=tail_stats(res, (), "loss_gap"),
                 runtime_per_iter=stats(s["time"][:, -1] / np.maximum(K, 1)),
                 worker_time_per_iter=stats(s["busy_time"][:, -1] / np.maximum(K, 1)),
                 seconds=res.info["seconds_total"])
        if "proxy_regret" in s:
            e["avg_proxy_regret"] = stats(s["proxy_regret"][:, -1] / np.maximum(K, 1))
        line = (f"n={n}: {e['iterations']['median']:.0f} it, {e['runtime_per_iter']['median']:.0f} s/it, work "
                f"{e['worker_time_per_iter']['median']:.0f} s/it, |grad|^2 {e['grad_norm_sq']['median']:.4g}, "
                f"f-f* {e['loss_gap']['median']:.4g}")
        if m != "gta":
            t = totals[m] = dict(time=s["time"][:, -1], work=s["busy_time"][:, -1],
                                 gta_time=_at_iterations(gta, K, "time"), gta_work=_at_iterations(gta, K, "busy_time"))
            e.update(runtime_vs_gta=_med(t["time"] / t["gta_time"]), worker_time_vs_gta=_med(t["work"] / t["gta_work"]),
                     tail_runtime_vs_gta=_med(_tail_rate(s, "time") / _tail_rate(gta, "time")),
                     tail_worker_time_vs_gta=_med(_tail_rate(s, "busy_time") / _tail_rate(gta, "busy_time")))
            line += (f"; vs GTA at equal it: runtime {e['runtime_vs_gta']:.2f}x, work {e['worker_time_vs_gta']:.3f}x "
                     f"(last quarter {e['tail_runtime_vs_gta']:.2f}x, {e['tail_worker_time_vs_gta']:.3f}x)")
        if m in ADAPTIVE:
            end = exploration_end(s, opt["time"])
            e["exploration_end"] = None if end is None else dict(zip(("iterations", "runtime", "worker_time"), end))
            line += "; still exploring at the horizon" if end is None else f"; exploring until it {end[0]:.0f}"
        methods[label(method_name(m, cfg), n)] = dict(e, line=line + f" ({e['seconds']:.1f} s)")
    methods[f"optimum-n{n}"] = dict(a=opt["a"], v_B=opt["v_B"], expected_time=opt["time"], expected_work=opt["work"],
                                    line=f"n={n}: a* = {[x for x in opt['a'] if x]}, v_B = {opt['v_B']:.0f} s, "
                                         f"E C(a*) = {opt['time']:.1f} s/it, work {opt['work']:.0f} s/it")
    return methods, totals


def summarize(results: dict, cfg: Config, forms: str) -> dict:
    methods, parts, notes, exploration = {}, [], [], {}
    for n in cfg.n:
        row, tot = row_summary(results, cfg, n)
        methods.update(row)
        exploration[f"n={n}"] = {m: row[label(m, n)]["exploration_end"] for m in ADAPTIVE}
        end = exploration[f"n={n}"]["ata"]
        when = dict(horizon=horizon(cfg, n), separates_at=float("inf") if end is None else end["runtime"],
                    too_early=("ATA is still exploring at the end of this run" if end is None else
                               f"this run ends before ATA's exploration does (iteration {end['iterations']:.0f})"))
        a, fta_ratio = tot["ata"], tot["fta"]["work"] / tot["fta"]["gta_work"]
        parts += [V.compare(f"n={n}: ATA's total worker time / GTA's < {APPROACH:g} x FTA's (approaching the optimal "
                            "allocation)", a["work"] / a["gta_work"], fta_ratio, names=("ATA", "FTA"), factor=APPROACH,
                            **when),
                  V.compare(f"n={n}: ATA's runtime < {SLIGHTLY_ABOVE:g} x GTA's at equal iterations (slightly above)",
                            a["time"], a["gta_time"], names=("ATA", "GTA"), factor=SLIGHTLY_ABOVE, **when)]
        if _med(fta_ratio) <= ORDER_OF_MAGNITUDE:
            parts.append(V.compare(f"n={n}: ATA's total worker time < 10^-0.5 x GTA's at equal iterations (an order "
                                   "of magnitude)", a["work"], a["gta_work"], names=("ATA", "GTA"),
                                   factor=ORDER_OF_MAGNITUDE, **when))
        else:
            notes.append(f"n={n}: the order-of-magnitude part is not judged: FTA (the optimal allocation with the true "
                         f"means) itself reaches only {_med(fta_ratio):.3f}x GTA's worker time (> 10^-0.5 = 0.316)")
        notes.append(f"n={n}: ATA's exploration " + ("lasts past the horizon" if end is None else
                                                     f"ends at iteration {end['iterations']:.0f}"))
    text = ("ATA needs about an order of magnitude less total worker time than greedy allocation (GTA) at a runtime "
            "only slightly above GTA's, approaching the optimal fixed allocation (FTA)")
    return dict(methods=methods, exploration=exploration, claim=V.claim(text, parts, notes),
                protocol=dict(metric=METRIC[0], metric_source=METRIC[1], tail=V.TAIL, tie_rtol=V.TIE_RTOL,
                              seeds=len(cfg.seeds), selection="none: every policy at the paper's hyperparameters",
                              approach_factor=APPROACH, order_of_magnitude=ORDER_OF_MAGNITUDE,
                              slightly_above=SLIGHTLY_ABOVE))


def plot(results: dict, cfg: Config, forms: str):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(len(cfg.n), 4, figsize=(19, 3.9 * len(cfg.n)), squeeze=False)
    for row, n in zip(axes, cfg.n):
        opt = optimum(n, cfg.B)
        w_min = np.inf  # the worker-time axis is logarithmic: start it at the first positive value drawn
        for m, (name, color, marker) in POLICIES.items():
            s = _series(results[label(method_name(m, cfg), n)])
            style = dict(color=color, marker=marker, label=name)
            t, w, k = (np.median(s[key], axis=0) for key in ("time", "busy_time", "updates"))
            band(row[0], t, s["grad_norm_sq"], **style)
            band(row[1], w, s["grad_norm_sq"], **style)
            w_min = min(w_min, float(np.min(w[w > 0], initial=np.inf)))
            ok = np.min(s["updates"], axis=0) > 0
            if ok.sum() > 1:
                band(row[2], k[ok], s["time"][:, ok] / s["updates"][:, ok], log=False, **style)
                if "proxy_regret" in s:
                    band(row[3], k[ok], s["proxy_regret"][:, ok] / s["updates"][:, ok], log=False, **style)
            end = exploration_end(s, opt["time"]) if m in ADAPTIVE else None
            if end is None and m == "ata":  # still exploring: shade all of its run
                end = (k[-1], t[-1], w[-1])
            for ax, x in zip(row, (end[1], end[2], end[0], end[0]) if end is not None else ()):
                if m == "ata":
                    ax.axvspan(0.0, x, color=color, alpha=0.07, linewidth=0, label="ATA exploring" if ax is row[2]
                               else None)
                else:
                    ax.axvline(x, color=color, ls="--", lw=0.9, label="ATA-Empirical's exploration ends"
                               if ax is row[2] else None)
        if np.isfinite(w_min):
            row[1].set_xlim(left=w_min)
        row[2].axhline(opt["time"], color="black", ls=":", lw=1.2, label=r"$E\,C(a^*)$ (theory)")
        row[2].axhline(opt["v_B"], color="grey", ls="-.", lw=1, label=r"proxy optimum $v_B$")
        row[0].set(xlabel="runtime (s)", ylabel=r"$\|\nabla f(x_k)\|^2$ (the code's label: $f - f^*$)",
                   title=f"n = {n}")
        row[1].set(xlabel="total worker time (s)", ylabel=r"$\|\nabla f(x_k)\|^2$", xscale="log", title=f"n = {n}")
        row[2].set(xlabel="iterations k", ylabel="average iteration time (s)", yscale="log")
        row[3].set(xlabel="iterations k", ylabel="average cumulative proxy regret (s)")
        row[3].set_yscale("symlog", linthresh=1.0)
        for ax in (row[0], row[2], row[3]):  # linear x axes: a few ticks, the power of ten written once
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
            ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 3), useMathText=True)
        for ax in row:
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    axes[0, 2].legend(fontsize=7)
    form = "the authors' code's confidence widths" if forms == "authors" else "the poster's confidence widths"
    fig.suptitle(f"ATA quadratic: d={cfg.d}, s={cfg.noise_scale}, gamma={cfg.gamma:g}, B={cfg.B}, "
                 r"$X_i = 29i + \mathrm{Exp}(29i)$, " f"about {cfg.iterations} FTA iterations, "
                 f"{seeds_text(cfg.seeds)}; {form}", fontsize=10)
    fig.tight_layout()
    return fig
