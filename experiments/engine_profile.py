"""Where the engine's time goes: kernels of growing completeness on the same work.

    python experiments/engine_profile.py [--events 20000] [--settings 64]

Every kernel scans the same event stream (Ringmaster's bench setup: n = 100, d = 100,
4 seeds) with the same per-event draws, vmapped over seeds x settings:

1. floor      one axpy per event (``jaxsim bench``'s floor);
2. gradient   + the quadratic's stochastic gradient at the current model and an SGD step;
3. store      + reading the job's start point from a ring of past iterates (W = 8) and
                writing the new iterate, with Ringmaster's accept/discard mask;
4. engine     the full engine (start counters, method rule, optimizer hook, counters,
                metrics), ring store W = 8 (R <= 8);
5. engine/n   the full engine with a per-worker store (W = n, R up to n).

Prints seconds per kernel (best of interleaved repetitions) and each as a multiple of
the floor.

Tried and not kept (issue 26, 2026-12-07, 2-core CPU shared at load 1.5-5): the worker store
held as one table per seed, worker-major ``[seed, worker, setting, d]`` (a seed's settings
share its arrival order, so an event moves one contiguous ``[settings, d]`` block per seed; the
seeds unrolled into dynamic slices and in-place updates, since vmapped gathers and scatters of
those blocks were no faster in the engine than the per-run rows). Same numbers, bit for bit, on
every stream method. It paid a little where blocks are large: at this setup (4 seeds x
64 settings) the engine took 0.91 of the ring's time (Rennala's ring of one point: 0.85; 16
seeds x 64 settings: 0.95; ``jaxsim bench``: 0.40-0.41 -> 0.43 of the synchronous kernel), but
1.16 with 16 seeds x 16 settings (an update per seed and event costs more than it saves below
~4096 numbers per block), and on the paper's quadratic
(n = 6174, d = 1729, 3 seeds x 7 settings, the figure's batch) 0.553/0.569 s per-run against
0.567/0.558 s with tables: nothing. Without any store read or write the engine still ran at
0.57-0.61 of the synchronous kernel here (1.05 s and 0.97 s against 0.60 s and 0.59 s): the
rest is the ~17 small fusions XLA:CPU runs per event (start counters, counters, the masks,
shifted copies of the start point for the tridiagonal product), not the store.

Later the same day: most of the gradient's share was the quadratic's ``.at[0].add`` of ``b``,
which XLA:CPU split into three more passes over the model (4x the gradient's time at d = 1729).
The per-event gradient now takes ``b`` as coordinate 0's left neighbour, one fused pass; the
engine at n = 6174, d = 1729 went from 3.4e5 to 1.9e6 run-events/s on one device.
"""

from __future__ import annotations

import argparse
import functools

import jax
import jax.numpy as jnp
import numpy as np

import jaxsim
from jaxsim.bench import best_interleaved, floor_batch
from jaxsim.sim.events import Horizon
from jaxsim.sim import stream
from jaxsim.sim.kernel import run_batch
from jaxsim.sim.setup import hp_arrays
from jaxsim.sim.server import SGD
from jaxsim.sim.clocks import build_streams


def batched(one):
    """vmap ``one(problem, n, (worker, valid, noise), gamma, R)`` over settings, then seeds.

    The job noise is drawn the engine's way (``clock.prepare``: once per seed, before the
    scan, shared by every setting); interval leaves are ``[S, G, C]``."""
    @functools.partial(jax.jit, static_argnames=("clock",))
    def run(clock, problem, seeds, intervals, gammas, Rs):
        iv = clock.prepare(problem, seeds, intervals)
        over = jax.vmap(lambda ev, g, r: one(problem, clock.n, ev, g, r), in_axes=(None, 0, 0))
        return jax.vmap(lambda ev: over(ev, gammas, Rs))((iv.worker, iv.valid, iv.noise))
    return run


def scan_intervals(step, carry, events, out):
    """Scan ``step`` over each interval's events (leaves ``[G, C]``), recording ``out``."""
    def chunk(c, ev):
        c, _ = jax.lax.scan(step, c, ev)
        return c, out(c)
    return jax.lax.scan(chunk, carry, events)[1]


@batched
def gradient_kernel(problem, n, events, gamma, R):
    def step(x, ev):
        _, valid, z = ev
        g = problem.grad_from_noise(x, z, 0)
        return jnp.where(valid, x - gamma * g, x), None
    return scan_intervals(step, problem.init(), events, lambda x: jnp.sum(x * x))


@batched
def store_kernel(problem, n, events, gamma, R, W=8):
    def step(c, ev):
        x, k, store, s = c
        w, valid, z = ev
        s_w = s[w]
        g = problem.grad_from_noise(store[s_w % W], z, w)
        ok = valid & (k - s_w < R)
        x = jnp.where(ok, x - gamma * g, x)
        k = k + ok
        return (x, k, store.at[k % W].set(x), s.at[w].set(jnp.where(valid, k, s_w))), None
    x0 = problem.init()
    c0 = (x0, jnp.int32(0), jnp.zeros((W,) + x0.shape, x0.dtype).at[0].set(x0), jnp.zeros(n, jnp.int32))
    return scan_intervals(step, c0, events, lambda c: jnp.sum(c[0] * c[0]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--settings", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)

    n = 100
    problem = jaxsim.worst_case_quadratic(d=100, noise_scale=0.01)
    timing = jaxsim.make_timing(n, "one_plus_sqrt", "halfnormal")
    method = jaxsim.make_method("ringmaster")
    seeds = [0, 1, 2, 3]
    streams = build_streams(method, timing, seeds, Horizon(events=args.events), 20)
    dtype = jnp.asarray(problem.init()).dtype
    gammas = np.geomspace(1e-3, 0.2, args.settings)
    small = [{"gamma": float(g), "R": 8} for g in gammas]
    large = [{"gamma": float(g), "R": n} for g in gammas]
    hp_small = hp_arrays(method, small, dtype)
    hp_large = hp_arrays(method, large, dtype)
    # Same streams, seeds and draws; only the store differs (ring W = 8 vs per worker W = n).
    ring = stream.setup(method, problem, timing, streams, seeds, small, optimizer=SGD, window=8)
    per_worker = stream.setup(method, problem, timing, streams, seeds, large, optimizer=SGD, window=n)
    assert ring.info["store"] == "ring" and ring.info["window"] == 8, ring.info
    assert per_worker.info["store"] == "worker" and per_worker.info["window"] == n, per_worker.info
    args_small = (ring.clock, problem, ring.seeds, ring.intervals)
    kernels = {
        "floor": lambda: floor_batch(*args_small, hp_small["gamma"]),
        "gradient": lambda: gradient_kernel(*args_small, hp_small["gamma"], hp_small["R"]),
        "store": lambda: store_kernel(*args_small, hp_small["gamma"], hp_small["R"]),
        "engine": lambda: run_batch(ring.clock, problem, ring.seeds, hp_small, ring.intervals, ring.t0),
        "engine/n": lambda: run_batch(per_worker.clock, problem, per_worker.seeds, hp_large,
                                      per_worker.intervals, per_worker.t0),
    }
    for fn in kernels.values():
        jax.block_until_ready(fn())
    best = best_interleaved(kernels, args.repeats)
    runs = len(seeds) * args.settings
    run_events = runs * sum(s.num_events for s in streams) / len(seeds)
    print(f"{runs} runs x {args.events} events, n={n}, d=100, backend={jax.default_backend()}")
    for k, t in best.items():
        print(f"  {k:9s} {t:7.3f} s  {run_events / t:10.3e} run-events/s  {t / best['floor']:5.1f}x floor")


if __name__ == "__main__":
    main()
