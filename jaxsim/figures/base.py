"""The figure pipeline every figure module shares: simulate, save, draw, summarize, replot.

A figure module defines

* ``NAME``: the command-line name; its docstring's first line says what the figure shows and
  the rest states the setup and **the paper's claim**;
* ``Config``: a frozen dataclass of everything that determines the numbers; each field is a
  command-line option (``--field-name``; ``help`` and ``choices`` from the field's metadata);
  ``FULL`` (the paper's scale or the closest this project runs), ``QUICK`` (CPU minutes) and
  ``TINY`` (seconds: the test suite) are instances;
* ``FORMS``: the forms it can run, ``("paper",)`` or ``("paper", "authors")`` where the paper's
  algorithm and the authors' simulator differ (``--forms authors`` runs the simulator's);
* ``simulate(cfg, forms, progress) -> {label: SweepResult}``: every sweep, labeled;
* ``summarize(results, cfg, forms) -> dict``: the numbers the figure reports, from the saved
  results alone, with ``claim``: the verdict of :mod:`jaxsim.figures.verdict` (``text``,
  ``verdict``: holds, does_not_hold, tie, vacuous or undecided, its ``parts`` each with their
  numbers, ``notes`` and ``evidence``); :class:`Comparison` does this for a figure that declares
  its methods, the metric the paper plots and the claim's parts;
* ``plot(results, cfg, forms) -> matplotlib Figure``: drawn from the saved results alone.

:func:`run` simulates, saves every result with its provenance (``DIR/results/LABEL.npz``,
``DIR/figure.json``), then draws and summarizes *from the files on disk*, exactly as
:func:`replot` does later: a replot gives the same PNG, byte for byte.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import typing
from pathlib import Path
from types import ModuleType

import numpy as np

from ..runtime.provenance import provenance
from ..results import SweepResult, jsonable, run_stats
from . import verdict as V

FORMAT = 1  #: version of the on-disk layout of a figure run
DPI = 120

# ---- selection and drawing helpers shared by the figures ---------------------------------------


def band(ax, x, y, *, color, label=None, style="-", marker=None, log=True, floor=1e-16):
    """Median over seeds (axis 0 of ``y``) with the inter-quartile band (drawn only with at least
    three seeds: fewer have no meaningful quartiles), the figures' one way to draw a curve."""
    y = np.asarray(y, np.float64)
    if log:
        y = np.maximum(y, floor)
    q25, med, q75 = np.nanquantile(y, [0.25, 0.5, 0.75], axis=0)
    ax.plot(x, med, style, color=color, label=label, marker=marker,
            markevery=max(1, len(x) // 8) if marker else None)
    if y.shape[0] >= 3:
        ax.fill_between(x, q25, q75, color=color, alpha=0.2, linewidth=0)
    if log:
        ax.set_yscale("log")


def seeds_text(seeds) -> str:
    """What a figure's curves are: ``3 seeds (median, IQR band)``, or the median alone."""
    n = len(seeds)
    return f"{n} seeds (median, IQR band)" if n >= 3 else f"{n} seed{'s' * (n != 1)} (median; too few for a band)"


def edge_text(sel) -> str:
    """`` [edge: gamma high]`` for a selection on its grid's edge (legend labels), else ``""``."""
    return f" [edge: {', '.join(f'{a} {e}' for a, e in sel.edges.items())}]" if sel is not None and sel.edges else ""


def time_axis(res: SweepResult) -> np.ndarray:
    """The recording times, median over seeds (identical across seeds under a time horizon)."""
    return np.median(res.time, axis=0)


def powers_of_5(lo: int, hi: int) -> tuple:
    """The papers' stepsize grids: ``5**lo, ..., 5**hi`` (both ends included)."""
    return tuple(5.0 ** k for k in range(lo, hi + 1))


def with_value(axis, value, *, descending: bool = False) -> list:
    """Grid ``axis`` with ``value`` (a paper's stated setting) added, kept sorted, unless a value
    close to it is there already."""
    axis = list(axis)
    return axis if np.isclose(axis, value).any() else sorted(axis + [value], reverse=descending)


def with_settings(grids: dict, settings: dict) -> dict:
    """Each method's grid (``{method: {axis: values}}``) with its stated setting
    (``{method: {axis: value}}``) added to each axis by :func:`with_value`."""
    return {m: {k: with_value(v, settings[m][k]) if k in settings.get(m, {}) else v for k, v in axes.items()}
            for m, axes in grids.items()}


def fmt_hparams(hp: dict) -> str:
    """``gamma=5, R=4``: a setting as figures print and label it."""
    return ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in hp.items())


def stats(x, diverged=None) -> dict:
    """Median and quartiles of a vector of per-seed values, as JSON numbers, over the seeds that
    did not diverge (a non-finite value, or flagged in ``diverged``); ``left_out`` counts the
    others, when there are any (:func:`jaxsim.results.run_stats`)."""
    s = run_stats(x, diverged, ("median", "q25", "q75"))
    out = {k: s[k] for k in ("median", "q25", "q75")}
    if s["left_out"]:
        out["left_out"] = s["left_out"]
    return out


def factor_text(f: float) -> str:
    """``3``, ``1/3``, ``1/1.5``: a claim's factor as its text says it."""
    return f"1/{1 / f:g}" if 0 < f < 1 and abs(1 / f - round(1 / f, 1)) < 1e-9 else f"{f:g}"


def tail_stats(res: SweepResult, index: tuple, metric: str, at=None, tail: float = V.TAIL) -> dict:
    """:func:`stats` of the per-seed tail means (:func:`verdict.tail_values`) of one setting;
    seeds whose run diverged (up to ``at``) are left out and counted."""
    upto = None if at is None else res.point_at(at)
    diverged = res._diverged(upto)[(slice(None),) + tuple(index)]
    return stats(V.tail_values(res.curve(index, metric), tail, upto), diverged)


# ---- a declared comparison: methods tuned and at the paper's settings, judged part by part ------


@dataclasses.dataclass(frozen=True)
class Metric:
    """A recorded metric as a figure names it: ``key`` (recorded name), ``name`` (printed),
    ``axis`` (axis label) and ``source`` (where the paper says it plots this metric)."""

    key: str
    name: str
    axis: str
    source: str = ""


@dataclasses.dataclass(frozen=True)
class Curve:
    """One method of a figure: ``key`` labels its results; how it is drawn."""

    key: str
    label: str
    color: str
    style: str = "-"
    marker: typing.Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Part:
    """One part of a claim: ``better`` ends lower than ``factor`` times ``worse`` (keys of curves)."""

    better: str
    worse: str
    factor: float = 1.0


@dataclasses.dataclass(frozen=True)
class Comparison:
    """A figure's declaration: its ``curves``, the metric the paper plots (``metric``: selection
    and verdicts, by :mod:`jaxsim.figures.verdict`), other ``metrics`` it reports and draws, the
    claim (``claim`` text and its ``parts``) and its ``rows``: ``("tuned", title)`` is best of
    each grid, any other row (``("paper", title)``) the stated settings given to :meth:`choose`.
    Every part is judged in every row where both sides have a selection. ``separates_at``
    (seconds, with its ``separation_source``): runs ending earlier are ``undecided``."""

    claim: str
    metric: Metric
    curves: tuple
    parts: tuple
    metrics: tuple = ()
    rows: tuple = (("tuned", "tuned (best of grid, mean of the last 10 % of the run)"),
                   ("paper", "the paper's stated settings"))
    separates_at: typing.Optional[float] = None
    separation_source: str = ""
    hidden: tuple = ()  #: hyperparameters not printed (fixed by the figure, e.g. beta)
    thresholds: tuple = ("R", "B", "S")  #: integer axes bounded by 1 and the worker count ``cfg.n``
    bounds: tuple = ()  #: ``((axis, lo, hi), ...)``: other hard bounds (e.g. a momentum weight in (0, 1])
    #: the metric on which "learned nothing" (``vacuous``) is judged, when not :attr:`metric`
    #: (e.g. the loss, where the plotted gradient norm can rise while the loss falls)
    progress: typing.Optional[str] = None

    @property
    def all_metrics(self) -> tuple:
        return (self.metric,) + tuple(m for m in self.metrics if m.key != self.metric.key)

    def curve(self, key: str) -> Curve:
        return next(c for c in self.curves if c.key == key)

    def choose(self, results: dict, cfg, settings: typing.Optional[dict] = None) -> dict:
        """``{(key, row): Selection}``: best of grid on the plotted metric at ``cfg.horizon`` for
        ``tuned`` (a pick at a threshold's hard bound, ``1`` or ``cfg.n``, is no edge), and
        ``settings[row][key]`` (hyperparameters) for each other row, where given and on the grid."""
        n = getattr(cfg, "n", None)
        bounds = {a: (1, n if isinstance(n, int) else None) for a in self.thresholds}
        bounds.update({a: (lo, hi) for a, lo, hi in self.bounds})
        out = {}
        for c in self.curves:
            res = results[c.key]
            for row, _ in self.rows:
                if row == "tuned":
                    try:
                        out[c.key, row] = V.select(res, self.metric.key, at=cfg.horizon, bounds=bounds)
                    except ValueError:  # every setting diverged: no selection, the parts say so
                        out[c.key, row] = None
                else:
                    hp = (settings or {}).get(row, {}).get(c.key)
                    if hp is not None:
                        out[c.key, row] = V.setting(res, self.metric.key, hp, at=cfg.horizon)
        return out

    def judge(self, results: dict, chosen: dict, cfg, notes=()) -> dict:
        """The claim: each part in each row (:func:`verdict.compare`), with edge picks and
        ``notes`` listed beside it."""
        parts = []
        for row, _ in self.rows:
            for part in self.parts:
                a, b = chosen.get((part.better, row)), chosen.get((part.worse, row))
                if (part.better, row) not in chosen and (part.worse, row) not in chosen:
                    continue
                na, nb = self.curve(part.better).label, self.curve(part.worse).label
                same = (a is not None and b is not None and
                        V.same_results(results[part.better].curve(a.index, self.metric.key),
                                       results[part.worse].curve(b.index, self.metric.key)))
                rel = "<" if part.factor == 1 else f"< {factor_text(part.factor)} x"
                progress = None
                if self.progress and a is not None and b is not None:
                    ra, rb = results[part.better], results[part.worse]
                    upto = ra.point_at(cfg.horizon), rb.point_at(cfg.horizon)
                    progress = {"metric": self.progress, "start": V.start_value(ra, self.progress),
                                na: float(np.median(V.tail_values(ra.curve(a.index, self.progress), upto=upto[0]))),
                                nb: float(np.median(V.tail_values(rb.curve(b.index, self.progress), upto=upto[1])))}
                parts.append(V.compare(
                    f"{row}: {na} {rel} {nb} in {self.metric.name}", None if a is None else a.per_seed,
                    None if b is None else b.per_seed, names=(na, nb), factor=part.factor, same=same,
                    start=V.start_value(results[part.better], self.metric.key), horizon=cfg.horizon,
                    separates_at=self.separates_at, separation_source=self.separation_source, progress=progress))
        edges = V.edge_notes({f"{self.curve(k).label} ({row})": s for (k, row), s in chosen.items() if row == "tuned"})
        return V.claim(self.claim, parts, notes=list(edges) + list(notes))

    def method_summaries(self, results: dict, chosen: dict, cfg) -> dict:
        """Per selection: its setting, the selection (per-seed values, edges), each metric's
        tail statistics, the updates at the horizon and the diverged runs."""
        out = {}
        for (key, row), sel in chosen.items():
            res = results[key]
            label = key if row == "tuned" else f"{key}@{row}"
            if sel is None:
                out[label] = dict(method=res.method, line="every setting diverged", runs=int(res.diverged.size))
                continue
            hp = {k: v for k, v in sel.hparams.items() if k not in self.hidden}
            s = dict(method=res.method, hparams=hp, selection=sel.to_json())
            for m in self.all_metrics:
                s[m.key] = tail_stats(res, sel.index, m.key, at=cfg.horizon)
            p = res.point_at(cfg.horizon)
            s.update(updates=stats(res.curve(sel.index, "updates")[:, p], res._diverged(p)[(slice(None),) + sel.index]),
                     diverged_runs=int(res.diverged[(slice(None),) + sel.index].sum()))
            if row == "tuned":
                s.update(runs=int(res.diverged.size), diverged_settings=int(res.diverged.any(axis=0).sum()),
                         seconds=res.info.get("seconds_total"))
            s["line"] = (f"{fmt_hparams(hp)}: " + ", ".join(f"{m.name} {s[m.key]['median']:.4g}"
                                                             for m in self.all_metrics) +
                         f", updates {s['updates']['median']:.0f}" + edge_text(sel) +
                         (f" ({s['updates']['left_out']} of {len(res.coords['seed'])} seeds diverged, left out)"
                          if s["updates"].get("left_out") else "") +
                         (f" ({s['runs']} runs, {s['diverged_settings']} settings diverged)" if row == "tuned" else ""))
            out[label] = s
        return out

    def collapses(self, results: dict, chosen: dict, cfg) -> dict:
        """``{label: seeds collapsed}`` for the selections of a classification problem (whose
        results record the labels' entropy as ``info["constant_loss"]``) that ended at the best
        constant predictor on some seed (:func:`verdict.collapsed`)."""
        out = {}
        for (key, row), sel in chosen.items():
            res = results[key]
            if sel is None or "constant_loss" not in res.info:
                continue
            upto = res.point_at(cfg.horizon)
            flags = V.collapsed(V.tail_values(res.curve(sel.index, "loss"), upto=upto),
                                V.tail_values(res.curve(sel.index, "grad_norm_sq"), upto=upto),
                                res.info["constant_loss"], V.start_value(res, "grad_norm_sq", sel.index))
            if flags.any():
                out[f"{self.curve(key).label} ({row})"] = int(flags.sum())
        return out

    def summarize(self, results: dict, cfg, settings=None, notes=()) -> dict:
        """``{methods, claim, protocol, collapsed}`` (see :meth:`choose`, :meth:`judge`,
        :meth:`collapses`): the verdict stays on the paper's metric; collapses are listed beside it."""
        chosen = self.choose(results, cfg, settings)
        dead = self.collapses(results, chosen, cfg)
        if dead:
            entropy = next(r.info["constant_loss"] for r in results.values() if "constant_loss" in r.info)
            notes = [f"COLLAPSED to the best constant predictor (f within 1 % of the labels' entropy {entropy:.4g} "
                     f"with a vanishing gradient: nothing learned, however low ||grad f||^2 is): " +
                     ", ".join(f"{k} on {v} of {len(cfg.seeds)} seeds" for k, v in dead.items())] + list(notes)
        return dict(methods=self.method_summaries(results, chosen, cfg), collapsed=dead,
                    claim=self.judge(results, chosen, cfg, notes),
                    protocol=dict(metric=self.metric.key, metric_source=self.metric.source, tail=V.TAIL,
                                  tie_rtol=V.TIE_RTOL, seeds=len(cfg.seeds)))

    def draw_panel(self, ax, results: dict, chosen: dict, row: str, metric: str) -> None:
        """Every curve's selection of ``row`` on ``ax``: ``metric`` over time, median and band
        (points where no seed has a finite value, e.g. a minibatch loss before the first
        arrival, are left out); an edge pick is marked ``[edge: ...]`` in its label."""
        for c in self.curves:
            sel = chosen.get((c.key, row))
            if sel is None:
                continue
            res = results[c.key]
            y = res.curve(sel.index, metric)
            ok = np.isfinite(y).any(axis=0)
            hp = {k: v for k, v in sel.hparams.items() if k not in self.hidden}
            band(ax, time_axis(res)[ok], y[:, ok], color=c.color, style=c.style, marker=c.marker,
                 label=f"{c.label} ({fmt_hparams(hp)}){edge_text(sel)}")

    def draw(self, results: dict, cfg, settings=None, *, title: str = "", xlabel: str = "Runtime (seconds)",
             extra=None):
        """Rows (:attr:`rows`) by columns (the plotted metric first, then :attr:`metrics`); a
        selection on its grid's edge is marked ``[edge: ...]`` in the legend. ``extra(ax, row,
        metric)`` may draw more on each panel (theory lines, a collapse level)."""
        import matplotlib.pyplot as plt

        chosen = self.choose(results, cfg, settings)
        rows = [(r, t) for r, t in self.rows if any((c.key, r) in chosen for c in self.curves)]
        cols = self.all_metrics
        fig, axes = plt.subplots(len(rows), len(cols), figsize=(5.5 * len(cols), 4 * len(rows)), sharex=True,
                                 squeeze=False)
        for (row, row_title), ax_row in zip(rows, axes):
            for ax, m in zip(ax_row, cols):
                self.draw_panel(ax, results, chosen, row, m.key)
                if extra is not None:
                    extra(ax, row, m)
                ax.set_ylabel(m.axis)
                ax.set_title(row_title, fontsize=9)
                ax.grid(alpha=0.3, which="both")
            ax_row[0].legend(fontsize=7)
        for ax in axes[-1]:
            ax.set_xlabel(xlabel)
        fig.suptitle(f"{title}, {seeds_text(cfg.seeds)}", fontsize=10)
        fig.tight_layout()
        return fig


# ---- configs as command-line options and JSON --------------------------------------------------


def config_from_dict(cls, data: dict):
    """Rebuild a ``Config`` from its JSON form (lists back to tuples); unknown keys refused."""
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ValueError(f"config: unknown field(s) {unknown} for {cls.__module__}.{cls.__name__}")
    return cls(**{k: _tuples(v) for k, v in data.items()})


def _tuples(v):
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


def _field_type(f: dataclasses.Field, default):
    if "type" in f.metadata:
        return f.metadata["type"]
    if isinstance(default, bool):
        return bool
    if isinstance(default, tuple):
        return tuple
    return type(default) if default is not None else str


def _shown(v) -> str:
    if isinstance(v, tuple):
        return " ".join(_shown(x) for x in v) if v else "(none)"
    return f"{v:g}" if isinstance(v, float) else str(v)


def add_config_options(parser: argparse.ArgumentParser, cls, defaults, presets: typing.Optional[dict] = None) -> None:
    """One ``--field-name`` option per ``Config`` field (default: the chosen preset's value);
    ``presets`` (``{"FULL": cfg, "QUICK": cfg}``) adds each preset's value to the option's help."""
    group = parser.add_argument_group("figure settings", "each overrides the chosen preset (FULL, or QUICK "
                                      "with --quick); the figure's config is saved with its results")
    for f in dataclasses.fields(cls):
        default = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        kind = _field_type(f, default)
        help_ = f.metadata.get("help", "")
        if presets:
            values = "; ".join(f"{k}: {_shown(getattr(v, f.name))}" for k, v in presets.items())
            help_ = f"{help_} ({values})" if help_ else f"({values})"
        help_ = help_.replace("%", "%%")
        if kind is bool:
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=help_)
        elif kind is tuple:
            elem = f.metadata.get("elem") or (float if any(isinstance(x, float) for x in default) else
                                              type(default[0]) if default else str)
            group.add_argument(flag, dest=f.name, nargs="+", type=elem, default=None, metavar="V", help=help_)
        else:
            group.add_argument(flag, dest=f.name, type=kind, default=None, choices=f.metadata.get("choices"),
                               metavar=None if f.metadata.get("choices") else f.name.upper(), help=help_)


def config_from_args(cls, preset, args) -> object:
    """``preset`` with the options given on the command line."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if getattr(args, f.name) is not None}
    return dataclasses.replace(preset, **{k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})


# ---- run, save, draw, replot -------------------------------------------------------------------


def forms_of(module: ModuleType) -> tuple:
    return tuple(getattr(module, "FORMS", ("paper",)))


def run(module: ModuleType, cfg, out, *, forms: str = "paper", progress=False, dpi: int = DPI) -> dict:
    """Simulate the figure ``module`` at ``cfg``, save its results with provenance under ``out``,
    then draw (``NAME.png``, ``NAME.pdf``) and summarize (``summary.json``) from the saved files.
    Returns the summary. ``progress``: each sweep's (``sweep(progress=...)``: ``"bar"``, ``"lines"``)."""
    if forms not in forms_of(module):
        raise ValueError(f"forms: {module.NAME} runs {' or '.join(forms_of(module))}, not {forms!r}")
    out = Path(out)
    (out / "results").mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results = module.simulate(cfg, forms=forms, progress=progress)
    seconds = time.perf_counter() - t0
    for label, res in results.items():
        res.save(out / "results" / f"{label}.npz")
    manifest = dict(format=FORMAT, figure=module.NAME, forms=forms, config=dataclasses.asdict(cfg),
                    results=list(results), seconds=seconds, provenance=provenance(), argv=sys.argv[1:])
    (out / "figure.json").write_text(json.dumps(manifest, indent=2, default=jsonable))
    return render(out, dpi=dpi)


def load_run(directory) -> tuple:
    """``(module, cfg, forms, results, manifest)`` of a saved figure run. A damaged or foreign
    ``figure.json`` or result file raises ``ValueError`` naming the file and what is wrong."""
    from . import load

    directory = Path(directory)
    path = directory / "figure.json"
    if not path.is_file():
        raise ValueError(f"replot: {directory} holds no figure.json (not a directory written by 'jaxsim figure')")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"replot: {path} is not valid JSON ({e}); it is not the figure.json 'jaxsim figure' "
                         "writes") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"replot: {path} holds a JSON {type(manifest).__name__}, not the object 'jaxsim figure' "
                         "writes")
    fields = {"figure": str, "config": dict, "forms": str, "results": list, "seconds": (int, float)}
    missing = [k for k in fields if k not in manifest]
    if missing:
        raise ValueError(f"replot: {path} lacks the field(s) {missing} (not a figure.json written by 'jaxsim figure')")
    wrong = [k for k, t in fields.items() if not isinstance(manifest[k], t)]
    if wrong or not all(isinstance(r, str) and r and "/" not in r and "\\" not in r and r not in (".", "..")
                        for r in manifest["results"]):
        raise ValueError(f"replot: {path}: field(s) {wrong or ['results']} have the wrong type or value")
    try:
        module = load(manifest["figure"])
        cfg = config_from_dict(module.Config, manifest["config"])
    except (ValueError, TypeError) as e:
        raise ValueError(f"replot: {path}: {' '.join(str(e).split())}") from None
    results = {}
    for label in manifest["results"]:
        try:
            results[label] = SweepResult.load(directory / "results" / f"{label}.npz")
        except FileNotFoundError:
            raise ValueError(f"replot: {directory / 'results' / (label + '.npz')} is missing (listed in "
                             f"{path})") from None
        except ValueError as e:
            raise ValueError(f"replot: {e}") from None
    return module, cfg, manifest["forms"], results, manifest


def render(directory, out=None, *, dpi: int = DPI) -> dict:
    """Draw and summarize a saved figure run (``out``: where to write, default ``directory``).
    Simulates nothing; the PNG is byte-identical to the first run's (same matplotlib)."""
    import matplotlib
    import matplotlib.pyplot as plt  # the caller's backend: a notebook keeps its inline plots

    module, cfg, forms, results, manifest = load_run(directory)
    out = Path(directory if out is None else out)
    out.mkdir(parents=True, exist_ok=True)
    summary = dict(figure=module.NAME, forms=forms, seconds=manifest["seconds"],
                   **module.summarize(results, cfg, forms))
    fig = module.plot(results, cfg, forms)
    with matplotlib.rc_context({"svg.hashsalt": "jaxsim"}):
        fig.savefig(out / f"{module.NAME}.png", dpi=dpi, metadata={"Software": None})
        fig.savefig(out / f"{module.NAME}.pdf", metadata={"CreationDate": None, "Producer": None, "Creator": None})
    plt.close(fig)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=jsonable))
    return summary


def print_summary(summary: dict, out, *, simulated: bool = True) -> None:
    """The lines ``jaxsim figure`` prints: each reported number, the claim's verdict, the files."""
    for label, s in summary.get("methods", {}).items():
        line = s.get("line") if isinstance(s, dict) else None
        print(f"{label:24s} {line if line else json.dumps(s, default=jsonable)}")
    c = summary.get("claim")
    if c:
        print(f"claim: {c['text']}\n  -> {V.VERDICT_WORDS[c['verdict']]} in this run")
        for part in c.get("parts", ()):
            lean = f" (leaning {V.VERDICT_WORDS[part['leaning']]})" if part.get("leaning") else ""
            print(f"     [{V.VERDICT_WORDS[part['verdict']]}{lean}] {part['text']}: {part['evidence']}")
        for note in c.get("notes", ()):
            print(f"     note: {note}")
    if simulated:
        print(f"simulated in {summary['seconds']:.1f} s; wrote {Path(out) / summary['figure']}.png/.pdf, "
              f"summary.json, figure.json and results/")
    else:
        print(f"redrew {Path(out) / summary['figure']}.png/.pdf and summary.json from the saved results")


# ---- the command line --------------------------------------------------------------------------


def main(module: ModuleType, argv=None, check_out=None) -> int:
    """``jaxsim figure NAME [--quick] [--out DIR] [--forms F] [--no-progress] [--FIELD V ...]``.
    A bad option is a one-line error (exit code 2); ``check_out(out)``, when given, is called on
    the output directory before anything is simulated (the command line checks that a file can
    be created there)."""
    doc = (module.__doc__ or "").replace("``", "")
    from ..cli import OneLineErrors

    class Parser(OneLineErrors, argparse.ArgumentParser):
        """A figure's options; a bad one is a one-line error, as everywhere on the command line."""

    p = Parser(prog=f"jaxsim figure {module.NAME}", description=doc,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="the CPU-minutes preset (QUICK) instead of FULL")
    p.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # the test suite's preset
    p.add_argument("--out", default=f"out/{module.NAME}", help="directory for the figure, summary and results")
    p.add_argument("--forms", default="paper", choices=forms_of(module),
                   help="paper: the algorithms as the paper states them; authors: the forms of the authors' "
                        "simulator, where they differ (see the docstring)")
    p.add_argument("--no-progress", action="store_true", help="no progress (default: a bar on a terminal, else a "
                   "plain line on stderr about every 30 s)")
    # parse the preset first so that --help shows its defaults
    argv = sys.argv[1:] if argv is None else list(argv)
    pre, _ = p.parse_known_args([a for a in argv if a in ("--quick", "--tiny")])
    preset = module.TINY if pre.tiny else module.QUICK if pre.quick else module.FULL
    add_config_options(p, module.Config, preset, {"FULL": module.FULL, "QUICK": module.QUICK})
    args = p.parse_args(argv)
    cfg = config_from_args(module.Config, preset, args)
    if check_out is not None:
        check_out(args.out)
    progress = False if args.no_progress else "bar" if sys.stderr.isatty() else "lines"
    summary = run(module, cfg, args.out, forms=args.forms, progress=progress)
    print_summary(summary, args.out)
    return 0


Results = typing.Dict[str, SweepResult]

__all__ = ["DPI", "FORMAT", "Comparison", "Curve", "Metric", "Part", "Results", "add_config_options", "band",
           "config_from_args", "edge_text", "seeds_text", "tail_stats",
           "config_from_dict", "fmt_hparams", "load_run", "main", "print_summary", "render", "run",
           "stats", "time_axis"]
