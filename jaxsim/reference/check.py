"""Check a method against its reference rule: the project's backbone, as a function.

:func:`check` simulates randomized small configurations (worker count, dimension, base times,
noise law, problem, hyperparameters from each one's declared range, horizon, seed) with both
implementations, the jitted engine on the method's clock and the plain heap loop of
:mod:`jaxsim.reference.loops`, on the same durations and gradient keys, in float64, and
compares every recorded metric at every recorded point. The oracle tests call it for every
registered method, and ``jaxsim check METHOD_OR_FILE`` for a user's own.

The configurations of one bucket (one worker count and dimension) run in one compiled engine
call: seeds on the seed axis, their settings on the setting axis, the diagonal compared.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import jax
import numpy as np

from ..methods import make_method
from ..problems import component_logistic, heterogeneous_quadratic, worst_case_quadratic
from ..runtime.rng import time_key
from ..timing.speed import SpeedProfile
from ..timing import NOISE_LAWS, TimingModel
from .loops import rule_of, run as reference_run

#: Relative tolerance of every compared metric (float64 on both sides; the two implementations
#: round differently, e.g. a sum over workers in another order).
RTOL = 1e-9
#: Absolute tolerance per clock (quantities near zero): tighter for free-running streams, whose
#: event times are the given durations' sums on both sides.
ATOL = {"stream": 1e-12}
ATOL_DEFAULT = 1e-9


@dataclasses.dataclass(frozen=True)
class Bucket:
    """Configurations sharing one engine call: ``n`` workers, dimension ``d``, a horizon in
    ``"time"`` (seconds) or ``"events"``, and (allocation clock) a periodic speed profile."""

    n: int
    d: int
    horizon: str = "time"
    speed: bool = False


#: Buckets and configurations per bucket, per clock (the keys of :data:`jaxsim.sim.clocks.CLOCKS`).
PLANS = {
    "stream": ([Bucket(3, 2), Bucket(7, 5, "events")], 10),
    "controlled": ([Bucket(3, 2), Bucket(7, 5)], 10),
    "allocation": ([Bucket(3, 2), Bucket(6, 4, speed=True)], 4),
    "rounds": ([Bucket(3, 2), Bucket(5, 6)], 4),
}
NUM_POINTS = 8
#: Jobs drawn per worker for a stream configuration (one table shape per bucket: one compile per law).
STREAM_JOBS = 600


@dataclasses.dataclass
class Report:
    """The outcome of :func:`check`: ``ok``, the runs compared, the worst relative difference
    per metric over them, and the first failures (one line each)."""

    method: str
    clock: str
    runs: int = 0
    worst: dict = dataclasses.field(default_factory=dict)
    failures: list = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.runs > 0 and not self.failures

    def __str__(self) -> str:
        head = (f"{self.method} ({self.clock} clock): {'PASS' if self.ok else 'FAIL'}, {self.runs} runs against "
                f"the reference rule, rtol {RTOL:g}")
        rows = [f"  {k:<14} worst relative difference {v:.2e}" for k, v in sorted(self.worst.items())]
        return "\n".join([head, *rows, *(f"  FAIL {f}" for f in self.failures[:10])])


def noise_law(rng):
    """A random law of :data:`~jaxsim.timing.NOISE_LAWS` with random parameters (every law can
    come up)."""
    u = lambda lo, hi: float(rng.uniform(lo, hi))  # noqa: E731
    laws = {
        "none": lambda: NOISE_LAWS["none"](),
        "halfnormal": lambda: NOISE_LAWS["halfnormal"](var=str(rng.choice(["i", "i-1"]))),
        "exponential": lambda: NOISE_LAWS["exponential"](scale=u(0.1, 2.0)),
        "lognormal": lambda: NOISE_LAWS["lognormal"](sigma=u(0.2, 1.5)),
        "uniform": lambda: NOISE_LAWS["uniform"](low=0.0, high=u(0.1, 3.0)),
        "halfcauchy": lambda: NOISE_LAWS["halfcauchy"](loc=u(0, 1), scale=u(0.1, 1)),
        "logcauchy": lambda: NOISE_LAWS["logcauchy"](loc=u(-1, 0), scale=u(0.1, 1)),
        "levy": lambda: NOISE_LAWS["levy"](loc=u(0, 0.5), scale=u(0.05, 0.5)),
        "exp_levy_mix": lambda: NOISE_LAWS["exp_levy_mix"](p=u(0.5, 0.9), theta=u(0.2, 1)),
        "inf_bernoulli": lambda: NOISE_LAWS["inf_bernoulli"](p=u(0.995, 1.0)),
        "alpha_bernoulli": lambda: NOISE_LAWS["alpha_bernoulli"](alpha=u(1, 4), p=u(0.5, 1)),
        "pareto": lambda: NOISE_LAWS["pareto"](a=u(1.2, 3), xm=u(0.1, 1)),
    }
    if set(laws) != set(NOISE_LAWS):
        raise AssertionError(f"check.noise_law: every noise law must be drawable; missing "
                             f"{sorted(set(NOISE_LAWS) - set(laws))}")
    return laws[str(rng.choice(sorted(laws)))]()


def problem_for(method, n: int, d: int, rng):
    """The worst-case quadratic, or (half the time) per-worker quadratics with their own minimizers
    and curvatures, so that which worker a gradient came from matters; a method that rejects both
    (``check_problem``, e.g. differentially private methods) gets a small logistic problem of
    dimension ``d`` with the constants it needs."""
    if rng.random() < 0.5:
        problem = worst_case_quadratic(d=d, noise_scale=float(rng.uniform(0.0, 0.5)))
    else:
        problem = heterogeneous_quadratic(a=rng.normal(size=(n, d)), h=rng.uniform(0.2, 1.5, (n, d)),
                                          x0=rng.normal(size=d), noise_scale=float(rng.uniform(0.0, 0.5)),
                                          noise="scalar")
    try:
        method.check_problem(problem)
        return problem
    except ValueError:
        return component_logistic(num_samples=12, dim=d, scales=rng.uniform(0.3, 3.0, d),
                                  seed=int(rng.integers(0, 2**31 - 1)), l2=0.05, dtype=problem.dtype)


def _base(rng, n, p_round):
    return np.round(rng.uniform(0.3, 3.0, n), 1) if rng.random() < p_round else rng.uniform(0.3, 3.0, n)


def _timing(method, rng, n, *, p_round=0.5, permute=0.3, speed_horizon=None, settings=None):
    """A random timing model ``method`` accepts (``check_timing``), redrawn until it does."""
    for _ in range(1000):
        base = _base(rng, n, p_round)
        prof = None
        if speed_horizon is not None:
            T = speed_horizon(base, settings)
            prof = SpeedProfile.periodic(n, 0.6, T / 5, horizon=T)
        timing = TimingModel(n=n, base=base, noise=noise_law(rng), speed=prof,
                             permute_base=bool(rng.random() < permute))
        try:
            method.check_timing(timing)
            return timing
        except ValueError:  # e.g. stepsizes from mean times under an infinite-mean law
            continue
    raise ValueError(f"{method.name}: no random timing model was accepted (check_timing) in 1000 draws")


def _settings(method, rng, n, count):
    return [{k: v.item() for k, v in method.check_hparams({name: spec.sample(rng, n) for name, spec in
                                                           method.hparams.items()}).items()} for _ in range(count)]


def _bucket(clock: str, method, bucket: Bucket, count: int, rng):
    """``(problem, timing (one or one per seed), seeds, settings, horizon, durations)`` of one bucket
    (``durations``: one ``[n, J]`` table per seed on the stream clock, else ``None``: drawn inside)."""
    from ..sim.events import Horizon
    from ..sim.clocks import build_streams

    n, d = bucket.n, bucket.d
    problem = problem_for(method, n, d, rng)
    if clock == "stream":  # a timing model per seed, its durations given to both; a few hundred arrivals
        K = int(rng.integers(200, 320))
        kind = "time" if bucket.horizon == "time" or getattr(method, "selects_workers", False) else "events"
        timings, seeds, tables, horizon = [], [], [], None
        while len(seeds) < count:
            tm = _timing(method, rng, n)
            seed = int(rng.integers(0, 2**31 - 1))
            key = time_key(seed)
            D = np.asarray(tm.sample(key, STREAM_JOBS), np.float64)
            if horizon is None:  # seconds: the first model's time for about K arrivals
                mean, tau = np.asarray(tm.mean(key), np.float64), np.asarray(tm.base_for(key), np.float64)
                rate = float(np.sum(1.0 / np.where(np.isfinite(mean), mean, tau)))  # heavy tails: base times
                horizon = Horizon(events=K) if kind == "events" else Horizon(time=K / rate)
            try:  # heavy tails: a hung worker may leave too few events, or need more jobs than drawn
                build_streams(method, tm, [seed], horizon, NUM_POINTS, durations=[D])
            except ValueError:
                continue
            timings.append(tm)
            seeds.append(seed)
            tables.append(D)
        return problem, timings, seeds, _settings(method, rng, n, count), horizon, tables
    if clock == "allocation":
        settings = _settings(method, rng, n, count)

        def T_of(base, settings):
            return float(40 * np.max(base) * np.ceil(max(s["B"] for s in settings) / n))
        timing = _timing(method, rng, n, p_round=0.4, speed_horizon=T_of if bucket.speed else None,
                         settings=settings)
        seeds = [int(rng.integers(0, 2**31 - 1)) for _ in range(count)]
        return problem, timing, seeds, settings, Horizon(time=T_of(timing.base, settings)), None
    timing = _timing(method, rng, n, p_round=0.3)
    seeds = [int(rng.integers(0, 2**31 - 1)) for _ in range(count)]
    settings = _settings(method, rng, n, count)
    if clock == "rounds":
        T = float(rng.uniform(10, 20) * np.max(timing.tau))
    else:  # a few hundred completions
        T = float(rng.uniform(220, 320) / np.sum(1.0 / timing.tau))
    return problem, timing, seeds, settings, Horizon(time=T), None


def _compare(report: Report, out: dict, ref: dict, i: int, where: str, atol: float) -> None:
    missing = sorted(set(out) - set(ref))
    if missing:
        report.failures.append(f"{where}: the reference recorded no {missing}")
    for k in sorted(set(out) & set(ref)):
        a, b = np.asarray(out[k][i, i], np.float64), np.asarray(ref[k], np.float64)
        if k == "diverged":
            if not np.array_equal(a, b):
                report.failures.append(f"{where}: diverged differs (engine {a.tolist()}, reference {b.tolist()})")
            continue
        both_nan = np.isnan(a) & np.isnan(b)
        diff = np.where(both_nan, 0.0, np.abs(a - b))
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(diff == 0, 0.0, diff / np.maximum(np.abs(b), np.finfo(np.float64).tiny))
        rel = np.where(np.isnan(rel), np.inf, rel)
        report.worst[k] = max(report.worst.get(k, 0.0), float(np.max(rel)))
        bad = ~(both_nan | (diff <= atol + RTOL * np.abs(b)))
        if bad.any():
            p = int(np.argmax(bad))
            report.failures.append(f"{where}: {k} differs at point {p}: engine {a[p]!r}, reference {b[p]!r}")


def check(method, *, seed: int = 0, configs: Optional[int] = None, buckets=None, optimizer=None) -> Report:
    """Run ``method`` (a registered name or a :class:`~jaxsim.methods.Method` with a reference
    rule) against its reference rule on randomized small configurations, in float64, and return
    a :class:`Report` (``report.ok``; ``print(report)`` shows the worst relative difference per
    metric and the first failures).

    ``seed`` draws the configurations (another seed, another set); ``configs`` per bucket and
    ``buckets`` (:class:`Bucket` list) default to the method's clock's :data:`PLANS`;
    ``optimizer``: an optax server optimizer both apply."""
    from ..sim.clocks import clock_of
    from ..sweep import run as engine_run

    method = make_method(method)
    clock = clock_of(method).name
    rule_of(method)  # a method without a rule of its own fails here, naming the fix
    plan_buckets, plan_count = PLANS[clock]
    buckets = plan_buckets if buckets is None else list(buckets)
    count = plan_count if configs is None else int(configs)
    report = Report(method.name, clock)
    rng = np.random.default_rng(seed)
    with jax.enable_x64(True):
        for bucket in buckets:
            problem, timing, seeds, settings, horizon, tables = _bucket(clock, method, bucket, count, rng)
            out, _, time = engine_run(method, problem, timing, seeds, settings, horizon, NUM_POINTS,
                                      optimizer=optimizer, durations=tables)
            for i, s in enumerate(seeds):
                tm = timing[i] if isinstance(timing, list) else timing
                ref = reference_run(method, problem, tm, settings[i], seed=s, horizon=horizon, num_points=NUM_POINTS,
                                    optimizer=optimizer, durations=None if tables is None else tables[i])
                where = (f"n={bucket.n}, d={bucket.d}, config {i}, seed {s}, hp={settings[i]}, noise={tm.noise}"
                         + (", speed profile" if tm.speed is not None else ""))
                _compare(report, out, ref, i, where, ATOL.get(clock, ATOL_DEFAULT))
                if not np.allclose(time[i], ref["time"], rtol=1e-12, atol=0):
                    report.failures.append(f"{where}: recording times differ")
                report.runs += 1
    return report


__all__ = ["ATOL", "Bucket", "NUM_POINTS", "PLANS", "RTOL", "Report", "check", "noise_law", "problem_for"]
