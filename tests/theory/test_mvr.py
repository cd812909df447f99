"""Rennala MVR theory (lmo_vr_local.md §3.3, [uncertain]): the formulas as the spec writes them."""

import math

import numpy as np
import pytest

from jaxsim import theory


def test_params_follow_the_spec_formulas():
    p = theory.mvr_params(L=2.0, Lbar=3.0, sigma2=4.0, eps=0.01, S=5)
    assert p["a"] == pytest.approx(0.01 * 5 / 4.0)
    assert p["gamma"] == pytest.approx(min(0.5, 5 * 0.1 / (2.0 * 3.0)))
    assert theory.mvr_params(L=2.0, Lbar=3.0, sigma2=0.0, eps=0.01, S=5) == {"a": 1.0, "gamma": 0.5}
    assert theory.mvr_params(L=1.0, Lbar=1.0, sigma2=1e-4, eps=0.01, S=5)["a"] == 1.0  # capped


def test_round_time_one_worker_and_equal_workers():
    assert theory.mvr_round_time(3, [2.0], kappa=2.0) == pytest.approx(2.0 * 2.0 * 4)
    # n equal workers: H_m = tau for all m, the minimum is at m = n
    assert theory.mvr_round_time(8, [1.0] * 4, kappa=1.0) == pytest.approx(1.0 * (1 + 8 / 4))


def test_time_single_worker_by_hand():
    L, Lb, D, s2, e, k = 1.0, 2.0, 3.0, 0.5, 0.01, 2.0
    rounds = L * D / e + math.sqrt(s2) * Lb * D / e ** 1.5 + D * math.sqrt(L * Lb * math.sqrt(s2) / e ** 2.5)
    init = k * 1.5 * (1 + s2 / e)
    assert theory.mvr_time([1.5], L, Lb, D, s2, e, kappa=k) == pytest.approx(k * 1.5 * rounds + init)


def test_mvr_beats_rennala_when_noise_dominates():
    """The spec's reading: gains when sigma2/eps is large and Lbar ~ L."""
    tau = np.sqrt(np.arange(1, 51))
    assert theory.mvr_time(tau, 1.0, 1.0, 1.0, 10.0, 1e-4) < theory.rennala_time(tau, 1.0, 1.0, 10.0, 1e-4)


@pytest.mark.parametrize("call,field", [
    (lambda: theory.mvr_params(1.0, 0.0, 1.0, 0.1, 2), "Lbar"),
    (lambda: theory.mvr_round_time(2, [1.0], kappa=0.0), "kappa"),
    (lambda: theory.mvr_time([1.0], 1.0, 1.0, 1.0, -1.0, 0.1), "sigma2"),
])
def test_bad_input_names_the_field(call, field):
    with pytest.raises(ValueError, match=field):
        call()
