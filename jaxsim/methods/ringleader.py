"""Ringleader ASGD (arXiv 2509.22860): optimal-time asynchronous SGD under data heterogeneity.

The server keeps a table with the running mean of each worker's gradients and steps
along the average of the *per-worker* means, so fast workers cannot dominate the
direction. Time is organised in rounds:

* **collect**: no updates; every arrival joins the table until each worker has at
  least one gradient in it;
* **update**: exactly ``n`` updates, one per worker, each triggered by that worker's
  next arrival (which joins the table first). Arrivals of workers already updated
  this round go to a second, temporary table;
* **transition**: the used table is dropped and the temporary one takes its place.

Nothing is discarded, and every applied delay is at most ``2n - 2``.

Option ``redispatch``:

* ``"own"`` (default, the paper): a worker gets a new point only at its own update;
  otherwise it keeps computing at the point it had, so all entries of a worker in one
  table share one point (one delay per worker per update);
* ``"current"`` (the authors' public simulator): every arrival that brings no update
  sends the worker the current model, so an entry may mix points.

State per run: two ``n x d`` tables of running means, their ``n`` counts and the two
``d``-vectors ``(1/n) sum_i mean_i``; each arrival costs O(d) (one row read and write,
no ``n x d`` pass). The engine keeps each worker's point (``n x d``), so memory is
``3 n d`` floats per run.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._tables import Tables, add_gradient, clear_table, empty_tables
from ..reference.rules import Rule
from .base import NEW, OWN, Commands, Decision, StreamMethod, reference_rule, register
from .hparams import GAMMA

REDISPATCH = ("own", "current")


class RingleaderState(NamedTuple):
    tables: Tables
    cur: jax.Array  # int32: index of the main table (the other one is the temporary table)
    updating: jax.Array  # bool: phase 2 (update) rather than phase 1 (collect)
    pending: jax.Array  # bool[n]: workers still owed their update in this round


@register
@dataclasses.dataclass(frozen=True)
class RingleaderASGD(StreamMethod):
    redispatch: str = "own"

    name = "ringleader"
    hparams = {"gamma": GAMMA}
    paper = "arXiv 2509.22860"
    masks_invalid = True

    def __post_init__(self):
        if self.redispatch not in REDISPATCH:
            raise ValueError(f"ringleader.redispatch must be one of {REDISPATCH}, got {self.redispatch!r}")

    @property
    def keeps_points(self):
        return self.redispatch == "own"

    def init(self, x0, hp, ctx, timing):
        n = ctx.tau.shape[0]
        return RingleaderState(tables=empty_tables(x0, n), cur=jnp.zeros((), jnp.int32),
                               updating=jnp.zeros((), bool), pending=jnp.zeros((n,), bool))

    def on_arrival(self, state, a, hp):
        i, cur = a.worker, state.cur
        to_main = ~state.updating | state.pending[i]
        tab = add_gradient(state.tables, jnp.where(to_main, cur, 1 - cur), i, a.grad, a.valid)
        full = jnp.all(tab.count[cur] > 0)
        start = a.valid & ~state.updating & full  # the collect phase ends with this arrival
        pending = jnp.where(start, True, state.pending)
        update = start | (a.valid & state.updating & state.pending[i])
        pending = pending.at[i].set(pending[i] & ~update)
        direction = tab.avg[cur]
        done = update & ~jnp.any(pending)  # n updates: the temporary table becomes the table
        tab = clear_table(tab, cur, done)
        new = RingleaderState(tables=tab, cur=jnp.where(done, 1 - cur, cur),
                              updating=(state.updating | start) & ~done, pending=pending)
        # "own": a worker gets a new point only at its own update
        reporter = jnp.where(update, NEW, OWN) if self.redispatch == "own" else NEW
        return new, Decision(direction=direction, step=hp["gamma"], update=update,
                             used=jnp.asarray(True), commands=Commands(reporter=reporter))


# -- reference rule (plain Python, read by jaxsim.reference) ------------------------------

@reference_rule(RingleaderASGD)
class RingleaderRule(Rule):
    """Rounds of collect (fill the table) and update (one update per worker); arrivals of
    workers already updated this round wait in a second table. Tables hold the gradients
    themselves; the direction is recomputed from scratch at every update."""

    def __init__(self, method, hp, n, dim):
        super().__init__(method, hp, n, dim)
        self.table = [[] for _ in range(n)]
        self.later = [[] for _ in range(n)]
        self.updating = False
        self.pending = set()

    def arrival(self, srv, worker, delay, g):
        if not self.updating or worker in self.pending:
            self.table[worker].append(g)
        else:
            self.later[worker].append(g)
        if not self.updating and all(self.table):
            self.updating, self.pending = True, set(range(self.n))
        if not (self.updating and worker in self.pending):
            return True, (OWN if self.method.redispatch == "own" else NEW)
        srv.step(self.hp["gamma"], np.mean([np.mean(gs, axis=0) for gs in self.table], axis=0))
        self.pending.discard(worker)
        if not self.pending:  # n updates done: the waiting gradients form the next table
            self.table, self.later = self.later, [[] for _ in range(self.n)]
            self.updating = False
        return True, NEW
