"""The names the command line shows, readable without importing JAX.

``jaxsim --help``, ``jaxsim run --help``, a command-line error and ``jaxsim list`` need only names
and texts: the methods with their hyperparameters and static options, the problems with their
command-line options, the timing base profiles and noise laws, the speed profiles and the
metrics. The registries that hold them import JAX (seconds), so the command line reads them from
``catalog.json`` beside this module, written from the registries by::

    python -m jaxsim.catalog          # rewrite jaxsim/catalog.json (after adding a method or a problem)
    python -m jaxsim.catalog --check  # exit 1, saying what differs, when the file is stale

``tests/cli/test_catalog.py`` fails when the file and the registries disagree. At run time
:func:`load` does not trust the file, and reads the registries themselves, when the methods
package holds a module the file does not list (a method added without rewriting the file) or
when the registries are imported already (then they cost nothing, and they include any method a
user registered in this process).
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

#: The stored catalog.
PATH = Path(__file__).with_name("catalog.json")
_METHODS_DIR = Path(__file__).with_name("methods")


def method_modules() -> list:
    """The modules of :mod:`jaxsim.methods` that it imports (every one but ``base`` and the
    private ``_*`` helpers), read from the folder without importing them."""
    names = {p.stem for p in _METHODS_DIR.glob("*.py")}
    names |= {p.name for p in _METHODS_DIR.iterdir() if (p / "__init__.py").is_file()}
    return sorted(n for n in names if not n.startswith("_") and n != "base")


def live(*, package_only: bool = False) -> dict:
    """The catalog read from the registries (imports JAX); ``package_only``: only the methods
    defined in this package (what :func:`write` stores), not ones a user registered."""
    import dataclasses

    from .methods import REGISTRY
    from .problems import PROBLEMS
    from .problems.options import cli_spec
    from .sim.server import METRICS
    from .timing import BASE_PROFILES, NOISE_LAWS, SpeedProfile

    def options(cls):
        fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
        return [[f.name, repr(f.default)] for f in fields]

    methods = {}
    for name in sorted(REGISTRY):
        cls = REGISTRY[name]
        if package_only and not cls.__module__.startswith(__package__ + "."):
            continue
        specs = getattr(cls, "hparams", None) or {}
        methods[name] = {"hparams": [[k, str(getattr(s, "default", "?")), getattr(s, "doc", "")]
                                     for k, s in specs.items()],
                         "options": options(cls)}
    problems = {}
    for name in PROBLEMS:  # registry order: the order of --help's problem options
        spec = cli_spec(PROBLEMS[name])
        problems[name] = {"workers": spec.workers,
                          "options": [{"dest": o.dest, "kind": o.kind, "choices": list(o.choices), "help": o.help,
                                       "required": bool(o.required)} for o in spec.options]}

    def speed(name):
        sig = inspect.signature(getattr(SpeedProfile, name))
        sig = sig.replace(parameters=[q.replace(annotation=q.empty) for q in sig.parameters.values()],
                          return_annotation=sig.empty)
        return f"SpeedProfile.{name}{sig}"

    speeds = sorted(k for k, v in vars(SpeedProfile).items() if isinstance(v, classmethod))
    return {"methods": methods, "problems": problems, "base_profiles": sorted(BASE_PROFILES),
            "noise_laws": sorted(NOISE_LAWS), "speed_profiles": [[k, speed(k)] for k in speeds],
            "metrics": list(METRICS), "method_modules": method_modules()}


def stored(path=PATH) -> dict | None:
    """The catalog in ``path`` (``None`` when the file is missing or unreadable)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load() -> dict:
    """The catalog the command line shows: the stored one, unless it cannot be trusted (see the
    module's docstring), then :func:`live`."""
    if f"{__package__}.methods" not in sys.modules:
        cat = stored()
        if cat is not None and cat.get("method_modules") == method_modules():
            return cat
    return live()


def option_table(cat: dict) -> dict:
    """``{dest: [(problem, option), ...]}`` over the catalog's problems, in registry order, each option
    with ``dest``, ``kind``, ``choices`` (a tuple), ``help`` and ``required``. An option that
    several problems take must be read the same way by all of them (a ``ValueError`` otherwise)."""
    table = {}
    for name, problem in cat["problems"].items():
        for o in problem["options"]:
            table.setdefault(o["dest"], []).append((name, SimpleNamespace(**{**o, "choices": tuple(o["choices"])})))
    for dest, entries in table.items():
        if len({(o.kind, o.choices) for _, o in entries}) > 1:
            raise ValueError(f"problem option --{dest.replace('_', '-')}: read differently by "
                             f"{', '.join(f'{n} ({o.kind})' for n, o in entries)}; give it one kind")
    return table


def differences(a: dict, b: dict) -> list:
    """What differs between two catalogs, one line per entry (empty: the same)."""
    out = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if isinstance(x, dict) and isinstance(y, dict):
            for name in sorted(set(x) | set(y)):
                if x.get(name) != y.get(name):
                    out.append(f"{key}: {name}: {x.get(name)!r} != {y.get(name)!r}")
        elif x != y:
            out.append(f"{key}: {x!r} != {y!r}")
    return out


def write(path=PATH) -> Path:
    """Write :func:`live` (this package's methods only) to ``path``, atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(live(package_only=True), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m jaxsim.catalog", description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if the stored catalog is stale")
    args = p.parse_args(argv)
    if args.check:
        diff = differences(stored() or {}, live(package_only=True))
        for line in diff:
            print(line)
        if diff:
            print(f"{PATH} is stale: run 'python -m jaxsim.catalog' to rewrite it", file=sys.stderr)
        return 1 if diff else 0
    print(f"wrote {write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
