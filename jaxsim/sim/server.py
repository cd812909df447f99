"""The server: one run's model, counters and point store, and the only code that applies a decision.

The free-running and controlled clocks (:mod:`jaxsim.sim.stream`, :mod:`~jaxsim.sim.controlled`)
hand each arrival to :func:`serve`. The allocation clock (:mod:`~jaxsim.sim.allocation`) has
no arrivals to serve: it steps with each iteration's mean gradient through
:func:`apply_update`, the one model update. The rounds clock (:mod:`~jaxsim.sim.rounds`) applies
no server update at all (its methods own their models); it only records :func:`model_metrics`
at the method's point. No clock copies the server's state.

Per run the server keeps the model ``x``, the update counter ``k``, each worker's start
counter ``s[w]``, a *point store*, the server optimizer's state, the method's state and
the arrival counters. A late job must be evaluated at the point it started from,
``x^{s[w]}``:

* ring store (``W x d``): slot ``m mod W`` holds ``x^m`` for the last ``W`` updates.
  Enough when the method never applies a delay ``>= W`` (Ringmaster: ``W = R``;
  Rennala: ``W = 1``) or the stream cannot produce one (ASGD: ``W = max delay + 1``).
  A job that also needs ``x^{s-1}`` (:class:`~jaxsim.methods.jobs.PairGradient`) needs one more slot.
* worker store (``n x d``): slot ``w`` holds the point worker ``w`` is working on; used
  when ``W`` would exceed ``n``, or when the method lets workers keep their points. Its
  row write is stored at the *next* event, before any read, so every read of the store
  in a step follows its only write and XLA updates it in place (else it may copy the
  whole store next to a method's own ``n x d`` tables).
* no store (``W = 0``): every job starts from the current model (allocation clock). A ring
  of one point (Rennala: ``W = 1``) is kept the same way: it would only ever hold ``x``.

Each event costs O(d): one row read, the job, one step, one row write. Decisions are
arithmetic masks (``jnp.where``), never ``lax.cond`` on batched data.

The server optimizer follows optax's convention: ``updates, opt_state =
optimizer.update(direction, opt_state, x)`` are descent updates, sign included (as every
optax optimizer returns them), and the server adds them scaled by the method's step,
``x <- x + step * updates``. The default optimizer is ``optax.sgd(1.0)``, whose updates are
``-direction``: plain SGD, ``x <- x - step * direction``. A bare ``scale_by_*`` transform
is a direction, not an update: end its chain with ``optax.scale_by_learning_rate(lr)``
(as optax's optimizers do) to descend.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ..methods.base import NEW, Arrival, Decision

#: The default server optimizer: updates ``-direction`` (plain SGD; the step is the method's).
SGD = optax.sgd(1.0)

#: What every clock records at each grid point (``loss`` is f(x); ``loss_gap`` is f(x) - f*, which
#: :func:`jaxsim.sweep.sweep` drops from its results when the problem has no known f*; ``batch_loss``
#: is the loss of the latest received job's sample at the point where it was computed, dropped when
#: the problem has none, see :attr:`jaxsim.problems.Problem.has_batch_loss`).
METRICS = ("busy_time", "loss", "loss_gap", "batch_loss", "grad_norm_sq", "updates", "received", "used", "discarded",
           "max_delay", "mean_delay", "diverged", "cancelled", "timeouts")


class Layout(NamedTuple):
    """How many past points a run keeps (``W``; 0: none) and whether per worker (static)."""

    W: int
    per_worker: bool = False
    pair: bool = False  # jobs also read x^{s-1}

    @property
    def current(self) -> bool:
        """Every job reads the current model: no store (``W = 0``), or a ring of one point, which
        always holds ``x^k`` (each event writes the model there), so it is read from ``x``."""
        return self.W == 0 or (self.W == 1 and not self.per_worker and not self.pair)


class Counters(NamedTuple):
    received: jax.Array
    used: jax.Array
    max_delay: jax.Array
    sum_delay: jax.Array
    batch_loss: jax.Array  # sample loss of the latest received job (NaN before the first)


class ServerState(NamedTuple):
    x: jax.Array
    k: jax.Array
    s: jax.Array  # int32[n] start counter of each worker's current job
    store: jax.Array  # [W, d] (``()`` without a store)
    pending: tuple  # worker store: (slot, row) written by the previous event, stored at this one
    opt_state: Any
    method_state: Any
    counters: Counters


def apply_step(x, step, updates):
    """``x + step * updates``: the engine's one model update (the reference server writes its own)."""
    return x + step * updates


def init_server(method, problem, optimizer, layout: Layout, n: int, hp, ctx, timing, x0=None) -> ServerState:
    """A run at time 0: every worker's job starts from ``x^0``.

    ``x0``: the starting point as a run-time input (the runner passes ``problem.init()``
    computed outside the kernel); ``None`` evaluates ``problem.init()`` here, where XLA may
    constant-fold it and the store built from it (slow to compile at large ``d``)."""
    x0 = problem.init() if x0 is None else x0
    d = x0.shape[0]
    if layout.current:
        store = ()
    elif layout.per_worker:
        store = jnp.broadcast_to(x0, (layout.W, d))
    else:  # slot 0 holds x^0; the other slots are only read for delays the method discards
        store = jnp.zeros((layout.W, d), x0.dtype).at[0].set(x0)
    zero = jnp.zeros((), jnp.int32)
    return ServerState(
        x=x0, k=zero, s=jnp.zeros((n,), jnp.int32), store=store,
        pending=(zero, x0) if layout.per_worker else (),
        opt_state=optimizer.init(x0), method_state=method.init(x0, hp, ctx, timing),
        counters=Counters(zero, zero, zero, jnp.zeros((), x0.dtype), jnp.full((), jnp.nan, x0.dtype)))


def job_points(layout: Layout, srv: ServerState, w) -> tuple[ServerState, tuple]:
    """The point(s) worker ``w``'s current job started from: ``(x^s,)``, or ``(x^s, x^{s-1})``
    for pair jobs; lands the worker store's deferred write first."""
    s_w = srv.s[w]
    if layout.per_worker:
        store = srv.store.at[srv.pending[0]].set(srv.pending[1])
        srv = srv._replace(store=store)
        return srv, (store[w],)
    if layout.current:
        return srv, (srv.x,)
    here = srv.store[s_w % layout.W]
    if not layout.pair:
        return srv, (here,)
    before = jnp.where(s_w > 0, srv.store[(s_w - 1) % layout.W], here)  # x^{-1} := x^0
    return srv, (here, before)


def apply_update(optimizer, srv: ServerState, direction, step, update) -> ServerState:
    """``x <- x + step * optimizer(direction)`` where ``update`` (optax's descent updates;
    ``x - step * direction`` for the default SGD); ``k`` counts updates."""
    u, opt_new = optimizer.update(direction, srv.opt_state, srv.x)
    return srv._replace(
        x=jnp.where(update, apply_step(srv.x, step, u), srv.x),
        k=srv.k + update.astype(jnp.int32),
        opt_state=jax.tree.map(lambda a, b: jnp.where(update, a, b), opt_new, srv.opt_state))


def count(cnt: Counters, received, used, delay, loss=None) -> Counters:
    """Counters after one arrival (``received``/``used``: booleans of this event; ``loss``: its
    sample loss, ``None`` for none)."""
    return Counters(
        received=cnt.received + received.astype(jnp.int32),
        used=cnt.used + used.astype(jnp.int32),
        max_delay=jnp.where(used, jnp.maximum(cnt.max_delay, delay), cnt.max_delay),
        sum_delay=cnt.sum_delay + jnp.where(used, delay, 0).astype(cnt.sum_delay.dtype),
        batch_loss=cnt.batch_loss if loss is None else jnp.where(received, loss, cnt.batch_loss))


def serve(method, optimizer, layout: Layout, srv: ServerState, a: Arrival, hp: dict, point) -> tuple[
        ServerState, Decision]:
    """Apply one arrival: the method's decision, the update, the reporter's restart point and
    the counters. ``point`` is the reporter's start point (kept by a worker store for
    ``OWN``). Invalid arrivals (padding, or no event this step) change nothing."""
    valid = a.valid
    mstate, dec = method.on_arrival(srv.method_state, a, hp)
    update = valid & dec.update
    received = valid & ~a.timed_out
    used = received & dec.used
    new = apply_update(optimizer, srv, dec.direction, dec.step, update)
    keep = lambda n_, o: jnp.where(valid, n_, o)  # noqa: E731
    mstate = mstate if method.masks_invalid else jax.tree.map(keep, mstate, srv.method_state)
    # The reporter's next job starts at the new model (NEW) or keeps its point (OWN, IDLE).
    fresh = valid & (jnp.asarray(dec.commands.reporter) == NEW)
    w = a.worker
    x, k = new.x, new.k
    if layout.per_worker:
        store, pending = new.store, (w, jnp.where(fresh, x, point))
    elif layout.current:
        store, pending = (), ()
    else:  # slot k mod W now holds x^k (unchanged when there was no update)
        store, pending = new.store.at[k % layout.W].set(x), ()
    srv = new._replace(s=new.s.at[after_masks(w, dec.commands)].set(jnp.where(fresh, k, new.s[w])), store=store,
                       pending=pending,
                       method_state=mstate, counters=count(srv.counters, received, used, a.delay, a.loss))
    return srv, dec


def after_masks(i, commands):
    """``i``, made to depend on the commands' masks: an in-place write into a per-worker vector at
    this index is then ordered after the masks that read the old vector. Without it XLA may
    schedule the write first and copy the whole vector, each event, to keep the old one readable."""
    masks = [m for m in (commands.cancel, commands.wake) if m is not None and jnp.ndim(m) > 0]
    if not masks:
        return i
    seen = jnp.any(jnp.stack(masks)).astype(i.dtype) if len(masks) > 1 else jnp.any(masks[0]).astype(i.dtype)
    return jnp.minimum(i, i + seen)  # == i (indices are non-negative)


def model_metrics(problem, srv: ServerState) -> dict:
    """The metrics every clock records at a grid point (besides its own time metrics)."""
    cnt, x = srv.counters, srv.x
    f, f_star = problem.loss(x), problem.f_star
    gap = f - f_star if f_star is not None else f  # as Problem.loss_gap, without evaluating f twice
    gns = jnp.sum(problem.full_grad(x) ** 2)
    return dict(
        loss=f,
        loss_gap=gap,
        batch_loss=cnt.batch_loss,
        grad_norm_sq=gns,
        updates=srv.k,
        received=cnt.received,
        used=cnt.used,
        discarded=cnt.received - cnt.used,
        max_delay=cnt.max_delay,
        mean_delay=jnp.where(cnt.used > 0, cnt.sum_delay / jnp.maximum(cnt.used, 1), 0.0),
        # one definition of divergence: a non-finite model or recorded metric
        diverged=~(jnp.all(jnp.isfinite(x)) & jnp.isfinite(f) & jnp.isfinite(gap) & jnp.isfinite(gns)),
    )


__all__ = ["Counters", "Layout", "METRICS", "SGD", "ServerState", "apply_update", "apply_step", "count",
           "init_server", "job_points", "model_metrics", "serve"]
