"""DP random block coordinate descent: importance vs uniform block sampling vs DP-SGD at equal privacy.

No experiment of the paper is known (spec experiments.md §10 [uncertain]): this is a project
recipe for its claim (arXiv 2412.17054, spec lmo_vr_local.md §5), whose problems follow the
theory's condition, fixed in advance; nothing is tuned toward an outcome.

**The claim's condition** [derived; the paper's utility formulas are not in the spec]. With one
block per coordinate sampled with probability ``p_l`` and steps ``1/M_l``, a convex utility bound
is the geometric mean of an optimization term ``sum_l (M_l / p_l) e_l^2`` (``e = w^0 - w*``, as
in randomized coordinate descent) and a privacy-noise term ``sum_l L_l^2 / M_l`` that no ``p``
changes. DP-CD's (``p_l = 1/d``) over importance sampling's (``p_l ∝ M_l``) is then ``rho =
sqrt(d ||e||_M^2 / (tr(M) ||e||_2^2)) <= sqrt(d)`` (:func:`bound_ratio`): near ``sqrt(d)`` only
when one ``M_l`` dominates *and* the initial error lies along that coordinate, below 1 when it
lies along coordinates of below-average smoothness. The advantage requires the initial error to
lie along the coordinates whose smoothness dominates.

Problems: L2-regularised (``l2 = 1e-3``) logistic regression, ``w^0 = 0``, ``f*`` by Newton, on
``N = 1000`` samples whose ``d = 20`` standard normal features ``z`` are scaled by ``(10, 1, ...,
1)``, so ``M_1 / M_l ≈ 100`` (:func:`jaxsim.problems.component_logistic`). Two label rules on the
same features and label noise: **aligned** (carries the verdict; ``--labels dominant``), ``y =
sign(|u| z_1 + 0.5 xi)``: ``w*`` lies mostly along coordinate 1, ``rho`` 2.8 (QUICK's size: 2.5;
``sqrt(d)`` 4.5 and 3.2); **counter** (this figure's former default, outside the verdict), ``y =
sign(z . u + 0.5 xi)``: ``w*_1`` is small, ``rho`` 0.4 (QUICK: 0.3), importance sampling is
predicted to lose.

Methods (:mod:`jaxsim.methods.dp_rbcd`, the same ``(eps, delta = 1e-5)``, noise ``sigma_U =
sqrt(12) L_U sqrt(T K log(1/delta)) / (N eps)``, DP-CD's constant): DP-RBCD importance (one block
per coordinate, ``q_l ∝ M_l``, steps ``gamma / M_l``) and DP-CD (the same, uniform), in the
verdict; DP-SGD (one full block, stepsize ``gamma / max_l M_l``) and DP-SGD with steps ``gamma /
M_l``, outside it. An outer iteration is one pass in expectation (``K = d`` inner iterations, or
``K = 1`` for the full block).

Selection metric: ``f - f*`` (what the bounds state), per ``eps`` best of the (``gamma``,
passes ``T``) grid by :func:`jaxsim.figures.verdict.select` (a run with ``T`` below the grid's
largest is frozen after ``T`` passes: its tail is its final value). ``T = 1`` is the fewest
passes possible and ``gamma = 1.9`` sits just below the steps' stability bound 2: picks there
are bounds, not edges (:func:`jaxsim.figures.verdict.grid_edges`); picks at the smallest
``gamma`` or the largest ``T`` are edges and flagged (FULL: DP-CD at ``eps = 8`` picks ``T = 100``,
the most passes FULL runs). Panels: ``f - f*`` against ``eps``, and the curves at the middle
``eps``; one row per problem. Forms: ``paper`` only (no authors' code is known).

The paper's claim: importance block sampling, ``q_j ∝ max_{l∈A_j} M_l``, can be up to ``sqrt(d)``
times faster than DP-CD (uniform coordinates) when one coordinate dominates the smoothness
constants, and keeps DP-SGD's and DP-CD's utility guarantees as special cases. Verdict: on the
aligned problem, at every ``eps``, importance sampling ends below DP-CD (``vacuous`` where
neither ends below ``f(0) - f*``); the counter-case's comparisons and ``rho`` are notes.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import make_timing, sweep
from ..problems import component_logistic
from ..problems.logistic import logistic_regression, logistic_solve
from ..theory.dp import block_probabilities
from . import verdict as V
from .base import band, edge_text, fmt_hparams, seeds_text

NAME = "dp-rbcd"
FORMS = ("paper",)
METHODS = {  # key -> (label, colour, static options, gamma scaled by 1 / max M)
    "importance": ("DP-RBCD importance", "#C00000", dict(blocks=None, stepsizes="smoothness"), False),
    "uniform": ("DP-CD (uniform)", "#1f77b4", dict(blocks=None, stepsizes="smoothness"), False),
    "sgd": ("DP-SGD", "#36454F", dict(blocks=1, stepsizes="scalar"), True),
    "sgd_diag": ("DP-SGD (diagonal steps)", "#B8860B", dict(blocks=1, stepsizes="smoothness"), False),
}
LABELS = ("dominant", "unscaled", "scaled")
METRIC = ("loss_gap", "the utility the bounds state (lmo_vr_local.md §5); no experiment known (experiments.md §10 "
          "[uncertain])")


@dataclasses.dataclass(frozen=True)
class Config:
    samples: int = dataclasses.field(default=1000, metadata={"help": "N, samples"})
    dim: int = dataclasses.field(default=20, metadata={"help": "d, features"})
    dominance: float = dataclasses.field(default=10.0, metadata={
        "help": "scale of feature 1 (M_1/M_l ≈ its square)"})
    labels: str = dataclasses.field(default="dominant", metadata={
        "help": "the verdict problem's labels: on the dominant feature alone, the unscaled or the scaled features",
        "choices": LABELS})
    counter: bool = dataclasses.field(default=True, metadata={
        "help": "also run the counter-case problem (labels on the unscaled features)"})
    eps: tuple = dataclasses.field(default=(0.5, 1.0, 2.0, 4.0, 8.0), metadata={"help": "privacy budgets"})
    delta: float = 1e-5
    l2: float = 1e-3
    seeds: tuple = dataclasses.field(default=tuple(range(11)), metadata={"elem": int})
    passes: tuple = dataclasses.field(default=(1, 2, 5, 10, 20, 50, 100), metadata={
        "elem": int, "help": "the grid of T (outer iterations, one pass each)"})
    gammas: tuple = dataclasses.field(default=(0.01, 0.03, 0.1, 0.3, 1.0, 1.9), metadata={
        "help": "stepsize multipliers (of 1/M_l; DP-SGD: of 1/max M)"})
    num_points: int = 60


FULL = Config()
QUICK = Config(dim=10, passes=(1, 3, 10, 30), gammas=(0.1, 0.3, 1.0), eps=(1.0, 4.0), seeds=(0, 1, 2, 3),
               num_points=30)
TINY = Config(samples=50, dim=4, passes=(1, 3), gammas=(0.3, 1.0), eps=(1.0, 4.0), seeds=(0, 1), num_points=10)


def problems(cfg: Config) -> dict:
    """``{"aligned": cfg.labels, "counter": "unscaled"}`` (the counter-case only with ``counter``)."""
    return {"aligned": cfg.labels, **({"counter": "unscaled"} if cfg.counter else {})}


def make_problem(cfg: Config, labels: str):
    """The component logistic problem with these ``labels``; ``dominant`` redraws
    :func:`~jaxsim.problems.component_logistic.synthetic_scaled`'s features, ``u`` and label noise
    (its order of draws) with ``m = |u| z_1``."""
    scales = np.ones(cfg.dim)
    scales[0] = cfg.dominance
    if labels != "dominant":
        return component_logistic(num_samples=cfg.samples, dim=cfg.dim, scales=scales, seed=0, labels=labels,
                                  l2=cfg.l2)
    rng = np.random.default_rng(0)
    z = rng.normal(size=(cfg.samples, cfg.dim))
    u = rng.normal(size=cfg.dim) / np.sqrt(cfg.dim)
    y = np.where(z[:, 0] * np.linalg.norm(u) + 0.5 * rng.normal(size=cfg.samples) >= 0, 1.0, -1.0)
    return component_logistic(X=z * scales[None, :], y=y, l2=cfg.l2)


def bound_ratio(M, e) -> float:
    """``rho = sqrt(d ||e||_M^2 / (tr(M) ||e||_2^2))``: DP-CD's utility bound over importance
    sampling's for the initial error ``e`` (module docstring) [derived]."""
    M, e = np.asarray(M, np.float64), np.asarray(e, np.float64)
    return float(np.sqrt(M.size * np.sum(M * e * e) / (np.sum(M) * np.sum(e * e))))


def theory(problem) -> dict:
    """``f(0) - f*``, ``M_1 / median M``, importance sampling's ``q_1``, the initial error's share
    on coordinate 1 and :func:`bound_ratio`."""
    X, y = np.asarray(problem.X, np.float64), np.asarray(problem.y, np.float64)
    w = logistic_solve(logistic_regression(X, y, np.arange(X.shape[0])[None, :], l2=float(problem.l2)))[0]
    M = np.asarray(problem.coordinate_smoothness(), np.float64)
    return dict(initial_gap=float(problem.loss(problem.init())) - problem.f_star, f_star=problem.f_star,
                M1_over_median=float(M[0] / np.median(M)), q1_importance=float(block_probabilities(M, M.size)[0]),
                error_share_1=float(w[0] ** 2 / np.sum(w ** 2)), bound_ratio=bound_ratio(M, -w),
                sqrt_d=float(np.sqrt(M.size)))


def simulate(cfg: Config, forms: str = "paper", progress: bool = False) -> dict:
    """One sweep per problem and method over (gamma, T, eps): labels ``PROBLEM-METHOD``."""
    out = {}
    for name, labels in problems(cfg).items():
        problem = make_problem(cfg, labels)
        M = np.asarray(problem.coordinate_smoothness(), np.float64)
        for key, (_, _, opts, scalar) in METHODS.items():
            K = problem.dim if opts["blocks"] is None else 1
            grid = {"gamma": [g / float(M.max()) if scalar else g for g in cfg.gammas], "T": list(cfg.passes),
                    "eps": list(cfg.eps), "K": K, "delta": cfg.delta, "importance": float(key == "importance")}
            out[f"{name}-{key}"] = sweep("dp_rbcd", problem, make_timing(1, "sqrt", "none"), seeds=list(cfg.seeds),
                                         grid=grid, horizon=float(max(cfg.passes) * K), num_points=cfg.num_points,
                                         progress=progress, method_options=opts)
    return out


def _select(res, eps):
    try:
        return V.select(res, METRIC[0], where={"eps": eps}, bounds={"T": (1, None), "gamma": (None, 1.9)})
    except ValueError:  # every setting diverged: the part says "undecided"
        return None


def selections(results: dict, cfg: Config, name: str) -> dict:
    """``{method: [Selection or None per eps]}`` on one problem: best (gamma, T) per eps."""
    return {key: [_select(results[f"{name}-{key}"], e) for e in cfg.eps] for key in METHODS}


def _hp(s) -> str:
    return fmt_hparams({k: s.hparams[k] for k in ("gamma", "T")}) + edge_text(s)


def summarize(results: dict, cfg: Config, forms: str) -> dict:
    methods, out, notes = {}, {}, []
    for name, labels in problems(cfg).items():
        th, chosen = theory(make_problem(cfg, labels)), selections(results, cfg, name)
        for key, sels in chosen.items():
            res = results[f"{name}-{key}"]
            methods[f"{name}-{key}"] = dict(
                label=METHODS[key][0], K=int(res.fixed["K"]), seconds=res.info["seconds_total"],
                diverged_runs=int(res.diverged.sum()),
                per_eps=[dict(eps=e, selection=None if s is None else s.to_json()) for e, s in zip(cfg.eps, sels)],
                line="; ".join(f"eps={e:g}: " + ("diverged" if s is None else f"{s.value:.3e} ({_hp(s)})")
                               for e, s in zip(cfg.eps, sels)))
        start = V.start_value(results[f"{name}-importance"], METRIC[0])
        parts = [V.compare(f"{name}, eps={e:g}: DP-RBCD importance < DP-CD in f - f*", None if a is None else
                           a.per_seed, None if b is None else b.per_seed, names=("importance", "DP-CD"), start=start,
                           same=a is not None and b is not None and V.same_results(
                               results[f"{name}-importance"].curve(a.index, METRIC[0]),
                               results[f"{name}-uniform"].curve(b.index, METRIC[0])))
                 for e, a, b in zip(cfg.eps, chosen["importance"], chosen["uniform"])]
        out[name] = dict(labels=labels, theory=th, parts=parts)
        notes.append(f"{name} problem (labels {labels}): predicted bound ratio DP-CD/importance rho = "
                     f"{th['bound_ratio']:.2f} (sqrt(d) = {th['sqrt_d']:.2f}), initial error's share on coordinate 1 "
                     f"{th['error_share_1']:.2f}, M_1/median M = {th['M1_over_median']:.1f}, q_1 = "
                     f"{th['q1_importance']:.2f}, f(0) - f* = {th['initial_gap']:.4g}")
        notes += V.edge_notes({f"{name} {METHODS[k][0]} eps={e:g}": s for k, sels in chosen.items()
                               for e, s in zip(cfg.eps, sels)})
        if name != "aligned":
            notes += [f"counter-case, outside the verdict: [{V.VERDICT_WORDS[p['verdict']]}] {p['text']}: "
                      f"{p['evidence']}" for p in parts]
    claim = V.claim("on a problem whose initial error lies along the dominant-smoothness coordinate, importance "
                    "block sampling ends below DP-CD's uniform coordinates at every eps (up to sqrt(d) faster)",
                    out["aligned"]["parts"], notes)
    return dict(methods=methods, problems=out, claim=claim,
                protocol=dict(metric=METRIC[0], metric_source=METRIC[1], tail=V.TAIL, tie_rtol=V.TIE_RTOL,
                              seeds=len(cfg.seeds)))


def plot(results: dict, cfg: Config, forms: str):
    import matplotlib.pyplot as plt

    names = problems(cfg)
    fig, axes = plt.subplots(len(names), 2, figsize=(11, 4.2 * len(names)), squeeze=False)
    mid = len(cfg.eps) // 2
    for (name, labels), (ax, bx) in zip(names.items(), axes):
        for key, sels in selections(results, cfg, name).items():
            label, colour = METHODS[key][:2]
            ok = [(e, s) for e, s in zip(cfg.eps, sels) if s is not None]
            q = np.array([np.quantile(s.per_seed, [0.25, 0.5, 0.75]) for _, s in ok]).reshape(-1, 3)
            ax.errorbar([e for e, _ in ok], q[:, 1], yerr=[q[:, 1] - q[:, 0], q[:, 2] - q[:, 1]], color=colour,
                        label=label, marker="o", capsize=3)
            s, res = sels[mid], results[f"{name}-{key}"]
            if s is not None:
                band(bx, np.median(res.time, axis=0) / float(res.fixed["K"]), res.curve(s.index, METRIC[0]),
                     color=colour, floor=1e-12, label=f"{label} ({_hp(s)})")
        rho = theory(make_problem(cfg, labels))["bound_ratio"]
        ax.set(xscale="log", yscale="log", xlabel=f"privacy budget ε (δ = {cfg.delta:g})",
               ylabel="f − f* (mean of the last 10 %)", title=f"{name}: labels {labels}, predicted ratio ρ = {rho:.2f}")
        ax.set_xticks(cfg.eps, [f"{e:g}" for e in cfg.eps])
        ax.minorticks_off()
        bx.set(xscale="symlog", xlabel="passes (iterations / K)", ylabel=f"f − f* at ε = {cfg.eps[mid]:g}")
        for a, size in ((ax, 8), (bx, 7)):
            a.legend(fontsize=size)
            a.grid(alpha=0.3, which="both")
    fig.suptitle(f"DP-RBCD on component logistic: N={cfg.samples}, d={cfg.dim}, feature 1 scaled by "
                 f"{cfg.dominance:g}; best of grid per ε, {seeds_text(cfg.seeds)}", fontsize=10)
    fig.tight_layout()
    return fig
