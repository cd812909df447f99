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
5. engine/n   the full engine with a per-worker store (R up to n).

Prints seconds per kernel (best of interleaved repetitions) and each as a multiple of
the floor.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

import jaxsim
from jaxsim import engine
from jaxsim.bench import _best_interleaved, floor_batch
from jaxsim.engine import event_noise
from jaxsim.events import Horizon
from jaxsim.rng import grad_root
from jaxsim.sweep import _hp_arrays, _stack_ctx, _stack_events, build_streams


def _batched(one):
    """vmap ``one(events, gamma, R)`` over settings, then seeds (draws shared per seed)."""
    @jax.jit
    def run(problem, events, gammas, Rs, roots):
        over = jax.vmap(lambda ev, g, r: one(problem, ev, g, r), in_axes=(None, 0, 0))
        return jax.vmap(lambda ev, root: over((*ev, event_noise(problem, ev, root)), gammas, Rs))(events, roots)
    return run


def _scan(step, carry, events, out):
    def chunk(c, ev):
        c, _ = jax.lax.scan(step, c, ev)
        return c, out(c)
    return jax.lax.scan(chunk, carry, events)[1]


@_batched
def gradient_kernel(problem, events, gamma, R):
    def step(x, ev):
        valid, z = ev[3], ev[4]
        g = problem.grad_from_noise(x, z, 0)
        return jnp.where(valid, x - gamma * g, x), None
    return _scan(step, problem.init(), events, lambda x: jnp.sum(x * x))


@_batched
def store_kernel(problem, events, gamma, R, W=8):
    def step(c, ev):
        x, k, store, s = c
        w, valid, z = ev[0], ev[3], ev[4]
        s_w = s[w]
        g = problem.grad_from_noise(store[s_w % W], z, w)
        ok = valid & (k - s_w < R)
        x = jnp.where(ok, x - gamma * g, x)
        k = k + ok
        return (x, k, store.at[k % W].set(x), s.at[w].set(jnp.where(valid, k, s_w))), None
    x0 = problem.init()
    c0 = (x0, jnp.int32(0), jnp.zeros((W,) + x0.shape, x0.dtype).at[0].set(x0), jnp.zeros(100, jnp.int32))
    return _scan(step, c0, events, lambda c: jnp.sum(c[0] * c[0]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--settings", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)

    problem = jaxsim.worst_case_quadratic(d=100, noise_scale=0.01)
    timing = jaxsim.make_timing(100, "one_plus_sqrt", "halfnormal")
    method = jaxsim.make_method("ringmaster")
    seeds = [0, 1, 2, 3]
    streams = build_streams(method, timing, seeds, Horizon(events=args.events), 20)
    C = max(s.padded_chunk() for s in streams)
    ev = _stack_events([s.pad_to(C) for s in streams], jnp.float32)
    roots = jnp.stack([grad_root(s) for s in seeds])
    gammas = np.geomspace(1e-3, 0.2, args.settings)
    small = [{"gamma": float(g), "R": 8} for g in gammas]
    large = [{"gamma": float(g), "R": 100} for g in gammas]
    hp_small = _hp_arrays(method, small, jnp.float32)
    hp_large = _hp_arrays(method, large, jnp.float32)
    plan = max(s.max_delay for s in streams)
    grids = jnp.asarray(np.stack([s.grid_time for s in streams]), jnp.float32)
    active = jnp.asarray(np.stack([s.active for s in streams]))
    ctx = _stack_ctx(timing, seeds, jnp.float32)
    W8, pw8 = engine.plan_store(method, {"R": np.array([8])}, plan, 100)
    Wn, pwn = engine.plan_store(method, {"R": np.array([100])}, plan, 100)
    kernels = {
        "floor": lambda: floor_batch(problem, ev, hp_small["gamma"], roots),
        "gradient": lambda: gradient_kernel(problem, ev, hp_small["gamma"], hp_small["R"], roots),
        "store": lambda: store_kernel(problem, ev, hp_small["gamma"], hp_small["R"], roots),
        "engine": lambda: engine.run_batch(method, problem, engine.SGD, W8, pw8, 100, ev, grids, active, ctx,
                                           hp_small, roots),
        "engine/n": lambda: engine.run_batch(method, problem, engine.SGD, Wn, pwn, 100, ev, grids, active, ctx,
                                             hp_large, roots),
    }
    for fn in kernels.values():
        jax.block_until_ready(fn())
    best = _best_interleaved(kernels, args.repeats)
    runs = len(seeds) * args.settings
    run_events = runs * sum(s.num_events for s in streams) / len(seeds)
    print(f"{runs} runs x {args.events} events, n=100, d=100, backend={jax.default_backend()}")
    for k, t in best.items():
        print(f"  {k:9s} {t:7.3f} s  {run_events / t:10.3e} run-events/s  {t / best['floor']:5.1f}x floor")


if __name__ == "__main__":
    main()
