"""Command line: ``jaxsim list | run | bench | figure | replot``."""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import re
import sys
import time
from pathlib import Path

from . import __version__
from .figures import FIGURES

#: The top-level ``--help`` text (plain text: no reStructuredText markup in any ``--help``).
DESCRIPTION = ("Simulate asynchronous SGD methods in simulated wall-clock time. 'jaxsim list' shows every "
               "name you can use (methods and their hyperparameters, problems and their options, timing "
               "models, speed profiles, metrics, figures); 'jaxsim run' simulates one method over a grid; "
               "'jaxsim bench' measures throughput; 'jaxsim figure' reproduces a paper figure. "
               "'jaxsim COMMAND --help' lists a command's options.")


class UsageError(ValueError):
    """A bad command line: printed as one ``jaxsim: error: ...`` line, exit code 2."""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends each option's default to its help, except where it has none (``None``, a flag that is off)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """argparse with defaults in ``--help`` and one-line errors (exit code 2, no usage block)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return v


def _seed(text: str, limit: int = 2 ** 63, shown: str = "2**63") -> int:
    """A seed on the command line: an integer in ``[0, 2**63)`` (:data:`jaxsim.runtime.rng.SEED_LIMIT`)."""
    try:
        v = int(text)
    except ValueError:
        v = -1
    if not 0 <= v < limit:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, {shown}), got {text!r}")
    return v


def _data_seed(text: str) -> int:
    """``--data-seed``: below ``2**32``, where every problem's generator takes it as it is (``lm``'s
    ``jax.random.key`` would wrap a larger one onto a smaller seed without 64-bit mode)."""
    return _seed(text, 2 ** 32, "2**32")


def _seconds(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number of seconds, got {text!r}")
    return v


def _cpu_devices(text: str) -> int:
    """``--cpu-devices``: checked when the command line is parsed, before XLA starts."""
    from .runtime.cpu_devices import check_cpu_devices

    try:
        return check_cpu_devices(_positive_int(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("cpu_devices: ")) from None


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _name_option(message: str, fields) -> str:
    """``message`` led by the command-line option it is about: ``fields`` pairs a pattern,
    matched at the start of the message (after a leading ``"<name>: "``), with the option (or a
    function of the match giving it). A message that already names an option, or that no
    pattern matches, is returned as it is."""
    if message.startswith("-"):
        return message
    for text in (message, re.sub(r"^[\w.-]+: ", "", message)):  # "asgd: unknown hyperparameter(s) ..."
        for pattern, option in fields:
            m = re.match(pattern, text)
            if m:
                return f"{option(m) if callable(option) else option}: {message}"
    return message


#: ``jaxsim run``'s options for the fields its library errors name.
_RUN_FIELDS = (
    (r"hyperparameter (\w+)", lambda m: f"--hp {m.group(1)}"),
    (r"(unknown hyperparameter|grid\b)", "--hp"),
    (r"seeds?\b", "--seeds"),
    (r"horizon", "--horizon"),
    (r"num_points", "--points"),
    (r"devices", "--devices"),
    (r"checkpoint_dir", "--checkpoint-dir"),
    (r"(workers\b|n \(number of workers\)|timing\.n\b)", "--n"),
    (r"timing\.base", "--base"),
    (r"timing\.noise", "--noise"),
    (r"timing", "--n/--base/--noise"),
    (r"memory", "--horizon/--points/--seeds/--hp/--n/--d (the run's sizes)"),
    (r"problem", "--problem"),
)


# ---- problems from the command line -------------------------------------------------------------

#: Problem options of ``jaxsim run``: option (dest) -> the builder parameter(s) it fills. A problem
#: takes the options whose parameter its builder's signature has (``--n`` also sets the workers).
_PROBLEM_PARAMS = {
    "d": ("d", "dim"), "noise_scale": ("noise_scale",), "data": ("path",), "data_part": ("train",),
    "n": ("num_workers",), "split": ("split",), "alpha": ("alpha",), "heterogeneity": ("heterogeneity",),
    "samples": ("samples_per_worker", "num_samples"), "data_seed": ("seed",), "batch": ("batch",), "l2": ("l2",),
    "hidden": ("hidden",), "max_samples": ("max_samples",), "solve_f_star": ("solve_f_star",),
    "curvature": ("curvature",),
}
#: Defaults of the command line where they differ from the builders'.
_PROBLEM_DEFAULTS = {"d": 100, "noise_scale": 0.01}
_REQUIRED = {"mnist_mlp": {"data": "a folder with the MNIST IDX files, train-* or (--data-part test) t10k-*"}}
_CONVERT = {"data_part": lambda v: v == "train"}
#: logistic: with --data the file is split over the workers; without, synthetic data is generated.
_LOGISTIC_WITH_DATA, _LOGISTIC_SYNTHETIC = ("split", "alpha"), ("d", "samples", "heterogeneity", "data_seed")


def _het_quadratic_cli(num_workers: int, d: int = 100, heterogeneity: float = 1.0, seed: int = 0,
                       noise_scale: float = 0.0):
    """``het_quadratic`` from the command line: worker ``i``'s minimizer ``a_i ~ heterogeneity *
    N(0, I_d)`` (seeded by ``seed``), unit curvatures, start at 0."""
    import numpy as np

    from .problems import heterogeneous_quadratic

    if not (math.isfinite(heterogeneity) and heterogeneity >= 0):
        raise UsageError(f"--heterogeneity: must be finite and >= 0, got {heterogeneity}")
    a = heterogeneity * np.random.default_rng(seed).standard_normal((num_workers, d))
    return heterogeneous_quadratic(a, noise_scale=noise_scale)


def _builder(name: str):
    from .problems import PROBLEMS

    return {"het_quadratic": _het_quadratic_cli}.get(name, PROBLEMS[name])


def problem_options(name: str) -> dict:
    """``{option dest: builder parameter}`` of registered problem ``name`` on the command line."""
    params = inspect.signature(_builder(name)).parameters
    return {dest: next(p for p in names if p in params)
            for dest, names in _PROBLEM_PARAMS.items() if any(p in params for p in names)}


def _make_problem(args):
    """Build ``--problem`` from the options it takes; a given option it does not take, or a missing
    required one, is a one-line error."""
    from .problems import PROBLEMS

    name = args.problem
    if name not in PROBLEMS:
        raise UsageError(f"--problem: unknown name {name!r}; choose one of {sorted(PROBLEMS)} ('jaxsim list')")
    opts = problem_options(name)
    given = {d for d in _PROBLEM_PARAMS if d != "n" and getattr(args, d) is not None}
    takes = ", ".join(_flag(d) for d in opts) or "no options"
    for dest in sorted(given - set(opts)):
        raise UsageError(f"{_flag(dest)}: problem {name!r} does not take it (it takes {takes})")
    for dest, what in _REQUIRED.get(name, {}).items():
        if getattr(args, dest) is None:
            raise UsageError(f"{_flag(dest)}: problem {name!r} needs it: {what}")
    if name == "logistic":
        wrong = _LOGISTIC_SYNTHETIC if args.data is not None else _LOGISTIC_WITH_DATA
        for dest in wrong:
            if dest in given:
                raise UsageError(f"{_flag(dest)}: problem 'logistic' uses it only "
                                 f"{'without' if args.data is not None else 'with'} --data")
    kwargs, flags = {}, {}
    for dest, param in opts.items():
        v = getattr(args, dest)
        v = _PROBLEM_DEFAULTS.get(dest) if v is None else v
        if v is not None and not (name == "logistic" and args.data is not None and dest == "d"):
            kwargs[param] = _CONVERT.get(dest, lambda x: x)(v)
            flags[param] = _flag(dest)
    try:
        return _builder(name)(**kwargs)
    except FileNotFoundError as e:
        raise UsageError(f"--data: {e}") from None
    except ValueError as e:  # the builder names its parameter: name the option that set it
        message = " ".join(str(e).split())
        if message.startswith("-"):
            raise
        if args.data is not None and str(args.data) in message:
            raise UsageError(f"--data: {message}") from None
        hits = [(m.start(), flag) for param, flag in flags.items()
                for m in [re.search(rf"(?<![\w-]){re.escape(param)}(?![\w-])", message)] if m]
        flag = min(hits)[1] if hits else f"--problem {name}"
        raise UsageError(f"{flag}: {message}") from None


def _check_writable(flag: str, path, *, directory: bool) -> None:
    """Refuse, before anything is simulated, an output path that cannot be written: ``path`` must
    be a directory (``directory=True``) or a file name, and its nearest existing ancestor a
    writable directory (missing folders are created when writing)."""
    if not str(path).strip():
        raise UsageError(f"{flag}: empty path; give a {'directory' if directory else 'file name'}")
    path = Path(path)
    try:
        if path.exists():
            if directory and not path.is_dir():
                raise UsageError(f"{flag}: {path} is a file; give a directory (created if missing)")
            if not directory and path.is_dir():
                raise UsageError(f"{flag}: {path} is a directory; give a file name such as {path / 'results.npz'}")
            if not os.access(path, os.W_OK):
                raise UsageError(f"{flag}: {path} is not writable")
            if directory:
                return
        folder = path if directory else path.parent
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise UsageError(f"{flag}: cannot create {folder}: {existing} is a file, not a directory")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise UsageError(f"{flag}: cannot write under {existing} (permission denied)")
    except OSError as e:
        raise UsageError(f"{flag}: {path}: {e.strerror or e}") from None


# ---- commands -----------------------------------------------------------------------------------

def _cmd_list(args) -> int:
    from .figures import describe
    from .methods import REGISTRY
    from .problems import PROBLEMS
    from .sim.server import METRICS
    from .timing.speed import SpeedProfile
    from .timing import BASE_PROFILES, NOISE_LAWS

    def hparams(name):
        specs = getattr(REGISTRY[name], "hparams", None) or {}
        return "--hp " + ", ".join(f"{k}={getattr(s, 'default', '?')} ({getattr(s, 'doc', '')})"
                                   for k, s in specs.items()) if specs else "no hyperparameters"

    def options(name):
        opts = [_flag(d) + (" (required)" if d in _REQUIRED.get(name, ()) else "") for d in problem_options(name)]
        return "options: " + (", ".join(opts) or "none")

    def speed(name):
        sig = inspect.signature(getattr(SpeedProfile, name))
        sig = sig.replace(parameters=[q.replace(annotation=q.empty) for q in sig.parameters.values()],
                          return_annotation=sig.empty)
        return f"SpeedProfile.{name}{sig}"

    metric_doc = {
        "busy_time": "total worker compute time so far", "loss": "f(x)",
        "loss_gap": "f(x) - f*, only for problems with a known f* (quadratic, het_quadratic, "
                     "logistic with --solve-f-star)",
        "batch_loss": "loss of the latest received minibatch at the point where it was computed "
                      "(problems with a sample loss, e.g. lm)",
        "grad_norm_sq": "squared norm of the full gradient", "updates": "model updates",
        "received": "gradients received", "used": "gradients applied", "discarded": "received - used",
        "max_delay": "largest delay applied", "mean_delay": "mean delay applied",
        "diverged": "a non-finite model or recorded metric", "cancelled": "jobs cancelled (controlled clock)",
        "timeouts": "jobs abandoned (controlled clock)", "proxy_regret": "allocation methods only",
    }
    speeds = sorted(k for k, v in vars(SpeedProfile).items() if isinstance(v, classmethod))
    groups = {  # title: (hint, [(name, detail)])
        "methods": ("jaxsim run METHOD --hp NAME=VALUE,...; defaults shown",
                    [(m, hparams(m)) for m in sorted(REGISTRY)]),
        "problems": ("jaxsim run METHOD --problem NAME [its options]",
                     [(q, options(q)) for q in sorted(PROBLEMS)]),
        "timing base profiles": ("jaxsim run --base NAME", [(k, None) for k in sorted(BASE_PROFILES)]),
        "timing noise laws": ("jaxsim run --noise NAME", [(k, None) for k in sorted(NOISE_LAWS)]),
        "speed profiles": ("the universal computation model, Python only: TimingModel(speed=...)",
                           [(k, speed(k)) for k in speeds]),
        "metrics": ("jaxsim run --select NAME; SweepResult.metrics",
                    [(k, metric_doc.get(k)) for k in METRICS + ("proxy_regret",)]),
        "figures": ("jaxsim figure NAME [--help]", [(f, describe(f)) for f in sorted(FIGURES)]),
    }
    for title, (hint, entries) in groups.items():
        print(f"{title}:")
        print(f"  ({hint})")
        for name, detail in entries:
            print(f"  {name}")
            if detail:
                print(f"      {detail}")
    return 0


def _parse_number(name: str, text: str):
    t = text.strip()
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        raise UsageError(f"--hp {name}: could not parse {text!r} as a number") from None


def _parse_hp(items) -> dict:
    """``--hp name=value[,value...]`` items: a dict of numbers (a list is a grid axis)."""
    hp = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--hp: expected name=value or name=v1,v2,..., got {item!r}")
        if name in hp:
            raise UsageError(f"--hp {name}: given twice; give each hyperparameter once "
                             f"(a grid axis as {name}=v1,v2,...)")
        if not text.strip():
            raise UsageError(f"--hp {name}: no value (expected {name}=value or {name}=v1,v2,...)")
        vals = [_parse_number(name, t) for t in text.split(",")]
        hp[name] = vals if len(vals) > 1 else vals[0]
    return hp


def _plain(o):
    """JSON-ready: NumPy scalars and arrays to Python, non-finite floats to ``None``."""
    if isinstance(o, dict):
        return {str(k): _plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_plain(v) for v in o]
    if hasattr(o, "tolist"):
        return _plain(o.tolist())
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    return o


def _cmd_run(args) -> int:
    import numpy as np

    from . import make_timing, sweep
    from .sim.server import METRICS

    # every check on the command line runs before anything is simulated
    hp = _parse_hp(args.hp)
    problem = _make_problem(args)
    metrics = METRICS + ("proxy_regret",)
    select = args.select or ("loss_gap" if problem.f_star is not None else "loss")
    if select not in metrics:
        raise UsageError(f"--select: unknown metric {select!r}; choose one of {list(metrics)}")
    if select == "loss_gap" and problem.f_star is None:
        raise UsageError(f"--select loss_gap: problem {args.problem!r} has no known f*, so f - f* is not "
                         "recorded; use --select loss (f, the same best setting)")
    if args.out is not None:
        _check_writable("--out", args.out, directory=False)
    if args.checkpoint_dir is not None:
        _check_writable("--checkpoint-dir", args.checkpoint_dir, directory=True)
    noise_kw = {"var": "i"} if args.noise == "halfnormal" else {}
    try:
        timing = make_timing(args.n, args.base, args.noise, **noise_kw)
        res = sweep(args.method, problem, timing, seeds=args.seeds, grid=hp, horizon=args.horizon,
                    num_points=args.points, checkpoint_dir=args.checkpoint_dir, devices=args.devices)
    except ValueError as e:
        if isinstance(e, UsageError):
            raise
        raise UsageError(_name_option(" ".join(str(e).split()), _RUN_FIELDS)) from None
    # saved before anything is printed: a closed stdout (``| head -1``) cannot lose the results
    args.saved = None if args.out is None else res.save(Path(args.out))
    kept = f" (the results are saved in {args.saved})" if args.saved else ""

    events = res.final("received")[0].max()  # arrivals of the seed's busiest setting
    sizes = {d: len(res.coords[d]) for d in res.grid_dims}
    names = [m for m in ("loss_gap", "loss", "grad_norm_sq", "updates", "discarded") if m in res.metrics]
    final = {m: res.final(m) for m in names}
    best = None
    if res.grid_dims:
        if select not in res.metrics:
            raise UsageError(f"--select {select}: not recorded by {res.method}; recorded: {sorted(res.metrics)}{kept}")
        try:
            b = res.best(select)
            best = {"metric": select, "hparams": b["hparams"], "value": b["value"], "excluded": b["excluded"]}
        except ValueError as e:  # every setting diverged: still report and save the runs
            best = {"metric": select, "hparams": None, "error": str(e)}
    summary = {
        "method": res.method, "problem": args.problem, "n": args.n, "d": res.info.get("d"),
        "seeds": list(args.seeds), "grid": {d: res.coords[d] for d in res.grid_dims}, "grid_sizes": sizes,
        "fixed": res.fixed, "horizon": args.horizon, "points": args.points,
        "gradients_received": int(events), "seconds": res.info["seconds_total"],
        "devices": res.info["devices"], "mesh": list(res.info["mesh"]),
        "final": {m: {"median": float(np.median(v)), "min": float(np.min(v)), "max": float(np.max(v))}
                  for m, v in final.items()},
        "runs": int(res.diverged.size), "diverged": int(res.diverged.sum()), "best": best,
        "saved": None if args.saved is None else str(args.saved),
    }
    if args.json:  # one JSON object on stdout (non-finite numbers as null)
        print(json.dumps(_plain(summary), allow_nan=False))
        return 0
    print(f"method {res.method}: {len(args.seeds)} seed(s), grid {sizes}, "
          f"{events} gradients received (seed {args.seeds[0]}), {res.info['seconds_total']:.2f} s"
          + (f" on {res.info['devices']} devices (mesh {res.info['mesh']})" if res.info["devices"] > 1 else ""))
    for m, v in final.items():
        print(f"  final {m:13s} median {np.median(v):.6g}  min {np.min(v):.6g}  max {np.max(v):.6g}")
    print(f"  diverged runs {summary['diverged']} of {summary['runs']}")
    if best is not None:
        print(f"  best (final {select}): {best['hparams'] if best['hparams'] is not None else best['error']}")
    if args.saved is not None:
        print(f"  saved {args.saved}")
    return 0


def _cmd_bench(args) -> int:
    from . import bench

    r = bench.run(events=args.events, **({} if args.d is None else {"d": args.d}))
    if not args.json:
        print(f"engine      {r['engine_run_events_per_s']:.3e} run-events/s ({r['runs']} runs, d={r['d']}, n={r['n']})")
        print(f"reference   {r['reference_run_events_per_s']:.3e} run-events/s")
        print(f"synchronous {r['sync_run_events_per_s']:.3e} run-events/s (same draws, gradient at the current model)")
        print(f"floor       {r['floor_run_events_per_s']:.3e} run-events/s (same draws, one axpy per event)")
        print(f"speedup vs reference {r['speedup_vs_reference']:.1f}x; fraction of synchronous "
              f"{r['fraction_of_sync']:.2f}; fraction of floor {r['fraction_of_floor']:.2f}; "
              f"compile {r['compile_s']:.2f} s")
    print(json.dumps(r))
    return 0


def _option_value(options, flag: str):
    """The value of ``flag`` in a figure's own options (``--out X`` or ``--out=X``; the last wins)."""
    value = None
    for i, tok in enumerate(options):
        if tok == flag and i + 1 < len(options):
            value = options[i + 1]
        elif tok.startswith(flag + "="):
            value = tok.split("=", 1)[1]
    return value


def _cmd_figure(args) -> int:
    from .figures import base, describe, load

    if args.list or args.name is None:
        if args.name is None and not args.list:
            raise ValueError("figure: give a figure's name, or --list to see them")
        for name in sorted(FIGURES):
            forms = "/".join(base.forms_of(load(name)))
            print(f"{name:26s} [{forms}] {describe(name)}")
        return 0
    out = _option_value(args.options, "--out")
    if out is not None and not {"-h", "--help"} & set(args.options):
        _check_writable("--out", out, directory=True)  # every figure writes into a directory
    module = load(args.name)
    _headless()
    return base.main(module, args.options)


def _headless() -> None:
    """Figures drawn by the command line go to files only (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")


def _cmd_replot(args) -> int:
    from .figures import base

    _headless()
    if args.out is not None:
        _check_writable("--out", args.out, directory=True)
    summary = base.render(args.directory, args.out)
    base.print_summary(summary, args.out or args.directory, simulated=False)
    return 0


#: Help of the problem options of ``jaxsim run`` (also quoted by their errors).
_HELP = {
    "d": f"dimension: quadratic, het_quadratic; logistic: features of its synthetic data "
         f"(default: {_PROBLEM_DEFAULTS['d']})",
    "noise_scale": f"gradient noise scale: quadratic, het_quadratic (default: {_PROBLEM_DEFAULTS['noise_scale']})",
    "data": "mnist_mlp: a folder with the MNIST IDX files (required); logistic: a binary LIBSVM file "
            "(default: synthetic data); lm: a UTF-8 text file (default: the standard library's docstrings). "
            "Nothing is downloaded",
    "data_part": "mnist_mlp: which files of --data, train (train-*) or test (t10k-*) (default: train)",
    "split": "how the data are split over the --n workers: mnist_mlp, logistic with --data "
             "(default: the problem's, dirichlet for mnist_mlp, iid for logistic)",
    "alpha": "Dirichlet concentration of --split dirichlet: mnist_mlp, logistic with --data (default: 0.1)",
    "heterogeneity": "how different the workers' data are: logistic (synthetic); het_quadratic: the workers' "
                     "minimizers are heterogeneity * N(0, I) (default: 1.0)",
    "samples": "logistic (synthetic): samples per worker (default: 100); component_logistic: samples "
               "(default: 200)",
    "data_seed": "seed of generated data, an integer in [0, 2**32): logistic (synthetic), het_quadratic's "
                 "minimizers, lm's initial parameters (default: 0; lm: 7)",
    "batch": "samples per stochastic gradient: logistic (default: 1), mnist_mlp (default: 4), lm: sequences "
             "per minibatch (default: 8)",
    "l2": "logistic: L2 regularization (default: 0); component_logistic (default: 0.001)",
    "hidden": "mnist_mlp: hidden units (default: 128)",
    "max_samples": "mnist_mlp: keep only the first samples of --data (default: all)",
    "solve_f_star": "logistic: compute f* (float64 Newton-CG) so that loss_gap = f - f* is recorded",
    "curvature": "quadratic: sample-dependent curvature c, A_xi = A + c Diag(u) with u ~ N(0, I) "
                 "(momentum variance reduction needs it; default: 0, additive noise only)",
}


def build_parser() -> argparse.ArgumentParser:
    from .runtime.cpu_devices import max_cpu_devices
    from .timing import BASE_PROFILES, NOISE_LAWS

    p = _Parser(prog="jaxsim", description=DESCRIPTION)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                   help="print the version and exit")
    p.add_argument("--compile-cache", metavar="DIR", default=None,
                   help="keep compiled kernels in DIR (JAX's persistent compilation cache), so later runs "
                        "with the same shapes skip compiling (default: $JAXSIM_COMPILE_CACHE, else off)")
    p.add_argument("--cpu-devices", metavar="K", type=_cpu_devices, default=None,
                   help="split the CPU into K JAX devices (XLA_FLAGS=--xla_force_host_platform_device_count=K), "
                        "so sweeps shard their batches over K cores; same numbers. At most 4 per core "
                        f"({max_cpu_devices()} here) (default: one device)")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND", title="commands",
                           help="'jaxsim COMMAND --help' lists its options")
    sub.add_parser("list", help="every name you can use: methods (with hyperparameters), problems (with options), "
                   "timing models, speed profiles, metrics, figures",
                   description="List every name you can use: methods and their hyperparameters (--hp), problems "
                   "and their options, timing base profiles and noise laws, speed profiles, metrics, figures.")

    r = sub.add_parser("run", help="simulate one method (optionally over a grid) and print a summary",
                       description="Simulate METHOD for every seed and every setting of the --hp grid, then print "
                       "a summary (or, with --json, one JSON object). Each problem takes its own options "
                       "('jaxsim list' shows which).")
    r.add_argument("method", help="a registered method ('jaxsim list')")
    r.add_argument("--problem", default="quadratic", help="a registered problem ('jaxsim list')")
    g = r.add_argument_group("problem options", "each problem takes the options its builder has; "
                             "'jaxsim list' shows which")
    g.add_argument("--d", type=_positive_int, help=_HELP["d"])
    g.add_argument("--noise-scale", type=float, help=_HELP["noise_scale"])
    g.add_argument("--data", metavar="PATH", help=_HELP["data"])
    g.add_argument("--data-part", choices=("train", "test"), help=_HELP["data_part"])
    g.add_argument("--split", choices=("iid", "by_class", "dirichlet"), help=_HELP["split"])
    g.add_argument("--alpha", type=float, help=_HELP["alpha"])
    g.add_argument("--heterogeneity", type=float, help=_HELP["heterogeneity"])
    g.add_argument("--samples", type=_positive_int, help=_HELP["samples"])
    g.add_argument("--data-seed", type=_data_seed, help=_HELP["data_seed"])
    g.add_argument("--batch", type=_positive_int, help=_HELP["batch"])
    g.add_argument("--l2", type=float, help=_HELP["l2"])
    g.add_argument("--hidden", type=_positive_int, help=_HELP["hidden"])
    g.add_argument("--max-samples", type=_positive_int, help=_HELP["max_samples"])
    g.add_argument("--solve-f-star", action="store_true", default=None, help=_HELP["solve_f_star"])
    g.add_argument("--curvature", type=float, help=_HELP["curvature"])
    r.add_argument("--n", type=_positive_int, default=100, help="number of workers (also the problem's, "
                   "for problems with per-worker data)")
    r.add_argument("--base", default="one_plus_sqrt", choices=sorted(BASE_PROFILES), metavar="NAME",
                   help=f"base compute time of each worker: {', '.join(sorted(BASE_PROFILES))}")
    r.add_argument("--noise", default="halfnormal", choices=sorted(NOISE_LAWS), metavar="NAME",
                   help="random part of each compute time, a noise law ('jaxsim list'; halfnormal: "
                   "|N(0, w + 1)| for worker w)")
    r.add_argument("--horizon", type=_seconds, default=200.0, help="simulated seconds")
    r.add_argument("--points", type=_positive_int, default=50, help="recording intervals (metrics at points + 1 times)")
    r.add_argument("--seeds", type=_seed, nargs="+", default=[0], help="seeds, distinct integers in [0, 2**63) "
                   "(each gives its own durations and noise)")
    r.add_argument("--hp", nargs="+", action="extend", metavar="NAME=VALUES",
                   help="hyperparameters: name=value (fixed) or name=v1,v2,... (a grid axis); each name once; "
                   "unset ones take the method's defaults ('jaxsim list')")
    r.add_argument("--select", help="metric whose final value (median over seeds) picks the best setting "
                   "(default: loss_gap when the problem knows f*, else loss)")
    r.add_argument("--out", metavar="FILE", help="save the labeled results (.npz); checked before simulating, "
                   "written before the summary is printed")
    r.add_argument("--checkpoint-dir", metavar="DIR", help="make the run resumable: save each finished batch "
                   "in DIR (created if missing); re-running the same command skips finished batches, and a DIR "
                   "holding another configuration is refused (default: no checkpoints)")
    r.add_argument("--devices", type=_positive_int, metavar="K", help="shard the runs over the first K devices of "
                   "JAX's default backend (default: all of them; 1: no sharding)")
    r.add_argument("--json", action="store_true", help="print one JSON object (method, grid, seeds, final "
                   "medians, best setting, diverged count) instead of the text summary")

    b = sub.add_parser("bench", help="engine vs reference vs synchronous and floor kernels: throughput",
                       description="Measure the engine's throughput against the reference loop, a synchronous "
                       "SGD kernel over the same events and draws, and the one-axpy floor kernel.")
    b.add_argument("--d", type=_positive_int, help="dimension (default 100)")
    b.add_argument("--json", action="store_true", help="print only the JSON line")
    b.add_argument("--events", type=_positive_int, default=20_000, help="events per run")

    f = sub.add_parser("figure", help="reproduce a paper figure (--list: every figure)",
                       description="Run a paper figure: its sweeps, best-of-grid selection and plot, with every "
                       "result saved beside its provenance; 'jaxsim figure NAME --help' lists its options.")
    f.add_argument("--list", action="store_true", help="every figure, its forms and what it shows")
    f.add_argument("name", nargs="?", choices=sorted(FIGURES), metavar="NAME",
                   help="the figure (--list describes each)")
    f.add_argument("options", nargs=argparse.REMAINDER, help="the figure's own options")

    rp = sub.add_parser("replot", help="redraw a saved figure run without simulating",
                        description="Redraw a directory written by 'jaxsim figure' (PNG, PDF, summary.json) from "
                        "its saved results; the PNG is byte-identical to the first run's.")
    rp.add_argument("directory", help="a directory written by 'jaxsim figure'")
    rp.add_argument("--out", metavar="DIR", help="where to write (default: DIRECTORY itself)")
    return p


def _interrupted(args, started: float) -> str:
    """What an interrupted command kept, and how to go on (one line)."""
    if args.cmd == "run":
        if getattr(args, "saved", None) is not None:
            return f"the results were saved in {args.saved} before the interrupt"
        if args.checkpoint_dir is not None:
            done = len(list(Path(args.checkpoint_dir).glob("batch-*.npz")))
            return (f"{done} finished batch{'es' if done != 1 else ''} kept in {args.checkpoint_dir}; run the same "
                    "command again to resume (finished batches are loaded, not recomputed)")
        return ("nothing was kept (finished batches are kept only with --checkpoint-dir DIR); run the command "
                "again, with --checkpoint-dir DIR to make it resumable")
    if args.cmd == "figure" and args.name is not None:
        out = Path(_option_value(args.options, "--out") or f"out/{args.name}")
        try:
            saved = (out / "figure.json").stat().st_mtime >= started
        except OSError:
            saved = False
        if saved:
            return f"the results were saved in {out}; 'jaxsim replot {out}' draws the figure from them"
        return ("nothing was kept (a figure saves its results once all of its sweeps have finished); run the "
                "same command again to start over")
    return "nothing was kept; run the command again"


def main(argv=None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit code: 0, 2 for bad
    input (one ``jaxsim: error: ...`` line), 130 after Ctrl-C (one line on what was kept), 141 when
    stdout was closed early (``| head``; results are saved before anything is printed)."""
    args = build_parser().parse_args(argv)
    handler = {"list": _cmd_list, "run": _cmd_run, "bench": _cmd_bench, "figure": _cmd_figure,
               "replot": _cmd_replot}[args.cmd]
    started = time.time()
    try:
        if args.cpu_devices is not None:
            from .runtime.cpu_devices import use_cpu_devices

            use_cpu_devices(args.cpu_devices)
        if args.compile_cache is not None:
            from .runtime.compile_cache import enable_compile_cache

            if not str(args.compile_cache).strip():
                raise UsageError("--compile-cache: empty path; give a directory")
            try:
                enable_compile_cache(args.compile_cache)
            except ValueError as e:
                raise ValueError(f"--compile-cache: {e}") from None
        code = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handlers below
        return code
    except KeyboardInterrupt:
        lead = "\n" if sys.stderr.isatty() else ""  # after the terminal's ^C
        print(f"{lead}jaxsim: interrupted: {_interrupted(args, started)}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout went away (``| head``): stop quietly, as Unix tools do
        _drop_stdout()
        return 141
    except (ValueError, OSError) as e:  # bad input (the command line's or the library's checks): one line
        message = " ".join(str(e).split()) or type(e).__name__
        print(f"jaxsim: error: {message}", file=sys.stderr)
        return 2


def _drop_stdout() -> None:
    """Point stdout at the null device, so the interpreter's final flush of what is still buffered
    for a closed pipe raises nothing."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # stdout replaced (tests) or already closed
        pass


if __name__ == "__main__":
    sys.exit(main())
