"""What a sweep returns: :class:`SweepResult` (:mod:`jaxsim.results.sweep_result`), also
exported as ``jaxsim.SweepResult`` and ``jaxsim.sweep.SweepResult``."""

from .sweep_result import SweepResult, jsonable

__all__ = ["SweepResult", "jsonable"]
