"""Minibatch SGD on the controlled clock (homogeneous.md §3): round ``k`` uses job ``k`` of every
worker and lasts ``max_i D[i, k]``, checked against an independent re-simulation on the fixed and
the random clock."""

import numpy as np

import jaxsim
from jaxsim.runtime.rng import time_key
from tests.controlled_model import GAMMA, QUAD0, TAU3, TIMING3, assert_on, busy, clear, count, gap, replay


def _minibatch_sim(D, horizon):
    """Rounds of Minibatch SGD: round ``k`` uses job ``k`` of every worker and lasts ``max_i D[i, k]``."""
    K = D.shape[1]
    T, updates, arrivals, jobs = 0.0, [], [], []
    for k in range(K):
        fin = T + D[:, k].astype(np.float64)
        arrivals += list(fin)
        jobs += [(T, f) for f in fin]
        T = float(fin.max())
        updates.append(T)
        if T > horizon:
            return updates, arrivals, jobs
    raise AssertionError("not enough sampled jobs")


H_MB, G_MB = 11.0, 20


def _check_minibatch(m, grid, D):
    updates, arrivals, jobs = _minibatch_sim(D, float(grid[-1]))
    ok = clear(grid, arrivals)
    ups = count(grid, updates)
    assert_on(ok, m["updates"], ups, "updates")
    assert_on(ok, m["received"], count(grid, arrivals), "received")
    assert_on(ok, m["busy_time"], busy(grid, jobs), "busy_time", rtol=1e-5, atol=1e-4)
    assert 3 * grid[-1] - m["busy_time"][-1] > 0.5  # early finishers idle at the barrier
    np.testing.assert_array_equal(m["cancelled"], 0)
    np.testing.assert_array_equal(m["max_delay"], 0)
    np.testing.assert_array_equal(m["discarded"], 0)
    # noiseless: each round steps along the exact gradient at the round's model
    xs = replay([[k] * 3 for k in range(len(updates))])
    assert_on(ok, m["loss_gap"], [gap(xs[int(u)]) for u in ups], "loss_gap", rtol=2e-5, atol=1e-6)
    return updates


def test_minibatch_fixed_clock():
    out = jaxsim.simulate("minibatch", QUAD0, TIMING3, hparams={"gamma": GAMMA}, horizon=H_MB, num_points=G_MB)
    updates = _check_minibatch(out, out["time"], np.tile(TAU3[:, None], (1, 10)))
    # k-th update exactly at k * max_i tau_i
    np.testing.assert_allclose(updates[:3], [3.5, 7.0, 10.5])
    assert out["updates"][-1] == 3


def test_minibatch_random_clock():
    """Round k lasts max_i D[i, k] (job index = round index), D from the seed's counter-based draws."""
    timing = jaxsim.make_timing(3, TAU3, "halfnormal")
    seeds = [0, 1, 2]
    res = jaxsim.sweep("minibatch", QUAD0, timing, seeds=seeds, grid={"gamma": GAMMA}, horizon=H_MB,
                       num_points=G_MB)
    for s_i, seed in enumerate(seeds):
        D = timing.sample(time_key(seed), 12)
        m = {k: v[s_i] for k, v in res.metrics.items()}
        updates = _check_minibatch(m, res.time[s_i], D)
        np.testing.assert_allclose(updates, np.cumsum(D.max(axis=0))[:len(updates)], rtol=1e-6)
        assert m["updates"][-1] >= 1
