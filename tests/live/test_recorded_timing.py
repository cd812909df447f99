"""The replay's timing model for controlled methods: a table of durations read by the engine."""

import jax
import numpy as np

from jaxsim import make_timing, sweep, worst_case_quadratic
from jaxsim.live import RecordedTiming
from jaxsim.runtime.rng import time_key


def test_a_table_of_the_models_own_draws_runs_the_same_numbers():
    """RecordedTiming over the seed's own draws is the timing model itself to the engine: the same
    events (counts equal), the same models up to float rounding (another compiled program may
    contract its sums differently): the replay of a controlled method changes the durations and
    nothing else."""
    timing = make_timing(3, "one_plus_sqrt", "halfnormal", var="i")
    with jax.enable_x64(True):
        problem = worst_case_quadratic(d=6)
        table = timing.sample(time_key(5), 200)
        kw = dict(seeds=[5], grid={"gamma": 0.2, "R": 2}, horizon=15.0, num_points=6)
        a = sweep("ringmaster_stops", problem, timing, **kw)
        b = sweep("ringmaster_stops", problem, RecordedTiming.of(timing, table), **kw)
    assert a.metrics["cancelled"][0, -1] > 0 and a.metrics["updates"][0, -1] > 5
    for k, v in a.metrics.items():
        if np.issubdtype(v.dtype, np.floating):
            np.testing.assert_allclose(v, b.metrics[k], rtol=1e-12, atol=0, err_msg=k)
        else:
            np.testing.assert_array_equal(v, b.metrics[k], err_msg=k)
