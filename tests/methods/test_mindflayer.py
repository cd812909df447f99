"""MindFlayer SGD (homogeneous.md §9): the plan by hand; without a clip it is Minibatch SGD at one
point; under hanging jobs (``inf_bernoulli``) it keeps updating where Rennala with stops stalls,
round by round as an independent re-simulation says; a bad clip is refused before compiling."""

import numpy as np
import pytest

import jaxsim
from jaxsim import theory
from jaxsim.runtime.rng import time_key
from tests.controlled_model import (GAMMA, QUAD0, TAU3, TIMING3, assert_on, busy, clear, count, gap, rennala_stops_sim,
                                    replay)


def _mindflayer_sim(tau, D, trials, clip, horizon):
    """MindFlayer rounds (§9): worker ``i`` makes ``trials[i]`` attempts in a row; an attempt whose
    duration exceeds ``tau_i + clip`` is abandoned at ``tau_i + clip``. Returns
    ``(round ends, successes per round, attempts as (start, end, ok))``."""
    n = len(tau)
    nxt = np.zeros(n, int)
    T, ends, succ, attempts = 0.0, [], [], []
    while T <= horizon:
        end, ok_count = T, 0
        for i in range(n):
            t = T
            for _ in range(trials[i]):
                d = float(D[i, nxt[i]])
                nxt[i] += 1
                ok = d <= tau[i] + clip
                dur = d if ok else tau[i] + clip
                attempts.append((t, t + dur, ok))
                t += dur
                ok_count += ok
            end = max(end, t)
        assert end > T
        ends.append(end)
        succ.append(ok_count)
        T = end
    return ends, succ, attempts


def test_mindflayer_plan_hand_values():
    """theory.mindflayer_plan for the fixed model (costs tau, p = 1) against hand computation:
    S = 1: t(1) = 2, t(2) = 3/1.625, t(3) = 4/1.9107 -> m* = 2, B = (1, 1, 0);
    S = 4: t(3) = 7/1.9107 = 3.664 is smallest -> B = (ceil(2.66), ceil(1.29), ceil(0.047)) = (3, 2, 1)."""
    np.testing.assert_array_equal(theory.mindflayer_plan(TAU3, 0.0, 1.0, 1)["B"], [1, 1, 0])
    np.testing.assert_array_equal(theory.mindflayer_plan(TAU3, 0.0, 1.0, 4)["B"], [3, 2, 1])


MF_S = [1, 4, 6]  # rounds of 1.6, 3.5 and 4.0 seconds


def test_mindflayer_without_clip_is_minibatch_at_one_point():
    res = jaxsim.sweep("mindflayer", QUAD0, TIMING3, seeds=[0], grid={"gamma": GAMMA, "t": float("inf"), "S": MF_S},
                       horizon=11.0, num_points=20)
    grid = res.time[0]
    for i, S in enumerate(MF_S):
        trials = theory.mindflayer_plan(TAU3, 0.0, 1.0, S)["B"]
        frac = theory.mindflayer_plan(TAU3, 0.0, 1.0, S)["t_m"] / TAU3 - 1
        assert np.all(np.abs(frac - np.round(frac)) > 1e-4)  # no float32 borderline in the plan
        round_len = float(np.max(trials * TAU3))
        m = {k: v[0, i] for k, v in res.metrics.items()}
        ends, succ, attempts = _mindflayer_sim(TAU3, np.tile(TAU3[:, None], (1, 200)), trials, np.inf, 11.0)
        np.testing.assert_allclose(ends[:3], round_len * np.arange(1, 4))  # every round lasts max_i B_i tau_i
        assert succ[0] == trials.sum()
        arr = [a[1] for a in attempts]
        ok = clear(grid, arr)
        ups = count(grid, ends)
        assert_on(ok, m["updates"], ups, f"updates, S={S}")
        assert_on(ok, m["received"], count(grid, arr), f"received, S={S}")
        assert_on(ok, m["busy_time"], busy(grid, [a[:2] for a in attempts]), f"busy, S={S}", atol=1e-4)
        np.testing.assert_array_equal(m["timeouts"], 0)
        np.testing.assert_array_equal(m["discarded"], 0)
        np.testing.assert_array_equal(m["max_delay"], 0)
        # an unbiased minibatch at one point: the mean of sum(B_i) exact gradients at x^k
        xs = replay([[k] for k in range(len(ends))])
        assert_on(ok, m["loss_gap"], [gap(xs[int(u)]) for u in ups], f"loss_gap, S={S}", rtol=2e-5, atol=1e-6)
        assert m["updates"][-1] >= 2


P_HANG, CLIP = 0.5, 0.5
TIMING_IB = jaxsim.make_timing(3, TAU3, "inf_bernoulli", p=P_HANG)
IB_SEEDS = [0, 1, 2, 3]
H_IB, G_IB = 29.97, 9  # grid step 3.33: never within 1e-3 of a multiple of 0.1


def test_mindflayer_keeps_updating_under_hangs_while_rennala_stalls():
    mf = jaxsim.sweep("mindflayer", QUAD0, TIMING_IB, seeds=IB_SEEDS, grid={"gamma": GAMMA, "t": CLIP, "S": 2},
                      horizon=H_IB, num_points=G_IB)
    rs = jaxsim.sweep("rennala_stops", QUAD0, TIMING_IB, seeds=IB_SEEDS, grid={"gamma": GAMMA, "B": 2},
                      horizon=H_IB, num_points=G_IB)
    plan = theory.mindflayer_plan(TAU3, CLIP, P_HANG, 2)
    trials = plan["B"]
    np.testing.assert_array_equal(trials, [3, 2, 1])  # by hand: costs (1.5, 2.1, 4.0), t(3) = 5.03
    bound = float(np.max(trials * (TAU3 + CLIP)))  # 4.5: a round never lasts longer
    stalled = 0
    for s_i, seed in enumerate(IB_SEEDS):
        grid = mf.time[s_i]
        D = TIMING_IB.sample(time_key(seed), 256)
        assert set(np.unique(D[np.isfinite(D)])) <= set(TAU3.astype(D.dtype))
        m = {k: v[s_i] for k, v in mf.metrics.items()}
        ends, succ, attempts = _mindflayer_sim(TAU3, D, trials, CLIP, H_IB)
        assert np.all(np.diff(np.concatenate([[0], ends])) <= bound + 1e-9)
        ups = count(grid, ends)
        assert clear(grid, ends, [a[1] for a in attempts]).all()
        np.testing.assert_array_equal(m["updates"], ups)
        assert np.all(m["updates"] >= np.floor(grid / bound))  # keeps updating
        assert np.all(m["updates"][2:] > m["updates"][:-2])  # 6.66 s > one round
        np.testing.assert_array_equal(m["received"], count(grid, [a[1] for a in attempts if a[2]]))
        np.testing.assert_array_equal(m["timeouts"], count(grid, [a[1] for a in attempts if not a[2]]))
        assert m["timeouts"][-1] > 0
        np.testing.assert_allclose(m["busy_time"], busy(grid, [a[:2] for a in attempts]), rtol=1e-5, atol=1e-4)
        # g = (sum of successful gradients) / (sum_i p_i B_i): a scaled exact gradient at x^k
        xs = replay([[k] for k in range(len(ends))], scale=np.array(succ) / (P_HANG * trials.sum()))
        np.testing.assert_allclose(m["loss_gap"], [gap(xs[int(u)]) for u in ups], rtol=5e-5, atol=1e-6)

        r = {k: v[s_i] for k, v in rs.metrics.items()}
        upd, arr, stall = rennala_stops_sim(D, 2, H_IB)
        assert clear(grid, upd, arr).all()
        np.testing.assert_array_equal(r["updates"], count(grid, upd), err_msg=f"seed {seed}")
        np.testing.assert_array_equal(r["received"], count(grid, arr), err_msg=f"seed {seed}")
        np.testing.assert_allclose(r["busy_time"], 3 * grid, rtol=1e-5, atol=1e-4)  # hung jobs are busy too
        np.testing.assert_array_equal(r["timeouts"], 0)
        if stall is not None and stall < grid[-4]:  # every worker hung: no update ever again
            stalled += 1
            after = grid >= stall
            np.testing.assert_array_equal(r["updates"][after], r["updates"][-1])
            np.testing.assert_array_equal(r["received"][after], r["received"][-1])
            assert m["updates"][-1] > r["updates"][-1]
            assert m["updates"][-1] >= m["updates"][after][0] + 2  # MindFlayer goes on after the stall
    assert stalled >= 3  # precondition of the comparison (from the re-simulation, not the engine)


@pytest.mark.parametrize("t", [0.0, -1.0, float("nan")])
def test_bad_mindflayer_clip(t, no_compile):
    with pytest.raises(ValueError, match=r"hyperparameter t\b"):
        jaxsim.simulate("mindflayer", QUAD0, TIMING3, hparams={"gamma": 0.1, "t": t}, horizon=5.0, num_points=2)
    with pytest.raises(ValueError, match=r"hyperparameter t\b"):
        jaxsim.sweep("mindflayer", QUAD0, TIMING3, grid={"gamma": 0.1, "t": [1.0, t]}, horizon=5.0, num_points=2)
