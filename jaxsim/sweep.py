"""Sweeps: seeds x hyperparameter grids in one compiled kernel, with labeled results.

>>> res = sweep("ringmaster", problem, timing, seeds=[0, 1, 2],
...             grid={"gamma": [0.04, 0.2, 1.0], "R": [1, 6, 24]}, horizon=2000.0)
>>> res.metrics["grad_norm_sq"].shape        # (seed, gamma, R, point)
>>> res.best("loss_gap")                      # the papers' best-of-grid protocol

Every hyperparameter is a traced array, so changing grid *values* reuses the
compiled kernel; only new shapes (number of settings per batch, chunk length,
problem size) compile again. Runs are processed in batches sized to a memory
budget; all batches have the same shape, so one compilation serves the grid.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import time as _time
from typing import Optional, Sequence

import numpy as np

from .results import SweepResult
from .results.recipe import describe_method, describe_problem, describe_timing
from .runtime.checkpoint import Checkpoint
from .sim.events import as_horizon
from .methods import Method, make_method
from .problems import Problem
from .problems.base import check_dtype
from .runtime.provenance import provenance
from .runtime.rng import check_seeds
from .sim.clocks import build_streams, clock_of
from .sim.plan import resolve_devices
from .sim.runner import check_progress, run_setup
from .sim.server import METRICS
from .timing import TimingModel

#: The default ``memory_budget``: ``None``, what the device has (a GPU's memory limit, half of the
#: host's memory on CPU; :func:`jaxsim.runtime.memory.default_memory_budget`).
DEFAULT_MEMORY_BUDGET = None


def _split_grid(method: Method, grid: Optional[dict], dtype=None):
    """Validated ``(axes, fixed)``: lists become grid axes, scalars fixed values. Float
    values are checked against ``dtype``, the run's float type (see :meth:`HParam.check`)."""
    if grid is not None and not hasattr(grid, "items"):
        raise ValueError(f"grid: expected a dict of hyperparameter name -> value or list, got {type(grid).__name__}")
    grid = method.translate(dict(grid or {}))
    checked = method.check_hparams(grid, dtype)
    axes, fixed = {}, {}
    for name, vals in checked.items():
        if name in grid and np.ndim(grid[name]) > 0:
            axes[name] = _distinct(name, vals, dtype)
        else:
            fixed[name] = vals.reshape(()).item() if vals.size == 1 else vals
    return axes, fixed


def _distinct(name: str, vals: np.ndarray, dtype) -> np.ndarray:
    """A grid axis whose values are distinct as given and in ``dtype``, the run's float type
    (``None``: the default one): two equal settings would run the same numbers twice and be
    counted, selected and plotted as two."""
    uniq, counts = np.unique(vals, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"hyperparameter {name}: duplicate grid value(s) {uniq[counts > 1].tolist()} "
                         "(each setting would run twice and count as two); give each value once")
    if np.issubdtype(vals.dtype, np.floating):
        import jax

        run = np.dtype(jax.dtypes.canonicalize_dtype(np.float64) if dtype is None else dtype)
        with np.errstate(over="ignore", under="ignore"):
            cast = vals.astype(run)
        same, first = {}, None
        for v, c in zip(vals.tolist(), cast.tolist()):
            if c in same:
                first = (same[c], v, c)
                break
            same[c] = v
        if first is not None:
            a, b, c = first
            raise ValueError(f"hyperparameter {name}: grid values {a!r} and {b!r} are the same {run.name} number "
                             f"({c!r}; the run's float type), so one setting would run under two labels; "
                             "give values that differ in that type")
    return vals


def _check_run_options(num_points, batch_size, memory_budget) -> None:
    """Sizes of a sweep: ``num_points`` and ``batch_size`` positive integers (``batch_size``
    may be ``None``), ``memory_budget`` a finite number of bytes > 0 (or ``None``)."""
    def integer(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
    if not integer(num_points) or num_points < 1:
        raise ValueError(f"num_points must be a positive integer, got {num_points!r}")
    if batch_size is not None and (not integer(batch_size) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer (or None), got {batch_size!r}")
    if memory_budget is not None:
        real = isinstance(memory_budget, (int, float, np.integer, np.floating)) and not isinstance(
            memory_budget, (bool, np.bool_))
        if not real or not 0 < memory_budget < float("inf"):  # also rejects NaN
            raise ValueError(f"memory_budget must be a finite number of bytes > 0, got {memory_budget!r}")


def check_setup(method: Method, problem: Problem, timing: TimingModel) -> None:
    """Cross-checks between method, problem and timing (worker counts, sizes), and the problem's
    float type (:func:`jaxsim.problems.base.check_dtype`: a real floating type JAX runs now)."""
    if not isinstance(problem, Problem):
        raise ValueError(f"problem: expected a jaxsim Problem, got {type(problem).__name__}")
    if not isinstance(timing, TimingModel):
        raise ValueError(f"timing: expected a TimingModel, got {type(timing).__name__}")
    check_dtype(problem.dtype, "problem")
    n = timing.n
    if problem.num_workers is not None and problem.num_workers != n:
        raise ValueError(f"workers: timing has n={n} workers but the problem has data for "
                         f"{problem.num_workers}")
    method.check_workers(n)
    method.check_timing(timing)
    method.check_problem(problem)


def run(method: Method, problem: Problem, timing, seeds: Sequence[int], settings: Sequence[dict], horizon,
        num_points: int, *, optimizer=None, batch_size: Optional[int] = None,
        memory_budget: int = DEFAULT_MEMORY_BUDGET, window: Optional[int] = None, durations=None,
        progress=False, checkpoint=None, devices=None):
    """Every setting on every seed, on the method's clock (:data:`jaxsim.sim.clocks.CLOCKS`):
    ``(metrics [S, P, G + 1], info, time [S, G + 1])``. ``settings`` are complete, validated
    hyperparameter dicts; ``timing`` is one model (or, on the stream clock, one per seed);
    ``horizon`` a :class:`~jaxsim.sim.events.Horizon` or seconds. :func:`sweep` labels the result;
    the reference check (:func:`jaxsim.reference.check.check`) compares it run by run."""
    t0 = _time.perf_counter()
    setup = clock_of(method).setup(method, problem, timing, seeds, settings, as_horizon(horizon), num_points,
                                   optimizer=optimizer, window=window, durations=durations,
                                   memory_budget=memory_budget)
    t_prep = _time.perf_counter() - t0
    raw, info = run_setup(setup, method, problem, list(settings), batch_size=batch_size, memory_budget=memory_budget,
                          progress=progress, dtype=problem.dtype, checkpoint=checkpoint, devices=devices)
    info.update(seconds_prepare=t_prep)
    return raw, info, setup.time


def sweep(method, problem: Problem, timing: TimingModel, *, seeds=(0,), grid: Optional[dict] = None,
          horizon=100.0, num_points: int = 100, optimizer=None, batch_size: Optional[int] = None,
          memory_budget: int = DEFAULT_MEMORY_BUDGET, method_options: Optional[dict] = None,
          durations=None, window: Optional[int] = None, progress=False,
          checkpoint_dir=None, devices=None) -> SweepResult:
    """Simulate ``method`` for every seed and every point of ``grid``.

    The method names its clock (``method.clock``, looked up in :data:`jaxsim.sim.clocks.CLOCKS`):
    free-running methods run on pre-sampled streams (:mod:`jaxsim.sim.stream`), methods that
    cancel, idle or synchronize workers on controlled events (:mod:`jaxsim.sim.controlled`), the
    ATA family on the allocation clock (:mod:`jaxsim.sim.allocation`), round-based methods (e.g.
    LOSCAR-SGD) on the rounds clock (:mod:`jaxsim.sim.rounds`), owning their models; the first
    three share one server (:mod:`jaxsim.sim.server`).

    Args:
      method: a registered name or a :class:`~jaxsim.methods.Method` instance.
      problem, timing: what to optimize and how long jobs take.
      seeds: distinct integer seeds, ``0 <= seed < 2**63`` (durations and gradient noise
        both derive from each; distinct seeds give distinct streams, see :mod:`jaxsim.runtime.rng`).
      grid: hyperparameter name -> list of values (an axis) or a scalar (fixed).
        Missing hyperparameters take the method's defaults. Counts must be at most
        ``2**31 - 1``; floats must be finite and normal in the run's float type (the
        problem's, ``float32`` unless x64 is enabled).
      horizon: simulated seconds, or a :class:`~jaxsim.sim.events.Horizon`.
      num_points: recording intervals; metrics have ``num_points + 1`` points.
      optimizer: an optax ``GradientTransformation`` producing the step direction
        (default: the gradient itself, i.e. SGD); stepsizes stay the method's. Round-based
        methods update their own models and take none.
      batch_size: settings per compiled call, a positive integer (default: from ``memory_budget``).
      memory_budget: bytes a batch may use (default ``None``: what the device has). Batches are
        estimated before compiling and shrunk to fit; a run that cannot fit raises ``ValueError``
        naming the sizes (see :func:`jaxsim.sim.runner.run_setup`).
      durations: optional list (one per seed) of ``D[n, J]`` arrays to use instead of
        sampling from ``timing`` (the base times still pick Hero SGD's worker).
      window: pin the number of past iterates kept per run (see
        :func:`jaxsim.sim.stream.plan_store`); must exceed every delay the method applies.
      progress: ``False`` (default), ``True`` or ``"bar"`` for a bar on stderr, ``"lines"`` for a
        plain line on stderr about every 30 s (logs; :data:`jaxsim.sim.runner.LINE_SECONDS`). It
        advances inside a batch, with the simulated time its runs have reached: runs done,
        run-events per second and the ETA (:class:`jaxsim.sim.runner.ProgressBar`). It changes no number.
      checkpoint_dir: optional directory making the sweep resumable (see
        :mod:`jaxsim.runtime.checkpoint`). A manifest with the hash of everything that determines
        the numbers (method and its options, optimizer, problem and its data, timing model,
        seeds, sampled streams, settings, horizon, points, float type, jaxsim / JAX versions
        and device) is written first, then each finished batch, atomically, as its own file
        keyed by that hash and the batch's settings. Re-running the same sweep with the same
        directory loads the finished batches and computes only the rest, with results
        identical to an uninterrupted run (``info["batches_loaded"]`` /
        ``info["batches_computed"]`` list the batch indices); a directory holding another
        configuration raises ``ValueError`` (results are never mixed). Use one directory per
        sweep.
      devices: where the batches run (see :func:`jaxsim.sim.plan.resolve_devices`): ``None``
        (default) for the devices of the default backend that shorten the sweep (a sweep of a
        few runs stays on one; :func:`jaxsim.sim.plan.useful_devices`), a count ``k`` for the first ``k``,
        or a list of :class:`jax.Device`. With several, each batch's runs are sharded over a
        ``("seed", "setting")`` mesh (:mod:`jax.sharding`, padded with masked copies); the
        numbers are the same as on one device, and ``memory_budget`` applies per device.
        ``info["mesh"]`` gives the split.

    All inputs are validated before anything is compiled.
    """
    seeds = check_seeds(seeds)
    _check_run_options(num_points, batch_size, memory_budget)
    check_progress(progress)
    method = make_method(method, **(method_options or {}))
    clock = clock_of(method)
    resolve_devices(devices)
    axes, fixed = _split_grid(method, grid, problem.dtype if isinstance(problem, Problem) else None)
    check_setup(method, problem, timing)
    method.check_grid({**axes, **{k: np.atleast_1d(v) for k, v in fixed.items()}}, timing.n)
    horizon = as_horizon(horizon)
    clock.check(method, horizon, durations=durations, window=window, optimizer=optimizer)

    t0 = _time.perf_counter()
    names = list(axes)
    settings = [dict(zip(names, combo), **fixed) for combo in itertools.product(*axes.values())] \
        if names else [dict(fixed)]
    ckpt = None
    if checkpoint_dir is not None:
        if not isinstance(checkpoint_dir, (str, os.PathLike)):
            raise ValueError(f"checkpoint_dir: expected a directory path, got {type(checkpoint_dir).__name__}")
        ckpt = Checkpoint(checkpoint_dir, describe=dict(
            method=method.name, problem=type(problem).__name__, timing=repr(timing), seeds=seeds,
            grid={k: np.asarray(v).tolist() for k, v in axes.items()}, fixed=fixed,
            horizon=dataclasses.asdict(horizon), num_points=int(num_points), window=window,
            durations=durations is not None))
    raw, info, time = run(method, problem, timing, seeds, settings, horizon, num_points, optimizer=optimizer,
                          batch_size=batch_size, memory_budget=memory_budget, window=window, durations=durations,
                          progress=progress, checkpoint=ckpt, devices=devices)
    S = len(seeds)
    info.update(seconds_total=_time.perf_counter() - t0,
                n=timing.n, d=problem.dim, horizon=dataclasses.asdict(horizon),
                config=dict(method=method.name, method_options=dict(method_options or {}),
                            method_static=describe_method(method)["options"],
                            optimizer=None if optimizer is None else repr(optimizer),
                            problem=describe_problem(problem), timing=describe_timing(timing), seeds=seeds,
                            grid={k: np.asarray(v).tolist() for k, v in axes.items()}, fixed=fixed,
                            num_points=int(num_points), durations_given=durations is not None),
                provenance=provenance())
    shape = (S,) + tuple(len(v) for v in axes.values()) + (num_points + 1,)
    metrics = {k: v.reshape(shape) for k, v in raw.items()}
    if problem.f_star is None:  # f - f* is unknown: the kernel's loss_gap would be f itself, kept as `loss`
        metrics.pop("loss_gap", None)
    if not (problem.has_batch_loss and method.job.has_loss):  # NaN throughout
        metrics.pop("batch_loss", None)
    return SweepResult(
        method=method.name, dims=("seed", *names, "point"),
        coords={"seed": np.array(seeds), **axes}, metrics=metrics,
        time=time, fixed=fixed, info=info)


def simulate(method, problem: Problem, timing: TimingModel, *, seed: int = 0, hparams: Optional[dict] = None,
             horizon=100.0, num_points: int = 100, optimizer=None, method_options=None,
             durations=None) -> dict:
    """One run: a dict of metric arrays over the grid plus ``time``.

    ``durations`` (``D[n, J]``) replaces the sampled durations of ``seed``.
    """
    for k, v in (hparams or {}).items():
        if np.ndim(v) > 0:
            raise ValueError(f"hyperparameter {k}: simulate takes one value; use sweep for grids")
    res = sweep(method, problem, timing, seeds=[seed], grid=hparams, horizon=horizon,
                num_points=num_points, optimizer=optimizer, method_options=method_options,
                durations=None if durations is None else [durations])
    out = {k: v[0] for k, v in res.metrics.items()}
    out.update(time=res.time[0])
    return out


__all__ = ["DEFAULT_MEMORY_BUDGET", "METRICS", "SweepResult", "build_streams", "check_setup", "run", "simulate",
           "sweep"]
