"""The free-running clock's worker store held as one table per seed gives the numbers of the per-run
store it replaces, and the plan picks it over a ring only where it is small.

A seed's settings share its arrival order, so the clock can keep a seed's points worker-major
and move one ``[settings, d]`` block per event (``jaxsim.sim.stream.seed_tables``); the rows
moved are the same, so every metric must be the same bit for bit. Both forms are compared by
switching the threshold (``TABLE_BLOCK``) between 0 and out of reach, the kernels dropped in
between; bit-identity of two compiled programs is a property of the optimized code, so the
comparison runs in the second pass (``xla_default``)."""

import jax
import numpy as np
import pytest

import jaxsim
from jaxsim.methods import make_method
from jaxsim.sim import stream
from jaxsim.sim.kernel import run_batch
from jaxsim.sim.stream import TABLE_BYTES, plan_store, seed_tables
from tests.same_metrics import assert_same_metrics

D = 16
PROB = jaxsim.worst_case_quadratic(d=D, noise_scale=0.05, noise="isotropic")
TIMING = jaxsim.make_timing(5, "one_plus_sqrt", "halfnormal")
HET = jaxsim.problems.heterogeneous_quadratic(a=np.random.default_rng(0).normal(size=(5, D)),
                                              h=np.random.default_rng(1).uniform(0.5, 2.0, (5, D)), noise_scale=0.1)
CASES = {  # a worker store of every kind: delays unbounded, workers that keep points, workers left out
    "asgd": (PROB, {"gamma": [0.05, 0.1, 0.2]}),
    "ringleader": (HET, {"gamma": [0.05, 0.1, 0.2]}),
    "naive_optimal_asgd": (PROB, {"gamma": [0.05, 0.1], "m": [2, 5]}),
    "ringmaster": (PROB, {"gamma": [0.05, 0.2], "R": [1, 8]}),
}


def _sweep(monkeypatch, name, block, timing=TIMING, grid=None, problem=None, **kw):
    monkeypatch.setattr(stream, "TABLE_BLOCK", block)
    run_batch.clear_cache()  # the kernels are cached per clock and shape, not per threshold
    default_problem, default_grid = CASES[name]
    return jaxsim.sweep(name, problem or default_problem, timing, seeds=[0, 1], grid=grid or default_grid,
                        horizon=30.0, num_points=3, **kw)


@pytest.mark.xla_default
@pytest.mark.parametrize("name", sorted(CASES))
def test_seed_tables_give_the_per_run_store_numbers(monkeypatch, name):
    tables = _sweep(monkeypatch, name, 0)
    per_run = _sweep(monkeypatch, name, 10 ** 9)
    assert tables.info["store"] == per_run.info["store"] == "worker"
    assert tables.metrics["updates"][..., -1].min() > 0, "every run made progress"
    assert_same_metrics(tables.metrics, per_run.metrics, f"{name}: seed tables vs per-run store: ")


def test_seed_tables_run_with_x64(monkeypatch):
    """In float64 (the oracle's arithmetic: x64 on, int64 literals) the tables give the per-run numbers."""
    with jax.enable_x64(True):
        problem = jaxsim.worst_case_quadratic(d=D, noise_scale=0.05, noise="isotropic")
        assert problem.dtype == np.float64
        runs = [_sweep(monkeypatch, "asgd", block, problem=problem) for block in (0, 10 ** 9)]
    assert_same_metrics(runs[0].metrics, runs[1].metrics, "float64, seed tables vs per-run store: ")


@pytest.mark.xla_default
def test_a_worker_store_in_place_of_a_ring_gives_the_ring_numbers(monkeypatch):
    """Ringmaster's ring (R <= 8) and the worker store that the plan may put in its place: a job
    the ring could not serve (delay past its window) is discarded either way."""
    timing, grid = jaxsim.make_timing(16, "one_plus_sqrt", "halfnormal"), {"gamma": [0.05, 0.2], "R": [1, 4]}
    table = _sweep(monkeypatch, "ringmaster", 0, timing, grid)
    ring = _sweep(monkeypatch, "ringmaster", 0, timing, grid, window=4)
    assert (table.info["store"], ring.info["store"]) == ("worker", "ring")
    assert ring.metrics["discarded"][..., -1].max() > 0
    assert_same_metrics(table.metrics, ring.metrics, "worker store vs ring: ")


def test_the_plan_replaces_a_ring_only_by_a_small_worker_store():
    ringmaster = make_method("ringmaster")
    hp = {"gamma": np.geomspace(0.01, 1.0, 64), "R": np.full(64, 2)}
    n = 100
    small = plan_store(ringmaster, hp, stream_max_delay=400, n=n, d=100)
    assert small.per_worker == seed_tables((1, 64, n, 100)) and small.W == (n if small.per_worker else 2)
    big_d = TABLE_BYTES // (4 * n) + 1  # the worker store would pass TABLE_BYTES per run
    assert plan_store(ringmaster, hp, stream_max_delay=400, n=n, d=big_d).W == 2
    few = {k: v[:1] for k, v in hp.items()}  # one setting of d = 100: blocks too small
    assert plan_store(ringmaster, few, stream_max_delay=400, n=n, d=100).W == 2
    assert plan_store(ringmaster, hp, stream_max_delay=400, n=n, d=100, window=2).W == 2  # a pinned window
    assert plan_store(ringmaster, hp, stream_max_delay=400, n=n).W == 2  # without d, as before
    pair = plan_store(make_method("rennala_mvr"), {"gamma": hp["gamma"], "R": hp["R"]}, 400, n, d=100)
    assert not pair.per_worker and pair.pair  # pair jobs read x^{s-1}: a ring
