"""Transports for the live server: real worker processes, and a heap over given durations.

:func:`run_processes` starts one worker process per worker (:mod:`jaxsim.live.workers`, from the
fork server of :func:`context`, one duplex pipe each), waits until each has built its job computation, then
serves arrivals in wall-clock time until the horizon: it waits on every pipe and every process
at once (:func:`multiprocessing.connection.wait`, never without a timeout), takes the results
that came in (several at once in the order they finished), hands each to the :class:`Core`, and
sends what the core commands. A worker that exits, closes its pipe or stays silent past its
job's end by more than ``stall`` seconds ends the run with a message naming it; the log up to
then is kept. Workers are always stopped (asked, then terminated, then killed).

:func:`run_heap` drives the same core from a heap of ``(finish, worker, job)`` over given
durations in simulated seconds, with zero server time: the order a simulator would see.
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import time
from multiprocessing.connection import wait

import numpy as np

from . import workers
from .core import Core


#: Modules the fork server imports once, before it forks any worker (JAX is imported, never run:
#: each worker starts its own runtime after the fork).
PRELOAD = ["jaxsim.live.workers", "jax", "jax.numpy", "jaxsim.reference.loops", "jaxsim.problems"]


def context():
    """The ``forkserver`` context (a clean server process that imports :data:`PRELOAD` once and
    forks each worker from it: no JAX runtime is ever forked, and a run's workers skip most of
    their start-up; one server serves every live run of this process), or ``spawn`` where
    there is no fork server."""
    try:
        ctx = multiprocessing.get_context("forkserver")
    except ValueError:
        return multiprocessing.get_context("spawn")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


class WorkerFailure(RuntimeError):
    """A worker died, closed its pipe, failed to start, or went silent."""


def _start(spec: dict, n: int, ctx):
    """Start ``n`` worker processes with the workers' environment; ``(processes, pipes)``."""
    env = workers.worker_env()
    saved = {k: os.environ.get(k) for k in env}
    procs, conns = [], []
    try:
        os.environ.update(env)  # a spawned process inherits the environment when it starts
        for w in range(n):
            mine, theirs = ctx.Pipe(duplex=True)
            p = ctx.Process(target=workers.main, args=(theirs, w, spec), name=f"jaxsim-live-worker-{w}", daemon=True)
            p.start()
            theirs.close()  # the worker's end lives in the worker: its exit then shows as EOF here
            procs.append(p)
            conns.append(mine)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return procs, conns


def _stop(procs, conns, grace: float = 2.0) -> None:
    """Ask every worker to stop, then terminate and kill what is left (never waits unboundedly)."""
    for c in conns:
        try:
            c.send(("stop",))
        except (OSError, ValueError):
            pass
    deadline = time.monotonic() + grace
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            p.terminate()
            p.join(1.0)
        if p.is_alive():
            p.kill()
            p.join(1.0)
    for c in conns:
        c.close()


def _ready(procs, conns, timeout: float) -> float:
    """Wait until every worker said ``ready``; the seconds it took. ``WorkerFailure`` if one
    exits first or ``timeout`` passes."""
    t0 = time.monotonic()
    waiting = set(range(len(procs)))
    while waiting:
        left = timeout - (time.monotonic() - t0)
        if left <= 0:
            raise WorkerFailure(f"workers {sorted(waiting)} were not ready after {timeout:.0f} s (startup timeout)")
        objs = [conns[w] for w in waiting] + [procs[w].sentinel for w in waiting]
        for obj in wait(objs, timeout=left):
            w = next(i for i in waiting if obj in (conns[i], procs[i].sentinel))
            try:
                msg = conns[w].recv()
            except (EOFError, OSError):
                procs[w].join(1.0)
                raise WorkerFailure(f"worker {w} exited while starting (exit code {procs[w].exitcode})") from None
            if msg[0] == "ready":
                waiting.discard(w)
    return time.monotonic() - t0


def run_processes(core: Core, spec: dict, horizon: float, *, startup_timeout: float = 300.0,
                  stall: float = 10.0, on_start=None) -> dict:
    """Serve ``core`` with real workers for ``horizon`` wall seconds (the core's grid and times
    are wall seconds from the first dispatch). ``on_start(procs)`` is called once every worker is
    ready (a test hook: it may kill one). Returns ``{"error": message or None, "startup":
    seconds, "ended": wall seconds at the end (NaN after an error)}``; the log is the core's.

    A send to a worker blocks while its pipe is full (a frozen worker that is sent job after job
    of a large model): the stall check runs between arrivals, not inside a send."""
    procs, conns = _start(spec, core.n, context())
    info = {"error": None, "startup": float("nan"), "ended": float("nan")}
    try:
        info["startup"] = _ready(procs, conns, startup_timeout)
        if on_start is not None:
            on_start(procs)
        t0 = time.monotonic()
        clock = lambda: time.monotonic() - t0  # noqa: E731
        due = np.full(core.n, np.inf)  # when each worker's current job should report

        def send(dispatches):
            for d in dispatches:
                now = clock()  # before the send: the worker may start before the send returns
                conns[d.w].send(("job", d.j, d.version, d.points, d.seconds, d.timed))
                core.sent(d.w, now)
                due[d.w] = now + d.seconds

        send(core.begin(0.0))
        while True:
            now = clock()
            if now >= horizon:
                break
            late = np.nonzero(core.busy & (now > due + stall))[0]
            if late.size:
                w = int(late[0])
                raise WorkerFailure(f"worker {w} sent nothing for {now - due[w]:.1f} s after its job's end "
                                    f"(stall limit {stall:g} s) at {now:.3f} s of {horizon:.3f} s")
            ready = wait(conns + [p.sentinel for p in procs], timeout=min(horizon - now, stall / 2))
            got = []
            for obj in ready:
                if obj in conns:
                    w = conns.index(obj)
                    try:
                        got.append((w, obj.recv()))
                    except (EOFError, OSError):
                        procs[w].join(1.0)
                        raise WorkerFailure(f"worker {w} closed its pipe (exit code {procs[w].exitcode}) at "
                                            f"{clock():.3f} s of {horizon:.3f} s") from None
            dead = [w for w, p in enumerate(procs) if p.sentinel in ready and all(g[0] != w for g in got)]
            for w, msg in sorted(got, key=lambda m: m[1][5]):  # results that came in together: by finish
                t = clock()
                if t >= horizon:
                    break
                _, j, version, g, start, finish = msg
                core.record_until(t)
                if core.current(w, j, version):
                    due[w] = np.inf
                    send(core.arrival(w, g, start - t0, finish - t0, t))
                    core.done(clock())
                else:
                    core.discard(w, j, version, start - t0, finish - t0, t)
            if dead:
                w = dead[0]
                procs[w].join(1.0)
                raise WorkerFailure(f"worker {w} exited (exit code {procs[w].exitcode}) at {clock():.3f} s of "
                                    f"{horizon:.3f} s")
        info["ended"] = clock()
    except WorkerFailure as e:
        info["error"] = str(e)
    finally:
        _stop(procs, conns)
    return info


def run_heap(core: Core, table, horizon: float, runner=None) -> None:
    """Serve ``core`` from a heap: job ``(w, j)`` takes ``table(w, j, dispatch)`` simulated
    seconds (ties to the lower worker index, as the clocks break them) and the server takes no
    time; ``runner(points, w, j)`` computes results (``None``: none, for the order alone)."""
    heap = []

    def push(dispatches, t):
        for d in dispatches:
            heapq.heappush(heap, (t + float(table(d.w, d.j, d)), d.w, d.j, d.version, d))

    push(core.begin(0.0), 0.0)
    while True:
        while heap and not core.current(heap[0][1], heap[0][2], heap[0][3]):
            heapq.heappop(heap)  # a cancelled job
        t = heap[0][0] if heap else np.inf
        core.record_until(t)
        if t > horizon:
            break
        _, w, j, _, d = heapq.heappop(heap)
        g = None if d.timed or runner is None else runner(d.points, w, j)
        push(core.arrival(w, g, np.nan, t, t), t)
        core.done(t)


__all__ = ["WorkerFailure", "run_heap", "run_processes"]
