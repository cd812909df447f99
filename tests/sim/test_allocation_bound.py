"""The allocation clock's iteration bound: never below what a run completes, and tight enough for the
paper's horizons (ata-quadratic FULL, ``K = 3e6`` iterations, was refused by the old bound)."""

import numpy as np
import pytest

import jaxsim
from jaxsim.sim.allocation import iteration_bound


@pytest.mark.parametrize("name", ["uta", "gta", "fta"])
def test_no_run_completes_more_iterations_than_the_bound(name):
    """Fixed durations make every iteration as short as the workers allow: a race ends at the B-th
    completion, and UTA / FTA spread the tasks over the workers."""
    n, H = 4, 60.0
    timing = jaxsim.make_timing(n, "linear", "none", base_scale=0.5)
    tau = timing.base_for(jaxsim.runtime.rng.time_key(0))
    res = jaxsim.sweep(name, jaxsim.worst_case_quadratic(d=3), timing, grid={"gamma": 0.01, "B": [1, 3, 7]},
                       horizon=H, num_points=2, seeds=[0])
    done = np.asarray(res.metrics["updates"])[..., -1].reshape(-1)
    for B, k in zip([1, 3, 7], done):
        bound = iteration_bound(timing, H, tau[None, :], B)
        assert 0 < k <= bound, (B, k, bound)
    # the bound of B = 7 is within a few iterations of a race's count: it is not loose
    if name == "gta":
        assert iteration_bound(timing, H, tau[None, :], 7) <= 1.6 * done[-1] + 2


def test_the_paper_horizon_of_ata_quadratic_is_accepted():
    """n = 459 workers, X_i = 29 i + Exp(29 i), B = 23, 3e6 iterations of the optimal allocation's
    expected time: the old bound (horizon / shortest task) counted 1.9e9 arrivals, past the budget."""
    from jaxsim.figures.ata_quadratic import optimum, timing_for

    n, B = 459, 23
    timing = timing_for(n)
    tau = timing.base_for(jaxsim.runtime.rng.time_key(5))[None, :]
    H = 3_000_000 * optimum(n, B)["time"]
    assert B * iteration_bound(timing, H, tau, B) < jaxsim.sim.setup.EVENT_BUDGET
    assert B * (np.floor(H / np.min(tau)) + 1) > jaxsim.sim.setup.EVENT_BUDGET  # what the old bound said
