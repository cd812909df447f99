"""How long jobs take: base times, per-job noise, speed profiles, communication times.

* :mod:`~jaxsim.timing.model` -- :class:`TimingModel` (``D[w, j] = tau_w + eta[w, j]``, each
  duration from its own key), :func:`make_timing`, base-time profiles, :class:`Comm`.
* :mod:`~jaxsim.timing.noise` -- the per-job noise laws (:data:`NOISE_LAWS`).
* :mod:`~jaxsim.timing.speed` -- :class:`SpeedProfile`, the universal computation model.

Every public name of the three is exported here (``from jaxsim.timing import TimingModel,
HalfNormal, SpeedProfile``).
"""

from .model import ArrayLike, BASE_PROFILES, Comm, TimingModel, base_times, job_key, make_timing, validate_durations
from .noise import (
    NOISE_LAWS,
    AlphaBernoulli,
    ExpLevyMix,
    Exponential,
    HalfCauchy,
    HalfNormal,
    InfBernoulli,
    Levy,
    LogCauchy,
    LogNormal,
    Noise,
    NoNoise,
    Pareto,
    Uniform,
)
from .speed import SpeedProfile, chained_finish

__all__ = ["AlphaBernoulli", "ArrayLike", "BASE_PROFILES", "Comm", "ExpLevyMix", "Exponential", "HalfCauchy",
           "HalfNormal", "InfBernoulli", "Levy", "LogCauchy", "LogNormal", "NOISE_LAWS", "NoNoise", "Noise", "Pareto",
           "SpeedProfile", "TimingModel", "Uniform", "base_times", "chained_finish", "job_key", "make_timing",
           "validate_durations"]
