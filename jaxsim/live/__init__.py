"""Simulation against reality: run a method on real worker processes, replay it, compare.

* :func:`live` (:mod:`jaxsim.live.run`): ``n`` worker processes on this machine
  (:mod:`jaxsim.live.workers`) compute the problem's keyed stochastic gradients and wait out
  the seed's drawn durations (scaled to wall time); the server (:mod:`jaxsim.live.core`, driven
  by :mod:`jaxsim.live.server`) applies the method's reference rule to each result as it really
  arrives, cancelling, idling and restarting workers as the rule says. The event log and the
  metrics over wall time are a :class:`LiveLog` (:mod:`jaxsim.live.log`), saved with provenance.
* :func:`replay` (:mod:`jaxsim.live.replay`): the jitted engine on the live run's own measured
  durations; the arrival order, update counts and metric curves compared.
* :mod:`jaxsim.live.calibration`: the measured overheads (communication, server time) and the
  simulator's communication model (:class:`~jaxsim.timing.Comm`) fitted to them.

Live runs serve the stream and controlled clocks (methods that take arrivals one at a time).
"""

from .calibration import band_overlap, calibrate, calibrated_timing, distance, overheads
from .core import STATUS
from .log import LiveLog
from .replay import RecordedTiming, replay
from .run import live
from .server import WorkerFailure

__all__ = ["LiveLog", "RecordedTiming", "STATUS", "WorkerFailure", "band_overlap", "calibrate", "calibrated_timing",
           "distance", "live", "overheads", "replay"]
