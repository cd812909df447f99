"""``jaxsim bench``'s default: the free-running engine against the reference loop, its synchronous
kernel and a floor kernel, in one process.

Work: Ringmaster ASGD on the worst-case quadratic (``d = 100``), ``n = 100`` workers
with ``(1 + sqrt(w)) + |N(0, w + 1)|`` durations, ``seeds x gammas x R`` runs. Reported
in run-events per second (runs x events each):

* engine: the stream clock's batch (:func:`jaxsim.sim.runner.run_setup`), compiled, timed on a second call;
* reference: the plain heap loop (:mod:`jaxsim.reference`) on a few of the same runs;
* synchronous: the free-running clock's synchronous kernel
  (:func:`jaxsim.bench.kernels.stream_sync`) over the same stream, batch and draws: each
  event's gradient at the *current* model and one SGD step (``x <- x - gamma grad(x; noise)``),
  recording the same metrics: what any method computing these gradients pays, without a point
  store, delays or the server's bookkeeping. ``fraction_of_sync`` is the engine's rate
  over its rate.
* floor: the same, doing only one ``axpy`` per event (``x <- x - gamma z b``): below what
  any method computing the same gradients can reach, kept for continuity
  (``fraction_of_floor``).

Timings are the best of several interleaved repetitions (the machine is noisy).
"""

from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np

from .. import make_method, make_timing, reference, worst_case_quadratic
from ..sim.events import Horizon
from ..runtime.rng import time_key
from ..sim import stream
from ..sim.server import SGD
from ..sim.clocks import build_streams
from ..sim.runner import run_setup
from .kernels import stream_sync


@functools.partial(jax.jit, static_argnames=("clock",))
def floor_batch(clock, problem, seeds, intervals, gammas):
    """The floor kernel: same stream, batch and draws as the engine, one axpy per event."""
    b = problem.init()
    iv = clock.prepare(problem, seeds, intervals)

    def one(valid, noise, gamma):
        def step(x, ev):
            ok, z = ev
            return x - jnp.where(ok, gamma * z, 0.0) * b, None

        def chunk(x, ev):
            x, _ = jax.lax.scan(step, x, ev)
            return x, jnp.sum(x * x)

        return jax.lax.scan(chunk, b, (valid, noise))[1]

    over_hp = jax.vmap(one, in_axes=(None, None, 0))
    return jax.vmap(over_hp, in_axes=(0, 0, None))(iv.valid, iv.noise, gammas)


def sync_batch(clock, problem, seeds, intervals, gammas):
    """The synchronous kernel (:func:`~jaxsim.bench.kernels.stream_sync`) with stepsizes
    ``gammas``: ``(loss, grad_norm_sq)``, each ``[S, P, G]``."""
    out = stream_sync(clock, problem, seeds, intervals, {"gamma": gammas}, jnp.asarray(problem.init()))
    return out["loss"], out["grad_norm_sq"]


def _first_call(fn) -> float:
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - t0


def best_interleaved(fns: dict, repeats: int) -> dict:
    """``{name: best seconds}`` of ``repeats`` rounds calling each of ``fns`` in turn."""
    best = {k: np.inf for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            jax.block_until_ready(fn())
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def run(n: int = 100, d: int = 100, events: int = 20_000, seeds: int = 4, gammas: int = 16,
        thresholds=(1, 2, 4, 8), reference_runs: int = 2, num_points: int = 20, repeats: int = 5) -> dict:
    """Measure and return the throughput figures (see the module docstring)."""
    problem = worst_case_quadratic(d=d, noise_scale=0.01)
    timing = make_timing(n, "one_plus_sqrt", "halfnormal")
    method = make_method("ringmaster")
    seed_list = list(range(seeds))
    horizon = Horizon(events=events)
    streams = build_streams(method, timing, seed_list, horizon, num_points)
    gamma_vals = np.geomspace(1e-3, 0.2, gammas)
    settings = [{"gamma": float(g), "R": int(r)} for g in gamma_vals for r in thresholds]
    runs = len(seed_list) * len(settings)
    run_events = sum(s.num_events for s in streams) * len(settings)

    setup = stream.setup(method, problem, timing, streams, seed_list, settings, optimizer=SGD)
    # one device, as the kernels run
    engine_call = lambda: run_setup(setup, method, problem, settings, batch_size=len(settings),  # noqa: E731
                                    dtype=problem.dtype, devices=1)[0]["loss_gap"]
    gam = jnp.asarray([s["gamma"] for s in settings], jnp.float32)
    floor_call = lambda: floor_batch(setup.clock, problem, setup.seeds, setup.intervals, gam)  # noqa: E731
    sync_call = lambda: sync_batch(setup.clock, problem, setup.seeds, setup.intervals, gam)  # noqa: E731
    first = _first_call(engine_call)
    _first_call(floor_call)
    _first_call(sync_call)
    best = best_interleaved({"engine": engine_call, "sync": sync_call, "floor": floor_call}, repeats)
    engine_s, floor_s, sync_s = best["engine"], best["floor"], best["sync"]

    D = timing.sample(time_key(0), 4 * events // n + 64)
    t0 = time.perf_counter()
    for s in settings[:reference_runs]:
        reference.run(method, problem, timing, s, durations=D, seed=0, horizon=horizon, num_points=num_points)
    ref_s = (time.perf_counter() - t0) / reference_runs
    ref_rate = events / ref_s

    engine_rate = run_events / engine_s
    floor_rate = run_events / floor_s
    sync_rate = run_events / sync_s
    return {
        "runs": runs, "n": n, "d": d, "events_per_run": events, "backend": jax.default_backend(),
        "engine_run_events_per_s": engine_rate,
        "reference_run_events_per_s": ref_rate,
        "sync_run_events_per_s": sync_rate,
        "floor_run_events_per_s": floor_rate,
        "speedup_vs_reference": engine_rate / ref_rate,
        "fraction_of_sync": engine_rate / sync_rate,
        "fraction_of_floor": engine_rate / floor_rate,
        "compile_s": max(first - engine_s, 0.0),
        "engine_s": engine_s, "sync_s": sync_s, "floor_s": floor_s, "reference_s_per_run": ref_s,
    }
