"""Per-iteration / per-event cost of the ata-quadratic figure's policies (a benchmark, not a figure).

    python experiments/ata_cost.py [--n 17 459] [--iterations 2000] [--methods ata gta rennala_stops] [--save DIR]
        [--compare DIR] [--sync]

For each worker count and policy: one sweep at the figure's settings (worst-case quadratic d = 100,
X_i = 29 i + Exp(29 i), B = 23, gamma = 1e-4, seeds 5-7 vmapped) over ``iterations * E C(a*)``
seconds, run twice; the second run's wall time (no compile) divided by the run's iterations
(the allocation clock) or arrivals (the controlled clock). GTA is ``gta`` (the race on the
allocation clock, the figure's default); ``rennala_stops`` is the same times on the controlled
clock (the figure's ``--gta rennala_stops``). ``--sync``: the same number of steps
through a bare synchronous kernel (B vmapped gradients at the current model and one SGD step per
iteration, three seeds vmapped). ``--save``/``--compare``: the metrics as .npy, compared bit for bit.
"""

import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxsim import sweep, worst_case_quadratic
from jaxsim.figures.ata_quadratic import optimum, timing_for, method_for


def run(method, n, iterations, seeds=(5, 6, 7), B=23, forms="paper"):
    problem = worst_case_quadratic(d=100, noise_scale=0.001)
    extra = {"ata": {"alpha_scale": 2.0}, "ata_empirical": {"eta": 1.0}}.get(method, {})
    hz = iterations * optimum(n, B)["time"]
    kw = dict(seeds=list(seeds), grid={"gamma": 1e-4, "B": B, **extra}, horizon=hz, num_points=100)
    t0 = time.perf_counter()
    sweep(method_for(method, forms), problem, timing_for(n), **dict(kw, horizon=hz / 50))  # compile
    t1 = time.perf_counter()
    res = sweep(method_for(method, forms), problem, timing_for(n), **kw)
    t2 = time.perf_counter()
    return res, t1 - t0, t2 - t1


def sync_kernel(steps, B=23, S=3, d=100):
    """B vmapped gradients at the current model + one SGD step, S seeds vmapped, in a while loop."""
    problem = worst_case_quadratic(d=d, noise_scale=0.001)
    from jaxsim.runtime.rng import grad_key, grad_roots
    roots = grad_roots(list(range(5, 5 + S)))

    def one_run(x, root, k):
        def g(b):
            return problem.value_and_grad_from_noise(x, problem.sample_noise(grad_key(root, b, k), b), b)
        _, gs = jax.vmap(g)(jnp.arange(B, dtype=jnp.int32))
        return x - 1e-4 * jnp.mean(gs, axis=0)

    @jax.jit
    def loop(x):
        def body(s):
            x, k = s
            return jax.vmap(one_run, (0, 0, None))(x, roots, k), k + 1
        return jax.lax.while_loop(lambda s: s[1] < steps, body, (x, jnp.zeros((), jnp.int32)))[0]

    x = jnp.broadcast_to(problem.init(), (S, d))
    loop(x).block_until_ready()
    t = time.perf_counter()
    loop(x).block_until_ready()
    return time.perf_counter() - t


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, nargs="+", default=[17])
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument("--methods", nargs="+", default=["ata", "ata_empirical", "fta", "uta", "gta"])
    p.add_argument("--forms", default="paper")
    p.add_argument("--save")
    p.add_argument("--compare")
    p.add_argument("--sync", action="store_true")
    a = p.parse_args()
    print("load", os.getloadavg())
    for n in a.n:
        for m in a.methods:
            res, tc, tr = run(m, n, a.iterations, forms=a.forms)
            upd = np.asarray(res.metrics["updates"])[..., -1].max()
            rec = np.asarray(res.metrics["received"])[..., -1].max()
            line = (f"n={n} {m}: {tr:.2f} s ({tc:.1f} s first), {upd} iterations/updates, {rec} arrivals; "
                    f"{1e6 * tr / max(upd, 1):.1f} us/iteration, {1e6 * tr / max(rec, 1):.2f} us/arrival")
            if a.sync:
                ts = sync_kernel(int(upd))
                line += f"; sync kernel {1e6 * ts / max(upd, 1):.1f} us/iteration"
            print(line, flush=True)
            for k, v in res.metrics.items():
                name = f"{m}-n{n}-{a.iterations}-{k}.npy"
                if a.save:
                    os.makedirs(a.save, exist_ok=True)
                    np.save(os.path.join(a.save, name), np.asarray(v))
                if a.compare:
                    ref = np.load(os.path.join(a.compare, name))
                    same = np.array_equal(ref, np.asarray(v), equal_nan=True)
                    if not same:
                        print(f"  DIFFERS: {k}: max abs {np.nanmax(np.abs(ref - np.asarray(v)))}")
    print("load", os.getloadavg())


if __name__ == "__main__":
    main()
