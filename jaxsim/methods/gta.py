"""GTA: greedy task allocation (ATA paper's baseline): everyone computes, the first ``B`` count.

Every worker starts at ``x^k`` when the iteration starts and keeps computing, one task after
another; the first ``B`` completions form the batch, all other work is stopped, and the
allocation is what the race realized (heterogeneous.md §7.4). It is Rennala SGD with stops
(``rennala_stops``, batch ``B``) run on the allocation clock (:func:`jaxsim.sim.allocation.race`):
the same iteration end times, job indices and worker time (``n`` x runtime), one loop step per
iteration instead of one per arrival, and the ``B`` gradients at ``x^k`` keyed by ``(seed, k,
slot)`` like every allocation method's, so on a homogeneous problem its trajectory per iteration
is FTA's, UTA's and ATA's (the authors' code; ``rennala_stops`` draws each gradient from its
``(worker, job)`` key instead). No allocation is chosen, so no ``proxy_regret`` is recorded.

Hyperparameters: ``gamma``, ``B``.
"""

from __future__ import annotations

import dataclasses

from ..reference.rules import AllocationRule
from ._allocation import TASKS
from .base import AllocationMethod, reference_rule, register
from .hparams import GAMMA


@register
@dataclasses.dataclass(frozen=True)
class GTA(AllocationMethod):
    name = "gta"
    hparams = {"gamma": GAMMA, "B": TASKS}
    paper = "arXiv 2502.00775 (GTA baseline); Rennala SGD with stops as a race"
    race = True


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(GTA)
class GTARule(AllocationRule):
    """Nothing to choose: the allocation loop runs the race itself (its ``method.race`` branch)."""
