"""The free-running clock: pre-sampled arrivals, scanned.

Every worker restarts the moment it reports, so the arrival order depends only on the
durations and is computed on the host (:mod:`jaxsim.sim.events`); this clock scans it, one
recording interval after another, and hands each arrival to the server
(:func:`jaxsim.sim.server.serve`). Each event's job randomness is drawn once per seed,
before the scan, from its ``(seed, worker, job)`` key and shared by every setting.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..methods.base import Arrival, SeedContext, StreamMethod, Workers
from ..runtime.rng import grad_key, grad_roots
from .plan import tree_bytes
from .setup import Setup, job_steps, stack_contexts
from .server import Layout, ServerState, init_server, job_points, model_metrics, serve


class StreamSeed(NamedTuple):
    """One seed's inputs (leaves get a leading seed axis in a batch)."""

    ctx: SeedContext
    root: jax.Array  # gradient-noise root key
    active: jax.Array  # bool[n] workers that run
    steps: jax.Array  # int32[n] local steps per job (jobs that run several)


class StreamRun(NamedTuple):
    srv: ServerState
    busy: jax.Array  # bool[n] workers that compute in this run (active and participating)


class Interval(NamedTuple):
    """One seed's arrivals ``[G, C]`` (worker, job, time, valid) per recording interval and the
    intervals' ends ``[G]`` (with a leading seed axis in a batch)."""

    worker: jax.Array
    job: jax.Array
    time: jax.Array
    valid: jax.Array
    t_end: jax.Array
    noise: Any = None


def plan_store(method: StreamMethod, hp: dict, stream_max_delay: int, n: int,
               window: int | None = None, sample_losses: bool = False) -> Layout:
    """How many past points to keep and in which layout.

    ``W`` is the smaller of the method's window over the grid ``hp`` and the stream's
    bound on delays, rounded up to a power of two so that grids with nearby maxima
    (say ``R <= 5`` and ``R <= 7``) share one compiled kernel; ``window`` overrides it.
    A job that reads ``x^{s-1}`` too needs one more slot and a ring.

    ``sample_losses`` (the problem records each arrival's sample loss, ``batch_loss``): the
    method's window does not apply. A job the method discards still reports its sample's loss
    at the point it started from, so that point must still be in the store when it arrives.
    """
    pair = method.job.pair
    # No job of the stream is staler than this, unless workers keep their points.
    bound = n if method.keeps_points else stream_max_delay + 1
    w = None if sample_losses else method.window(hp)
    need = max(bound if w is None else min(int(w), bound), 1) + int(pair)
    if window is not None:
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
            raise ValueError(f"window must be a positive integer, got {window!r}")
        if window < need and (window < n or pair):
            raise ValueError(f"window={window} is smaller than the {need} past iterates this "
                             "method and stream can need" + (" (the problem records the sample loss of every "
                                                             "arrival, discarded ones too)" if sample_losses else ""))
        W = int(window)
    else:
        W = 1 << (need - 1).bit_length()
    if W >= n and not pair:
        return Layout(n, per_worker=True)
    if pair and method.keeps_points:
        raise ValueError(f"{method.name}: a pair job cannot keep per-worker points")
    return Layout(W, per_worker=False, pair=pair)


@dataclasses.dataclass(frozen=True)
class StreamClock:
    """Static description of a free-running batch (hashable: part of the compile key)."""

    method: StreamMethod
    optimizer: Any
    layout: Layout
    n: int

    def init(self, problem, seed: StreamSeed, hp, x0=None):
        srv = init_server(self.method, problem, self.optimizer, self.layout, self.n, hp, seed.ctx, None, x0)
        part = self.method.participates(hp, seed.ctx)
        return StreamRun(srv=srv, busy=seed.active if part is None else part & seed.active)

    def prepare(self, problem, seeds: StreamSeed, iv: Interval) -> Interval:
        """Draw every event's job randomness at once, per seed (``iv`` leaves are ``[S, G, C]``)."""
        job = self.method.job

        def per_seed(root, w, j):
            draw = lambda w_, j_: job.sample_noise(problem, grad_key(root, w_, j_), w_)  # noqa: E731
            return jax.vmap(jax.vmap(draw))(w, j)

        return iv._replace(noise=jax.vmap(per_seed)(seeds.root, iv.worker, iv.job))

    def step(self, problem, seed: StreamSeed, hp, c: StreamRun, ev):
        w, j, t, valid, noise = ev
        if self.method.selects_workers:  # arrivals of non-participating workers are ignored
            valid = valid & c.busy[w]  # (streams hold only active workers' events otherwise)
        srv, points = job_points(self.layout, c.srv, w)
        loss, out = self.method.job.evaluate(problem, points, noise, w, hp, seed.steps[w])
        a = Arrival(worker=w, job=j, time=t, delay=srv.k - srv.s[w], grad=out, x=srv.x, n=self.n,
                    workers=Workers(s=srv.s, busy=c.busy, k=srv.k), ctx=seed.ctx, valid=valid,
                    timed_out=jnp.zeros((), bool), params=problem.params, flat=problem.flat, loss=loss)
        srv, _ = serve(self.method, self.optimizer, self.layout, srv, a, hp, points[0])
        return c._replace(srv=srv)

    independent = True  # runs advance on their own pre-sampled events

    def advance(self, problem, seed, hp, c, iv: Interval):
        """One run through one interval's events (``iv`` leaves ``[C]``)."""
        def body(c, ev):
            return self.step(problem, seed, hp, c, ev), None

        return jax.lax.scan(body, c, (iv.worker, iv.job, iv.time, iv.valid, iv.noise))[0]

    @staticmethod
    def end_time(iv: Interval):
        return iv.t_end

    def record(self, problem, seed, hp, c: StreamRun, t) -> dict:
        zero = jnp.zeros((), jnp.int32)
        # free-running: every working worker is always busy
        return dict(busy_time=jnp.sum(c.busy).astype(t.dtype) * t, cancelled=zero, timeouts=zero,
                    **model_metrics(problem, c.srv))




def setup(method: StreamMethod, problem, timing, streams, seeds, settings, *, optimizer, window=None) -> Setup:
    """Batch inputs for ``settings`` on pre-built streams (``streams[i]`` belongs to ``seeds[i]``;
    ``timing``, one model or one per stream, gives the per-seed worker facts)."""
    C = max(st.padded_chunk() for st in streams)
    streams = [st.pad_to(C) for st in streams]
    n, d = streams[0].n, problem.dim
    dtype = problem.dtype
    all_hp = {k: np.array([s[k] for s in settings]) for k in method.hparams}
    layout = plan_store(method, all_hp, max(s.max_delay for s in streams), n, window,
                        sample_losses=problem.has_batch_loss)
    ctx = stack_contexts(timing, seeds, dtype)
    seed_data = StreamSeed(ctx=ctx, root=grad_roots(seeds),
                           active=jnp.asarray(np.stack([st.active for st in streams])), steps=job_steps(method, ctx))
    per_event = lambda f, dt: jnp.asarray(np.stack([f(s) for s in streams]), dt)  # noqa: E731  [S, G, C]
    grids = np.stack([st.grid_time for st in streams])
    intervals = Interval(worker=per_event(lambda s: s.worker, jnp.int32), job=per_event(lambda s: s.job, jnp.int32),
                         time=per_event(lambda s: np.where(s.valid, s.time, 0.0), dtype),
                         valid=per_event(lambda s: s.valid, bool), t_end=jnp.asarray(grids[:, 1:], dtype))
    # Transients of one event (the job's result and points, the new model) besides the run's
    # state, which the plan sizes from the clock's init; per seed, each event's job
    # randomness drawn before the scan (:meth:`StreamClock.prepare`).
    per_run = 4 * d * np.dtype(dtype).itemsize
    noise = jax.eval_shape(lambda r: method.job.sample_noise(problem, grad_key(r, 0, 0), 0), seed_data.root[0])
    per_seed = tree_bytes(noise) * (grids.shape[1] - 1) * C
    info = dict(window=layout.W, store="worker" if layout.per_worker else "ring",
                events_per_seed=[s.num_events for s in streams], chunk=C)
    return Setup(clock=StreamClock(method, optimizer, layout, n), seeds=seed_data, intervals=intervals,
                 t0=jnp.asarray(grids[:, 0], dtype), time=grids, per_run_bytes=per_run, info=info,
                 per_seed_bytes=per_seed)


__all__ = ["Interval", "StreamClock", "StreamRun", "StreamSeed", "plan_store", "setup"]
