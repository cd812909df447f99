"""``jaxsim.live(...)``: run a method on real worker processes and record what happened.

See :mod:`jaxsim.live` for the whole loop (live run, replay, calibration).
"""

from __future__ import annotations

import time
from typing import Optional, Union

import jax
import jax.numpy as jnp
import numpy as np

from ..methods import make_method
from ..results.recipe import describe_method, describe_problem, describe_timing, plain
from ..runtime.provenance import provenance
from .core import Core, check_method, check_timing
from .log import LiveLog
from .server import run_processes


def metrics_at(problem, x) -> tuple:
    """``(f(x), f(x) - f*, ||grad f(x)||^2)`` as Python floats (the reference loops' model metrics)."""
    f, gap, gns = _model_metrics(problem, jnp.asarray(x))
    return float(f), float(gap), float(gns)


@jax.jit
def _model_metrics(problem, x):
    return problem.loss(x), problem.loss_gap(x), jnp.sum(problem.full_grad(x) ** 2)


def hyperparameters(method, hparams: Optional[dict]) -> dict:
    """``hparams`` checked and completed with the method's defaults, as Python numbers (float64)."""
    checked = method.check_hparams(dict(hparams or {}), np.float64)
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in checked.items()}


def build_problem(problem, options: Optional[dict] = None):
    """A registered problem by name (with ``options``), built in float64, or a given problem,
    which must be float64 (the reference's arithmetic, which the workers compute in)."""
    from ..problems import Problem, make_problem

    if isinstance(problem, str):
        with jax.enable_x64(True):
            return make_problem(problem, **dict(options or {}))
    if not isinstance(problem, Problem):
        raise ValueError(f"problem: expected a registered name or a jaxsim Problem, got {type(problem).__name__}")
    if jnp.dtype(problem.dtype) != jnp.float64:
        raise ValueError(f"problem: a live run computes in float64 (the reference's arithmetic), but this problem "
                         f"is {jnp.dtype(problem.dtype).name}; build it inside 'with jax.enable_x64(True):' or "
                         "pass its registered name")
    return problem


def live(method, problem: Union[str, object], timing, *, hparams: Optional[dict] = None, seed: int = 0,
         horizon: float = 100.0, time_scale: float = 0.01, num_points: int = 100,
         method_options: Optional[dict] = None, problem_options: Optional[dict] = None,
         startup_timeout: float = 300.0, stall: float = 10.0, out=None, on_start=None) -> LiveLog:
    """Run ``method`` live: ``timing.n`` worker processes, the server in this process.

    Each worker computes job ``(w, j)``'s stochastic gradient with the key of ``(seed, w, j)``
    and reports once the seed's drawn duration ``D[w, j]`` times ``time_scale`` (wall seconds
    per simulated second) has passed since it got the job; the server applies the method's
    reference rule to each result as it comes in, for ``horizon`` simulated seconds
    (``horizon * time_scale`` wall seconds after the first dispatch). ``problem``: a registered
    name (built in float64 with ``problem_options``; recorded, so :func:`jaxsim.live.replay`
    rebuilds it) or a float64 problem. ``stall``: wall seconds a worker may stay silent past its
    job's end before the run ends with a message naming it; ``startup_timeout``: seconds the
    workers may take to start. ``out``: save the log there (also when the run ends early).
    ``on_start(processes)``: called once every worker is ready.

    Returns the :class:`~jaxsim.live.log.LiveLog`; ``log.error`` says why a run ended early
    (``None`` when it reached its horizon).
    """
    method = make_method(method, **(method_options or {}))
    check_method(method)
    check_timing(timing)
    if not (np.isfinite(time_scale) and time_scale > 0):
        raise ValueError(f"time_scale must be positive wall seconds per simulated second, got {time_scale!r}")
    if not (np.isfinite(horizon) and horizon > 0):
        raise ValueError(f"horizon must be positive simulated seconds, got {horizon!r}")
    recipe = {"name": problem, "options": dict(problem_options or {})} if isinstance(problem, str) else None
    problem = build_problem(problem, problem_options)
    n = timing.n
    if problem.num_workers is not None and problem.num_workers != n:
        raise ValueError(f"workers: timing has n={n} workers but the problem has data for {problem.num_workers}")
    method.check_workers(n)
    method.check_timing(timing)
    method.check_problem(problem)
    with jax.enable_x64(True):
        hp = hyperparameters(method, hparams)
        wall = float(horizon) * float(time_scale)
        core = Core(method, problem, timing, hp, seed, np.linspace(0.0, wall, num_points + 1), scale=time_scale)
        # Job indices a worker may reach: its own reports, plus one restart per update of anyone.
        jobs = int(n * timing.jobs_to_cover(horizon) + 2)
        spec = dict(method=method, problem=problem, seed=int(seed), n=n, hp=hp, jobs=jobs,
                    steps=None if core.steps is None else np.asarray(core.steps).tolist())
        started = time.time()
        outcome = run_processes(core, spec, wall, startup_timeout=startup_timeout, stall=stall, on_start=on_start)
        core.record_until(np.inf)
        arrays = core.log()
        snaps = arrays.pop("snapshots")
        vals = np.array([metrics_at(problem, x) for x in snaps]).reshape(-1, 3)
    arrays.update({"metric/loss": vals[:, 0], "metric/grad_norm_sq": vals[:, 2],
                   "time": np.linspace(0.0, float(horizon), num_points + 1)})
    if problem.f_star is not None:
        arrays["metric/loss_gap"] = vals[:, 1]
    for k in ("updates", "received", "used", "cancelled", "timeouts"):
        arrays[f"metric/{k}"] = arrays.pop(f"counts/{k}")
    arrays["metric/diverged"] = ~np.isfinite(vals).all(axis=1)
    config = dict(method=method.name, method_options=plain(dict(method_options or {})),
                  method_static=describe_method(method)["options"], hparams=plain(hp),
                  problem=describe_problem(problem), problem_recipe=recipe, timing=describe_timing(timing),
                  seed=int(seed), n=n, horizon=float(horizon), time_scale=float(time_scale),
                  num_points=int(num_points), started=started, stall=float(stall))
    header = dict(config=config, error=outcome["error"], startup=outcome["startup"], ended=outcome["ended"],
                  limits=core.limit.tolist(), provenance=provenance())
    log = LiveLog(arrays, header)
    from .calibration import overheads

    log.header["overheads"] = overheads(log)
    if out is not None:
        log.save(out)
    return log


__all__ = ["build_problem", "hyperparameters", "live", "metrics_at"]
