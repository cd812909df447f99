"""Methods: one file each, registered by the :func:`register` decorator in that file.

Every module of this package is imported here (no list to edit), so a new method is
one new file: its class, decorated with ``@register``, and its plain-NumPy reference
rule, decorated with ``@reference_rule(Class)``. Tests, the CLI and sweeps iterate over
:data:`REGISTRY`, so the method is then picked up everywhere, the reference-oracle test
included. A method defined outside the package registers the same way, once its module
is imported.

Besides the methods, the package holds what they share: :mod:`~jaxsim.methods.base` (the
method kinds and :func:`register`), :mod:`~jaxsim.methods.hparams` (:class:`HParam`),
:mod:`~jaxsim.methods.jobs`, :mod:`~jaxsim.methods.lmo_ops` (linear minimization oracles over
parameter pytrees) and, private, ``_lmo_base`` (the LMO methods' options and direction),
``_allocation`` and ``_tables``.

What a worker computes per job (:mod:`jaxsim.methods.jobs`: :data:`GRADIENT`, :data:`PAIR`,
:func:`local_steps`, ...) is exported here too; ``jaxsim.jobs`` is kept as another name of
that module (see :mod:`jaxsim`).
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import (
    IDLE,
    NEW,
    OWN,
    REGISTRY,
    RoundEnv,
    RoundMethod,
    RoundResult,
    AllocationMethod,
    Arrival,
    Commands,
    ControlledMethod,
    Decision,
    EventMethod,
    Method,
    SeedContext,
    StreamMethod,
    Workers,
    reference_rule,
    register,
)

from .hparams import COUNT_MAX, GAMMA, HParam
from .jobs import GRADIENT, PAIR, Job, LocalSteps, Pair, PairGradient, local_keys, local_steps
from ._lmo_base import CODE_FORM  # the LMO methods' code-form options, public

for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_") and _info.name != "base":
        importlib.import_module(f"{__name__}.{_info.name}")


def make_method(method, **options) -> Method:
    """A registered method by name, instantiated with its static options; a :class:`Method`
    instance is returned as it is (its options were given to its constructor)."""
    if isinstance(method, Method):
        if options:
            raise ValueError(f"method_options: {sorted(options)} given with a {type(method).__name__} instance; "
                             "pass them to its constructor")
        return method
    if not isinstance(method, str):
        raise ValueError(f"method: expected a name or a Method, got {type(method).__name__}")
    if method not in REGISTRY:
        raise ValueError(f"method: unknown name {method!r}; registered: {sorted(REGISTRY)}")
    try:
        return REGISTRY[method](**options)
    except TypeError as e:
        raise ValueError(f"method {method!r}: bad option: {e}") from None


__all__ = ["AllocationMethod", "Arrival", "CODE_FORM", "COUNT_MAX", "Commands", "ControlledMethod", "Decision",
           "EventMethod", "GAMMA", "GRADIENT", "HParam", "IDLE", "Job", "LocalSteps", "Method", "NEW", "OWN", "PAIR",
           "Pair", "PairGradient", "REGISTRY", "RoundEnv", "RoundMethod", "RoundResult", "SeedContext", "StreamMethod",
           "Workers", "local_keys", "local_steps", "make_method", "reference_rule", "register"]
