"""What a sweep returns: :class:`SweepResult` (:mod:`jaxsim.results.sweep_result`), also
exported as ``jaxsim.SweepResult`` and ``jaxsim.sweep.SweepResult``; the statistics every
summary reports (:mod:`jaxsim.results.summary`: diverged runs left out and counted, grid edges)."""

from .summary import edges_text, grid_edges, left_out_text, run_stats, stats_text
from .sweep_result import SweepResult, jsonable

__all__ = ["SweepResult", "edges_text", "grid_edges", "jsonable", "left_out_text", "run_stats", "stats_text"]
