"""The server optimizer follows optax's convention (descent updates, sign included), and one
definition of divergence serves the flag, ``best()`` and the CLI."""

import numpy as np
import optax
import pytest

import jaxsim

PROBLEM = jaxsim.worst_case_quadratic(d=16, noise_scale=0.01)
TIMING = jaxsim.make_timing(8, "one_plus_sqrt", "halfnormal")

OPTIMIZERS = {
    "sgd": optax.sgd(1.0),
    "sgd_momentum": optax.sgd(0.1, momentum=0.9),
    "adam": optax.adam(1.0),
    "chain_clip_adam": optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1.0)),
    "scale_by_adam_then_lr": optax.chain(optax.scale_by_adam(), optax.scale_by_learning_rate(1.0)),
    "scale_by_rms_then_lr": optax.chain(optax.scale_by_rms(), optax.scale_by_learning_rate(1.0)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optax_optimizers_descend(name):
    res = jaxsim.sweep("ringmaster", PROBLEM, TIMING, seeds=[0], grid={"gamma": 0.05, "R": 4}, horizon=60.0,
                       num_points=3, optimizer=OPTIMIZERS[name])
    gap = res.metrics["loss_gap"][0, :]
    assert np.isfinite(gap).all()
    assert gap[-1] < 0.5 * gap[0], f"{name}: f - f* went from {gap[0]} to {gap[-1]}"


def test_default_optimizer_is_plain_sgd():
    """The default server step is ``x - gamma * g`` exactly: one fresh arrival by hand."""
    import jax.numpy as jnp

    from jaxsim.sim.server import SGD, apply_step

    x, g = jnp.asarray([1.0, -2.0]), jnp.asarray([0.5, 0.25])
    u, _ = SGD.update(g, SGD.init(x), x)
    np.testing.assert_array_equal(apply_step(x, 0.1, u), x - 0.1 * g)


def test_divergence_is_one_definition():
    """A run whose model stays finite but whose metric overflows is flagged, excluded by best()
    and counted by the CLI summary, the same way."""
    res = jaxsim.sweep("asgd", PROBLEM, TIMING, seeds=[0, 1], grid={"gamma": [0.01, 50.0]}, horizon=40.0,
                       num_points=4)
    assert res.diverged[:, 1].all() and not res.diverged[:, 0].any()
    assert res.best("loss_gap")["index"] == (0,) and res.best("loss_gap")["excluded"] == 1
    # a non-finite recorded metric alone counts too
    res.metrics["grad_norm_sq"][0, 0, 2] = np.inf
    res.metrics["diverged"][:] = False
    assert res.diverged[0, 0]
