"""jaxsim: a JAX simulator of asynchronous and heterogeneous-worker SGD methods.

Pipeline: a :class:`~jaxsim.timing.TimingModel` samples job durations, which become an
event stream (:mod:`jaxsim.events`); the engine (:mod:`jaxsim.engine`) applies a
method's rule (:mod:`jaxsim.methods`) to a problem (:mod:`jaxsim.problems`) over the
stream in one jitted ``lax.scan``; :func:`~jaxsim.sweep.sweep` vmaps that over seeds
and hyperparameter grids. :mod:`jaxsim.reference` is the plain-Python oracle.
"""

from .events import EventStream, Horizon, free_running, sample_stream
from .methods import REGISTRY, Method, make_method, register
from .problems import PROBLEMS, Problem, from_loss, make_problem, worst_case_quadratic
from .sweep import SweepResult, simulate, sweep
from .timing import TimingModel, make_timing

__version__ = "0.1.0"

__all__ = ["EventStream", "Horizon", "Method", "PROBLEMS", "Problem", "REGISTRY", "SweepResult",
           "TimingModel", "free_running", "from_loss", "make_method", "make_problem", "make_timing",
           "register", "sample_stream", "simulate", "sweep", "worst_case_quadratic"]
