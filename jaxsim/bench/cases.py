"""One benchmark per method and problem, and the suite: one method per clock x four problems.

:func:`measure` runs one :class:`Case` (a method on a problem, its workers, seeds, grid and
horizon) through the engine (:func:`jaxsim.sim.runner.run_setup`, the batch a sweep runs: every
setting in one batch) and through its clock's synchronous kernel
(:data:`jaxsim.bench.kernels.SYNC`), in one process, and reports:

* ``engine_run_events_per_s``: run-events per second, a run-event being one gradient received
  by the server (the ``received`` metric, summed over the runs);
* ``sync_run_events_per_s``: the synchronous kernel's gradients per second over the same batch,
  counts and keys (see :mod:`jaxsim.bench.kernels`); ``fraction_of_sync`` is the engine's rate
  over it (what the engine adds to the bare gradients, as a fraction; noise on a loaded machine,
  and XLA compiling the two loops differently, can put it above 1 where gradients dominate);
* ``compile_s`` (``sync_compile_s``): the first call's time less the best later one (the
  compile, plus the first call's own run overhead);
* ``peak_rss_mib`` (``sync_peak_rss_mib``): the process's resident-memory high-water mark
  during the first call (compiling and running), reset before it (``/proc/self/clear_refs``;
  elsewhere the process's peak so far, ``peak_rss_reset`` false);
* ``xla_memory``: XLA's compiled memory statistics in bytes (argument, output, alias, temp,
  generated code) of the engine's two kernels (``start``, ``segment``) and of the synchronous
  kernel, where the backend reports them.

Timings are the best of ``repeats`` interleaved calls (engine, kernel, engine, ...): the machine
is shared and noisy; only ratios measured in one run mean much.

Problems (:data:`PROBLEMS`, small CPU sizes): ``quadratic`` (the worst-case quadratic, ``d``
default 100), ``logistic`` (synthetic data, ``d`` features, default 100, 100 samples per
worker), ``mlp`` (a 784-32-10 MLP classifier on synthetic MNIST-shaped data, 20 samples per
worker, minibatches of 4) and ``lm`` (the byte-level transformer of ``LMConfig.cpu``, minibatches
of one sequence); the last two have a fixed size (``--d`` is refused). Durations are
``(1 + sqrt(w)) + |N(0, w + 1)|`` for every case (:func:`jaxsim.make_timing` ``one_plus_sqrt``,
``halfnormal``). A horizon in events (``events`` per run) is kept as it is on the free-running
clock and turned into seconds for the others: the time in which the ``n`` workers, always busy,
would complete that many jobs.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from .. import make_method, make_timing
from ..sim.clocks import CLOCKS, clock_of
from ..sim.events import Horizon
from ..sim.kernel import run_batch
from ..sim.runner import run_setup
from ..sim.setup import hp_arrays
from .default import best_interleaved
from .kernels import sync_call


# ---- problems ------------------------------------------------------------------------------------

def _quadratic(d, n):
    from ..problems import worst_case_quadratic

    return worst_case_quadratic(d=100 if d is None else d, noise_scale=0.01)


def _logistic(d, n):
    from ..problems import make_logistic

    return make_logistic(num_workers=n, samples_per_worker=100, dim=100 if d is None else d)


def _mlp(d, n):
    from ..problems import mlp_classifier
    from ..problems.data import make_split

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20 * n, 784)).astype(np.float32)
    y = rng.integers(0, 10, 20 * n)
    return mlp_classifier(X, y, make_split(y, n, "iid"), hidden=32, classes=10, batch=4)


def _lm(d, n):
    from ..problems import language_model

    return language_model(batch=1)


#: The benchmark's problems: ``name -> (build(d, n), what it is, takes --d)``.
PROBLEMS = {
    "quadratic": (_quadratic, "worst-case quadratic, d = --d (100)", True),
    "logistic": (_logistic, "logistic regression, synthetic data, d = --d features (100), 100 samples per worker",
                 True),
    "mlp": (_mlp, "784-32-10 MLP classifier, synthetic data, 20 samples per worker, minibatch 4", False),
    "lm": (_lm, "byte-level transformer (LMConfig.cpu), minibatch of 1 sequence", False),
}


def build_problem(name: str, d: Optional[int], n: int):
    """The benchmark's problem ``name`` (:data:`PROBLEMS`) for ``n`` workers; ``ValueError``
    naming the field for an unknown name or a ``d`` it does not take."""
    if name not in PROBLEMS:
        raise ValueError(f"problem: unknown benchmark problem {name!r}; choose one of {sorted(PROBLEMS)}")
    build, what, takes_d = PROBLEMS[name]
    if d is not None and not takes_d:
        raise ValueError(f"d: problem {name!r} has a fixed size here ({what}); give --d only for "
                         f"{', '.join(k for k, v in PROBLEMS.items() if v[2])}")
    return build(d, n)


# ---- cases ---------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Case:
    """One benchmark: ``method`` on ``problem`` (:data:`PROBLEMS`), ``n`` workers, ``seeds``
    seeds x the ``grid`` (hyperparameter -> values, every combination), ``events`` per run (see
    the module docstring), metrics at ``points`` grid points."""

    method: str
    problem: str
    n: int = 100
    d: Optional[int] = None
    seeds: int = 2
    grid: tuple = ()  # ((name, (values...)), ...): hashable
    events: int = 2000
    points: int = 5

    @property
    def settings(self) -> list:
        names = [k for k, _ in self.grid]
        return [dict(zip(names, combo)) for combo in itertools.product(*(v for _, v in self.grid))]


#: Each clock's method in the suite and its grid axes besides ``gamma`` (two values each).
SUITE_METHODS = {
    "stream": ("ringmaster", (("R", (1, 4)),)),
    "controlled": ("ringmaster_stops", (("R", (1, 4)),)),
    "allocation": ("ata", (("B", (4, 8)),)),
    "rounds": ("loscar", (("compute_time", (5.0, 10.0)),)),
}
#: Per problem: stepsizes (two), workers, events per run, seeds.
SUITE_PROBLEMS = {
    "quadratic": dict(gammas=(0.01, 0.1), n=100, events=32_000, seeds=2),
    "logistic": dict(gammas=(0.1, 0.5), n=20, events=32_000, seeds=2),
    "mlp": dict(gammas=(0.01, 0.05), n=20, events=1000, seeds=2),
    "lm": dict(gammas=(0.01, 0.05), n=8, events=100, seeds=2),
}
#: Events per run where a clock's cost per event is far from its problem's default: each case's
#: engine call should take a few tenths of a second or more on a 2-core CPU (the loop runs in
#: segments of a quarter second), and its synchronous kernel's some hundredths.
SUITE_EVENTS = {("stream", "quadratic"): 128_000, ("stream", "logistic"): 64_000, ("stream", "mlp"): 500,
                ("allocation", "quadratic"): 128_000, ("allocation", "logistic"): 64_000, ("allocation", "mlp"): 2000,
                ("rounds", "logistic"): 16_000, ("rounds", "mlp"): 200, ("rounds", "lm"): 40}
#: The free-running quadratic at d = 100 of ``jaxsim bench`` (:func:`jaxsim.bench.run`'s
#: default): Ringmaster ASGD, n = 100, 4 seeds x 16 stepsizes x R in {1, 2, 4, 8} (256 runs) x
#: 20 000 events.
DEFAULT_CASE = Case("ringmaster", "quadratic", n=100, d=100, seeds=4,
                    grid=(("gamma", tuple(float(g) for g in np.geomspace(1e-3, 0.2, 16))), ("R", (1, 2, 4, 8))),
                    events=20_000, points=20)


def case_for(method: str, problem: str, *, d=None, n=None, events=None) -> Case:
    """The suite's sizes for ``method`` on ``problem``: its problem's workers, events (or its
    clock's, :data:`SUITE_EVENTS`), seeds and stepsizes, and the grid of its clock's suite method
    (or ``gamma`` alone for another method); ``d``, ``n``, ``events`` override them."""
    if problem not in PROBLEMS:
        raise ValueError(f"problem: unknown benchmark problem {problem!r}; choose one of {sorted(PROBLEMS)}")
    p = SUITE_PROBLEMS[problem]
    axes = next((extra for name, extra in SUITE_METHODS.values() if name == method), ())
    grid = (("gamma", p["gammas"]),) + tuple(axes)
    if events is None:
        events = SUITE_EVENTS.get((clock_of(make_method(method)).name, problem), p["events"])
    return Case(method, problem, n=p["n"] if n is None else n, d=d, seeds=p["seeds"], grid=grid, events=events)


def suite_cases() -> list:
    """The suite: the default free-running quadratic (:data:`DEFAULT_CASE`), then one method per
    clock (:data:`SUITE_METHODS`) x each problem (:data:`SUITE_PROBLEMS`)."""
    return [DEFAULT_CASE] + [case_for(m, p) for m, _ in SUITE_METHODS.values() for p in SUITE_PROBLEMS]


# ---- measuring -----------------------------------------------------------------------------------

def _peak_reset() -> bool:
    """Reset the process's resident-memory high-water mark (Linux); whether it was."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_mib() -> float:
    """The process's resident-memory high-water mark, MiB (``VmHWM``, else ``ru_maxrss``)."""
    try:
        with open("/proc/self/status") as f:
            return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024
    except (OSError, AttributeError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _first(fn):
    """``(seconds, result, peak MiB, reset)`` of the first call of ``fn``."""
    reset = _peak_reset()
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn())
    return time.perf_counter() - t0, out, _peak_mib(), reset


_XLA_FIELDS = ("argument", "output", "alias", "temp", "generated_code")


def _xla_bytes(stats) -> Optional[dict]:
    if stats is None:
        return None
    return {k: int(getattr(stats, f"{k}_size_in_bytes", 0)) for k in _XLA_FIELDS}


def _xla_memory(setup, problem, hp, x0, sync) -> dict:
    """XLA's compiled memory statistics of the engine's kernels and the synchronous kernel (read
    from JAX's caches after their first calls; ``None`` where the backend has none)."""
    out = {}
    try:
        eng = run_batch.memory(setup.clock, problem, setup.seeds, hp, setup.intervals, setup.t0, x0)
        out["engine"] = {k: _xla_bytes(v) for k, v in eng.items()}
    except Exception as e:  # noqa: BLE001 - a report, never a failure
        out["engine"] = f"unavailable: {type(e).__name__}: {e}"
    try:
        out["sync"] = _xla_bytes(sync.func.lower(*sync.args, **sync.keywords).compile().memory_analysis())
    except Exception as e:  # noqa: BLE001
        out["sync"] = f"unavailable: {type(e).__name__}: {e}"
    return out


def prepare(case: Case):
    """``(method, problem, timing, settings, horizon)`` of ``case``, validated like a sweep
    (``ValueError`` naming the field when the method cannot run it)."""
    from ..sweep import check_setup

    method = make_method(case.method)
    problem = build_problem(case.problem, case.d, case.n)
    timing = make_timing(case.n, "one_plus_sqrt", "halfnormal")
    check_setup(method, problem, timing)
    grid = method.check_hparams(dict((k, list(v)) for k, v in case.grid), problem.dtype)
    method.check_grid(grid, case.n)
    fixed = {k: v.reshape(-1)[0].item() for k, v in grid.items() if k not in dict(case.grid)}
    settings = [dict(s, **fixed) for s in case.settings]
    clock = clock_of(method)
    if clock.event_horizon and not getattr(method, "selects_workers", False):
        horizon = Horizon(events=case.events)
    else:  # the time in which the n workers, always busy, complete ``events`` jobs
        rate = float(np.sum(1.0 / np.asarray(timing.mean(), np.float64)))
        horizon = Horizon(time=case.events / rate)
    clock.check(method, horizon)
    return method, problem, timing, settings, horizon


def measure(case: Case, repeats: int = 3) -> dict:
    """Run ``case`` through the engine and its clock's synchronous kernel; the figures of the
    module docstring (one dict, JSON-ready)."""
    method, problem, timing, settings, horizon = prepare(case)
    clock = clock_of(method)
    seeds = list(range(case.seeds))
    setup = clock.setup(method, problem, timing, seeds, settings, horizon, case.points)
    dtype = problem.dtype
    engine_call = lambda: run_setup(setup, method, problem, settings, batch_size=len(settings),  # noqa: E731
                                    dtype=dtype, devices=1)  # one device, as the kernel runs
    first_engine, (metrics, info), peak_engine, reset = _first(engine_call)
    received = metrics["received"]
    hp = hp_arrays(method, settings, dtype)
    x0 = jnp.asarray(problem.init())
    sync = sync_call(clock.name, setup, method, problem, hp, x0, received)
    first_sync, out, peak_sync, _ = _first(sync)
    best = best_interleaved({"engine": lambda: engine_call()[0]["received"], "sync": sync}, repeats)
    engine_events = int(np.sum(received[..., -1], dtype=np.int64))
    sync_events = int(np.sum(np.asarray(out["gradients"])[..., -1], dtype=np.int64))
    engine_rate, sync_rate = engine_events / best["engine"], sync_events / best["sync"]
    runs = len(seeds) * len(settings)
    return {
        "method": method.name, "clock": clock.name, "problem": case.problem, "d": int(problem.dim), "n": case.n,
        "seeds": len(seeds), "settings": len(settings), "runs": runs, "points": case.points,
        "horizon_events": horizon.events, "horizon_s": horizon.time,
        "events_per_run": engine_events / runs, "engine_events": engine_events, "sync_events": sync_events,
        "engine_run_events_per_s": engine_rate, "sync_run_events_per_s": sync_rate,
        "fraction_of_sync": engine_rate / sync_rate,
        "engine_s": best["engine"], "sync_s": best["sync"],
        "compile_s": max(first_engine - best["engine"], 0.0), "sync_compile_s": max(first_sync - best["sync"], 0.0),
        "peak_rss_mib": peak_engine, "sync_peak_rss_mib": peak_sync, "peak_rss_reset": reset,
        "xla_memory": _xla_memory(setup, problem, hp, x0, sync),
        "batches": info["batches"], "repeats": repeats, "backend": jax.default_backend(),
    }


def suite(cases=None, repeats: int = 3, on_row=None) -> dict:
    """:func:`measure` every case of the suite (:func:`suite_cases`); a case the method cannot run
    is skipped with its reason. ``on_row(row)`` is called after each (a measured row, or
    ``{"method", "problem", "skipped": reason}``). Returns ``{"rows", "skipped", "seconds", ...}``."""
    t0 = time.perf_counter()
    rows, skipped = [], []
    for case in suite_cases() if cases is None else cases:
        try:
            row = measure(case, repeats)
            rows.append(row)
        except ValueError as e:
            row = {"method": case.method, "problem": case.problem, "skipped": " ".join(str(e).split())}
            skipped.append(row)
        if on_row is not None:
            on_row(row)
    return {"rows": rows, "skipped": skipped, "seconds": time.perf_counter() - t0, "repeats": repeats,
            "backend": jax.default_backend(), "device": str(jax.devices()[0].device_kind),
            "clocks": sorted(CLOCKS)}


#: The suite table's columns: (header, row key, format).
COLUMNS = (("method", "method", "{}"), ("clock", "clock", "{}"), ("problem", "problem", "{}"), ("d", "d", "{}"),
           ("runs", "runs", "{}"), ("events/run", "events_per_run", "{:.0f}"),
           ("engine M run-ev/s", "engine_run_events_per_s", "M"), ("sync M run-ev/s", "sync_run_events_per_s", "M"),
           ("ratio", "fraction_of_sync", "{:.2f}"), ("compile s", "compile_s", "{:.1f}"),
           ("peak MiB", "peak_rss_mib", "{:.0f}"))


def _cell(row, key, fmt) -> str:
    v = row.get(key)
    if v is None:
        return "-"
    return f"{v / 1e6:.3g}" if fmt == "M" else fmt.format(v)


def table_header() -> str:
    return " | ".join(h for h, _, _ in COLUMNS)


def table_line(row: dict) -> str:
    """One row of the suite's table (a skipped case: its method, problem and reason)."""
    if "skipped" in row:
        return f"{row['method']} | - | {row['problem']} | skipped: {row['skipped']}"
    return " | ".join(_cell(row, key, fmt) for _, key, fmt in COLUMNS)


__all__ = ["COLUMNS", "Case", "DEFAULT_CASE", "PROBLEMS", "SUITE_EVENTS", "SUITE_METHODS", "SUITE_PROBLEMS",
           "build_problem", "case_for", "measure", "prepare", "suite", "suite_cases", "table_header", "table_line"]
