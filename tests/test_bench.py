"""The benchmark's reference kernels compute what they claim."""

import jax.numpy as jnp
import numpy as np

from jaxsim import make_method, make_timing, worst_case_quadratic
from jaxsim.bench import sync_batch
from jaxsim.sim.events import Horizon
from jaxsim.sim import stream
from jaxsim.sim.server import SGD
from jaxsim.sim.clocks import build_streams
from jaxsim.sweep import run


def test_sync_kernel_is_sgd_at_the_current_model():
    """With one worker every ASGD gradient is taken at the current model: the engine and the
    synchronous kernel (same stream, same draws) run the same SGD."""
    problem = worst_case_quadratic(d=4, noise_scale=0.1)
    timing = make_timing(1, "one_plus_sqrt", "halfnormal")
    method = make_method("asgd")
    seeds, gammas = [0, 1], [0.1, 0.3]
    settings = [{"gamma": g} for g in gammas]
    streams = build_streams(method, timing, seeds, Horizon(events=60), 5)
    metrics, _, _ = run(method, problem, timing, seeds, settings, Horizon(events=60), 5)
    setup = stream.setup(method, problem, timing, streams, seeds, settings, optimizer=SGD)
    loss, gns = sync_batch(setup.clock, problem, setup.seeds, setup.intervals, jnp.asarray(gammas, jnp.float32))
    assert metrics["updates"][..., -1].min() > 10
    np.testing.assert_allclose(np.asarray(loss), metrics["loss"][..., 1:], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(gns), metrics["grad_norm_sq"][..., 1:], rtol=1e-4)
    assert not np.allclose(metrics["loss"][:, 0, -1], metrics["loss"][:, 1, -1])  # the stepsizes matter
