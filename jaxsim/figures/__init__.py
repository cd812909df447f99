"""Paper figures, one module each: ``jaxsim figure NAME [options]`` runs ``main(options)``.

:data:`FIGURES` maps a figure's name to its module, imported only when asked for
(:func:`load`); every module has a docstring (first line: what the figure shows, then
its setup and the paper's claim) and ``main(argv=None) -> int``, which parses that
figure's own options and runs it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

FIGURES = {
    "ringmaster-quadratic": "jaxsim.figures.ringmaster_quadratic",
    "mindflayer-heavy-tails": "jaxsim.figures.mindflayer_heavy_tails",
    "ringleader-mnist": "jaxsim.figures.ringleader_mnist",
    "rescaled-bias": "jaxsim.figures.rescaled_bias",
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


def format_hparams(hp: dict) -> str:
    """``gamma=5, R=4, alpha=0.05``: a setting as figures print and label it."""
    return ", ".join(f"{k}={v:g}" for k, v in hp.items())


def describe(name: str) -> str:
    """One line on figure ``name``: the first line of its module's docstring."""
    lines = (load(name).__doc__ or "").strip().splitlines()
    return lines[0] if lines else ""
