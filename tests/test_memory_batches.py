"""Batches sized to a memory budget (defects 6 and 8), no foldable d-sized constants in the
kernel (defect 7), and a run's numbers independent of what shares its batch (defect 9)."""

import re
import zlib

import jax
import numpy as np
import pytest
from tests.problem_choice import accepted_problem

import jaxsim
from jaxsim.runtime.memory import default_memory_budget, host_memory_budget
from jaxsim.sim import runner
from jaxsim.sim.plan import MIN_AXIS, batches

PROB = jaxsim.worst_case_quadratic(d=8, noise_scale=0.05, noise="isotropic")
TIMING = jaxsim.make_timing(3, "one_plus_sqrt", "halfnormal")


def _same(a: dict, b: dict, where=""):
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k], equal_nan=True), f"{where}{k} differs"


# ---------------------------------------------------------------- defect 8: the batch plan

@pytest.mark.parametrize("budget_runs", [2, 3, 7, 13, 47, 48, 49, 64, 150, 599, 600, 10 ** 6])
def test_600_settings_pad_under_one_percent(budget_runs):
    """Whatever the budget, 600 settings run in equal batches that fit it, pad < 1 % of the
    runs, and every setting runs exactly once (in order) among the real ones."""
    per_run, per_seed, fixed, S = 1000, 300, 5000, 3
    budget = fixed + S * per_seed + S * budget_runs * per_run
    plan = batches(list(range(600)), per_run, S, None, budget, per_seed_bytes=per_seed, fixed_bytes=fixed)
    assert len({len(c) for c in plan.chunks}) == 1 and plan.settings_per_batch == len(plan.chunks[0])
    assert plan.settings_per_batch <= max(budget_runs, MIN_AXIS) and plan.bytes_per_batch <= budget
    assert plan.seed_groups == [[0, 1, 2]]
    assert plan.padding < 0.01
    assert [s for c, r in zip(plan.chunks, plan.real) for s in c[:r]] == list(range(600))
    assert all(c[r:] == [c[r - 1]] * (len(c) - r) for c, r in zip(plan.chunks, plan.real))  # copies


def test_plan_splits_seeds_and_pads_axes_of_one():
    """Seeds are split only when two settings of every seed do not fit; no batch axis has size 1."""
    per_run = 100
    plan = batches(["a", "b", "c"], per_run, 5, None, 2 * 2 * per_run)  # room for 2 seeds x 2 settings
    assert (plan.seeds_per_batch, plan.settings_per_batch) == (2, 2)
    assert plan.seed_groups == [[0, 1], [2, 3], [4, 4]] and plan.seeds_real == [2, 2, 1]
    one = batches(["a"], per_run, 1, None, 10 ** 9)
    assert (one.seeds_per_batch, one.settings_per_batch) == (MIN_AXIS, MIN_AXIS)
    assert one.chunks == [["a", "a"]] and one.seed_groups == [[0, 0]]
    explicit = batches(list("abcd"), per_run, 2, 1, 10 ** 9)  # batch_size=1: one real setting per call
    assert explicit.chunks == [["a", "a"], ["b", "b"], ["c", "c"], ["d", "d"]]


def test_padded_runs_never_reach_the_result(monkeypatch):
    """3 settings in batches of 2: the padded copy's metrics are cut on the device; the result
    holds exactly the real runs, each equal to the same run alone."""
    shapes = []
    real = runner.run_batch

    def spy(*a, **k):
        out = real(*a, **k)
        shapes.append(out["loss_gap"].shape)
        return out

    monkeypatch.setattr(runner, "run_batch", spy)
    grid = {"gamma": [0.05, 0.1, 0.2], "R": 2}
    res = jaxsim.sweep("ringmaster", PROB, TIMING, seeds=[0, 1], grid=grid, horizon=20.0, num_points=3,
                       batch_size=2)
    assert shapes == [(2, 2, 4), (2, 2, 4)] and res.metrics["loss_gap"].shape == (2, 3, 4)
    assert res.info["batches"] == 2 and res.info["padded_runs"] == 2
    alone = jaxsim.sweep("ringmaster", PROB, TIMING, seeds=[0, 1], grid={"gamma": [0.2], "R": 2},
                         horizon=20.0, num_points=3)
    _same({k: v[:, 2] for k, v in res.metrics.items()}, {k: v[:, 0] for k, v in alone.metrics.items()})


# ---------------------------------------------------------------- defect 6: memory budget

def test_default_budget_is_what_the_device_has(monkeypatch):
    class Dev:
        def __init__(self, stats):
            self.stats = stats

        def memory_stats(self):
            return self.stats

    monkeypatch.setattr(jax, "devices", lambda *a: [Dev({"bytes_limit": 123_456_789, "bytes_in_use": 5})])
    assert default_memory_budget() == 123_456_789
    monkeypatch.setattr(jax, "devices", lambda *a: [Dev(None)])  # CPU: half of physical memory
    assert default_memory_budget() == host_memory_budget() > 0


@pytest.mark.xla_default
def test_small_budget_runs_in_several_batches_with_identical_results():
    prob = jaxsim.worst_case_quadratic(d=1024, noise_scale=0.01, noise="isotropic")  # runs outweigh sampling
    kw = dict(seeds=[0, 1, 2], grid={"gamma": [0.02, 0.05, 0.1, 0.2, 0.4, 0.8], "R": 4}, horizon=20.0, num_points=3)
    free = jaxsim.sweep("ringmaster", prob, TIMING, **kw)
    assert free.info["batches"] == 1
    per_run, per_seed, fixed = (free.info[k] for k in ("memory_per_run", "memory_per_seed", "memory_shared"))
    budget = fixed + 3 * per_seed + 3 * 2 * per_run  # two settings of the three seeds
    small = jaxsim.sweep("ringmaster", prob, TIMING, memory_budget=budget, **kw)
    assert small.info["batches"] == 3 and small.info["batch_size"] == 2
    assert small.info["memory_per_batch"] <= budget == small.info["memory_budget"]
    _same(small.metrics, free.metrics)
    tiny = jaxsim.sweep("ringmaster", prob, TIMING, memory_budget=fixed + 2 * per_seed + 4 * per_run, **kw)
    assert tiny.info["seeds_per_batch"] == 2 and tiny.info["batches"] == 2 * 3  # seeds split too
    _same(tiny.metrics, free.metrics)
    with pytest.warns(UserWarning, match="one run per batch"):
        one = jaxsim.sweep("ringmaster", prob, TIMING, memory_budget=fixed + per_seed + per_run, **kw)
    assert one.info["batches"] == 18 and one.info["batch_size"] == 1
    for k, v in free.metrics.items():
        np.testing.assert_allclose(one.metrics[k], v, rtol=1e-5, atol=1e-6)


def test_asgd_per_worker_store_too_big_is_refused(no_compile):
    """Vanilla ASGD keeps one point per worker: n x d = 4000 x 1e6 floats per run."""
    timing = jaxsim.make_timing(4000, "constant")  # all report together: delays up to n - 1
    prob = jaxsim.worst_case_quadratic(d=10 ** 6)
    with pytest.raises(ValueError, match=r"memory: one run needs .*n=4000 workers, d=1000000, "
                                         r"point store W=4000 x d \(worker\)"):
        jaxsim.sweep("asgd", prob, timing, grid={"gamma": 0.1}, horizon=3.0, num_points=2)


def test_ringmaster_stops_huge_R_is_capped_or_refused(no_compile):
    """The ring never exceeds what the horizon can produce; a long horizon at large d is refused."""
    prob = jaxsim.worst_case_quadratic(d=10 ** 6)
    with pytest.raises(ValueError, match=r"memory: one run needs .*d=1000000, point store W=262144 x d"):
        jaxsim.sweep("ringmaster_stops", prob, jaxsim.make_timing(8, "one_plus_sqrt", "halfnormal"),
                     grid={"gamma": 0.1, "R": 10 ** 7}, horizon=10_000.0, num_points=2)


def test_ringmaster_stops_huge_R_runs_with_a_capped_ring():
    kw = dict(seeds=[0, 1], grid={"gamma": [0.05, 0.1], "R": 10 ** 7}, horizon=10.0, num_points=3)
    res = jaxsim.sweep("ringmaster_stops", PROB, TIMING, **kw)
    jobs = TIMING.jobs_to_cover(10.0)
    assert res.info["window"] <= 2 * (2 * TIMING.n * jobs + 1)
    wide = jaxsim.sweep("ringmaster_stops", PROB, TIMING, window=4 * res.info["window"], **kw)
    _same(res.metrics, wide.metrics)


def test_duration_table_too_big_is_refused_before_sampling(no_compile, monkeypatch):
    """base_scale=1e-6: the job count comes from the smallest base time (1e9 jobs per worker)."""
    from jaxsim import timing as timing_mod

    monkeypatch.setattr(timing_mod.TimingModel, "sample", lambda *a, **k: pytest.fail("sampled"))
    timing = jaxsim.make_timing(8, "one_plus_sqrt", "halfnormal", base_scale=1e-6)
    with pytest.raises(ValueError, match=r"memory: the free-running stream needs 1000000001 jobs per worker x "
                                         r"n=8 workers \(the horizon of 1000 s over the smallest base time 1e-06 s\)"):
        jaxsim.sweep("asgd", PROB, timing, grid={"gamma": 0.1}, horizon=1000.0, num_points=2)
    small = jaxsim.make_timing(8, "one_plus_sqrt", "halfnormal", base_scale=1e-3)  # 8e6 jobs: 0.8 GB
    with pytest.raises(ValueError, match="duration table of 32 MB"):
        jaxsim.sweep("asgd", PROB, small, grid={"gamma": 0.1}, horizon=1000.0, num_points=2, memory_budget=10 ** 8)


# ---------------------------------------------------------------- defect 7: no foldable d-sized constants

def _large_constants(hlo: str, d: int) -> list:
    out = []
    for m in re.finditer(r"= \w+\[([\d,]*)\]\S* constant\(", hlo):
        size = int(np.prod([int(x) for x in m.group(1).split(",") if x])) if m.group(1) else 1
        if size >= d:
            out.append(m.group(0))
    return out


def test_kernel_builds_large_arrays_from_run_time_inputs(monkeypatch):
    """The compiled batch of a d = 2e5 Ringmaster sweep holds no d-sized constant (XLA folded
    the store's scatter of a constant x^0 at compile time: minutes at d = 1e7). The same kernel
    with x^0 built inside it does, which shows the check can fail."""
    d = 200_000
    captured = {}

    class Stop(Exception):
        pass

    def spy(*a, **k):
        captured["args"] = a
        raise Stop

    real = runner.run_batch
    monkeypatch.setattr(runner, "run_batch", spy)
    with pytest.raises(Stop):
        jaxsim.sweep("ringmaster", jaxsim.worst_case_quadratic(d=d), jaxsim.make_timing(2, "one_plus_sqrt"),
                     grid={"gamma": 0.1, "R": 2}, horizon=3.0, num_points=1)
    args = captured["args"]
    assert args[-1].shape == (d,)  # x^0 is an argument
    assert _large_constants(real.lower(*args).compile().as_text(), d) == []
    assert _large_constants(real.lower(*args[:-1], None).compile().as_text(), d) != []


# ---------------------------------------------------------------- defect 9: batch composition

HET = jaxsim.problems.heterogeneous_quadratic(a=np.random.default_rng(0).normal(size=(3, 6)),
                                              h=np.random.default_rng(1).uniform(0.5, 2.0, (3, 6)),
                                              noise_scale=0.1)
HET_METHODS = ("ringleader", "malenia", "ia2sgd")  # per-worker tables, heterogeneous data
CASES = [(name, "quadratic") for name in sorted(jaxsim.REGISTRY)] + [(name, "het") for name in HET_METHODS]


@pytest.mark.xla_default
@pytest.mark.parametrize("name,problem", CASES)
def test_results_do_not_depend_on_what_shares_the_batch(compiles, name, problem):
    """A setting's metrics are bit-identical alone (one setting), among other settings in one
    batch, and in batches of one setting (isotropic noise: the issue's case).

    Every registered method (``tests/user_methods`` included) also gets the jit/vmap and
    no-recompile check here, on the kernels this test compiles anyway: a sweep is one kernel
    for seeds x settings, and new hyperparameter values reuse it -- new values of every float
    hyperparameter, on two grid axes, and a count's values moved to other runs of the batch
    (the largest count can set a shape: ring window, task slots)."""
    method = jaxsim.REGISTRY[name]()
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    grid = {k: spec.sample(rng, TIMING.n) for k, spec in method.hparams.items()}
    vary = next(k for k, spec in method.hparams.items() if spec.kind != "count")
    values = [grid[vary] * f for f in (1.0, 0.5, 1.5)]
    prob = accepted_problem(method, PROB if problem == "quadratic" else HET)
    run = lambda g, **kw: jaxsim.sweep(method, prob, TIMING, seeds=[0, 1], grid=g,  # noqa: E731
                                       horizon=15.0, num_points=2, **kw)
    alone = run(dict(grid, **{vary: values[:1]}))  # one setting: padded to a batch of two
    shared, log = compiles(lambda: run(dict(grid, **{vary: values})))
    assert any("run_batch" in m for m in log), "a batch of three settings compiles its own kernel"
    single = run(dict(grid, **{vary: values}), batch_size=1)
    assert shared.info["batches"] == 1 and single.info["batches"] == 3
    assert shared.metrics["updates"].shape == (2, 3, 3)
    assert shared.metrics["updates"][..., -1].min() > 0, "every run made progress"
    assert np.isfinite(shared.metrics["loss_gap"]).all()
    _same({k: v[:, 0] for k, v in alone.metrics.items()}, {k: v[:, 0] for k, v in shared.metrics.items()},
          "alone vs shared: ")
    _same(single.metrics, shared.metrics, "batch_size=1 vs all: ")

    # New values of every float hyperparameter (the counts kept), on the batch of three.
    floats = [k for k, spec in method.hparams.items() if spec.kind != "count"]
    new = dict(grid, **{k: method.hparams[k].sample(rng, TIMING.n) for k in floats})
    new[vary] = sorted({method.hparams[vary].sample(rng, TIMING.n) for _ in range(3)} - set(values))[:3]
    assert len(new[vary]) == 3
    if len(floats) > 1:
        new[floats[1]] = [new[floats[1]]]  # a second grid axis (of one value): still three settings
    again, log = compiles(lambda: run(new))
    assert log == [], f"{name}: new hyperparameter values recompiled: {log}"
    shape = (2,) + tuple(len(v) for v in new.values() if isinstance(v, list)) + (3,)
    assert again.metrics["updates"].shape == shape and again.info["batches"] == 1
    assert again.metrics["updates"][..., -1].min() > 0, "every run made progress"
    assert np.isfinite(again.metrics["loss_gap"]).all()

    # A count's values moved between the runs of a batch (of two: the kernel of ``alone``).
    count = next((k for k, spec in method.hparams.items() if spec.kind == "count"), None)
    if count is not None:
        c, low = grid[count], 0 if method.hparams[count].zero else 1
        pair = [c, c - 1] if c - 1 >= low else [c + 1, c]  # the largest first
        first, _ = compiles(lambda: run(dict(grid, **{count: pair})))  # a larger count may compile
        swapped, log = compiles(lambda: run(dict(grid, **{count: pair[::-1]})))
        assert log == [], f"{name}: {count}={pair[::-1]} after {count}={pair} recompiled: {log}"
        for res in (first, swapped):
            assert res.metrics["updates"].shape == (2, 2, 3) and res.metrics["updates"][..., -1].min() > 0
            assert np.isfinite(res.metrics["loss_gap"]).all()


@pytest.mark.xla_default
@pytest.mark.parametrize("name", ["asgd", "ringmaster_stops", "ata"])
def test_a_seed_alone_equals_the_seed_among_others(name):
    """One seed and one setting (``simulate``) give the numbers of that seed and setting in a
    larger sweep, bit for bit (the batch's axes are never of size 1)."""
    grid = {"gamma": [0.1, 0.2]} if name != "ata" else {"gamma": [0.1, 0.2], "B": 2}
    kw = dict(horizon=15.0, num_points=2)
    many = jaxsim.sweep(name, PROB, TIMING, seeds=[3, 0, 1], grid=grid, **kw)
    one = jaxsim.simulate(name, PROB, TIMING, seed=0, hparams={k: v[0] if isinstance(v, list) else v
                                                               for k, v in grid.items()}, **kw)
    _same({k: v for k, v in one.items() if k != "time"}, {k: v[1, 0] for k, v in many.metrics.items()})


def test_a_refused_run_allocates_nothing_of_its_size():
    """Sizes come from shapes: a d = 5e8 run (about 2 GB per model vector) over its budget is
    refused with the interpreter's memory barely grown (it used to build two d-vectors first)."""
    import subprocess
    import sys

    code = (
        "import resource, jax, jaxsim\n"
        "jax.devices()\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    jaxsim.sweep('asgd', jaxsim.worst_case_quadratic(d=5 * 10**8), jaxsim.make_timing(4, 'constant'),\n"
        "                 grid={'gamma': [0.1]}, horizon=3.0, memory_budget=10**6)\n"
        "except ValueError as e:\n"
        "    assert str(e).startswith('memory:'), e\n"
        "else:\n"
        "    raise SystemExit('not refused')\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    grown = int(out.stdout.split()[-1])
    assert grown < 200 * 2**20, f"peak RSS grew by {grown / 2**20:.0f} MB before the refusal"
