"""Input domains: counts fit int32, seeds are distinct integers in [0, 2**63) with distinct
streams, floats fit the run's dtype, sizes are positive; bad inputs raise ValueError naming the
field before anything is compiled."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsim
from jaxsim.methods import HParam
from jaxsim.runtime.rng import seed_key, time_key

PROB = jaxsim.worst_case_quadratic(d=4)
TIMING = jaxsim.make_timing(4, "sqrt", "halfnormal")


def _sweep(method="ringmaster", **kw):
    args = dict(seeds=[0], grid={"gamma": [0.1]}, horizon=10.0, num_points=2)
    args.update(kw)
    return jaxsim.sweep(method, PROB, TIMING, **args)


# --- counts fit int32 (past 2**31 - 1 they would wrap) ------------------------------

def test_count_above_int32_rejected(no_compile):
    with pytest.raises(ValueError, match=r"\bR\b.*2147483647"):
        _sweep(grid={"gamma": 0.1, "R": [1, 2 ** 32 + 1, 2 ** 31]})
    with pytest.raises(ValueError, match=r"\bR\b"):
        _sweep(grid={"gamma": 0.1, "R": 2 ** 31})
    with pytest.raises(ValueError, match=r"\bB\b"):
        _sweep("rennala", grid={"gamma": 0.1, "B": [2 ** 40]})
    assert HParam(1, "count").check("R", 2 ** 31 - 1).tolist() == [2 ** 31 - 1]


@pytest.fixture(scope="module")
def big_run():
    """One small sweep over extreme seeds and counts (one compilation)."""
    return _sweep(seeds=[0, 2 ** 32, 2 ** 63 - 1, 2 ** 32 - 1],
                  grid={"gamma": 0.1, "R": [10 ** 6, 2 ** 31 - 1]}, num_points=4)


def test_count_at_int32_limit_runs_as_labelled(big_run):
    # R = 2**31 - 1 and R = 10**6 both exceed every delay: the same (vanilla ASGD) runs,
    # with updates, and the coordinates show the values that ran.
    assert big_run.coords["R"].tolist() == [10 ** 6, 2 ** 31 - 1]
    g = big_run.metrics["grad_norm_sq"]
    np.testing.assert_array_equal(g[:, 0], g[:, 1])
    assert np.all(g[:, 0, -1] < g[:, 0, 0])


# --- seeds: distinct integers in [0, 2**63), distinct streams -----------------------

@pytest.mark.parametrize("seeds", [[-1], [2 ** 63], [2 ** 64], [True], [1.0], ["0"], [np.uint64(2 ** 63)],
                                   [0, -5], 1.5, "01"])
def test_bad_seeds_rejected_first(seeds, no_compile):
    with pytest.raises(ValueError, match="seeds"):
        _sweep(seeds=seeds)
    # before anything else: even the (unknown) method name is not looked at yet
    with pytest.raises(ValueError, match="seeds"):
        _sweep("no_such_method", seeds=seeds)


def test_duplicate_seeds_rejected(no_compile):
    with pytest.raises(ValueError, match=r"seeds.*duplicate.*\[3\]"):
        _sweep(seeds=[3, 1, np.int64(3)])


def test_seed_domain_accepts_numpy_ints(no_compile):
    from jaxsim.runtime.rng import check_seeds

    assert check_seeds([np.int64(2 ** 63 - 1), np.uint32(7), 0]) == [2 ** 63 - 1, 7, 0]
    assert check_seeds(np.arange(3)) == [0, 1, 2]


def test_seed_keys_distinct_and_unchanged_below_2_32():
    for s in (0, 1, 12345, 2 ** 32 - 1, np.int64(7)):
        np.testing.assert_array_equal(jax.random.key_data(seed_key(s)),
                                      jax.random.key_data(jax.random.key(int(s))))
    seeds = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 33, 2 ** 63 - 1]
    keys = {tuple(np.asarray(jax.random.key_data(seed_key(s))).tolist()) for s in seeds}
    assert len(keys) == len(seeds)
    for bad in (-1, 2 ** 63, True, 1.0):
        with pytest.raises(ValueError, match="seed"):
            seed_key(bad)
    d0, d1 = (np.asarray(TIMING.sample(time_key(s), 8)) for s in (0, 2 ** 32))
    assert not np.array_equal(d0, d1)


def test_large_seeds_give_distinct_runs(big_run):
    g = big_run.metrics["grad_norm_sq"][:, 0]  # seeds 0, 2**32, 2**63 - 1, 2**32 - 1
    assert big_run.coords["seed"].tolist() == [0, 2 ** 32, 2 ** 63 - 1, 2 ** 32 - 1]
    for i in range(4):
        for j in range(i):
            assert not np.array_equal(g[i], g[j]), (i, j)


# --- floats fit the run's dtype; shapes and sizes are positive -----------------------

@pytest.mark.parametrize("gamma", [1e300, 1e-50, 1e-40, [0.1, 1e39]])
def test_gamma_outside_float32_rejected(gamma, no_compile):
    with pytest.raises(ValueError, match="gamma.*float32"):
        _sweep(grid={"gamma": gamma})
    with pytest.raises(ValueError, match="gamma.*float32"):
        jaxsim.simulate("asgd", PROB, TIMING, hparams={"gamma": np.max(gamma)}, horizon=10.0, num_points=2)


def test_budget_outside_float32_rejected(no_compile):
    with pytest.raises(ValueError, match=r"\bt\b.*overflows"):
        _sweep("mindflayer", grid={"gamma": 0.1, "t": [1.0, 1e300]})
    with pytest.raises(ValueError, match=r"\bt\b"):
        _sweep("mindflayer", grid={"gamma": 0.1, "t": [1e-45]})


def test_float_check_follows_dtype():
    h = HParam(0.1)
    assert h.check("gamma", 1e-50, jnp.float64).tolist() == [1e-50]
    assert h.check("gamma", 1e300, np.float64).tolist() == [1e300]
    with pytest.raises(ValueError, match="gamma.*float16"):
        h.check("gamma", 1e-5, jnp.float16)
    assert HParam(1.0, "budget").check("t", float("inf"), jnp.float32).tolist() == [float("inf")]


@pytest.mark.parametrize("gamma", [[[0.1, 0.2]], [[0.1], [0.2, 0.3]], np.ones((2, 2))])
def test_nested_gamma_rejected(gamma, no_compile):
    with pytest.raises(ValueError, match="gamma.*1-D"):
        _sweep(grid={"gamma": gamma})


@pytest.mark.parametrize("batch_size", [0, -1, 1.5, 2.0, True, "2"])
def test_bad_batch_size(batch_size, no_compile):
    with pytest.raises(ValueError, match="batch_size"):
        _sweep(batch_size=batch_size)


@pytest.mark.parametrize("memory_budget", [float("nan"), 0, -1, float("inf"), True, "1e9"])
def test_bad_memory_budget(memory_budget, no_compile):
    with pytest.raises(ValueError, match="memory_budget"):
        _sweep(memory_budget=memory_budget)


@pytest.mark.parametrize("num_points", [True, 0, 2.0])
def test_bad_num_points(num_points, no_compile):
    with pytest.raises(ValueError, match="num_points"):
        _sweep(num_points=num_points)
