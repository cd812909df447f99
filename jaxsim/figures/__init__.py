"""Paper figures, one module each, run by ``jaxsim figure NAME [--quick] [--forms paper|authors]``.

:data:`FIGURES` maps a figure's name to its module, imported only when asked for (:func:`load`).
Every module follows the protocol of :mod:`jaxsim.figures.base` (a ``Config`` with ``FULL``,
``QUICK`` and ``TINY`` presets, ``simulate``, ``summarize``, ``plot``); its docstring's first line
says what the figure shows (``jaxsim figure --list``) and the rest states the setup and the
paper's claim.
"""

from __future__ import annotations

import importlib
from types import ModuleType

FIGURES = {
    "ringmaster-quadratic": "jaxsim.figures.ringmaster_quadratic",
    "ringmaster-mnist": "jaxsim.figures.ringmaster_mnist",
    "rennala-scaling": "jaxsim.figures.rennala_scaling",
    "mindflayer-heavy-tails": "jaxsim.figures.mindflayer_heavy_tails",
    "ringleader-mnist": "jaxsim.figures.ringleader_mnist",
    "rescaled-bias": "jaxsim.figures.rescaled_bias",
    "rescaled-mnist": "jaxsim.figures.rescaled_mnist",
    "ata-quadratic": "jaxsim.figures.ata_quadratic",
    "ringmaster-lmo-lm": "jaxsim.figures.ringmaster_lmo_lm",
    "ringmaster-lmo-quadratic": "jaxsim.figures.ringmaster_lmo_quadratic",
    "dp-rbcd": "jaxsim.figures.dp_rbcd",
    "rennala-mvr-quadratic": "jaxsim.figures.rennala_mvr_quadratic",
    "loscar-a9a": "jaxsim.figures.loscar_a9a",
}


def load(name: str) -> ModuleType:
    """The module of figure ``name`` (imported now)."""
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; known: {', '.join(sorted(FIGURES))}")
    return importlib.import_module(FIGURES[name])


def describe(name: str) -> str:
    """One line on figure ``name``: the first line of its module's docstring."""
    lines = (load(name).__doc__ or "").strip().splitlines()
    return lines[0] if lines else ""
