"""The reference oracle: plain Python heap loops (one per clock) and one plain server.

Each method's rule lives beside the method, in its own file (``method.rule``); the loops
here are generic. See :mod:`jaxsim.reference.loops`.
"""

from .loops import LOOPS, rule_of, run, run_allocation, run_controlled, run_rounds, run_stream
from .rules import IDLE, NEW, OWN, AllocationRule, ControlledRule, RoundRule, Rule, greedy_minmax
from .server import Server

__all__ = ["AllocationRule", "ControlledRule", "IDLE", "NEW", "OWN", "RoundRule", "Rule", "Server", "greedy_minmax",
           "LOOPS", "rule_of", "run", "run_allocation", "run_controlled", "run_rounds", "run_stream"]
