"""ATA against greedy, optimal fixed and uniform task allocation: runtime and total worker time (arXiv 2502.00775).

Setup of the authors' code (spec experiments.md §6.1): worst-case quadratic ``d = 100``, noise
scale ``s = 0.001`` (0.01 is also reported: ``--noise-scale``), SGD with ``gamma = 1e-4``,
``B = 23`` gradients per iteration; one row per worker count ``n`` (the paper's 17, 51, 153,
459), task times ``X_i = 29 i + Exp(mean 29 i)`` (``mu_i = 58 i``). Policies: ATA
(``alpha = 2 max_i mu_i``), ATA-Empirical (``eta = 1``; the law's ``||X - mu||_psi1 / mu`` is
about 0.77), FTA (the optimal allocation for the known means), UTA (uniform) and GTA (greedy:
everyone computes, the first ``B`` count; Rennala SGD with stops, ``B = 23``). The paper runs
``K = 3e6`` iterations of each policy; here every policy of a row runs for one horizon in
seconds, ``iterations * E C(a*)``, where ``E C(a*)`` is the optimal allocation's expected
iteration time (from :func:`jaxsim.theory.allocation.optimal_allocation` and the law; FTA then
completes about ``iterations`` iterations, GTA more, the others fewer).

Every ATA-family policy takes ``B`` gradients at ``x^k`` keyed by ``(seed, k, slot)``, so their
optimisation trajectories coincide per iteration; they differ in how long an iteration takes
and how much worker time it costs. The summary compares each policy with GTA at equal
iterations (the policy's count at the horizon; GTA completes more): runtime and total worker
time, both cumulative (exploration included) and per iteration over the last quarter of the
horizon. Columns of the figure (the paper's layout): runtime and total worker time against
``||grad f||^2`` (the series the code stores; ``f - f*`` is in the summary), average iteration
time and average cumulative proxy regret against iterations, with the theory's ``E C(a*)`` and
proxy optimum ``v_B``. ATA's exploration phase is shaded (ATA-Empirical's end is a dashed line):
it lasts until the policy's iteration time stays within 20 % of ``E C(a*)``. ATA's LCB of a
worker is 0 until ``K_i`` exceeds about ``(4 max mu / mu_i)^2 ln(2k^2)`` tasks, so the phase
grows like ``n^2``; ATA-Empirical's relative widths need about a hundred tasks per worker.

Cost: GTA dominates (its event loop, about 0.6 ms per iteration on this project's 2-core CPU;
it completes 1.58x FTA's iterations). QUICK (``n = 17, 51``, 40 000 iterations, one seed) takes
2.0 min of wall time on an idle 2-core CPU (start-up and compiles included); ``--n 51 153
--iterations 200000`` took 8 min of CPU; FULL (the paper's four rows and ``K = 3e6``, seed 5)
about 4-5 hours (extrapolated, not run). At QUICK's size
ATA is still exploring at ``n = 51``; TINY is one row of 300 iterations.

Forms: ``paper`` uses the poster's confidence widths; ``authors`` the authors' code
(``constants="code"``: width ``4e alpha (...)``, never-sampled workers scored ``-inf``; the
empirical variant's width ``8e mu_hat (...)``), which explore several times longer.

The paper's claim: ATA uses about an order of magnitude less total worker time than greedy
allocation at a runtime only slightly above greedy's, approaching the optimal fixed allocation.
The verdict reads "order of magnitude" as a worker-time ratio ATA/GTA <= 10^-0.5, "slightly
above" as a runtime ratio <= 2 (the optimal allocation itself needs about 1.58x GTA's runtime
here), and "approaching" as ATA's last-quarter iteration time within 20 % of ``E C(a*)``, at
every ``n``; nothing is tuned.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from .. import make_timing, sweep, worst_case_quadratic
from ..methods import make_method
from ..theory.allocation import optimal_allocation
from .base import band, claim, stats

NAME = "ata-quadratic"
FORMS = ("paper", "authors")
BASE = 29.0  #: X_i = BASE i + Exp(mean BASE i)
METHODS = ("ata", "ata_empirical", "fta", "rennala_stops", "uta")
LABELS = {"ata": "ATA", "ata_empirical": "ATA-Empirical", "fta": "FTA (optimal, known means)",
          "rennala_stops": "GTA (greedy)", "uta": "UTA (uniform)"}
COLORS = {"ata": "#C00000", "ata_empirical": "#B8860B", "fta": "#006666", "rennala_stops": "#36454F",
          "uta": "#8B2500"}  # the authors' colours and markers (spec §6)
MARKERS = {"ata": "d", "ata_empirical": "*", "fta": "^", "rennala_stops": "H", "uta": "v"}
ADAPTIVE = ("ata", "ata_empirical")
EXPLORE_TOL = 1.2  #: exploration ends when the iteration time stays within 20 % of E C(a*)
ORDER_OF_MAGNITUDE, SLIGHTLY_ABOVE = 10 ** -0.5, 2.0  #: the verdict's reading of the claim


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
    seeds: tuple = dataclasses.field(default=(5,), metadata={"elem": int, "help": "the paper: seed 5"})
    num_points: int = 300


FULL = Config()
QUICK = Config(n=(17, 51), iterations=40_000, seeds=(0,), num_points=100)
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


def method_for(name: str, forms: str):
    """ATA and ATA-Empirical in the poster's constants (``paper``) or the code's (``authors``)."""
    return make_method(name, constants="code" if forms == "authors" else "poster") if name in ADAPTIVE else name


def simulate(cfg: Config, forms: str = "paper", progress: bool = False) -> dict:
    """One sweep per policy and ``n`` (each a single setting: the paper's hyperparameters)."""
    problem = worst_case_quadratic(d=cfg.d, noise_scale=cfg.noise_scale)
    extra = {"ata": {"alpha_scale": cfg.alpha_scale}, "ata_empirical": {"eta": cfg.eta}}
    out = {}
    for n in cfg.n:
        timing = timing_for(n)
        for m in METHODS:
            out[label(m, n)] = sweep(method_for(m, forms), problem, timing, seeds=list(cfg.seeds),
                                     grid={"gamma": cfg.gamma, "B": cfg.B, **extra.get(m, {})},
                                     horizon=horizon(cfg, n), num_points=cfg.num_points, progress=progress)
    return out


def _series(res) -> dict:
    """Per seed and point (one setting): iterations, runtime, worker time, metrics."""
    idx = (0,) * len(res.grid_dims)
    get = {k: np.asarray(res.curve(idx, k), np.float64) for k in ("updates", "busy_time", "grad_norm_sq", "loss_gap")}
    get["time"] = np.asarray(res.time, np.float64)
    get["proxy_regret"] = (np.asarray(res.curve(idx, "proxy_regret"), np.float64) if "proxy_regret" in res.metrics
                           else None)
    return get


def exploration_end(s: dict, ec: float):
    """``(k, t, w)``: iterations, runtime and worker time (medians over seeds) where the policy's
    iteration time (between recording points) falls to ``EXPLORE_TOL * E C(a*)`` and stays
    there; ``None`` if it is still above at the horizon."""
    k, t, w = (np.median(s[key], axis=0) for key in ("updates", "time", "busy_time"))
    dk = np.diff(k)
    per = np.where(dk > 0, np.diff(t) / np.maximum(dk, 1), np.inf)
    above = np.flatnonzero(per > EXPLORE_TOL * ec)
    if above.size and above[-1] == per.size - 1:
        return None
    j = 0 if not above.size else above[-1] + 1  # interval j runs from point j to j + 1
    return float(k[j]), float(t[j]), float(w[j])


def _at_iterations(s: dict, K: np.ndarray, key: str) -> np.ndarray:
    """Per seed: ``key`` (runtime or worker time) when the ``K[seed]``-th iteration was recorded
    (linear between recording points; NaN beyond the horizon)."""
    out = np.empty(len(K))
    for i, kk in enumerate(K):
        u = s["updates"][i]
        out[i] = np.interp(kk, u, s[key][i]) if kk <= u[-1] else np.nan
    return out


def _tail_rate(s: dict, key: str) -> np.ndarray:
    """Per seed: ``key`` per iteration over the last quarter of the horizon."""
    p0 = (3 * (s["time"].shape[1] - 1)) // 4
    return (s[key][:, -1] - s[key][:, p0]) / np.maximum(s["updates"][:, -1] - s["updates"][:, p0], 1)


def _med(x) -> float:
    x = np.asarray(x, np.float64)
    return float(np.nanmedian(x)) if np.isfinite(x).any() else float("nan")


def summarize(results: dict, cfg: Config, forms: str) -> dict:
    methods, verdicts = {}, []
    for n in cfg.n:
        opt = optimum(n, cfg.B)
        gta = _series(results[label("rennala_stops", n)])
        row = {}
        for m in METHODS:
            res = results[label(m, n)]
            s = _series(res)
            K = s["updates"][:, -1]
            e = dict(method=res.method, n=n, horizon=horizon(cfg, n), iterations=stats(K),
                     grad_norm_sq=stats(s["grad_norm_sq"][:, -1]), loss_gap=stats(s["loss_gap"][:, -1]),
                     runtime_per_iter=stats(s["time"][:, -1] / np.maximum(K, 1)),
                     worker_time_per_iter=stats(s["busy_time"][:, -1] / np.maximum(K, 1)),
                     tail_runtime_per_iter=_med(_tail_rate(s, "time")),
                     tail_worker_time_per_iter=_med(_tail_rate(s, "busy_time")),
                     seconds=res.info["seconds_total"])
            if s["proxy_regret"] is not None:
                e["avg_proxy_regret"] = stats(s["proxy_regret"][:, -1] / np.maximum(K, 1))
            if m != "rennala_stops":
                e["runtime_vs_gta"] = _med(s["time"][:, -1] / _at_iterations(gta, K, "time"))
                e["worker_time_vs_gta"] = _med(s["busy_time"][:, -1] / _at_iterations(gta, K, "busy_time"))
                e["tail_runtime_vs_gta"] = _med(_tail_rate(s, "time") / _tail_rate(gta, "time"))
                e["tail_worker_time_vs_gta"] = _med(_tail_rate(s, "busy_time") / _tail_rate(gta, "busy_time"))
            if m in ADAPTIVE:
                end = exploration_end(s, opt["time"])
                e["exploration_end_iterations"] = None if end is None else end[0]
            e["line"] = (f"n={n}: {e['iterations']['median']:.0f} it, {e['runtime_per_iter']['median']:.0f} s/it, "
                         f"work {e['worker_time_per_iter']['median']:.0f} s/it, |grad|^2 "
                         f"{e['grad_norm_sq']['median']:.4g}" +
                         (f"; vs GTA at equal it: runtime {e['runtime_vs_gta']:.2f}x, work "
                          f"{e['worker_time_vs_gta']:.3f}x (last quarter {e['tail_runtime_vs_gta']:.2f}x, "
                          f"{e['tail_worker_time_vs_gta']:.3f}x)" if "runtime_vs_gta" in e else "") +
                         (f"; exploring until it {e['exploration_end_iterations']:.0f}"
                          if e.get("exploration_end_iterations") is not None else
                          "; still exploring at the horizon" if m in ADAPTIVE else "") +
                         f" ({e['seconds']:.1f} s)")
            methods[label(m, n)] = row[m] = e
        methods[f"optimum-n{n}"] = dict(a=opt["a"], v_B=opt["v_B"], expected_time=opt["time"],
                                        expected_work=opt["work"],
                                        line=f"n={n}: a* = {[x for x in opt['a'] if x]}, v_B = {opt['v_B']:.0f} s, "
                                             f"E C(a*) = {opt['time']:.1f} s/it, work {opt['work']:.0f} s/it")
        a = row["ata"]
        ok = (a["worker_time_vs_gta"] <= ORDER_OF_MAGNITUDE, a["runtime_vs_gta"] <= SLIGHTLY_ABOVE,
              a["tail_runtime_per_iter"] <= EXPLORE_TOL * opt["time"])
        verdicts.append((n, all(ok), a, row["ata_empirical"], opt))
    holds = all(v[1] for v in verdicts)
    evidence = "; ".join(
        f"n={n}: ATA/GTA worker time {a['worker_time_vs_gta']:.3f}x, runtime {a['runtime_vs_gta']:.2f}x "
        f"(last quarter {a['tail_worker_time_vs_gta']:.3f}x, {a['tail_runtime_vs_gta']:.2f}x; ATA "
        f"{a['tail_runtime_per_iter']:.0f} s/it vs E C(a*) {opt['time']:.0f}), ATA-Empirical "
        f"{ae['worker_time_vs_gta']:.3f}x, {ae['runtime_vs_gta']:.2f}x" + ("" if ok else " [fails]")
        for n, ok, a, ae, opt in verdicts)
    text = (f"ATA needs about an order of magnitude less total worker time than GTA (ratio <= 10^-0.5) at a runtime "
            f"only slightly above GTA's (<= {SLIGHTLY_ABOVE:g}x), approaching the optimal fixed allocation (last-"
            f"quarter iteration time within {EXPLORE_TOL - 1:.0%} of E C(a*)), at every n")
    return dict(methods=methods, claim=claim(text, holds, evidence))


def plot(results: dict, cfg: Config, forms: str):
    import matplotlib.pyplot as plt

    rows = len(cfg.n)
    fig, axes = plt.subplots(rows, 4, figsize=(19, 3.9 * rows), squeeze=False)
    for row, n in zip(axes, cfg.n):
        opt = optimum(n, cfg.B)
        w_min = np.inf  # the worker-time axis is logarithmic: start it at the first positive value drawn
        for m in METHODS:
            s = _series(results[label(m, n)])
            style = dict(color=COLORS[m], marker=MARKERS[m], label=LABELS[m])
            t = np.median(s["time"], axis=0)
            band(row[0], t, s["grad_norm_sq"], **style)
            w = np.median(s["busy_time"], axis=0)
            band(row[1], w, s["grad_norm_sq"], **style)
            w_min = min(w_min, float(np.min(w[w > 0], initial=np.inf)))
            k = np.median(s["updates"], axis=0)
            ok = np.min(s["updates"], axis=0) > 0
            if ok.sum() > 1:
                band(row[2], k[ok], s["time"][:, ok] / s["updates"][:, ok], log=False, **style)
                if s["proxy_regret"] is not None:
                    band(row[3], k[ok], s["proxy_regret"][:, ok] / s["updates"][:, ok], log=False, **style)
            if m in ADAPTIVE:
                end = exploration_end(s, opt["time"])
                if end is None and m == "ata":  # still exploring: shade all of its run
                    end = (k[-1], t[-1], float(np.median(s["busy_time"][:, -1])))
                for ax, x in zip(row, (end[1], end[2], end[0], end[0]) if end is not None else ()):
                    if m == "ata":
                        ax.axvspan(0.0, x, color=COLORS[m], alpha=0.07, linewidth=0,
                                   label="ATA exploring" if ax is row[2] else None)
                    else:
                        ax.axvline(x, color=COLORS[m], ls="--", lw=0.9,
                                   label="ATA-Empirical's exploration ends" if ax is row[2] else None)
        if np.isfinite(w_min):
            row[1].set_xlim(left=w_min)
        row[2].axhline(opt["time"], color="black", ls=":", lw=1.2, label=r"$E\,C(a^*)$ (theory)")
        row[2].axhline(opt["v_B"], color="grey", ls="-.", lw=1, label=r"proxy optimum $v_B$")
        row[0].set(xlabel="runtime (s)", ylabel=r"$\|\nabla f(x_k)\|^2$", title=f"n = {n}")
        row[1].set(xlabel="total worker time (s)", ylabel=r"$\|\nabla f(x_k)\|^2$", xscale="log", title=f"n = {n}")
        row[2].set(xlabel="iterations k", ylabel="average iteration time (s)", yscale="log")
        row[3].set(xlabel="iterations k", ylabel="average cumulative proxy regret (s)")
        row[3].set_yscale("symlog", linthresh=1.0)
        for ax in row:
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    axes[0, 2].legend(fontsize=7)
    form = "the authors' code's confidence widths" if forms == "authors" else "the poster's confidence widths"
    fig.suptitle(f"ATA quadratic: d={cfg.d}, s={cfg.noise_scale}, gamma={cfg.gamma:g}, B={cfg.B}, "
                 r"$X_i = 29i + \mathrm{Exp}(29i)$, " f"about {cfg.iterations} FTA iterations, {len(cfg.seeds)} "
                 f"seed(s) (median, IQR band); {form}", fontsize=10)
    fig.tight_layout()
    return fig
