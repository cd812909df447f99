"""The simulation core: one server and four clocks.

* :mod:`~jaxsim.sim.server` — one run's model, counters and point store, and the only
  code that applies a method's decision (``x <- x - step * u``) and records metrics;
* clocks decide who reports when, and nothing else: :mod:`~jaxsim.sim.stream`
  (free-running, pre-sampled arrivals), :mod:`~jaxsim.sim.controlled` (an event loop in
  the scan for methods that cancel, idle or synchronize workers) and
  :mod:`~jaxsim.sim.allocation` (per-iteration task allocation) and
  :mod:`~jaxsim.sim.rounds` (methods that run whole rounds on their own models);
* :mod:`~jaxsim.sim.driver` — a compiled loop over recording intervals of runs vmapped over
  seeds x settings, the same for every clock, run in segments that carry the batch's state
  (Ctrl-C between two), and the one batch runner;
* :mod:`~jaxsim.sim.clocktime` — the loop clocks' time, exact whatever the model's float type.

A method names its clock (``Method.clock``, set by its kind); :data:`~jaxsim.sim.clocks.CLOCKS`
maps each name to what the clock accepts and how it sets up a batch (:func:`jaxsim.sweep.sweep`
looks it up; nothing else branches on a method's kind).
"""

from . import allocation, clocktime, controlled, rounds, stream
from .clocks import CLOCKS, Clock, clock_of
from .driver import Setup, run_batch, run_setup
from .server import METRICS, SGD

__all__ = ["CLOCKS", "Clock", "METRICS", "SGD", "Setup", "allocation", "clock_of", "clocktime", "controlled", "rounds",
           "run_batch", "run_setup", "stream"]
