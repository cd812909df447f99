"""Real workers: one process each, computing the reference's keyed stochastic gradients.

A worker is started from the standard library's fork server (:func:`jaxsim.live.server.context`:
JAX imported, never run, so no JAX runtime is ever forked) and talks to the server over one duplex
:func:`multiprocessing.Pipe`.
It builds the same job computation as the reference loops (:class:`jaxsim.reference.loops.JobRunner`,
with the problem's NumPy oracle for one-gradient jobs), says ``ready``, then loops:

* ``("job", j, version, points, seconds, timed)``: note the start time, compute job ``j``'s
  result at ``points`` with the key of ``(seed, worker, j)`` (nothing when ``timed``: the attempt
  runs out its budget and sends no gradient), wait until ``seconds`` of wall time have passed
  since the start, send ``("done", j, version, result, start, finish)``. A new job arriving
  while one is running is the server's cancel-and-restart: the running job is abandoned and
  never sent.
* ``("stop",)`` or a closed pipe: exit.

Times are :func:`time.monotonic` seconds (one clock for every process of the machine), so the
server can place a worker's start and finish between its own send and receipt.
"""

from __future__ import annotations

import os
import time


def worker_env() -> dict:
    """Environment of a worker process, set before it starts (unpickling its problem imports
    JAX): JAX on the CPU in float64 (the reference's arithmetic; a float64 problem unpickled
    without x64 would be cast down), one compute thread (several XLA thread pools per core would
    only fight for it)."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "--xla_cpu_multi_thread_eigen" not in flags:
        flags = (flags + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
    return {"JAX_PLATFORMS": "cpu", "JAX_ENABLE_X64": "1", "XLA_FLAGS": flags, "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _runner(spec: dict):
    """The worker's job computation: the reference loops' :class:`JobRunner`, float64."""
    import jax
    import numpy as np

    from ..methods.jobs import Job
    from ..reference.loops import JobRunner, Oracle
    from ..runtime.rng import grad_root

    jax.config.update("jax_enable_x64", True)
    method, problem = spec["method"], spec["problem"]
    root = grad_root(spec["seed"])
    plain = type(method.job) is Job
    oracle = Oracle(problem, root, spec["n"], spec["jobs"]) if plain else None
    steps = None if spec["steps"] is None else np.asarray(spec["steps"])
    return JobRunner(method.job, problem, root, spec["hp"], steps, oracle)


def main(conn, w: int, spec: dict) -> None:
    """Worker ``w``'s loop (the target of its process); see the module docstring."""
    try:
        runner = _runner(spec)
        conn.send(("ready", w, os.getpid()))
        current = None  # (j, version, result, start, deadline)
        while True:
            wait = None if current is None else max(0.0, current[4] - time.monotonic())
            if conn.poll(wait):
                msg = conn.recv()
                if msg[0] == "stop":
                    return
                _, j, version, points, seconds, timed = msg
                start = time.monotonic()
                result = None if timed else runner(points, w, j)
                current = (j, version, result, start, start + seconds)  # replaces (abandons) a running job
            elif current is not None:
                j, version, result, start, _ = current
                conn.send(("done", j, version, result, start, time.monotonic()))
                current = None
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        return  # the server went away, or the run was interrupted: nothing to report to
