"""GTA (greedy task allocation, heterogeneous.md §7.4) is Rennala SGD with stops' timing, run as a race
on the allocation clock.

On one seed and timing model, GTA's iterations (the allocation clock's reference loop, and the
engine's recorded ``updates``) end exactly where Rennala SGD with stops (``rennala_stops``, batch
``B``) updates on the controlled clock's reference loop, on a grid much finer than a task: both
start every worker at the update, let each compute task after task (the same job indices, hence the
same durations) and end at the ``B``-th completion in the order (finish, worker, job). Both stop
``n - 1`` tasks per update and keep every worker busy: worker time = ``n`` x runtime (§7.5, §8).
Cases: random durations, a speed profile, and fixed durations whose many ties the order breaks;
``B`` below, at and above ``n``.
"""

import dataclasses

import numpy as np
import pytest

import jaxsim
from jaxsim import reference
from jaxsim.methods import make_method
from jaxsim.timing.speed import SpeedProfile

HORIZON = 30.0
POINTS = 3000  # grid spacing 0.01 s, against tasks of 0.5 s and more
BS = [2, 4, 9]
SEED = 3
PROBLEM = jaxsim.worst_case_quadratic(d=3, noise_scale=0.1)
TIMINGS = {
    "random": jaxsim.make_timing(4, "one_plus_sqrt", "exponential", base_scale=0.4),
    "speed": dataclasses.replace(jaxsim.make_timing(4, "sqrt", "halfnormal", base_scale=0.5),
                                 speed=SpeedProfile.periodic(4, 0.6, 5.0, horizon=HORIZON)),
    "fixed": jaxsim.TimingModel(n=4, base=np.array([1.0, 2.0, 3.0, 2.0])),  # ties: 2 = 2 x 1 = 2, 6 = 3 x 2 = 2 x 3
}


def _reference(name, timing, B):
    method = make_method(name)
    hp = {k: v.item() for k, v in method.check_hparams({"gamma": 0.1, "B": B}).items()}
    return reference.run(method, PROBLEM, timing, hp, seed=SEED, horizon=HORIZON, num_points=POINTS)


@pytest.mark.parametrize("case", sorted(TIMINGS))
def test_race_ends_iterations_where_rennala_with_stops_updates(case):
    timing = TIMINGS[case]
    n = timing.n
    engine = jaxsim.sweep("gta", PROBLEM, timing, seeds=[SEED, SEED + 1], grid={"gamma": 0.1, "B": BS},
                          horizon=HORIZON, num_points=POINTS)
    t = np.linspace(0.0, HORIZON, POINTS + 1)
    for i, B in enumerate(BS):
        gta, rs = _reference("gta", timing, B), _reference("rennala_stops", timing, B)
        assert rs["updates"][-1] >= 5, (case, B)
        np.testing.assert_array_equal(gta["updates"], rs["updates"], err_msg=f"{case}, B={B}: reference loops")
        np.testing.assert_array_equal(gta["cancelled"], rs["cancelled"], err_msg=f"{case}, B={B}")
        np.testing.assert_array_equal(gta["cancelled"], (n - 1) * gta["updates"])
        np.testing.assert_allclose(gta["busy_time"], n * t, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(rs["busy_time"], n * t, rtol=1e-12, atol=1e-12)
        m = {k: v[0, i] for k, v in engine.metrics.items()}
        np.testing.assert_array_equal(m["updates"], rs["updates"], err_msg=f"{case}, B={B}: engine")
        np.testing.assert_array_equal(m["used"], B * m["updates"])
        np.testing.assert_array_equal(m["cancelled"], rs["cancelled"])
        np.testing.assert_allclose(m["busy_time"], n * t, rtol=1e-6)
    assert "proxy_regret" not in engine.metrics  # no allocation is chosen


def test_race_follows_the_trajectory_of_every_allocation_policy():
    """Gradients keyed by (seed, k, slot): at equal iteration counts GTA's model is FTA's."""
    timing = TIMINGS["random"]
    runs = {name: jaxsim.simulate(name, PROBLEM, timing, seed=SEED, hparams={"gamma": 0.1, "B": 4}, horizon=HORIZON,
                                  num_points=60) for name in ("gta", "fta")}
    gap = {}
    for name, r in runs.items():
        for k, g in zip(r["updates"], r["loss_gap"]):
            gap.setdefault(k, {})[name] = g
    shared = [v for v in gap.values() if len(v) == 2]
    assert len(shared) >= 3
    for v in shared:
        assert v["gta"] == v["fta"]
    assert runs["gta"]["updates"][-1] > runs["fta"]["updates"][-1]  # the race ends iterations sooner


def test_the_merge_over_blocks_matches_the_reference(monkeypatch):
    """Above ``FLAT_MERGE_MAX`` workers the race merges blocks of heads; the oracle's small worker
    counts use one row, so here blocks are forced (7 and 10 workers: blocks of 3 and 4, the last
    one padded), a speed profile included."""
    from jaxsim.reference.check import Bucket, check
    from jaxsim.sim import allocation, kernel

    monkeypatch.setattr(allocation, "FLAT_MERGE_MAX", 0)
    kernel.run_batch.clear_cache()  # no kernel traced with one row
    try:
        report = check("gta", seed=11, configs=3, buckets=[Bucket(7, 3), Bucket(10, 2, speed=True)])
    finally:
        kernel.run_batch.clear_cache()
    assert report.ok, str(report)
