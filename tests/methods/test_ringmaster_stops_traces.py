"""Ringmaster ASGD with stops (Alg. 5, homogeneous.md §8.4-8.5): the hand-derived trace for
R = 2 on tau = (1, 1.6, 3.5) in the engine and the reference, Ringmaster LMO with stops on the
same trace, R = 1 equal to Hero SGD, and, over random timings, no applied gradient with delay
>= R. Expected values come from the NumPy model in ``tests/controlled_model.py``."""

import functools
import importlib

import numpy as np
import pytest

import jaxsim
from jaxsim import reference
from tests.controlled_model import (GAMMA, QUAD0, QUADN, RANDOM_TIMINGS, R_GRID, TIMING3, X0, assert_on, clear,
                                    count, gap, grad, replay, ringmaster_random)

SWEEP_MODULE = importlib.import_module("jaxsim.sweep")  # ``jaxsim.sweep`` is the function
H_TRACE, G_TRACE = 5.2, 52  # grid step 0.1


@functools.cache
def _ringmaster_fixed(noisy=False):
    """Ringmaster with stops on tau = (1, 1.6, 3.5), R in {1, 2}, grid step 0.1."""
    return jaxsim.sweep("ringmaster_stops", QUADN if noisy else QUAD0, TIMING3, seeds=[0],
                        grid={"gamma": GAMMA, "R": [1, 2]}, horizon=H_TRACE, num_points=G_TRACE)


# R = 2, tau = (1.0, 1.6, 3.5): every arrival is applied; (time, points of the gradient).
RM2_UPDATES = [1.0, 1.6, 2.0, 3.0, 4.0, 4.6, 5.0]
RM2_POINTS = [[0], [0], [1], [3], [4], [4], [5]]  # x^{s_i} of each applied gradient
RM2_DELAYS = [0, 1, 1, 0, 0, 1, 1]
RM2_CANCELS = ([1.6, 3.0, 4.6], [1, 2, 1])  # w3 at 1.6; w2, w3 at 3.0; w3 at 4.6


def _replay_lmo(points, alpha, gamma=GAMMA):
    """Ringmaster LMO's iterates (paper form, Euclidean LMO on a vector): ``m <- g`` at the first
    update, then ``m <- alpha g + (1 - alpha) m``; ``x <- x - gamma m / ||m||``."""
    xs, m = [X0.copy()], None
    for pts in points:
        g = grad(xs[pts[0]])
        m = g if m is None else alpha * g + (1 - alpha) * m
        xs.append(xs[-1] - gamma * m / np.linalg.norm(m))
    return xs


def _check_rm2_trace(out, xs=None):
    """The R = 2 trace; ``xs``: the iterates (default: Ringmaster ASGD's)."""
    grid = np.asarray(out["time"], np.float64)
    ok = clear(grid, RM2_UPDATES)
    ups = count(grid, RM2_UPDATES)
    for k in ("updates", "received", "used"):
        assert_on(ok, out[k], ups, k)
    np.testing.assert_array_equal(out["discarded"], 0)
    assert_on(ok, out["cancelled"], count(grid, *RM2_CANCELS), "cancelled")
    assert_on(ok, out["max_delay"], np.where(grid < 1.6, 0, 1), "max_delay")
    np.testing.assert_array_equal(out["timeouts"], 0)
    np.testing.assert_allclose(out["busy_time"], 3 * grid, rtol=1e-5, atol=1e-5)  # nobody ever idles
    xs = replay(RM2_POINTS) if xs is None else xs
    gaps = np.array([gap(x) for x in xs])[ups.astype(int)]
    gns = np.array([np.sum(grad(x) ** 2) for x in xs])[ups.astype(int)]
    assert_on(ok, out["loss_gap"], gaps, "loss_gap", rtol=2e-5, atol=1e-6)
    assert_on(ok, out["grad_norm_sq"], gns, "grad_norm_sq", rtol=2e-5, atol=1e-6)
    # the final model is x^7 of the replay
    assert out["loss_gap"][-1] == pytest.approx(gap(xs[7]), rel=2e-5)
    assert out["grad_norm_sq"][-1] == pytest.approx(np.sum(grad(xs[7]) ** 2), rel=2e-5)
    assert out["mean_delay"][-1] == pytest.approx(np.mean(RM2_DELAYS), rel=1e-6)


def test_ringmaster_stops_trace_R2_engine():
    res = _ringmaster_fixed()
    assert res.dims == ("seed", "R", "point")
    out = {k: v[0, 1] for k, v in res.metrics.items()}
    out["time"] = res.time[0]
    np.testing.assert_allclose(out["time"], np.arange(G_TRACE + 1) * 0.1, atol=1e-12)
    _check_rm2_trace(out)


def test_ringmaster_stops_trace_R2_reference():
    out = reference.run_controlled(jaxsim.make_method("ringmaster_stops"), QUAD0, TIMING3,
                                   {"gamma": GAMMA, "R": 2}, seed=0, horizon=H_TRACE, num_points=G_TRACE)
    _check_rm2_trace(out)


LMO_ALPHA = 0.5


def test_ringmaster_lmo_stops_trace_R2():
    """Variant B of Ringmaster LMO with R = 2: the same cancellations and delays as Ringmaster with
    stops (they depend only on the counters), with momentum + normalized steps (engine and reference)."""
    hp = {"gamma": GAMMA, "R": 2, "alpha": LMO_ALPHA}
    res = jaxsim.sweep("ringmaster_lmo_stops", QUAD0, TIMING3, seeds=[0], grid=hp, horizon=H_TRACE,
                       num_points=G_TRACE)
    out = {k: v[0] for k, v in res.metrics.items()}
    out["time"] = res.time[0]
    xs = _replay_lmo(RM2_POINTS, LMO_ALPHA)
    _check_rm2_trace(out, xs)
    ref = reference.run_controlled(jaxsim.make_method("ringmaster_lmo_stops"), QUAD0, TIMING3, hp, seed=0,
                                   horizon=H_TRACE, num_points=G_TRACE)
    _check_rm2_trace(ref, xs)


def test_ringmaster_stops_R1_is_hero():
    """§8.5: with R = 1 every update restarts the race, which worker 1 (tau = 1) always wins."""
    res = _ringmaster_fixed()
    grid = res.time[0]
    ok = clear(grid, np.arange(1, 6))
    m = {k: v[0, 0] for k, v in res.metrics.items()}
    assert_on(ok, m["updates"], np.floor(grid), "updates")
    assert_on(ok, m["received"], np.floor(grid), "received")
    assert_on(ok, m["cancelled"], 2 * np.floor(grid), "cancelled")  # w2 and w3 at every update
    np.testing.assert_array_equal(m["max_delay"], 0)
    np.testing.assert_array_equal(m["discarded"], 0)
    xs = replay([[k] for k in range(6)])
    assert_on(ok, m["loss_gap"], [gap(xs[int(u)]) for u in np.floor(grid)], "loss_gap", rtol=2e-5, atol=1e-6)

    # the same run with gradient noise equals Hero SGD's (free-running) on the same grid:
    # worker 0 computes jobs 0, 1, 2, ... in both, so even the noise draws coincide
    rm = _ringmaster_fixed(noisy=True)
    hero = jaxsim.simulate("hero", QUADN, TIMING3, hparams={"gamma": GAMMA}, horizon=H_TRACE, num_points=G_TRACE)
    for k in ("updates", "received", "used"):
        assert_on(ok, rm.metrics[k][0, 0], hero[k], k, atol=0)
    assert_on(ok, rm.metrics["loss_gap"][0, 0], hero["loss_gap"], "loss_gap vs hero", rtol=1e-5, atol=1e-7)
    assert_on(ok, rm.metrics["grad_norm_sq"][0, 0], hero["grad_norm_sq"], "grad_norm_sq vs hero",
               rtol=1e-5, atol=1e-7)
    # control: the noise matters, and R = 2 is a different method
    assert not np.allclose(rm.metrics["loss_gap"][0, 0][-1], gap(xs[5]), rtol=1e-3)
    assert not np.allclose(rm.metrics["loss_gap"][0, 1][-1], hero["loss_gap"][-1], rtol=1e-3)


# ---- over random timings, no applied gradient has delay >= R ---------------------------------

@pytest.mark.parametrize("kind", sorted(RANDOM_TIMINGS))
def test_ringmaster_stops_random_invariants(kind):
    res = ringmaster_random(kind)
    timing = RANDOM_TIMINGS[kind]
    m = res.metrics
    assert res.dims == ("seed", "R", "point")
    for i, R in enumerate(R_GRID):
        assert np.all(m["max_delay"][:, i] < R), (R, m["max_delay"][:, i])
        assert np.all(m["mean_delay"][:, i] <= R - 1 + 1e-6)
    np.testing.assert_array_equal(m["discarded"], 0)
    np.testing.assert_array_equal(m["received"], m["used"])
    np.testing.assert_array_equal(m["used"], m["updates"])  # every arrival is applied
    np.testing.assert_array_equal(m["timeouts"], 0)
    np.testing.assert_allclose(m["busy_time"], np.broadcast_to(timing.n * res.time[:, None, :], m["busy_time"].shape),
                               rtol=1e-5, atol=1e-4)
    assert np.all(m["updates"][..., -1] >= 5)  # the runs did something
    assert np.all(m["cancelled"][:, 0, -1] > 0)  # R = 1 restarts the others at every update
    assert np.all(m["max_delay"][:, -1, -1] >= 1)  # larger R does apply stale gradients
    assert not np.any(m["diverged"])
    assert set(m) == set(SWEEP_MODULE.METRICS) - {"batch_loss"}  # the quadratic has no sample losses
