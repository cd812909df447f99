"""Naive Optimal ASGD (homogeneous.md §7): only the ``m`` fastest workers compute; ``m = n`` is
vanilla ASGD; ``m`` and the horizon are checked before compiling."""

import functools

import numpy as np
import pytest

import jaxsim
from tests.controlled_model import QUAD0, QUADN, TIMING3, clear

TAU_NO = np.array([1.3, 0.7, 2.9, 1.9])  # speed order: w1, w0, w3, w2
TIMING_NO = jaxsim.make_timing(4, TAU_NO)
H_NO, G_NO = 10.0, 8  # grid step 1.25: no grid point is a multiple of any tau_i


@functools.cache
def _naive():
    return jaxsim.sweep("naive_optimal_asgd", QUADN, TIMING_NO, seeds=[3], grid={"gamma": 0.1, "m": [1, 2, 3, 4]},
                        horizon=H_NO, num_points=G_NO)


def test_naive_optimal_uses_only_m_fastest():
    res = _naive()
    grid = res.time[0]
    fastest = [1, 0, 3, 2]
    assert clear(grid, *[t * np.arange(1, 20) for t in TAU_NO]).all()
    for i, m_ in enumerate([1, 2, 3, 4]):
        expect = sum(np.floor(grid / TAU_NO[w]) for w in fastest[:m_])
        np.testing.assert_array_equal(res.metrics["received"][0, i], expect, err_msg=f"m={m_}")
        np.testing.assert_array_equal(res.metrics["updates"][0, i], expect, err_msg=f"m={m_}")
        np.testing.assert_allclose(res.metrics["busy_time"][0, i], m_ * grid, rtol=1e-6, err_msg=f"m={m_}")
    np.testing.assert_array_equal(res.metrics["max_delay"][0, 0], 0)  # one worker: no delays


def test_naive_optimal_with_m_n_equals_asgd():
    res = _naive()
    a = jaxsim.simulate("asgd", QUADN, TIMING_NO, seed=3, hparams={"gamma": 0.1}, horizon=H_NO, num_points=G_NO)
    for k in ("updates", "received", "used", "max_delay"):
        np.testing.assert_array_equal(res.metrics[k][0, 3], a[k], err_msg=k)
    for k in ("loss_gap", "grad_norm_sq", "mean_delay", "busy_time"):
        np.testing.assert_allclose(res.metrics[k][0, 3], a[k], rtol=1e-6, atol=1e-7, err_msg=k)
    assert not np.allclose(res.metrics["loss_gap"][0, 2], a["loss_gap"], rtol=1e-3)  # m = 3 differs


@pytest.mark.parametrize("m_", [0, 4, -1, 1.5])
def test_bad_naive_optimal_m(m_, no_compile):
    with pytest.raises(ValueError, match=r"\bm\b"):
        jaxsim.simulate("naive_optimal_asgd", QUAD0, TIMING3, hparams={"gamma": 0.1, "m": m_}, horizon=5.0,
                        num_points=2)
    with pytest.raises(ValueError, match=r"\bm\b"):
        jaxsim.sweep("naive_optimal_asgd", QUAD0, TIMING3, grid={"gamma": 0.1, "m": [1, m_]}, horizon=5.0,
                     num_points=2)


def test_naive_optimal_needs_horizon_in_seconds(no_compile):
    with pytest.raises(ValueError, match="horizon"):
        jaxsim.simulate("naive_optimal_asgd", QUAD0, TIMING3, hparams={"gamma": 0.1, "m": 2},
                        horizon=jaxsim.Horizon(events=10), num_points=2)
