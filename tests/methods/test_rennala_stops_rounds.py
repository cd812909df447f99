"""Rennala SGD with stops (homogeneous.md §6.3, variant B; §12): the hand-derived trace for B = 2,
workers busy for the whole run, and rounds of length ``min{t : sum_i floor(t / tau_i) >= B}``
(by brute force, by hand, and against an independent event re-simulation)."""

import functools

import numpy as np
import pytest

import jaxsim
from tests.controlled_model import (GAMMA, QUAD0, TAU3, TIMING3, assert_on, clear, count, gap, rennala_stops_sim,
                                    replay)

RENNALA_B = [1, 2, 3, 4, 5, 6]
H_RENNALA, G_RENNALA = 10.4, 104


@functools.cache
def _rennala_fixed():
    return jaxsim.sweep("rennala_stops", QUAD0, TIMING3, seeds=[0], grid={"gamma": GAMMA, "B": RENNALA_B},
                        horizon=H_RENNALA, num_points=G_RENNALA)


# ---- the trace for B = 2 (§6.3, variant B) ------------------------------------------------------

def test_rennala_stops_trace_B2():
    res = _rennala_fixed()
    assert res.dims == ("seed", "B", "point")
    grid = res.time[0]
    m = {k: v[0, RENNALA_B.index(2)] for k, v in res.metrics.items()}
    # 1.0 w1 (b=1); 1.6 w2 -> x1, all restart; 2.6 w1; 3.2 w2 -> x2; 4.2 w1; 4.8 w2 -> x3; ...
    updates = 1.6 * np.arange(1, 7)
    arrivals = np.concatenate([updates - 0.6, updates])
    ok = clear(grid, arrivals)
    ups = count(grid, updates)
    assert_on(ok, m["updates"], ups, "updates")
    assert_on(ok, m["received"], count(grid, arrivals), "received")
    assert_on(ok, m["used"], count(grid, arrivals), "used")
    assert_on(ok, m["cancelled"], 2 * ups, "cancelled")  # w1 (restarted at +1.0) and w3 each round
    np.testing.assert_array_equal(m["discarded"], 0)
    np.testing.assert_array_equal(m["max_delay"], 0)  # every arrival is fresh
    xs = replay([[k, k] for k in range(6)])
    assert_on(ok, m["loss_gap"], [gap(xs[int(u)]) for u in ups], "loss_gap", rtol=2e-5, atol=1e-6)
    assert m["updates"][50] == 3  # updates at 1.6, 3.2, 4.8 before t = 5


def test_rennala_stops_busy_time_is_n_times_elapsed():
    """§12: every worker is busy for the whole run (restarts, never idles), whatever B."""
    res = _rennala_fixed()
    busy = res.metrics["busy_time"][0]
    for i in range(len(RENNALA_B)):
        np.testing.assert_allclose(busy[i], 3 * res.time[0], rtol=1e-5, atol=1e-5, err_msg=f"B={RENNALA_B[i]}")


# ---- round length min{t : sum_i floor(t / tau_i) >= B} ------------------------------------------

def _round_length(tau, B):
    """Smallest t with sum_i floor(t / tau_i) >= B (brute force over multiples of the tau_i)."""
    cands = np.sort(np.concatenate([tau_i * np.arange(1, B + 1) for tau_i in tau]))
    for c in cands:
        if np.sum(np.floor(c / np.asarray(tau) + 1e-9)) >= B:
            return float(c)
    raise AssertionError


def test_round_length_hand_values():
    """The brute force above against hand counts for tau = (1, 1.6, 3.5)."""
    assert [_round_length(TAU3, B) for B in RENNALA_B] == pytest.approx([1.0, 1.6, 2.0, 3.0, 3.2, 3.5])


TAU4 = np.array([0.7, 2.3, 1.1, 5.0])
TIMING4 = jaxsim.make_timing(4, TAU4)
B4 = [2, 5, 9]


def _check_rounds(res, tau, b_values):
    grid = res.time[0]
    n = len(tau)
    for i, B in enumerate(b_values):
        L = _round_length(tau, B)
        updates = L * np.arange(1, int(grid[-1] / L) + 2)
        ok = clear(grid, updates)
        ups = count(grid, updates)
        m = {k: v[0, i] for k, v in res.metrics.items()}
        assert_on(ok, m["updates"], ups, f"updates, B={B}")
        assert m["updates"][-1] >= 2, "want at least two rounds"
        # the independent event re-simulation agrees with the closed form
        sim_updates, sim_arrivals, _ = rennala_stops_sim(np.tile(tau[:, None], (1, 400)), B, float(grid[-1]))
        np.testing.assert_allclose(sim_updates, updates[updates <= grid[-1]], rtol=1e-9)
        # each round: B arrivals and the n - 1 others cancelled; inside the current round worker i
        # has finished floor(elapsed / tau_i) jobs
        T_last = L * ups
        inside = np.sum(np.floor((grid[:, None] - T_last[:, None]) / tau[None, :] + 1e-9), axis=1)
        ok_arr = ok & clear(grid, sim_arrivals)
        assert_on(ok_arr, m["received"], B * ups + inside, f"received, B={B}")
        assert_on(ok_arr, m["received"], count(grid, sim_arrivals), f"received (re-simulation), B={B}")
        assert_on(ok, m["cancelled"], (n - 1) * ups, f"cancelled, B={B}")
        np.testing.assert_allclose(m["busy_time"], n * grid, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(m["max_delay"], 0)


def test_rennala_stops_round_length_tau3():
    _check_rounds(_rennala_fixed(), TAU3, RENNALA_B)


def test_rennala_stops_round_length_tau4():
    res = jaxsim.sweep("rennala_stops", QUAD0, TIMING4, seeds=[0], grid={"gamma": GAMMA, "B": B4},
                       horizon=9.7, num_points=50)
    _check_rounds(res, TAU4, B4)
