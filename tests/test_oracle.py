"""The backbone: the jitted engine agrees with the plain heap-loop reference.

For every registered method, randomized small configurations (worker count, dimension,
base times, noise law, stepsize, thresholds, horizon, seed) are simulated by both
implementations on the same durations and gradient keys, in float64, and must agree
to 1e-9 relative at every recorded point. A method without a reference rule fails.

Configurations are grouped into a few ``(n, d)`` buckets so that all configurations of
a bucket run in one compiled engine call (streams on the seed axis, settings on the
setting axis; the diagonal is compared), which keeps compilation time small.
"""

import os
import zlib

import jax
import numpy as np
import pytest

import jaxsim
from jaxsim import reference
from jaxsim.sim.events import Horizon, cycle_times, free_running
from jaxsim.methods import REGISTRY, AllocationMethod, ControlledMethod, RoundMethod, StreamMethod
from jaxsim.problems import heterogeneous_quadratic
from jaxsim.sim import kernel
from jaxsim.sweep import run_streams
from jaxsim.timing import NOISE_LAWS, TimingModel

@pytest.fixture(autouse=True)
def _release_kernels():
    """Each oracle test compiles its own float64 engine kernels; release them after it (see
    conftest). Only the engine's: the small kernels of eager operations (duration draws, keys)
    recur from test to test, and compiling them again cost up to a fifth of a test's time (the
    module's end releases them too, ``conftest._release_compiled_kernels``)."""
    yield
    kernel.run_batch.clear_cache()


BUCKETS = [(3, 2, "time"), (7, 5, "events")]  # (n, d, horizon kind)
CONFIGS_PER_BUCKET = 10  # 20 configurations per method
NUM_POINTS = 8
# Deterministic by default; JAXSIM_ORACLE_FUZZ=k draws another set of configurations.
FUZZ = int(os.environ.get("JAXSIM_ORACLE_FUZZ", "0"))
COMPARED = ("loss_gap", "grad_norm_sq", "updates", "received", "used", "discarded",
            "max_delay", "mean_delay")


def _noise_law(rng):
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
    assert set(laws) == set(NOISE_LAWS), "every noise law is exercised by the oracle test"
    return laws[str(rng.choice(sorted(laws)))]()


def _problem(n, d, rng):
    """The worst-case quadratic, or (half the time) per-worker quadratics with their own
    minimizers and curvatures, so that which worker a gradient came from matters."""
    if rng.random() < 0.5:
        return jaxsim.worst_case_quadratic(d=d, noise_scale=float(rng.uniform(0.0, 0.5)))
    return heterogeneous_quadratic(a=rng.normal(size=(n, d)), h=rng.uniform(0.2, 1.5, (n, d)),
                                   x0=rng.normal(size=d), noise_scale=float(rng.uniform(0.0, 0.5)), noise="scalar")


def _random_hp(method, rng, n):
    """Random valid values, each drawn from its hyperparameter's own declared range."""
    return {name: spec.sample(rng, n) for name, spec in method.hparams.items()}


def _bucket(method, n, d, kind, rng):
    """Random configurations of one bucket: (timing, durations, stream, hp, seed, mean)."""
    configs = []
    while len(configs) < CONFIGS_PER_BUCKET:
        base = np.round(rng.uniform(0.3, 3.0, n), 1) if rng.random() < 0.5 else rng.uniform(0.3, 3.0, n)
        timing = TimingModel(n=n, base=base, noise=_noise_law(rng))
        try:
            method.check_timing(timing)
        except ValueError:  # e.g. stepsizes from mean times under an infinite-mean law
            continue
        seed = int(rng.integers(0, 2**31 - 1))
        key = jaxsim.runtime.rng.time_key(seed)
        D = timing.sample(key, 600)
        mean, tau = timing.mean(key), timing.base_for(key)
        active = method.active_workers(mean)
        cycles = cycle_times(D, method.job.time_scale(mean))  # e.g. H local steps take H draws' time
        try:
            horizon = Horizon(events=int(rng.integers(200, 320)))
            stream = free_running(cycles, horizon, NUM_POINTS, active)
            if kind == "time" or method.selects_workers:  # the same events, on a grid of seconds
                horizon = Horizon(time=float(stream.grid_time[-1]))
                stream = free_running(cycles, horizon, NUM_POINTS, active)
        except ValueError:  # heavy tails: a hung or very slow worker leaves too few events
            continue
        configs.append(dict(D=D, stream=stream, hp=_random_hp(method, rng, n), seed=seed, timing=timing,
                            mean=mean, tau=tau, horizon=horizon))
    return configs


def _of_kind(kind):
    return sorted(k for k, v in REGISTRY.items() if issubclass(v, kind))


FREE_RUNNING = _of_kind(StreamMethod)
CONTROLLED = _of_kind(ControlledMethod)


#: Static options whose code paths differ from the default instance's: each is checked on one
#: bucket (``OPTION_BUCKETS``) besides the default instance's full test.
OPTIONS = {
    "rennala_mvr": [dict(form="independent", kappa=1.0)],
    "rennala_mvr_stops": [dict(form="independent", kappa=3.0)],
}
OPTION_BUCKETS = [(4, 3, "time")]


def test_option_variants_are_registered_methods():
    assert set(OPTIONS) <= set(REGISTRY)


@pytest.mark.parametrize("name", FREE_RUNNING)
def test_engine_matches_reference(name):
    assert "rule" in vars(REGISTRY[name]), f"method {name!r} has no reference rule of its own"
    _check_free_running(REGISTRY[name](), zlib.crc32(name.encode()) + FUZZ, BUCKETS)


@pytest.mark.parametrize("name,options", [(k, o) for k, v in OPTIONS.items() for o in v
                                          if issubclass(REGISTRY[k], StreamMethod)])
def test_engine_matches_reference_with_options(name, options):
    _check_free_running(REGISTRY[name](**options), zlib.crc32(repr((name, options)).encode()) + FUZZ,
                        OPTION_BUCKETS)


def _check_free_running(method, seed, buckets):
    name = method.name
    rng = np.random.default_rng(seed)
    checked = 0
    with jax.enable_x64(True):
        for n, d, kind in buckets:
            problem = _problem(n, d, rng)
            configs = _bucket(method, n, d, kind, rng)
            settings = [method.check_hparams(c["hp"]) for c in configs]
            settings = [{k: v.item() for k, v in s.items()} for s in settings]
            out, _ = run_streams(method, problem, [c["timing"] for c in configs], [c["stream"] for c in configs],
                                 [c["seed"] for c in configs], settings)
            for i, c in enumerate(configs):
                assert c["stream"].num_events >= 200
                ref = reference.run(method, problem, c["D"], settings[i], seed=c["seed"],
                                    horizon=c["horizon"], num_points=NUM_POINTS, mean_times=c["mean"],
                                    base_times=c["tau"])
                for metric in COMPARED:
                    np.testing.assert_allclose(
                        out[metric][i, i], ref[metric], rtol=1e-9, atol=1e-12,
                        err_msg=f"{name}: {metric} differs (n={n}, d={d}, config {i}, hp={settings[i]})")
                np.testing.assert_array_equal(out["diverged"][i, i], ref["diverged"])
                np.testing.assert_allclose(c["stream"].grid_time, ref["time"], rtol=1e-12)
                checked += 1
    assert checked == CONFIGS_PER_BUCKET * len(buckets)


def test_reference_agrees_with_server_optimizer():
    """The optax server step (here SGD with heavy-ball momentum) is applied identically by both."""
    import optax

    method = REGISTRY["ringmaster"]()
    opt = optax.sgd(1.0, momentum=0.9)
    with jax.enable_x64(True):
        problem = jaxsim.worst_case_quadratic(d=3, noise_scale=0.1)
        timing = jaxsim.make_timing(4, "sqrt", "exponential", scale=1.0)
        D = timing.sample(jaxsim.runtime.rng.time_key(1), 300)
        hp = {"gamma": 0.05, "R": 3}
        eng = jaxsim.simulate(method, problem, timing, seed=1, hparams=hp, horizon=Horizon(events=220),
                              num_points=5, optimizer=opt, durations=D)
        ref = reference.run(method, problem, D, hp, seed=1, horizon=Horizon(events=220), num_points=5,
                            optimizer=opt)
    for metric in ("loss_gap", "updates", "discarded"):
        np.testing.assert_allclose(eng[metric], ref[metric], rtol=1e-9, atol=1e-12)


CT_BUCKETS = [(3, 2), (7, 5)]  # (n, d); one random timing model per bucket


@pytest.mark.parametrize("name", CONTROLLED)
def test_controlled_engine_matches_reference(name):
    """Controlled events: lazily drawn durations, cancellations, barriers and attempt
    budgets in the scan agree with a heap loop that draws every duration up front."""
    assert "rule" in vars(REGISTRY[name]), f"method {name!r} has no reference rule of its own"
    _check_controlled(REGISTRY[name](), zlib.crc32(name.encode()) + FUZZ, CT_BUCKETS)


@pytest.mark.parametrize("name,options", [(k, o) for k, v in OPTIONS.items() for o in v
                                          if issubclass(REGISTRY[k], ControlledMethod)])
def test_controlled_engine_matches_reference_with_options(name, options):
    _check_controlled(REGISTRY[name](**options), zlib.crc32(repr((name, options)).encode()) + FUZZ,
                      [b[:2] for b in OPTION_BUCKETS])


def _check_controlled(method, seed, buckets):
    from jaxsim.sweep import run_controlled

    name = method.name
    rng = np.random.default_rng(seed)
    checked = 0
    with jax.enable_x64(True):
        for n, d in buckets:
            problem = _problem(n, d, rng)
            base = rng.uniform(0.3, 3.0, n) if rng.random() < 0.7 else np.round(rng.uniform(0.3, 3.0, n), 1)
            timing = TimingModel(n=n, base=base, noise=_noise_law(rng), permute_base=bool(rng.random() < 0.3))
            T = float(rng.uniform(220, 320) / np.sum(1.0 / timing.tau))  # a few hundred completions
            seeds = [int(rng.integers(0, 2**31 - 1)) for _ in range(CONFIGS_PER_BUCKET)]
            settings = [{k: v.item() for k, v in method.check_hparams(_random_hp(method, rng, n)).items()}
                        for _ in seeds]
            out, info = run_controlled(method, problem, timing, seeds, settings, T, NUM_POINTS)
            for i, seed in enumerate(seeds):
                ref = reference.run_controlled(method, problem, timing, settings[i], seed=seed, horizon=T,
                                               num_points=NUM_POINTS)
                for metric in COMPARED + ("busy_time", "cancelled", "timeouts"):
                    np.testing.assert_allclose(
                        out[metric][i, i], ref[metric], rtol=1e-9, atol=1e-9,
                        err_msg=f"{name}: {metric} differs (n={n}, d={d}, config {i}, hp={settings[i]}, "
                                f"noise={timing.noise})")
                np.testing.assert_array_equal(out["diverged"][i, i], ref["diverged"])
                checked += 1
    assert checked == CONFIGS_PER_BUCKET * len(buckets)


def _same_everywhere(out, ref, i, name, where):
    """Every metric the engine recorded for run ``(i, i)`` agrees with the reference (rtol 1e-9),
    and the reference recorded no other."""
    assert set(ref) - {"time"} == set(out)
    for metric in sorted(set(out) - {"diverged"}):
        np.testing.assert_allclose(out[metric][i, i], ref[metric], rtol=1e-9, atol=1e-9,
                                   err_msg=f"{name}: {metric} differs ({where})")
    np.testing.assert_array_equal(out["diverged"][i, i], ref["diverged"])


ALLOCATION = _of_kind(AllocationMethod)
ALLOC_BUCKETS = [(3, 2, False), (6, 4, True)]  # (n, d, speed profile)
ALLOC_CONFIGS = 4  # seeds (with their own settings) per bucket


@pytest.mark.parametrize("name", ALLOCATION)
def test_allocation_engine_matches_reference(name):
    """Task allocation (ATA family): per-worker task chains, semi-bandit statistics, the greedy
    solver with random tie-breaking, speed profiles (second bucket)."""
    from jaxsim.timing.speed import SpeedProfile
    from jaxsim.sweep import run_allocation

    assert "rule" in vars(REGISTRY[name]), f"method {name!r} has no reference rule of its own"
    variants = [REGISTRY[name]()]  # options (ATA's constants="code") are checked in tests/test_ata.py
    rng = np.random.default_rng(zlib.crc32(name.encode()) + FUZZ)
    checked = 0
    with jax.enable_x64(True):
        for method in variants:
            for n, d, speed in ALLOC_BUCKETS:
                problem = _problem(n, d, rng)
                while True:  # a law the method accepts (ATA needs finite means)
                    base = rng.uniform(0.3, 3.0, n) if rng.random() < 0.6 else np.round(rng.uniform(0.3, 3.0, n), 1)
                    settings = [{k: v.item() for k, v in method.check_hparams(_random_hp(method, rng, n)).items()}
                                for _ in range(ALLOC_CONFIGS)]
                    T = float(40 * np.max(base) * np.ceil(max(s["B"] for s in settings) / n))
                    prof = SpeedProfile.periodic(n, 0.6, T / 5, horizon=T) if speed else None
                    timing = TimingModel(n=n, base=base, noise=_noise_law(rng), speed=prof,
                                         permute_base=bool(rng.random() < 0.3))
                    try:
                        method.check_timing(timing)
                        break
                    except ValueError:
                        continue
                seeds = [int(rng.integers(0, 2**31 - 1)) for _ in range(ALLOC_CONFIGS)]
                out, _ = run_allocation(method, problem, timing, seeds, settings, T, NUM_POINTS)
                for i, seed in enumerate(seeds):
                    ref = reference.run_allocation(method, problem, timing, settings[i], seed=seed, horizon=T,
                                                   num_points=NUM_POINTS)
                    _same_everywhere(out, ref, i, f"{method}", f"n={n}, d={d}, config {i}, hp={settings[i]}, "
                                     f"noise={timing.noise}, speed={speed}")
                    checked += 1
    assert checked >= 8


ROUNDS = _of_kind(RoundMethod)
ROUND_BUCKETS = [(3, 2), (5, 6)]  # (n, d); one random timing model per bucket
ROUND_CONFIGS = 4  # seeds (with their own settings) per bucket


@pytest.mark.parametrize("name", ROUNDS)
def test_rounds_engine_matches_reference(name):
    """Round-based methods: round durations from the counter-based draws, the method's own
    models and randomness, and its extra metrics agree with a plain round-after-round loop."""
    from problem_choice import accepted_problem

    from jaxsim.sweep import run_rounds

    assert "rule" in vars(REGISTRY[name]), f"method {name!r} has no reference rule of its own"
    method = REGISTRY[name]()
    rng = np.random.default_rng(zlib.crc32(name.encode()) + FUZZ)
    checked = 0
    with jax.enable_x64(True):
        for n, d in ROUND_BUCKETS:
            problem = accepted_problem(method, _problem(n, d, rng), rng)
            base = rng.uniform(0.3, 3.0, n) if rng.random() < 0.7 else np.round(rng.uniform(0.3, 3.0, n), 1)
            timing = TimingModel(n=n, base=base, noise=_noise_law(rng), permute_base=bool(rng.random() < 0.3))
            seeds = [int(rng.integers(0, 2**31 - 1)) for _ in range(ROUND_CONFIGS)]
            settings = [{k: v.item() for k, v in method.check_hparams(_random_hp(method, rng, n)).items()}
                        for _ in seeds]
            T = float(rng.uniform(10, 20) * np.max(timing.tau))
            out, _ = run_rounds(method, problem, timing, seeds, settings, T, NUM_POINTS)
            for i, seed in enumerate(seeds):
                ref = reference.run_rounds(method, problem, timing, settings[i], seed=seed, horizon=T,
                                           num_points=NUM_POINTS)
                _same_everywhere(out, ref, i, name, f"n={n}, d={d}, config {i}, hp={settings[i]}, noise={timing.noise}")
                checked += 1
    assert checked >= 8
