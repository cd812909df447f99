"""Registry-driven checks every method gets without naming it: one jit'd kernel for seeds x
settings (vmap), and new hyperparameter values never recompile. A method defined in its
own file (``tests/user_methods``) is picked up here, by the oracle and by the padding test.
"""

import logging
import zlib

import jax
import numpy as np
import pytest
from problem_choice import accepted_problem

import jaxsim

PROBLEM = jaxsim.worst_case_quadratic(d=4, noise_scale=0.05)
TIMING = jaxsim.make_timing(5, "sqrt", "halfnormal")
USER_METHODS = ("smoothed_delay_asgd", "pair_momentum_asgd", "local_asgd", "local_sgd_rounds")


def _compiles(caplog, fn):
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="jax"), jax.log_compiles(True):
        out = fn()
    return out, [r.getMessage() for r in caplog.records if "Compiling" in r.getMessage()]


def _grid(method, rng):
    """Two random valid values per hyperparameter (two grid axes at most, the others fixed)."""
    grid = {}
    for i, (name, spec) in enumerate(method.hparams.items()):
        vals = sorted({spec.sample(rng, TIMING.n) for _ in range(8)})
        grid[name] = vals[:2] if i < 2 and len(vals) > 1 else vals[0]
    return grid


@pytest.mark.parametrize("name", sorted(jaxsim.REGISTRY))
def test_sweep_is_one_kernel_and_new_values_do_not_recompile(caplog, name):
    method = jaxsim.REGISTRY[name]()
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    first, second = _grid(method, rng), _grid(method, rng)
    for k, v in first.items():
        if method.hparams[k].kind == "count":  # the largest count can set a shape (window, task slots):
            second[k] = v[::-1] if isinstance(v, list) else v  # the same values, other runs get them
        elif isinstance(v, list) != isinstance(second[k], list) or np.size(v) != np.size(second[k]):
            second[k] = v
    problem = accepted_problem(method, PROBLEM)
    run = lambda grid: jaxsim.sweep(method, problem, TIMING, seeds=[0, 1], grid=grid,  # noqa: E731
                                    horizon=30.0, num_points=4)
    res, warm = _compiles(caplog, lambda: run(first))
    assert any("run_batch" in m for m in warm), "the first sweep should compile the kernel"
    shape = (2,) + tuple(len(v) for v in first.values() if isinstance(v, list)) + (5,)
    assert res.metrics["updates"].shape == shape
    assert res.metrics["updates"][..., -1].min() > 0, "every run made progress"
    assert np.isfinite(res.metrics["loss_gap"]).all()
    _, again = _compiles(caplog, lambda: run(second))
    assert again == [], f"{name}: new hyperparameter values recompiled: {again}"


def test_pinned_window_shares_kernel_across_thresholds(caplog):
    """With ``window`` pinned, any R grid below it reuses the kernel."""
    run = lambda R: jaxsim.sweep("ringmaster", PROBLEM, TIMING, seeds=[0], window=16,  # noqa: E731
                                 grid={"gamma": [0.1], "R": R}, horizon=30.0, num_points=4)
    run([1, 2])
    assert _compiles(caplog, lambda: run([3, 16]))[1] == []


def test_user_methods_are_picked_up_by_every_registry_test():
    """The one-file methods of ``tests/user_methods`` are registered and parametrize the
    oracle, the jit/vmap and no-recompile test and (when they mask padding) the padding test."""
    import test_heterogeneous
    import test_oracle

    assert set(USER_METHODS) <= set(jaxsim.REGISTRY)
    for name in USER_METHODS:
        assert name in test_oracle.FREE_RUNNING + test_oracle.CONTROLLED
        assert name in sorted(jaxsim.REGISTRY)  # this module's parametrization
        if getattr(jaxsim.REGISTRY[name], "masks_invalid", False):
            assert name in test_heterogeneous.MASKING
