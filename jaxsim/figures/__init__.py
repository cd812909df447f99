"""Paper figures, one module each, run by ``jaxsim figure NAME [--quick] [--forms paper|authors]``.

:data:`FIGURES` maps a figure's name to its module, imported only when asked for (:func:`load`).
Every module follows the protocol of :mod:`jaxsim.figures.base` (a ``Config`` with ``FULL``,
``QUICK`` and ``TINY`` presets, ``simulate``, ``summarize``, ``plot``); its docstring's first line
says what the figure shows (``jaxsim figure --list``) and the rest states the setup and the
paper's claim.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
import tokenize
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
    "live-vs-sim": "jaxsim.figures.live_vs_sim",
}


def load(name: str) -> ModuleType:
    """The module of figure ``name`` (imported now)."""
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; known: {', '.join(sorted(FIGURES))}")
    return importlib.import_module(FIGURES[name])


def describe(name: str) -> str:
    """One line on figure ``name``: the first line of its module's docstring, read from the
    source without importing the module (which imports JAX) unless it is imported already."""
    module = sys.modules.get(FIGURES.get(name, ""))
    doc = module.__doc__ if module is not None else _docstring(name)
    lines = (doc or "").strip().splitlines()
    return lines[0] if lines else ""


def _docstring(name: str):
    """The docstring of figure ``name``'s module: its first statement, when that is a string."""
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; known: {', '.join(sorted(FIGURES))}")
    spec = importlib.util.find_spec(FIGURES[name])
    with tokenize.open(spec.origin) as f:
        for tok in tokenize.generate_tokens(f.readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENCODING):
                continue
            return ast.literal_eval(tok.string) if tok.type == tokenize.STRING else None
    return None
