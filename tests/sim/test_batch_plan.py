"""The batch plan (:mod:`jaxsim.sim.plan`): settings and seeds cut into equal batches that fit
the memory budget, padding under one percent and never reaching the result, loop clocks batched
one cost group at a time."""

import pytest

import jaxsim
from jaxsim.sim import runner
from jaxsim.sim.plan import MIN_AXIS, batches
from tests.same_metrics import assert_same_metrics

PROB = jaxsim.worst_case_quadratic(d=8, noise_scale=0.05, noise="isotropic")
TIMING = jaxsim.make_timing(3, "one_plus_sqrt", "halfnormal")


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
    assert_same_metrics({k: v[:, 2] for k, v in res.metrics.items()}, {k: v[:, 0] for k, v in alone.metrics.items()})


def test_loop_clocks_batch_one_cost_group_at_a_time():
    from jaxsim.sim.plan import cost_group_size

    rm, rs = jaxsim.make_method("ringmaster_stops"), jaxsim.make_method("minibatch")
    grid = [{"gamma": g, "R": r} for g in (0.1, 0.2, 0.3) for r in (1, 4)]
    assert cost_group_size(rm, grid) == 3  # the stepsizes of one threshold
    assert cost_group_size(rm, grid[:2]) == 1  # one setting per threshold
    assert cost_group_size(rs, [{"gamma": g, "B": 2} for g in (0.1, 0.2)]) is None  # one key: no cap


def test_batches_keep_a_devices_models_within_the_models_target():
    """A device's runs x model bytes stay within ``models_target`` (down to ``MIN_AXIS`` settings),
    on one device and per device of a mesh; without a target nothing is capped."""
    S, model = 3, 1000
    free = batches(list(range(70)), 100, S, None, 10 ** 9, model_bytes=model)
    assert free.num_batches == 1
    one = batches(list(range(70)), 100, S, None, 10 ** 9, model_bytes=model, models_target=30_000)
    assert one.seeds_per_batch * one.settings_per_batch * model <= 30_000 and one.settings_per_batch == 10
    mesh = batches(list(range(70)), 100, S, None, 10 ** 9, model_bytes=model, models_target=30_000, mesh=(1, 2))
    assert mesh.mesh == (1, 2) and mesh.seeds_per_batch * (mesh.settings_per_batch // 2) * model <= 30_000
    assert mesh.num_batches < one.num_batches  # the target is per device
    floor = batches(list(range(70)), 100, S, None, 10 ** 9, model_bytes=model, models_target=1)
    assert floor.settings_per_batch == MIN_AXIS  # the fewest settings still run


def test_batches_aim_at_the_target_never_past_the_budget():
    """A target sizes the batches below the budget; a batch of the fewest runs larger than the
    target still runs (the budget alone refuses a run), and the budget stays the bound."""
    per_run, per_seed, S = 100, 10, 3
    free = batches(list(range(70)), per_run, S, None, 10 ** 9, per_seed_bytes=per_seed)
    assert free.num_batches == 1
    aimed = batches(list(range(70)), per_run, S, None, 10 ** 9, per_seed_bytes=per_seed, target_bytes=2500)
    assert aimed.bytes_per_batch <= 2500 and aimed.num_batches == 10 and aimed.settings_per_batch == 7
    floor = batches(list(range(70)), per_run, S, None, 10 ** 9, per_seed_bytes=per_seed, target_bytes=10)
    assert (floor.seeds_per_batch, floor.settings_per_batch) == (MIN_AXIS, MIN_AXIS)  # over the target: runs
    tight = batches(list(range(70)), per_run, S, None, 700, per_seed_bytes=per_seed, target_bytes=2500)
    assert tight.bytes_per_batch <= 700  # the budget is below the target: the budget rules
    with pytest.raises(ValueError, match="memory"):
        batches(list(range(70)), per_run, S, None, 50, per_seed_bytes=per_seed, target_bytes=10 ** 9)
