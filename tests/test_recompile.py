"""A sweep compiles once per (method, shapes): new hyperparameter values never recompile."""

import logging

import jax
import pytest

import jaxsim

PROBLEM = jaxsim.worst_case_quadratic(d=4, noise_scale=0.05)
TIMING = jaxsim.make_timing(5, "sqrt", "halfnormal")


def _compiles(caplog, fn):
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="jax"), jax.log_compiles(True):
        fn()
    return [r.getMessage() for r in caplog.records if "Compiling" in r.getMessage()]


@pytest.mark.parametrize("name, first, second", [
    ("ringmaster", {"gamma": [0.1, 0.2], "R": [1, 3]}, {"gamma": [0.01, 0.5], "R": [2, 4]}),
    ("rennala", {"gamma": [0.1, 0.2], "B": [1, 3]}, {"gamma": [0.3, 0.05], "B": [2, 4]}),
    ("delay_adaptive_asgd", {"gamma": [0.1, 0.2, 0.3]}, {"gamma": [1e-3, 1e-2, 1e-1]}),
])
def test_new_values_same_shapes_do_not_recompile(caplog, name, first, second):
    run = lambda grid, seeds: jaxsim.sweep(name, PROBLEM, TIMING, seeds=seeds, grid=grid,  # noqa: E731
                                           horizon=30.0, num_points=4)
    warm = _compiles(caplog, lambda: run(first, [0, 1]))
    assert any("run_batch" in m for m in warm), "the first sweep should compile the engine"
    assert _compiles(caplog, lambda: run(second, [0, 1])) == []


def test_pinned_window_shares_kernel_across_thresholds(caplog):
    """With ``window`` pinned, any R grid below it reuses the kernel."""
    run = lambda R: jaxsim.sweep("ringmaster", PROBLEM, TIMING, seeds=[0], window=16,  # noqa: E731
                                 grid={"gamma": [0.1], "R": R}, horizon=30.0, num_points=4)
    run([1, 2])
    assert _compiles(caplog, lambda: run([3, 16])) == []
