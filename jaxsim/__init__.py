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
"""

import sys as _sys

from .runtime.compile_cache import enable_compile_cache, enable_from_environment
from .runtime.cpu_devices import use_cpu_devices
from .sim.events import EventStream, Horizon, free_running, sample_stream
from .methods import REGISTRY, Method, jobs, make_method, register
from . import theory
from .reference.check import check
from .problems import PROBLEMS, Problem, from_loss, make_problem, worst_case_quadratic
from .sweep import SweepResult, simulate, sweep
from .timing import SpeedProfile, TimingModel, make_timing

__version__ = "0.1.0"

#: Kept public path: ``jaxsim.jobs`` (``import jaxsim.jobs``, ``from jaxsim.jobs import ...``) is
#: :mod:`jaxsim.methods.jobs`, the module itself, not a copy.
_sys.modules[__name__ + ".jobs"] = jobs

enable_from_environment()

__all__ = ["EventStream", "Horizon", "Method", "PROBLEMS", "Problem", "REGISTRY", "SpeedProfile",
           "SweepResult", "TimingModel", "check", "enable_compile_cache", "free_running", "from_loss", "make_method",
           "make_problem", "make_timing", "register", "sample_stream", "simulate", "sweep", "theory",
           "use_cpu_devices", "worst_case_quadratic"]
