"""The memory budget (:mod:`jaxsim.runtime.memory`): by default what the device has; a small
budget runs a sweep in more batches with the same numbers; a run that cannot fit (a per-worker
point store, a huge ring, a duration table) is refused before anything of its size is built."""

import jax
import numpy as np
import pytest

import jaxsim
from jaxsim.runtime.memory import CPU_BATCH_BYTES, default_batch_target, default_memory_budget, host_memory_budget
from tests.same_metrics import assert_same_metrics

PROB = jaxsim.worst_case_quadratic(d=8, noise_scale=0.05, noise="isotropic")
TIMING = jaxsim.make_timing(3, "one_plus_sqrt", "halfnormal")


def test_default_target_on_cpu_only(monkeypatch):
    """Under the default budget, CPU batches aim at CPU_BATCH_BYTES (reported as memory_target); GPUs
    (a memory limit) fill what they have; an explicit memory_budget is the only bound."""
    class Dev:
        def __init__(self, stats):
            self.stats = stats

        def memory_stats(self):
            return self.stats

    assert default_batch_target([Dev({"bytes_limit": 8 * 2 ** 30})]) is None
    assert default_batch_target([Dev(None)]) == CPU_BATCH_BYTES == 2 * 2 ** 30
    kw = dict(seeds=[0, 1], grid={"gamma": [0.1, 0.2]}, horizon=5.0, num_points=2)
    res = jaxsim.sweep("asgd", PROB, TIMING, **kw)
    if jax.default_backend() == "cpu":
        assert res.info["memory_target"] == CPU_BATCH_BYTES
    assert jaxsim.sweep("asgd", PROB, TIMING, memory_budget=10 ** 9, **kw).info["memory_target"] is None


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
    assert_same_metrics(small.metrics, free.metrics)
    tiny = jaxsim.sweep("ringmaster", prob, TIMING, memory_budget=fixed + 2 * per_seed + 4 * per_run, **kw)
    assert tiny.info["seeds_per_batch"] == 2 and tiny.info["batches"] == 2 * 3  # seeds split too
    assert_same_metrics(tiny.metrics, free.metrics)
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
    assert_same_metrics(res.metrics, wide.metrics)


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
