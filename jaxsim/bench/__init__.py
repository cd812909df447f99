"""Throughput benchmarks: the engine against the synchronous kernel of each clock and problem.

* :func:`run` (``jaxsim bench``): the free-running engine on the quadratic against the
  reference loop, the synchronous kernel and a floor kernel (:mod:`jaxsim.bench.default`).
* :func:`measure` (``jaxsim bench --method M --problem P``) and :func:`suite` (``jaxsim bench
  --suite``: one method per clock x quadratic, logistic, MLP, LM): the engine's run-events per
  second against its clock's synchronous kernel over the same batch, with compile time and
  peak memory (:mod:`jaxsim.bench.cases`).
* :mod:`jaxsim.bench.kernels`: the synchronous kernels, one per clock, and exactly what each
  computes.
"""

from .cases import Case, case_for, measure, suite, suite_cases
from .default import best_interleaved, floor_batch, run, sync_batch
from .kernels import SYNC, loop_sync, stream_sync, sync_call

__all__ = ["Case", "SYNC", "best_interleaved", "case_for", "floor_batch", "loop_sync", "measure", "run",
           "stream_sync", "suite", "suite_cases", "sync_batch", "sync_call"]
