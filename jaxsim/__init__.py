"""jaxsim: a JAX simulator of asynchronous and heterogeneous-worker SGD methods.

Pipeline: a :class:`~jaxsim.timing.TimingModel` samples job durations, which become an
event stream (:mod:`jaxsim.events`); the engine (:mod:`jaxsim.engine`) applies a
method's rule (:mod:`jaxsim.methods`) to a problem (:mod:`jaxsim.problems`) over the
stream in one jitted ``lax.scan``. Methods that cancel, idle or synchronize workers run
on a controlled event loop inside the scan instead (:mod:`jaxsim.control`).
:func:`~jaxsim.sweep.sweep` vmaps either over seeds and hyperparameter grids;
:mod:`jaxsim.reference` is the plain-Python oracle and :mod:`jaxsim.theory` holds the
papers' closed forms.
"""

from .events import EventStream, Horizon, free_running, sample_stream
from .methods import REGISTRY, Method, make_method, register
from . import theory
from .problems import PROBLEMS, Problem, from_loss, make_problem, worst_case_quadratic
from .speed import SpeedProfile
from .sweep import SweepResult, simulate, sweep
from .timing import TimingModel, make_timing

__version__ = "0.1.0"

__all__ = ["EventStream", "Horizon", "Method", "PROBLEMS", "Problem", "REGISTRY", "SpeedProfile",
           "SweepResult", "TimingModel", "free_running", "from_loss", "make_method", "make_problem",
           "make_timing", "register", "sample_stream", "simulate", "sweep", "theory",
           "worst_case_quadratic"]
