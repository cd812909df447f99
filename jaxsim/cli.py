"""Command line: ``jaxsim list | run | check | bench | figure | replot | live | replay``."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from . import __version__
from .figures import FIGURES

#: The top-level ``--help`` text (plain text: no reStructuredText markup in any ``--help``).
DESCRIPTION = ("Simulate asynchronous SGD methods in simulated wall-clock time. 'jaxsim list' shows every "
               "name you can use (methods and their hyperparameters, problems and their options, timing "
               "models, speed profiles, metrics, figures); 'jaxsim run' simulates one method over a grid; "
               "'jaxsim bench' measures throughput; 'jaxsim figure' reproduces a paper figure; 'jaxsim live' runs a "
               "method on real worker processes and 'jaxsim replay' holds the simulator against it. "
               "'jaxsim COMMAND --help' lists a command's options.")


class UsageError(ValueError):
    """A bad command line: printed as one ``jaxsim: error: ...`` line, exit code 2."""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends each option's default to its help, except where it has none (``None``, a flag that is off)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


class OneLineErrors:
    """An ``argparse.ArgumentParser`` mixin: a parse error is one line,
    ``PROG: error: MESSAGE (see 'PROG --help')``, exit code 2, no usage block (every parser of
    the command line, the figures' own included)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _Parser(OneLineErrors, argparse.ArgumentParser):
    """argparse with defaults in ``--help`` and one-line errors (exit code 2, no usage block).
    Each parser keeps the tokens it last parsed (``tokens``), so that ``jaxsim run --from``
    can tell the options given from their defaults."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)
        self.tokens = []

    def parse_known_args(self, args=None, namespace=None):
        self.tokens = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)


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
# Each registered problem declares its options beside its builder (jaxsim.problems.options); the
# command line reads them from there.

#: How each kind of problem option is read (:data:`jaxsim.problems.options.KINDS`).
_KIND_ARGS = {
    "count": dict(type=_positive_int), "real": dict(type=float), "seed": dict(type=_data_seed),
    "path": dict(metavar="PATH"), "choice": dict(), "flag": dict(action="store_true", default=None),
}
#: What the help of an option of a kind says once for every problem.
_KIND_NOTES = {"seed": "Each an integer in [0, 2**32)", "path": "Nothing is downloaded"}


def _spec(name: str):
    from .problems import PROBLEMS
    from .problems.options import cli_spec

    return cli_spec(PROBLEMS[name])


def problem_builder(name: str):
    """What ``jaxsim run --problem NAME`` calls: the problem's command-line builder, if it declares
    one, else its registered builder."""
    from .problems import PROBLEMS

    return _spec(name).build or PROBLEMS[name]


def problem_options(name: str) -> dict:
    """``{option dest: builder parameter}`` of registered problem ``name`` on the command line
    (``n``: the run's ``--n``, for problems with per-worker data)."""
    spec = _spec(name)
    out = {o.dest: o.param for o in spec.options}
    if spec.workers:
        out["n"] = spec.workers
    return out


def _option_table() -> dict:
    """``{dest: [(problem, Option), ...]}`` over the registered problems, in registry order; an
    option several problems take must be read the same way by all of them."""
    from .problems import PROBLEMS

    table = {}
    for name in PROBLEMS:
        for o in _spec(name).options:
            table.setdefault(o.dest, []).append((name, o))
    for dest, entries in table.items():
        if len({(o.kind, o.choices) for _, o in entries}) > 1:
            raise ValueError(f"problem option {_flag(dest)}: read differently by "
                             f"{', '.join(f'{n} ({o.kind})' for n, o in entries)}; give it one kind")
    return table


def _option_help(entries) -> str:
    """One option's help: each problem's own, problems with the same text grouped."""
    tail = _KIND_NOTES.get(entries[0][1].kind, "")
    groups = {}
    for name, o in entries:
        groups.setdefault(o.help, []).append(name)
    text = "; ".join(f"{', '.join(names)}: {help_}" for help_, names in groups.items())
    return text + (f". {tail}" if tail else "")


def _make_problem(args):
    """``(problem, builder keyword arguments)``: ``--problem`` built from the options it declares;
    a given option it does not take, or a missing required one, is a one-line error."""
    from .problems import PROBLEMS

    name = args.problem
    if name not in PROBLEMS:
        raise UsageError(f"--problem: unknown name {name!r}; choose one of {sorted(PROBLEMS)} ('jaxsim list')")
    spec = _spec(name)
    opts = {o.dest: o for o in spec.options}
    given = {d for d in _option_table() if getattr(args, d) is not None}
    takes = ", ".join(_flag(d) for d in problem_options(name)) or "no options"
    for dest in sorted(given - set(opts)):
        raise UsageError(f"{_flag(dest)}: problem {name!r} does not take it (it takes {takes})")
    for o in spec.options:
        if o.required and getattr(args, o.dest) is None:
            raise UsageError(f"{_flag(o.dest)}: problem {name!r} needs it: {o.required}")
    for o in spec.options:
        if o.dest in given and o.only_with and getattr(args, o.only_with) is None:
            raise UsageError(f"{_flag(o.dest)}: problem {name!r} uses it only with {_flag(o.only_with)}")
        if o.dest in given and o.only_without and getattr(args, o.only_without) is not None:
            raise UsageError(f"{_flag(o.dest)}: problem {name!r} uses it only without {_flag(o.only_without)}")
    kwargs, flags = {}, {}
    if spec.workers:
        kwargs[spec.workers], flags[spec.workers] = args.n, "--n"
    for o in spec.options:
        if (o.only_with and getattr(args, o.only_with) is None) or (
                o.only_without and getattr(args, o.only_without) is not None):
            continue  # not given (checked above), and its default does not apply either
        v = getattr(args, o.dest)
        v = o.default if v is None else v
        if v is not None:
            kwargs[o.param] = v if o.convert is None else o.convert(v)
            flags[o.param] = _flag(o.dest)
    try:
        return problem_builder(name)(**kwargs), kwargs
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
    be a directory (``directory=True``) or a file name, and a file must be creatable in its
    folder, or, where that folder is missing (it is created when writing), in its nearest
    existing ancestor. The check creates and removes a temporary file there: permission bits
    alone say nothing for root, nor for a read-only or virtual file system (``/proc``)."""
    if not str(path).strip():
        raise UsageError(f"{flag}: empty path; give a {'directory' if directory else 'file name'}")
    path = Path(path)
    try:
        if path.exists():
            if directory and not path.is_dir():
                raise UsageError(f"{flag}: {path} is a file; give a directory (created if missing)")
            if not directory and path.is_dir():
                raise UsageError(f"{flag}: {path} is a directory; give a file name such as {path / 'results.npz'}")
            if not directory and not os.access(path, os.W_OK):
                raise UsageError(f"{flag}: {path} is not writable")
        folder = path if directory else path.parent
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise UsageError(f"{flag}: cannot create {folder}: {existing} is a file, not a directory")
        try:
            fd, probe = tempfile.mkstemp(prefix=".jaxsim-probe-", suffix=".tmp", dir=existing)
        except OSError as e:
            raise UsageError(f"{flag}: cannot create a file in {existing} ({e.strerror or e})") from None
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UsageError(f"{flag}: {path}: {e.strerror or e}") from None


# ---- commands -----------------------------------------------------------------------------------

def _cmd_list(args) -> int:
    from . import catalog
    from .figures import describe

    cat = catalog.load()  # the stored catalog: no JAX imported (jaxsim.catalog)

    def hparams(name):
        specs = cat["methods"][name]["hparams"]
        text = "--hp " + ", ".join(f"{k}={default} ({doc})" for k, default, doc in specs) if specs \
            else "no hyperparameters"
        opts = cat["methods"][name]["options"]
        if opts:
            text += "\n      --opt " + ", ".join(f"{k}={v}" for k, v in opts)
        return text

    def options(name):
        problem = cat["problems"][name]
        opts = [_flag(o["dest"]) + (" (required)" if o["required"] else "") for o in problem["options"]]
        opts += ["--n"] if problem["workers"] else []
        return "options: " + (", ".join(opts) or "none")

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
    groups = {  # title: (hint, [(name, detail)])
        "methods": ("jaxsim run METHOD --hp NAME=VALUE,... --opt KEY=VALUE; defaults shown",
                    [(m, hparams(m)) for m in sorted(cat["methods"])]),
        "problems": ("jaxsim run METHOD --problem NAME [its options]",
                     [(q, options(q)) for q in sorted(cat["problems"])]),
        "timing base profiles": ("jaxsim run --base NAME", [(k, None) for k in cat["base_profiles"]]),
        "timing noise laws": ("jaxsim run --noise NAME", [(k, None) for k in cat["noise_laws"]]),
        "speed profiles": ("the universal computation model, Python only: TimingModel(speed=...)",
                           cat["speed_profiles"]),
        "metrics": ("jaxsim run --select NAME; SweepResult.metrics",
                    [(k, metric_doc.get(k)) for k in [*cat["metrics"], "proxy_regret"]]),
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


def _parse_value(text: str):
    """A method option's value: an integer, a float, true/false, none, or else the text itself."""
    t = text.strip()
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "none":
        return None
    for cast in (int, float):
        try:
            return cast(t)
        except ValueError:
            pass
    return t


def _parse_opts(items) -> dict:
    """``--opt key=value`` items: a method's static options (e.g. ``redispatch=current``)."""
    opts = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or not text.strip():
            raise UsageError(f"--opt: expected key=value, got {item!r}")
        if key in opts:
            raise UsageError(f"--opt {key}: given twice")
        opts[key] = _parse_value(text)
    return opts


def method_options(cls) -> dict:
    """A method class's static options (its dataclass fields) and their defaults."""
    import dataclasses

    return {f.name: f.default for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {}


def _make_method(name: str, items):
    """The registered method ``name`` with its ``--opt`` options (``UsageError`` naming the option)."""
    from .methods import REGISTRY, make_method

    opts = _parse_opts(items)
    if name in REGISTRY:
        known = method_options(REGISTRY[name])
        unknown = sorted(set(opts) - set(known))
        if unknown:
            raise UsageError(f"--opt {unknown[0]}: {name} has no such option; its options: "
                             + (", ".join(f"{k}={v!r}" for k, v in known.items()) or "none"))
    try:
        return make_method(name, **opts)
    except ValueError as e:
        raise UsageError(f"--opt: {' '.join(str(e).split())}") from None


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


#: ``jaxsim run``'s options that make a run's numbers, besides the problem's own: recorded with
#: its results (``info["command"]["run"]``), and what ``--from FILE`` takes from the file.
_RUN_CONFIG = ("method", "problem", "n", "base", "noise", "horizon", "points", "seeds", "hp", "opt")
#: ``jaxsim run``'s options that ``--from`` takes besides the file: where and how it runs and prints.
_RUN_FROM_OK = ("--out", "--checkpoint-dir", "--devices", "--select", "--json")


def _check_names(args) -> None:
    """``jaxsim run``'s checks that need only names, before JAX is imported (fast one-line errors):
    the method, its ``--opt`` keys and the ``--problem``, against the catalog (:mod:`jaxsim.catalog`)."""
    from . import catalog

    cat = catalog.load()
    if args.method not in cat["methods"]:
        raise UsageError(f"METHOD: unknown method {args.method!r}; choose one of {sorted(cat['methods'])} "
                         "('jaxsim list')")
    known = dict(cat["methods"][args.method]["options"])
    unknown = sorted(set(_parse_opts(args.opt)) - set(known))
    if unknown:
        raise UsageError(f"--opt {unknown[0]}: {args.method} has no such option; its options: "
                         + (", ".join(f"{k}={v}" for k, v in known.items()) or "none"))
    if args.problem not in cat["problems"]:
        raise UsageError(f"--problem: unknown name {args.problem!r}; choose one of {sorted(cat['problems'])} "
                         "('jaxsim list')")


class _Unset(list):
    """The placeholder of an option not given (a list, so that ``action="extend"`` can extend it)."""


def _run_config(args) -> dict:
    """The options of ``args`` that make the run's numbers, as JSON (problem paths made absolute,
    so that the file can be run again from another folder)."""
    out = {d: getattr(args, d) for d in _RUN_CONFIG}
    for dest, entries in _option_table().items():  # the problem's options given (None: not given)
        v = getattr(args, dest)
        if v is not None:
            out[dest] = os.path.abspath(v) if entries[0][1].kind == "path" else v
    return out


def _given_options(args) -> list:
    """The dests of the ``jaxsim run`` options given on the command line (not left at their
    defaults): the run's parser reads its tokens again into a namespace of placeholders."""
    parser = args.run_parser
    probe = argparse.Namespace(**{k: _Unset() for k in vars(args)})
    parser.parse_known_args(list(parser.tokens), probe)
    return [k for k, v in vars(probe).items()
            if not (isinstance(v, _Unset) and not v) and not (k == "method" and v is None)]


def _load_recorded(args) -> None:
    """``--from FILE``: the run's options (:data:`_RUN_CONFIG` and the problem's) from the
    command line recorded in ``FILE``; refused, in one line, when some are also given."""
    from .results import SweepResult

    config = set(_RUN_CONFIG) | set(_option_table())
    clash = [d for d in _given_options(args) if d in config]
    if clash:
        flags = ", ".join("METHOD" if d == "method" else _flag(d) for d in clash)
        raise UsageError(f"--from: {flags} cannot be given with it: the run is made again as recorded in the "
                         f"file (only {', '.join(_RUN_FROM_OK)} may be given)")
    try:
        saved = SweepResult.load(args.from_file)
    except (ValueError, FileNotFoundError) as e:
        raise UsageError(f"--from: {' '.join(str(e).split())}") from None
    command = saved.info.get("command") if isinstance(saved.info, dict) else None
    recorded = command.get("run") if isinstance(command, dict) else None
    if not isinstance(recorded, dict):
        raise UsageError(f"--from: {args.from_file} records no 'jaxsim run' command line (saved from Python, by a "
                         "figure, or by an older jaxsim); only results of 'jaxsim run ... --out FILE' can be run again")
    unknown = sorted(set(recorded) - config)
    if unknown or "method" not in recorded:
        raise UsageError(f"--from: {args.from_file} records options this jaxsim does not know: "
                         f"{unknown or ['(no method)']}")
    for dest, value in recorded.items():
        setattr(args, dest, value)


def _hard_bounds(method) -> dict:
    """``{hyperparameter: (lo, hi)}``: the values no grid can go past (a count's 1, or 0 where 0
    is allowed; a fraction's 1), so a best setting there is not on an edge of the grid."""
    out = {}
    for name, spec in (getattr(method, "hparams", None) or {}).items():
        kind = getattr(spec, "kind", None)
        if kind == "count":
            out[name] = (0 if getattr(spec, "zero", False) else 1, None)
        elif kind == "fraction":
            out[name] = (None, 1.0)
        elif kind == "nonnegative":
            out[name] = (0.0, None)
    return out


def _warnings(best: dict) -> list:
    """The summary's warnings about a suspect best setting (:meth:`SweepResult.best`'s flags)."""
    from .results import edges_text

    out = []
    if best.get("edges"):
        out.append(f"the best setting sits on the grid's edge ({edges_text(best['edges'])}): widen the grid")
    if best.get("improved") is False:
        out.append(f"no setting ends below its start ({best['metric']} {best['start']:.3g} -> {best['value']:.3g}): "
                   "the grid learned nothing")
    return out


def _cmd_run(args) -> int:
    # every check on the command line runs before anything is sampled, compiled or simulated; the
    # paths and names before JAX is imported
    if args.out is not None:
        _check_writable("--out", args.out, directory=False)
    if args.checkpoint_dir is not None:
        _check_writable("--checkpoint-dir", args.checkpoint_dir, directory=True)
    if args.from_file is not None:
        _load_recorded(args)
    elif args.method is None:
        raise UsageError("METHOD: give a registered method ('jaxsim list'), or --from FILE to run a saved run again")
    hp = _parse_hp(args.hp)
    _check_names(args)

    from . import make_timing, sweep
    from .results import stats_text
    from .results.recipe import describe_value
    from .sim.server import METRICS

    method = _make_method(args.method, args.opt)
    problem, problem_kwargs = _make_problem(args)
    metrics = METRICS + ("proxy_regret",)
    select = args.select or ("loss_gap" if problem.f_star is not None else "loss")
    if select not in metrics:
        raise UsageError(f"--select: unknown metric {select!r}; choose one of {list(metrics)}")
    if select == "loss_gap" and problem.f_star is None:
        raise UsageError(f"--select loss_gap: problem {args.problem!r} has no known f*, so f - f* is not "
                         "recorded; use --select loss (f, the same best setting)")
    noise_kw = {"var": "i"} if args.noise == "halfnormal" else {}
    try:
        timing = make_timing(args.n, args.base, args.noise, **noise_kw)
        res = sweep(method, problem, timing, seeds=args.seeds, grid=hp, horizon=args.horizon,
                    num_points=args.points, checkpoint_dir=args.checkpoint_dir, devices=args.devices,
                    progress=False if args.no_progress else "bar" if sys.stderr.isatty() else "lines")
    except ValueError as e:
        if isinstance(e, UsageError):
            raise
        raise UsageError(_name_option(" ".join(str(e).split()), _RUN_FIELDS)) from None
    # what makes the run again: the registered problem and its options, the command line
    res.info["config"]["problem"].update(registered=args.problem,
                                         options={k: describe_value(v) for k, v in problem_kwargs.items()})
    res.info["command"] = dict(argv=["jaxsim", *args.argv], cwd=os.getcwd(), run=_run_config(args),
                               **({} if args.from_file is None else {"from": os.path.abspath(args.from_file)}))
    # saved before anything is printed: a closed stdout (``| head -1``) cannot lose the results
    args.saved = None if args.out is None else res.save(Path(args.out))
    kept = f" (the results are saved in {args.saved})" if args.saved else ""

    events = res.final("received")[0].max()  # arrivals of the seed's busiest setting
    sizes = {d: len(res.coords[d]) for d in res.grid_dims}
    names = [m for m in ("loss_gap", "loss", "grad_norm_sq", "updates", "discarded") if m in res.metrics]
    final = {m: res.final_stats(m) for m in names}  # diverged runs left out, and counted
    best, warnings = None, []
    if res.grid_dims:
        if select not in res.metrics:
            raise UsageError(f"--select {select}: not recorded by {res.method}; recorded: {sorted(res.metrics)}{kept}")
        try:
            b = res.best(select, bounds=_hard_bounds(method))
            best = {"metric": select, "hparams": b["hparams"], "value": b["value"], "excluded": b["excluded"],
                    "edges": b["edges"], "start": b["start"], "improved": b["improved"]}
            warnings = _warnings(best)
        except ValueError as e:  # every setting diverged: still report and save the runs
            best = {"metric": select, "hparams": None, "error": str(e)}
    summary = {
        "method": res.method, "problem": args.problem, "n": args.n, "d": res.info.get("d"),
        "seeds": list(args.seeds), "grid": {d: res.coords[d] for d in res.grid_dims}, "grid_sizes": sizes,
        "fixed": res.fixed, "horizon": args.horizon, "points": args.points,
        "gradients_received": int(events), "seconds": res.info["seconds_total"],
        "devices": res.info["devices"], "mesh": list(res.info["mesh"]),
        "final": final, "runs": int(res.diverged.size), "diverged": int(res.diverged.sum()), "best": best,
        "warnings": warnings, "saved": None if args.saved is None else str(args.saved),
        "from": args.from_file,
    }
    if args.json:  # one JSON object on stdout (non-finite numbers as null)
        print(json.dumps(_plain(summary), allow_nan=False))
        return 0
    print(f"method {res.method}: {len(args.seeds)} seed(s), grid {sizes}, "
          f"{events} gradients received (seed {args.seeds[0]}), {res.info['seconds_total']:.2f} s"
          + (f" on {res.info['devices']} devices (mesh {res.info['mesh']})" if res.info["devices"] > 1 else ""))
    for m, s in final.items():
        print(f"  final {m:13s} {stats_text(s)}")
    print(f"  diverged runs {summary['diverged']} of {summary['runs']}"
          + (" (left out of the statistics above)" if summary["diverged"] else ""))
    if best is not None:
        print(f"  best (final {select}): {best['hparams'] if best['hparams'] is not None else best['error']}")
    for w in warnings:
        print(f"  warning: {w}")
    if args.saved is not None:
        print(f"  saved {args.saved}")
    return 0


def _methods_of_file(path: Path) -> list:
    """The methods a ``.py`` file registers (``@register``), imported as a module of its own."""
    import importlib.util

    from .methods import REGISTRY

    if not path.is_file():
        raise UsageError(f"METHOD_OR_FILE: {str(path)!r} is neither a registered method nor a file")
    loaded = [m for m in list(sys.modules.values())
              if getattr(m, "__file__", None) and Path(m.__file__).resolve() == path.resolve()]
    if loaded:  # imported already (e.g. by the caller): its methods are registered
        return [name for name, cls in REGISTRY.items() if cls.__module__ == loaded[0].__name__]
    before = dict(REGISTRY)
    spec = importlib.util.spec_from_file_location(f"jaxsim_user_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # the user's file: say which and why, in one line
        raise UsageError(f"{path}: importing it failed: {type(e).__name__}: {e}") from None
    new = [name for name, cls in REGISTRY.items() if before.get(name) is not cls]
    if not new:
        raise UsageError(f"{path}: registers no method (decorate its class with @register)")
    return new


def _cmd_check(args) -> int:
    from .methods import REGISTRY
    from .reference.check import check

    names = [args.method] if args.method in REGISTRY else _methods_of_file(Path(args.method))
    if args.opt and len(names) > 1:
        raise UsageError(f"--opt: {args.method} registers {len(names)} methods; check them one at a time")
    failed = 0
    for name in names:
        report = check(_make_method(name, args.opt), seed=args.seed, configs=args.configs)
        print(report)
        failed += not report.ok
    return 1 if failed else 0


#: ``jaxsim bench``'s options for the fields its library errors name.
_BENCH_FIELDS = (
    (r"problem", "--problem"),
    (r"(workers\b|timing\.n\b)", "--n"),
    (r"d\b", "--d"),
    (r"(horizon|events)", "--events"),
    (r"(hyperparameter|method)", "--method"),
)


def _bench_json(args, result) -> None:
    """``--json``: the JSON line alone on stdout (no FILE), or the JSON written to FILE."""
    text = json.dumps(_plain(result), allow_nan=False)
    if args.json in (None, "-"):
        print(text)
        return
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(text + "\n")
    print(f"JSON written to {args.json}")


def _cmd_bench(args) -> int:
    if args.json not in (None, "-"):
        _check_writable("--json", args.json, directory=False)
    if args.suite:
        given = [f for f, v in (("--method", args.method), ("--problem", args.problem), ("--d", args.d),
                                ("--n", args.n), ("--events", args.events)) if v is not None]
        if given:
            raise UsageError(f"--suite: runs its own cases; drop {', '.join(given)} (or drop --suite to "
                             "benchmark one method on one problem)")
        return _bench_suite(args)
    if args.method is None and args.problem is None:
        if args.n is not None:
            raise UsageError("--n: the default benchmark has n = 100 workers; give --method or --problem to set it")
        return _bench_default(args)
    return _bench_one(args)


def _bench_default(args) -> int:
    from . import bench

    r = bench.run(events=20_000 if args.events is None else args.events, **({} if args.d is None else {"d": args.d}))
    if args.json != "-":
        print(f"engine      {r['engine_run_events_per_s']:.3e} run-events/s ({r['runs']} runs, d={r['d']}, n={r['n']})")
        print(f"reference   {r['reference_run_events_per_s']:.3e} run-events/s")
        print(f"synchronous {r['sync_run_events_per_s']:.3e} run-events/s (same draws, gradient at the current model)")
        print(f"floor       {r['floor_run_events_per_s']:.3e} run-events/s (same draws, one axpy per event)")
        print(f"speedup vs reference {r['speedup_vs_reference']:.1f}x; fraction of synchronous "
              f"{r['fraction_of_sync']:.2f}; fraction of floor {r['fraction_of_floor']:.2f}; "
              f"compile {r['compile_s']:.2f} s")
    if args.json in (None, "-"):
        print(json.dumps(r))
    else:
        _bench_json(args, r)
    return 0


def _bench_one(args) -> int:
    from . import catalog

    method = "ringmaster" if args.method is None else args.method
    names = catalog.load()["methods"]
    if method not in names:
        raise UsageError(f"--method: unknown method {method!r}; choose one of {sorted(names)} ('jaxsim list')")
    from .bench import cases

    problem = "quadratic" if args.problem is None else args.problem
    if problem not in cases.PROBLEMS:
        raise UsageError(f"--problem: unknown benchmark problem {problem!r}; choose one of {sorted(cases.PROBLEMS)}")
    try:
        case = cases.case_for(method, problem, d=args.d, n=args.n, events=args.events)
        r = cases.measure(case, repeats=args.repeats)
    except ValueError as e:
        if isinstance(e, UsageError):
            raise
        raise UsageError(_name_option(" ".join(str(e).split()), _BENCH_FIELDS)) from None
    if args.json != "-":
        print(f"{r['method']} on {r['problem']} ({r['clock']} clock): {r['runs']} runs x {r['events_per_run']:.0f} "
              f"gradients received, d={r['d']}, n={r['n']}, {r['backend']}")
        print(f"engine      {r['engine_run_events_per_s']:.3e} run-events/s (compile {r['compile_s']:.1f} s, "
              f"peak {r['peak_rss_mib']:.0f} MiB resident)")
        print(f"synchronous {r['sync_run_events_per_s']:.3e} run-events/s (compile {r['sync_compile_s']:.1f} s, "
              f"peak {r['sync_peak_rss_mib']:.0f} MiB resident; the same gradients at the current model)")
        print(f"fraction of synchronous {r['fraction_of_sync']:.3g}")
    _bench_json(args, r)
    return 0


def _bench_suite(args) -> int:
    from .bench import cases

    quiet = args.json == "-"
    load = os.getloadavg()
    if not quiet:
        print(f"jaxsim bench --suite: load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
        print(cases.table_header(), flush=True)
    out = cases.suite(repeats=args.repeats, on_row=None if quiet else lambda row: print(cases.table_line(row),
                                                                                           flush=True))
    out.update(load_before=list(load), load_after=list(os.getloadavg()))
    if not quiet:
        print(f"{len(out['rows'])} cases in {out['seconds']:.0f} s ({len(out['skipped'])} skipped); load average "
              f"{out['load_after'][0]:.2f} {out['load_after'][1]:.2f} {out['load_after'][2]:.2f}")
    _bench_json(args, out)
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
    # the figure's parser checks --out again as it reads it (its default, an abbreviated flag)
    return base.main(module, args.options, check_out=lambda path: _check_writable("--out", path, directory=True))


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


def _cmd_live(args) -> int:
    _check_writable("--out", args.out, directory=False)
    hp = _parse_hp(args.hp)
    for k, v in hp.items():
        if isinstance(v, list):
            raise UsageError(f"--hp {k}: a live run takes one value per hyperparameter")

    from .live import live
    from .timing import make_timing

    method = _make_method(args.method, args.opt)
    noise_kw = {"var": "i"} if args.noise == "halfnormal" else {}
    timing = make_timing(args.n, args.base, args.noise, **noise_kw)
    log = live(method.name, "quadratic", timing, hparams=hp, seed=args.seed, horizon=args.horizon,
               time_scale=args.time_scale, num_points=args.points, method_options=_parse_opts(args.opt),
               problem_options={"d": args.d, "noise_scale": args.noise_scale}, stall=args.stall,
               startup_timeout=args.startup_timeout, out=args.out)
    arr, ov = log.arrays, log.header["overheads"]
    print(f"{method.name}: {arr['arrivals/worker'].size} arrivals, {int(arr['metric/updates'][-1])} updates, "
          f"f = {arr['metric/loss'][-1]:.6g} after {args.horizon:g} simulated s "
          f"({args.horizon * args.time_scale:g} wall s; workers started in {log.header['startup']:.1f} s)")
    print("overheads (mean ms): " + ", ".join(f"{k} {v['mean_ms']:.3f}" for k, v in ov.items()))
    print(f"log saved in {args.out}")
    if log.error is not None:
        print(f"jaxsim: live run ended early: {log.error}; the log up to then is saved in {args.out}",
              file=sys.stderr)
        return 1
    return 0


def _cmd_replay(args) -> int:
    from .live import LiveLog, calibrate, replay

    log = LiveLog.load(args.log)
    rep = replay(log)
    rep.pop("result")
    if args.calibrate:
        rep["calibration"] = calibrate(log)
    if args.json:
        print(json.dumps(_plain(rep)))
        return 0
    o = rep["order"]
    if o["identical"]:
        print(f"arrival order: identical ({o['arrivals_live']} arrivals)")
    else:
        d = o["first_divergence"]
        def side(a):
            if a is None:
                return "none (ran out)"
            lag = "" if a["dispatch_lag"] is None else f", sent {a['dispatch_lag']:.3g} s later live than replayed"
            return f"worker {a['worker']} job {a['job']} at {a['time']:.4g} s{lag}"
        print(f"arrival order: first divergence at arrival {d['index']} of {o['arrivals_live']}: live "
              f"{side(d['live'])}; replay {side(d['replay'])} (simulated seconds; the server's own time before "
              "a job delays it live, not in the replay)")
    u = rep["updates"]
    print(f"updates: live {u['live']}, replay {u['replay']}")
    for m, v in rep["timed"].items():
        print(f"{m:14s} largest relative difference: {v:.3g} on the recording times, "
              f"{rep['by_update'][m]['max_rel']:.3g} at equal update counts")
    if args.calibrate:
        c = rep["calibration"]
        for k in ("before", "after"):
            print(f"simulation of the same draws, {k} calibration: mean |log10 difference| of {c[k]['metric']} "
                  f"{c[k]['mean_log']:.3g}, "
                  f"updates {c[k]['updates_sim']:.0f} vs live {c[k]['updates_live']:.0f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser, built from the stored catalog of names (:mod:`jaxsim.catalog`),
    so that parsing, ``--help`` and argument errors import no JAX."""
    from . import catalog
    from .runtime.cpu_devices import ENV, max_cpu_devices

    try:
        from .runtime.cpu_devices import default_cpu_devices

        default_here = f"{default_cpu_devices()} here"
    except ValueError:
        default_here = f"${ENV} is not a count"
    cat = catalog.load()
    bases, noises = cat["base_profiles"], cat["noise_laws"]

    p = _Parser(prog="jaxsim", description=DESCRIPTION)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                   help="print the version and exit")
    p.add_argument("--compile-cache", metavar="DIR", default=None,
                   help="keep compiled kernels in DIR (JAX's persistent compilation cache), so later runs "
                        "with the same shapes skip compiling (default: $JAXSIM_COMPILE_CACHE, else off)")
    p.add_argument("--cpu-devices", metavar="K", type=_cpu_devices, default=None,
                   help="split the CPU into K JAX devices (XLA_FLAGS=--xla_force_host_platform_device_count=K), "
                        "so sweeps shard their batches over K cores where that shortens them; same numbers. "
                        f"At most 4 per core ({max_cpu_devices()} here) (default: ${ENV}, else one per core, "
                        f"{default_here}; 1: one device)")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND", title="commands",
                           help="'jaxsim COMMAND --help' lists its options")
    sub.add_parser("list", help="every name you can use: methods (with hyperparameters), problems (with options), "
                   "timing models, speed profiles, metrics, figures",
                   description="List every name you can use: methods and their hyperparameters (--hp), problems "
                   "and their options, timing base profiles and noise laws, speed profiles, metrics, figures.")

    r = sub.add_parser("run", help="simulate one method (optionally over a grid) and print a summary",
                       description="Simulate METHOD for every seed and every setting of the --hp grid, then print "
                       "a summary (or, with --json, one JSON object): each final metric's median, min and max over "
                       "the runs that did not diverge (those left out are counted), the best setting, and a "
                       "warning when it sits on the grid's edge or ends no better than it started. Each problem "
                       "takes its own options ('jaxsim list' shows which). The saved results record the problem, "
                       "timing and method configuration and the command line; --from FILE runs such a file again.")
    r.set_defaults(run_parser=r)
    r.add_argument("method", nargs="?", metavar="METHOD", help="a registered method ('jaxsim list'); "
                   "omitted with --from")
    r.add_argument("--from", dest="from_file", metavar="FILE", help="run again the 'jaxsim run' saved in FILE "
                   "(--out of an earlier run), from the configuration it records: the same method, problem and its "
                   "options, timing, seeds, grid and sizes, so the same numbers. METHOD and the options that set "
                   "these are refused with it; --out, --checkpoint-dir, --devices, --select and --json may be given")
    r.add_argument("--problem", default="quadratic", help="a registered problem ('jaxsim list')")
    g = r.add_argument_group("problem options", "each problem takes the options it declares beside its "
                             "builder; 'jaxsim list' shows which")
    for dest, entries in catalog.option_table(cat).items():
        o = entries[0][1]
        g.add_argument(_flag(dest), **_KIND_ARGS[o.kind], **({"choices": o.choices} if o.choices else {}),
                       help=_option_help(entries))
    r.add_argument("--n", type=_positive_int, default=100, help="number of workers (also the problem's, "
                   "for problems with per-worker data)")
    r.add_argument("--base", default="one_plus_sqrt", choices=bases, metavar="NAME",
                   help=f"base compute time of each worker: {', '.join(bases)}")
    r.add_argument("--noise", default="halfnormal", choices=noises, metavar="NAME",
                   help="random part of each compute time, a noise law ('jaxsim list'; halfnormal: "
                   "|N(0, w + 1)| for worker w)")
    r.add_argument("--horizon", type=_seconds, default=200.0, help="simulated seconds")
    r.add_argument("--points", type=_positive_int, default=50, help="recording intervals (metrics at points + 1 times)")
    r.add_argument("--seeds", type=_seed, nargs="+", default=[0], help="seeds, distinct integers in [0, 2**63) "
                   "(each gives its own durations and noise)")
    r.add_argument("--hp", nargs="+", action="extend", metavar="NAME=VALUES",
                   help="hyperparameters: name=value (fixed) or name=v1,v2,... (a grid axis); each name once; "
                   "unset ones take the method's defaults ('jaxsim list')")
    r.add_argument("--opt", nargs="+", action="extend", metavar="KEY=VALUE",
                   help="the method's static options, e.g. --opt redispatch=current ('jaxsim list' shows each "
                   "method's options and defaults)")
    r.add_argument("--select", help="metric whose final value (median over seeds) picks the best setting "
                   "(default: loss_gap when the problem knows f*, else loss)")
    r.add_argument("--out", metavar="FILE", help="save the labeled results (.npz) with the configuration and "
                   "command line that make them again (--from); checked before simulating (a file is created and "
                   "removed in its folder), written before the summary is printed")
    r.add_argument("--checkpoint-dir", metavar="DIR", help="make the run resumable: save each finished batch "
                   "in DIR (created if missing); re-running the same command skips finished batches, and a DIR "
                   "holding another configuration is refused (default: no checkpoints)")
    r.add_argument("--devices", type=_positive_int, metavar="K", help="shard the runs over the first K devices of "
                   "JAX's default backend (default: all of them; 1: no sharding)")
    r.add_argument("--json", action="store_true", help="print one JSON object (method, grid, seeds, final "
                   "medians, best setting, diverged count) instead of the text summary")
    r.add_argument("--no-progress", action="store_true", help="no progress on stderr (default: a bar on a terminal, "
                   "else a plain line about every 30 s)")

    c = sub.add_parser("check", help="run a method (registered, or your own .py file) against its reference rule",
                       description="Simulate randomized small configurations of METHOD_OR_FILE with the jitted "
                       "engine and with its plain-Python reference rule (the same durations and gradient draws, "
                       "float64) and compare every recorded metric; exit 1 if any differs. A .py file is imported "
                       "and every method it registers (@register, with its @reference_rule) is checked.")
    c.add_argument("method", metavar="METHOD_OR_FILE", help="a registered method ('jaxsim list') or a .py file")
    c.add_argument("--opt", nargs="+", action="extend", metavar="KEY=VALUE", help="the method's static options")
    c.add_argument("--seed", type=_seed, default=0, help="draws the configurations (another seed, another set)")
    c.add_argument("--configs", type=_positive_int, help="configurations per worker-count bucket (default: the "
                   "clock's, 4 to 10)")

    b = sub.add_parser("bench", help="engine vs synchronous kernel: throughput, per clock and problem",
                       description="Measure the engine's throughput (run-events per second: gradients received) "
                       "against the synchronous kernel of its clock and problem over the same batch, keys and "
                       "counts, with compile time and peak memory. Without --method/--problem/--suite: Ringmaster "
                       "ASGD on the quadratic against the reference loop, the synchronous and the floor kernels.")
    b.add_argument("--method", help="a registered method (default ringmaster when --problem is given)")
    b.add_argument("--problem", help="quadratic, logistic, mlp or lm (default quadratic when --method is given)")
    b.add_argument("--d", type=_positive_int, help="dimension: the quadratic's, the logistic's features (default 100)")
    b.add_argument("--n", type=_positive_int, help="workers (default: the problem's suite size)")
    b.add_argument("--events", type=_positive_int,
                   help="events per run (default 20000; with --method/--problem the problem's suite size)")
    b.add_argument("--suite", action="store_true", help="one method per clock x quadratic, logistic, mlp, lm: a table")
    b.add_argument("--repeats", type=_positive_int, default=3, help="interleaved timed calls (the best counts)")
    b.add_argument("--json", nargs="?", const="-", metavar="FILE",
                   help="write the results as JSON to FILE; without FILE print only the JSON line")

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

    lv = sub.add_parser("live", help="run a method on real worker processes (one per worker) and log what happened",
                        description="Run METHOD live: one process per worker computes the quadratic's keyed "
                        "stochastic gradients and waits out the seed's drawn durations (times --time-scale); this "
                        "process is the server and applies the method's reference rule to each result as it "
                        "arrives (cancelling, idling, restarting workers as the rule says). Writes the event log "
                        "and the metrics over wall time to --out ('jaxsim replay' reads it). A worker that dies or "
                        "stalls ends the run with a message naming it (exit code 1); the log so far is saved.")
    lv.add_argument("method", metavar="METHOD", help="a registered method on the stream or controlled clock "
                    "('jaxsim list')")
    lv.add_argument("--n", type=_positive_int, default=8, help="workers (processes)")
    lv.add_argument("--base", default="one_plus_sqrt", choices=bases, metavar="NAME",
                    help=f"base compute time of each worker: {', '.join(bases)}")
    lv.add_argument("--noise", default="halfnormal", choices=noises, metavar="NAME",
                    help="random part of each compute time, a noise law ('jaxsim list')")
    lv.add_argument("--d", type=_positive_int, default=20, help="dimension of the quadratic")
    lv.add_argument("--noise-scale", type=float, default=0.01, help="gradient noise s of the quadratic")
    lv.add_argument("--horizon", type=_seconds, default=100.0, help="simulated seconds")
    lv.add_argument("--time-scale", type=_seconds, default=0.01, help="wall seconds per simulated second")
    lv.add_argument("--points", type=_positive_int, default=50, help="recording intervals")
    lv.add_argument("--seed", type=_seed, default=0, help="the seed of the durations and gradient noise")
    lv.add_argument("--hp", nargs="+", action="extend", metavar="NAME=VALUE", help="hyperparameters (one value each)")
    lv.add_argument("--opt", nargs="+", action="extend", metavar="KEY=VALUE", help="the method's static options")
    lv.add_argument("--out", metavar="FILE", default="live.npz", help="where to save the log (.npz)")
    lv.add_argument("--stall", type=_seconds, default=10.0, help="wall seconds a worker may stay silent past its "
                    "job's end before the run ends")
    lv.add_argument("--startup-timeout", type=_seconds, default=300.0, help="wall seconds the workers may take to "
                    "start")

    ry = sub.add_parser("replay", help="replay a live run's log in the simulator and compare",
                        description="Run the jitted engine with the live run's own measured durations (server send "
                        "to server receipt) and report the arrival order (identical, or the first divergence), the "
                        "update counts and the metrics' largest relative difference, on the recording times and at "
                        "equal update counts. --calibrate also fits a communication model to the measured overheads "
                        "and reports the simulator's distance to the live run before and after.")
    ry.add_argument("log", metavar="LOG", help="a log written by 'jaxsim live'")
    ry.add_argument("--calibrate", action="store_true", help="also calibrate the communication model")
    ry.add_argument("--json", action="store_true", help="print one JSON object")
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
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # the command line, recorded with the results of 'jaxsim run'
    handler = {"list": _cmd_list, "run": _cmd_run, "check": _cmd_check, "bench": _cmd_bench, "figure": _cmd_figure,
               "replot": _cmd_replot, "live": _cmd_live, "replay": _cmd_replay}[args.cmd]
    started = time.time()
    try:
        from .runtime.cpu_devices import apply_default, use_cpu_devices

        if args.cpu_devices is not None:
            use_cpu_devices(args.cpu_devices)
        else:
            apply_default()
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
