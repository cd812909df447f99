"""jaxsim: a JAX simulator of asynchronous and heterogeneous-worker SGD methods.

Pipeline: a :class:`~jaxsim.timing.TimingModel` samples job durations; a clock
(:mod:`jaxsim.sim`: free-running streams, controlled events, task allocation, rounds)
decides who reports when and hands each arrival to one server, which applies the
method's rule (:mod:`jaxsim.methods`) to a problem (:mod:`jaxsim.problems`) inside one
jitted scan. :func:`~jaxsim.sweep.sweep` vmaps it over seeds and hyperparameter grids;
:mod:`jaxsim.reference` is the plain-Python oracle and :mod:`jaxsim.theory` holds the
papers' closed forms. ``JAXSIM_COMPILE_CACHE=DIR`` turns on JAX's persistent compilation
cache (:mod:`jaxsim.runtime.compile_cache`); :func:`use_cpu_devices` splits the host CPU into several
devices for sharded sweeps (:mod:`jaxsim.runtime.cpu_devices`).

The package root holds only the public faces (this module, :mod:`jaxsim.sweep`,
:mod:`jaxsim.cli`, :mod:`jaxsim.bench`); the rest lives in subpackages by job: ``timing``,
``sim``, ``methods``, ``problems``, ``results``, ``reference``, ``theory``, ``runtime``,
``figures``. One older path is kept: ``jaxsim.jobs`` is :mod:`jaxsim.methods.jobs` (registered
under both names), so methods written as ``from jaxsim.jobs import PAIR, local_steps`` keep
working; new code imports these from :mod:`jaxsim.methods`.

Importing :mod:`jaxsim` imports no JAX: each public name below is imported when first used
(``jaxsim.sweep(...)``, ``from jaxsim import sweep``), so ``jaxsim --version`` and the command
line's parser start in a fraction of a second.
"""

import importlib as _importlib
import sys as _sys
import types as _types

from .runtime.compile_cache import enable_from_environment as _enable_from_environment

__version__ = "0.1.0"

#: Each public name and the module it lives in (relative to this package).
_PUBLIC = {
    "enable_compile_cache": "runtime.compile_cache", "enable_from_environment": "runtime.compile_cache",
    "use_cpu_devices": "runtime.cpu_devices",
    "EventStream": "sim.events", "Horizon": "sim.events", "free_running": "sim.events", "sample_stream": "sim.events",
    "REGISTRY": "methods", "Method": "methods", "make_method": "methods", "register": "methods",
    "jobs": "jobs", "theory": "theory",
    "check": "reference.check",
    "PROBLEMS": "problems", "Problem": "problems", "from_loss": "problems", "make_problem": "problems",
    "worst_case_quadratic": "problems",
    "SweepResult": "sweep", "simulate": "sweep", "sweep": "sweep",
    "SpeedProfile": "timing", "TimingModel": "timing", "make_timing": "timing",
    "live": "live", "replay": "live",
}
#: Public names that are modules themselves.
_MODULES = {"jobs", "theory"}


def __getattr__(name):
    """A public name, imported on first use (PEP 562); a subpackage (``jaxsim.problems``) too."""
    where = _PUBLIC.get(name)
    if where is None:
        import pkgutil

        if name.startswith("_") or name not in {m.name for m in pkgutil.iter_modules(__path__)}:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return _importlib.import_module(f"{__name__}.{name}")
    module = _importlib.import_module(f"{__name__}.{where}")
    value = module if name in _MODULES else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))


def _function_of_module(name: str) -> property:
    """The package attribute ``name``: the function ``name`` of the module ``jaxsim.name``, also
    after that module is imported (the import system then sets the package's attribute to the
    module; that assignment is ignored, any other, e.g. a test's monkeypatch, kept)."""
    def get(self):
        value = vars(self).get(name)
        if value is None or isinstance(value, _types.ModuleType):
            value = getattr(_importlib.import_module(f"{__name__}.{name}"), name)
        return value

    def set_(self, value):
        vars(self)[name] = value

    return property(get, set_)


class _Package(_types.ModuleType):
    """The package's module type: ``jaxsim.sweep`` is :func:`jaxsim.sweep.sweep` and ``jaxsim.live``
    is :func:`jaxsim.live.live` (:func:`_function_of_module`); the subpackage ``jaxsim.live`` itself
    is ``sys.modules["jaxsim.live"]``."""

    sweep = _function_of_module("sweep")
    live = _function_of_module("live")


_sys.modules[__name__].__class__ = _Package

_enable_from_environment()

__all__ = ["EventStream", "Horizon", "Method", "PROBLEMS", "Problem", "REGISTRY", "SpeedProfile",
           "SweepResult", "TimingModel", "check", "enable_compile_cache", "free_running", "from_loss", "live",
           "make_method", "make_problem", "make_timing", "register", "replay", "sample_stream", "simulate", "sweep",
           "theory", "use_cpu_devices", "worst_case_quadratic"]
