"""The verdict protocol: how a figure turns its saved runs into a statement about a paper's claim.

Every figure uses these functions, so one rule decides everywhere:

* **Selection** (:func:`select`): a method's best setting is the one whose *selection metric* --
  the metric the paper's figure plots -- is lowest, reduced per seed as the mean over the last
  ``tail`` fraction of the recorded points (default :data:`TAIL`, the final 10 %; never one
  noisy final point), then as the median over seeds. Settings with a diverged run on any seed
  are excluded. A pick on the first or last value of a grid axis of two or more values is on
  the grid's **edge** and flagged: the grid may not contain the best setting.
* **Comparison** (:func:`compare`): one part of a claim, "A is lower than B" (optionally "lower
  than ``factor`` times B"), decided on the per-seed tail values of the two selections, seed by
  seed (every figure runs its methods on the same seeds: common random numbers):

  - ``tie`` when the two selections gave the same results (the same rule: every per-seed curve
    equal to ``SAME_RTOL``), or when the seeds disagree: A wins only if it is lower by more than
    ``rtol`` (relative) on **every** seed, and loses only if it is higher by more than ``rtol``
    on every seed; anything else is a tie.
  - ``vacuous`` when both sides end no better than where they started (the median tail value is
    at least the median value at the first recorded point): a comparison of runs that learned
    nothing says nothing about the methods.
  - ``undecided`` when the run ends before the time at which the paper's curves separate (the
    class the numbers would give is kept as ``leaning``), or when a side has no selection.
  - otherwise ``holds`` or ``does_not_hold``.
* **Claim** (:func:`claim`): one verdict per part, and the claim's verdict: ``holds`` when every
  part holds, else the first of ``does_not_hold``, ``vacuous``, ``undecided``, ``tie`` found among
  the parts (the weakest link).
* **Collapse** (:func:`collapsed`): a classification run whose loss ends within ``1 %`` of the
  labels' entropy (the best constant predictor) with a vanishing gradient learned nothing, even
  where its gradient norm looks excellent. Figures report it beside the verdict on the paper's
  metric; the verdict itself stays on the paper's metric.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional, Sequence

import numpy as np

from ..results.summary import grid_edges

TAIL = 0.1  #: fraction of the recorded points whose mean is a run's value for selection and verdicts
TIE_RTOL = 0.01  #: relative per-seed margin below which two runs are tied
SAME_RTOL = 1e-6  #: curves this close on every seed and point are the same rule's
COLLAPSE_RTOL = 0.01  #: loss within this relative distance of the labels' entropy ...
COLLAPSE_GRAD = 1e-6  #: ... with ||grad f||^2 below this fraction of its starting value: collapsed

VERDICTS = ("holds", "does_not_hold", "tie", "vacuous", "undecided")
#: the order in which a part that does not hold decides the whole claim
_PRECEDENCE = ("does_not_hold", "vacuous", "undecided", "tie", "holds")


def tail_slice(num_points: int, tail: float = TAIL, upto: Optional[int] = None) -> slice:
    """The recorded points whose mean is a run's value: the last ``ceil(tail * (upto + 1))``
    points up to point ``upto`` (inclusive; default the last), at least one."""
    if not 0 < tail <= 1:
        raise ValueError(f"tail: must be in (0, 1], got {tail}")
    end = num_points if upto is None else upto + 1
    if not 0 < end <= num_points:
        raise ValueError(f"upto: point {upto} is outside 0..{num_points - 1}")
    return slice(end - max(1, math.ceil(tail * end)), end)


def tail_values(curve, tail: float = TAIL, upto: Optional[int] = None) -> np.ndarray:
    """Per seed, the mean of ``curve[seed, point]`` over the tail (:func:`tail_slice`); a run
    with a non-finite value in its tail counts as ``inf`` (it diverged)."""
    c = np.asarray(curve, np.float64)
    t = c[..., tail_slice(c.shape[-1], tail, upto)]
    return np.where(np.isfinite(t).all(axis=-1), np.nanmean(np.where(np.isfinite(t), t, 0.0), axis=-1), np.inf)


@dataclasses.dataclass
class Selection:
    """A method's chosen setting: grid ``index``, ``hparams``, the selection ``metric``, its
    ``per_seed`` tail values and their median ``value``; ``edges`` names each grid axis whose
    first (``low``) or last (``high``) value was picked; ``excluded`` counts diverged settings."""

    index: tuple
    hparams: dict
    metric: str
    value: float
    per_seed: np.ndarray
    edges: dict
    excluded: int = 0
    how: str = "tuned"

    def to_json(self) -> dict:
        return dict(hparams=self.hparams, metric=self.metric, value=self.value, per_seed=self.per_seed.tolist(),
                    edges=self.edges, excluded=self.excluded, how=self.how)


def select(res, metric: str, *, tail: float = TAIL, at: Optional[float] = None, where: Optional[dict] = None,
           bounds: Optional[dict] = None) -> Selection:
    """Best of grid on ``metric`` (the module docstring's rule), up to time ``at`` (default the
    horizon). ``where`` fixes some grid axes (``{axis: value}``): only that slice is searched, and
    those axes are not edges; ``bounds``: see :func:`grid_edges`. Raises ``ValueError`` when
    every candidate diverged."""
    upto = res.time.shape[-1] - 1 if at is None else res.point_at(at)
    values = tail_values(res._metric(metric), tail, upto)  # [seed, *grid]
    bad = res._diverged(upto).any(axis=0) | ~np.isfinite(values).all(axis=0)
    score = np.where(bad, np.inf, np.median(values, axis=0))
    searched = np.ones(score.shape, bool)
    for axis, v in (where or {}).items():
        hit = np.isclose(np.asarray(res.coords[axis], np.float64), v, rtol=1e-6, atol=0)
        if not hit.any():
            raise ValueError(f"where: {axis}={v} is not on the grid {np.asarray(res.coords[axis]).tolist()}")
        shape = [1] * score.ndim
        shape[res.grid_dims.index(axis)] = -1
        searched &= hit.reshape(shape)
    score = np.where(searched, score, np.nan)
    if not np.isfinite(score).any():
        raise ValueError(f"{res.method}: every setting {'of ' + str(where) + ' ' if where else ''}diverged")
    idx = tuple(int(i) for i in np.unravel_index(int(np.nanargmin(score)), score.shape))
    hp = {d: res.coords[d][i].item() for d, i in zip(res.grid_dims, idx)}
    hp.update(res.fixed)
    edges = {a: e for a, e in grid_edges(res, idx, bounds).items() if a not in (where or {})}
    return Selection(idx, hp, metric, float(score[idx]), values[(slice(None),) + idx], edges,
                     int((bad & searched).sum()))


def setting(res, metric: str, hparams: dict, *, tail: float = TAIL, at: Optional[float] = None) -> Selection:
    """A stated setting (e.g. the paper's legend) as a :class:`Selection` (``how = "paper"``;
    never on an edge: nobody picked it from this grid)."""
    upto = res.time.shape[-1] - 1 if at is None else res.point_at(at)
    idx = res.index_of(**hparams)
    values = tail_values(res._metric(metric), tail, upto)[(slice(None),) + idx]
    hp = {d: res.coords[d][i].item() for d, i in zip(res.grid_dims, idx)}
    hp.update(res.fixed)
    return Selection(idx, hp, metric, float(np.median(values)), values, {}, 0, how="paper")


def start_value(res, metric: str, index: tuple = None) -> float:
    """The median over seeds of ``metric`` at the first recorded point (of setting ``index``;
    default the first setting: every setting starts from the same model)."""
    m = res._metric(metric)
    index = tuple(0 for _ in res.grid_dims) if index is None else tuple(index)
    return float(np.median(np.asarray(m[(slice(None),) + index + (0,)], np.float64)))


def same_results(a, b, rtol: float = SAME_RTOL) -> bool:
    """Two ``[seed, point]`` curves equal on every seed and point (to ``rtol``): the same rule ran."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=0, equal_nan=True))


def classify(a, b, *, factor: float = 1.0, rtol: float = TIE_RTOL) -> tuple:
    """``("holds" | "does_not_hold" | "tie", margins)`` for "a < factor * b" on paired per-seed
    values: ``margins[s] = (factor b_s - a_s) / max(|a_s|, |factor b_s|)``; holds when every
    margin exceeds ``rtol``, does not hold when every margin is below ``-rtol``, a tie otherwise."""
    a, b = np.asarray(a, np.float64), factor * np.asarray(b, np.float64)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"compare: paired per-seed values needed, got shapes {a.shape} and {b.shape}")
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.maximum(np.abs(a), np.abs(b))
        margins = np.where(scale > 0, (b - a) / np.where(scale > 0, scale, 1.0), 0.0)
        margins = np.where(np.isinf(a) & np.isinf(b), 0.0, np.where(np.isinf(a), -1.0, np.where(np.isinf(b), 1.0,
                                                                                                  margins)))
    if (margins > rtol).all():
        return "holds", margins
    if (margins < -rtol).all():
        return "does_not_hold", margins
    return "tie", margins


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, (int, float, np.number)) else str(v)


def compare(text: str, a, b, *, names: Sequence[str] = ("A", "B"), factor: float = 1.0, rtol: float = TIE_RTOL,
            start: Optional[float] = None, same: bool = False, horizon: Optional[float] = None,
            separates_at: Optional[float] = None, separation_source: str = "", notes: Sequence[str] = (),
            progress: Optional[dict] = None, too_early: Optional[str] = None) -> dict:
    """One part of a claim: "``a`` is lower than ``factor`` times ``b``" on paired per-seed values
    (``a``/``b``: per-seed arrays, or ``None`` where that side has no selection). ``start``: the
    metric's starting value (for ``vacuous``); ``same``: the two sides ran the same rule;
    ``separates_at``: the time from which the paper's curves separate (with ``horizon``, the
    run's end, for ``undecided``). ``progress`` judges "learned nothing" on another metric
    instead of the compared one (a gradient norm can rise while the loss falls): ``{"metric":
    name, "start": value, names[0]: median, names[1]: median}``, lower is better. Returns
    ``{text, verdict, evidence, numbers, ...}``. ``too_early`` replaces the sentence saying why a
    run ending before ``separates_at`` is undecided (e.g. "ATA is still exploring")."""
    na, nb = names
    if a is None or b is None:
        missing = na if a is None else nb
        return dict(text=text, verdict="undecided", evidence=f"{missing} has no selection in this run",
                    notes=list(notes))
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ma, mb = float(np.median(a)), float(np.median(b))
    numbers = {na: dict(median=ma, per_seed=a.tolist()), nb: dict(median=mb, per_seed=b.tolist())}
    fac = f"{factor:g} x " if factor != 1 else ""
    head = f"{na} {_fmt(ma)} vs {fac}{nb} {_fmt(factor * mb) if factor != 1 else _fmt(mb)} (median of {a.size} seeds)"
    leaning, margins = classify(a, b, factor=factor, rtol=rtol)
    if same:
        verdict, why = "tie", "the two selections ran the same rule (identical results on every seed)"
    elif leaning == "tie":
        verdict, why = "tie", (f"the seeds disagree or differ by less than {rtol:.0%}: per-seed margins "
                               + ", ".join(f"{m:+.3g}" for m in margins))
    else:
        verdict, why = leaning, ("lower" if leaning == "holds" else "higher") + f" on all {a.size} seeds by " \
            f"{np.abs(margins).min():.3g} or more (relative)"
    if _learned_nothing(ma, mb, start, progress, names):
        basis, at = ("it", start) if progress is None else (progress["metric"], progress["start"])
        verdict, why = "vacuous", f"both end no better in {basis} than at the start ({_fmt(at)}): neither learned"
    out = dict(text=text, verdict=verdict, evidence=f"{head}: {why}", numbers=numbers, margins=margins.tolist(),
               factor=factor, rtol=rtol, same=bool(same), notes=list(notes))
    if start is not None:
        out["start"] = start
    if progress is not None:
        out["progress"] = dict(progress)
    if separates_at is not None and horizon is not None and horizon < separates_at:
        src = f", {separation_source}" if separation_source else ""
        why = too_early or (f"this run ends at {horizon:g} s, before the paper's curves separate (about "
                            f"{separates_at:g} s{src})")
        out.update(verdict="undecided", leaning=verdict, evidence=f"{out['evidence']}; undecided: {why}")
    return out


def _learned_nothing(ma: float, mb: float, start, progress, names) -> bool:
    if progress is not None:
        return progress[names[0]] >= progress["start"] and progress[names[1]] >= progress["start"]
    return start is not None and ma >= start and mb >= start


def check_part(part: dict) -> None:
    """Raise ``AssertionError`` unless ``part``'s class follows from its own numbers by the rules
    above (the test suite runs this on every figure's summary)."""
    v = part["verdict"]
    assert v in VERDICTS, v
    if "numbers" not in part:
        assert v == "undecided", part
        return
    (na, a), (nb, b) = part["numbers"].items()
    lean, _ = classify(a["per_seed"], b["per_seed"], factor=part["factor"], rtol=part["rtol"])
    learned_nothing = _learned_nothing(a["median"], b["median"], part.get("start"), part.get("progress"), (na, nb))
    got = part.get("leaning", v) if v == "undecided" else v
    if v == "undecided":
        assert "leaning" in part, part
    if learned_nothing:
        assert got == "vacuous", part
    elif part["same"]:
        assert got == "tie", part
    else:
        assert got == lean, (part, lean)


def edge_notes(selections: dict) -> list:
    """``["X: gamma at the grid's high edge", ...]`` for the selections (``{name: Selection}``)
    picked on an edge."""
    return [f"{name}: {axis} at the grid's {side} edge ({_fmt(s.hparams.get(axis))})"
            for name, s in selections.items() if s is not None for axis, side in s.edges.items()]


def claim(text: str, parts: Sequence[dict], notes: Sequence[str] = ()) -> dict:
    """The claim's verdict from its parts (module docstring); ``notes`` (edge picks, collapses,
    data substitutes) are listed beside it and never change the class."""
    verdicts = [p["verdict"] for p in parts]
    for v in verdicts:
        if v not in VERDICTS:
            raise ValueError(f"verdict: {v!r} is not one of {VERDICTS}")
    verdict = next((v for v in _PRECEDENCE if v in verdicts), "undecided") if verdicts else "undecided"
    evidence = "; ".join(f"[{p['verdict']}] {p['text']}: {p['evidence']}" for p in parts)
    if notes:
        evidence += "; notes: " + "; ".join(notes)
    return dict(text=text, verdict=verdict, parts=list(parts), notes=list(notes), evidence=evidence)


def collapsed(loss, grad_norm_sq, entropy: float, grad_start: float, *, rtol: float = COLLAPSE_RTOL,
              grad_rtol: float = COLLAPSE_GRAD) -> np.ndarray:
    """Per seed: the run ended at the best constant predictor (``loss`` within ``rtol`` of the
    labels' ``entropy``) with a vanishing gradient (``grad_norm_sq`` below ``grad_rtol`` times its
    starting value). ``loss`` and ``grad_norm_sq``: per-seed tail values."""
    loss, g = np.asarray(loss, np.float64), np.asarray(grad_norm_sq, np.float64)
    return (np.abs(loss - entropy) <= rtol * abs(entropy)) & (g <= grad_rtol * grad_start)


VERDICT_WORDS = {"holds": "holds", "does_not_hold": "does not hold", "tie": "tie", "vacuous": "vacuous",
                 "undecided": "undecided"}

__all__ = ["COLLAPSE_GRAD", "COLLAPSE_RTOL", "SAME_RTOL", "TAIL", "TIE_RTOL", "VERDICTS", "Selection", "check_part",
           "claim", "classify", "collapsed", "compare", "edge_notes", "grid_edges", "same_results", "select", "setting",
           "start_value", "tail_slice", "tail_values"]
