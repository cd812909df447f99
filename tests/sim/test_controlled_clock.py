"""The controlled clock (:mod:`jaxsim.sim.controlled`): which methods run on it, the inputs it
refuses (a horizon in events, given durations), and runs that are deterministic and independent of
the recording grid and of the settings' order and batching."""

import numpy as np
import pytest

import jaxsim
from jaxsim.methods import ControlledMethod
from tests.controlled_model import QUAD0, QUADN, R_GRID, RANDOM_SEEDS, TIMING3, TIMING_EXP4, ringmaster_random

CONTROLLED = sorted(k for k, v in jaxsim.REGISTRY.items() if issubclass(v, ControlledMethod))


def test_controlled_registry():
    assert set(CONTROLLED) >= {"ringmaster_stops", "rennala_stops", "minibatch", "mindflayer"}
    assert not issubclass(jaxsim.REGISTRY["naive_optimal_asgd"], ControlledMethod)
    assert not issubclass(jaxsim.REGISTRY["hero"], ControlledMethod)


@pytest.mark.parametrize("name", CONTROLLED)
def test_controlled_needs_horizon_in_seconds(name, no_compile):
    with pytest.raises(ValueError, match="horizon"):
        jaxsim.simulate(name, QUAD0, TIMING3, hparams={"gamma": 0.1}, horizon=jaxsim.Horizon(events=10),
                        num_points=2)


@pytest.mark.parametrize("name", CONTROLLED)
def test_controlled_rejects_durations(name, no_compile):
    with pytest.raises(ValueError, match="durations"):
        jaxsim.simulate(name, QUAD0, TIMING3, hparams={"gamma": 0.1}, horizon=5.0, num_points=2,
                        durations=np.ones((3, 20)))


def test_controlled_sweep_is_deterministic():
    a = ringmaster_random("exponential")
    b = jaxsim.sweep("ringmaster_stops", QUADN, TIMING_EXP4, seeds=RANDOM_SEEDS, grid={"gamma": 0.05, "R": R_GRID},
                     horizon=16.0, num_points=4)
    assert set(a.metrics) == set(b.metrics)
    for k in a.metrics:
        np.testing.assert_array_equal(a.metrics[k], b.metrics[k], err_msg=k)
    np.testing.assert_array_equal(a.time, b.time)


def test_controlled_results_do_not_depend_on_grid_or_batch_order():
    """The per-interval loop runs as many steps as the busiest run of its batch needs: a grid twice
    as coarse (about twice the events per interval), and the settings in reversed order and in
    batches of two (other neighbours in each while-loop), give the same values."""
    fine = ringmaster_random("exponential")  # grid 0, 4, 8, 12, 16
    coarse = ringmaster_random("exponential", horizon=32.0)  # grid 0, 8, 16, 24, 32
    rev = jaxsim.sweep("ringmaster_stops", QUADN, TIMING_EXP4, seeds=RANDOM_SEEDS,
                       grid={"gamma": 0.05, "R": R_GRID[::-1]}, horizon=16.0, num_points=4, batch_size=2)
    assert rev.info["batches"] == 2
    np.testing.assert_array_equal(rev.coords["R"], R_GRID[::-1])
    assert np.all(coarse.metrics["updates"][..., 2] - coarse.metrics["updates"][..., 1] > 3)
    for k in ("updates", "received", "cancelled", "max_delay", "used"):
        np.testing.assert_array_equal(fine.metrics[k][..., [0, 2, 4]], coarse.metrics[k][..., [0, 1, 2]], err_msg=k)
        np.testing.assert_array_equal(fine.metrics[k], rev.metrics[k][:, ::-1], err_msg=k)
    for k in ("loss_gap", "grad_norm_sq", "busy_time", "mean_delay"):
        np.testing.assert_allclose(fine.metrics[k][..., [0, 2, 4]], coarse.metrics[k][..., [0, 1, 2]],
                                   rtol=1e-5, atol=1e-6, err_msg=k)
        np.testing.assert_allclose(fine.metrics[k], rev.metrics[k][:, ::-1], rtol=1e-6, atol=1e-7, err_msg=k)


class _MaskStops(jaxsim.REGISTRY["ringmaster_stops"]):
    """Ringmaster's stops given as a ``Commands.cancel`` mask over all workers, the general form."""

    def stop_threshold(self, hp, k):
        return None

    def on_arrival(self, state, a, hp):
        from jaxsim.methods.base import Commands
        state, dec = super().on_arrival(state, a, hp)
        stale = a.workers.busy & (a.workers.k + dec.update.astype(a.workers.k.dtype) - a.workers.s >= hp["R"])
        return state, dec._replace(commands=Commands(reporter=dec.commands.reporter, cancel=stale))


@pytest.mark.parametrize("noise", ["none", "exponential"])
def test_stops_by_threshold_run_as_the_same_stops_by_mask(noise):
    """The clock's O(1) stops (counts of busy jobs per start counter; one stale job restarted in
    the event's step, several in the bulk step) give the runs of the same stops as a mask: one
    stale job per update (large R) and all of them (R = 1). The same events, bit for bit; the
    model's metrics up to rounding, since XLA may fuse the two programs' float arithmetic
    differently (with the suite's first-pass flags it does)."""
    timing = jaxsim.make_timing(12, np.linspace(1.0, 3.0, 12), noise)
    kw = dict(seeds=[0, 1], grid={"gamma": 0.05, "R": [1, 3, 12]}, horizon=30.0, num_points=3)
    counted = jaxsim.sweep("ringmaster_stops", QUADN, timing, **kw)
    masked = jaxsim.sweep(_MaskStops(), QUADN, timing, **kw)
    assert np.all(counted.metrics["cancelled"][..., -1] > 0)
    assert set(counted.metrics) == set(masked.metrics)
    for k in counted.metrics:
        if k in ("loss", "loss_gap", "batch_loss", "grad_norm_sq"):
            np.testing.assert_allclose(counted.metrics[k], masked.metrics[k], rtol=1e-5, atol=1e-7, err_msg=k)
        else:
            np.testing.assert_array_equal(counted.metrics[k], masked.metrics[k], err_msg=k)


def test_a_stop_threshold_above_the_window_is_refused(no_compile):
    """The counts per start counter hold ``window`` counters: a threshold beyond would alias them."""
    class Beyond(jaxsim.REGISTRY["ringmaster_stops"]):
        def stop_threshold(self, hp, k):
            return hp["R"] + 1

    with pytest.raises(ValueError, match="stop_threshold reaches 4, above the window 3"):
        jaxsim.sweep(Beyond(), QUAD0, TIMING3, grid={"gamma": 0.1, "R": [2, 3]}, horizon=5.0, num_points=2)
