"""Registry-driven checks every method gets without naming it. A method defined in its own
file (``tests/user_methods``) is picked up by the oracle (``tests/reference/test_oracle.py``),
by the jit/vmap and no-recompile check (one kernel for seeds x settings whose new hyperparameter
values never recompile: ``test_results_do_not_depend_on_what_shares_the_batch`` in
``tests/sim/test_batch_composition.py``, which compiles those kernels anyway) and by the padding
test (``tests/methods/test_padding_contract.py``).
"""

import numpy as np

import jaxsim

PROBLEM = jaxsim.worst_case_quadratic(d=4, noise_scale=0.05)
TIMING = jaxsim.make_timing(5, "sqrt", "halfnormal")
USER_METHODS = ("smoothed_delay_asgd", "pair_momentum_asgd", "local_asgd", "local_sgd_rounds")


def test_pinned_window_shares_kernel_across_thresholds(compiles):
    """With ``window`` pinned, any R grid below it reuses the kernel."""
    run = lambda R: jaxsim.sweep("ringmaster", PROBLEM, TIMING, seeds=[0], window=16,  # noqa: E731
                                 grid={"gamma": [0.1], "R": R}, horizon=30.0, num_points=4)
    run([1, 2])
    assert compiles(lambda: run([3, 16]))[1] == []


def test_user_methods_are_picked_up_by_every_registry_test():
    """The one-file methods of ``tests/user_methods`` are registered and parametrize the
    oracle, the jit/vmap and no-recompile test and (when they mask padding) the padding test."""
    from tests.methods import test_padding_contract
    from tests.reference import test_oracle
    from tests.sim import test_batch_composition

    assert set(USER_METHODS) <= set(jaxsim.REGISTRY)
    assert set(test_batch_composition.CASES) >= {(name, "quadratic") for name in jaxsim.REGISTRY}
    for name in USER_METHODS:
        assert name in test_oracle.METHODS
        assert (name, "quadratic") in test_batch_composition.CASES  # the jit/vmap and no-recompile test
        if getattr(jaxsim.REGISTRY[name], "masks_invalid", False):
            assert name in test_padding_contract.MASKING


def test_a_ring_of_one_point_is_the_model_itself():
    """A ring of one point holds ``x^k`` after every event, so the engine reads the model instead
    (``Layout.current``): Rennala and Ringmaster with ``R = 1`` give the same numbers as with a
    ring of 4 points."""
    for name, grid in (("rennala", {"gamma": [0.1, 0.3], "B": [1, 3]}), ("ringmaster", {"gamma": [0.1, 0.3], "R": 1})):
        runs = [jaxsim.sweep(name, PROBLEM, TIMING, seeds=[0, 1], window=w, grid=grid, horizon=30.0, num_points=4)
                for w in (None, 4)]
        assert runs[0].info["window"] == 1 and runs[1].info["window"] == 4
        for k in runs[0].metrics:
            np.testing.assert_array_equal(runs[0].metrics[k], runs[1].metrics[k], err_msg=f"{name}: {k}")
