"""Method registry: one file per method, each registered here by name.

Tests, the CLI and sweeps iterate over :data:`REGISTRY`, so a new method is picked
up everywhere (including the reference-oracle test, which then requires a
reference implementation) by adding its file and one line below.
"""

from __future__ import annotations

from .asgd import ASGD
from .base import GAMMA, Arrival, Decision, HParam, Method
from .delay_adaptive import DelayAdaptiveASGD
from .hero import HeroSGD
from .mindflayer import MindFlayerSGD
from .minibatch import MinibatchSGD
from .naive_optimal import NaiveOptimalASGD
from .rennala import RennalaSGD
from .rennala_stops import RennalaStops
from .ringmaster import RingmasterASGD
from .ringmaster_stops import RingmasterStops

REGISTRY: dict[str, type[Method]] = {}


def register(cls: type[Method]) -> type[Method]:
    """Add a method class to the registry under ``cls.name``."""
    if cls.name in REGISTRY:
        raise ValueError(f"method name {cls.name!r} is already registered")
    REGISTRY[cls.name] = cls
    return cls


for _cls in (HeroSGD, ASGD, DelayAdaptiveASGD, RennalaSGD, RingmasterASGD, NaiveOptimalASGD,
             RingmasterStops, RennalaStops, MinibatchSGD, MindFlayerSGD):
    register(_cls)


def make_method(name: str, **options) -> Method:
    """Instantiate a registered method by name with its static options."""
    if name not in REGISTRY:
        raise ValueError(f"method: unknown name {name!r}; registered: {sorted(REGISTRY)}")
    try:
        return REGISTRY[name](**options)
    except TypeError as e:
        raise ValueError(f"method {name!r}: bad option: {e}") from None


__all__ = ["ASGD", "Arrival", "Decision", "DelayAdaptiveASGD", "GAMMA", "HParam", "HeroSGD",
           "Method", "MindFlayerSGD", "MinibatchSGD", "NaiveOptimalASGD", "REGISTRY", "RennalaSGD",
           "RennalaStops", "RingmasterASGD", "RingmasterStops", "make_method", "register"]
