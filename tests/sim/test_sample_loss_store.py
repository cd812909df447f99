"""A problem that records sample losses (``batch_loss``) keeps every point a discarded job
started from: the loss of the latest received job is taken at its own start point, as the
reference does, also when the method throws the gradient away (a delay past its window)."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxsim
from jaxsim import reference
from jaxsim.problems.generic import from_loss
from jaxsim.sim.stream import plan_store


def _least_squares():
    rng = np.random.default_rng(0)
    a, b = jnp.asarray(rng.normal(size=(32, 4))), jnp.asarray(rng.normal(size=32))

    def loss_fn(p, batch):
        return jnp.mean((batch[0] @ p["w"] - batch[1]) ** 2)

    def sampler(key, worker, data):
        i = jax.random.randint(key, (2,), 0, 32)
        return data[0][i], data[1][i]

    def objective(p, data):
        return jnp.mean((data[0] @ p["w"] - data[1]) ** 2)

    return from_loss(loss_fn, sampler, objective, {"w": jnp.zeros(4, jnp.float64)}, data=(a, b))


def test_discarded_jobs_report_their_sample_loss_at_their_own_point():
    with jax.enable_x64(True):
        _discarded_jobs_report_their_sample_loss()


def _discarded_jobs_report_their_sample_loss():
    problem = _least_squares()
    timing = jaxsim.make_timing(6, "linear", "exponential")
    hp = {"gamma": 0.05, "R": 1}
    res = jaxsim.sweep("ringmaster", problem, timing, seeds=[0], grid=hp, horizon=60.0, num_points=10)
    ref = reference.run(jaxsim.make_method("ringmaster"), problem, timing, hp, seed=0, horizon=60.0, num_points=10)
    assert np.ravel(res.metrics["discarded"])[-1] > 0  # the window was exceeded
    np.testing.assert_allclose(np.ravel(res.metrics["batch_loss"]), ref["batch_loss"], rtol=1e-12, atol=1e-14)


def test_sample_losses_lift_the_window_of_the_store():
    ringmaster = jaxsim.make_method("ringmaster")
    hp = {"gamma": np.array([0.1]), "R": np.array([2])}
    assert plan_store(ringmaster, hp, stream_max_delay=40, n=100).W == 2
    assert plan_store(ringmaster, hp, stream_max_delay=40, n=100, sample_losses=True).W == 64
