"""What a worker computes (jobs: a pair of points, local steps), communication times, and
parameter pytrees."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsim
from jaxsim import reference
from jaxsim.sim.events import Horizon
from jaxsim.methods.jobs import PAIR, LocalSteps, local_steps
from jaxsim.methods import reference_rule
from jaxsim.runtime.rng import grad_key, grad_root, time_key
from jaxsim.timing import Comm, TimingModel, make_timing

QUAD = jaxsim.worst_case_quadratic(d=4, noise_scale=0.2)


def test_pair_job_is_one_sample_at_two_points():
    """PAIR evaluates the same sample at x^s and x^{s-1}: the problem's NumPy oracle agrees."""
    with jax.enable_x64(True):
        prob = jaxsim.worst_case_quadratic(d=5, noise_scale=0.3)
        root = grad_root(7)
        oracle = prob.numpy_oracle(root, 3, 10)
        rng = np.random.default_rng(0)
        for w, j in [(0, 0), (2, 5), (1, 9)]:
            x1, x0 = rng.normal(size=5), rng.normal(size=5)
            noise = PAIR.sample_noise(prob, grad_key(root, w, j), w)
            out = PAIR.compute(prob, (jnp.asarray(x1), jnp.asarray(x0)), noise, w, {}, 1)
            np.testing.assert_allclose(out.new, oracle(x1, w, j), rtol=1e-12)
            np.testing.assert_allclose(out.old, oracle(x0, w, j), rtol=1e-12)
            # the same sample: the difference is the exact (noise-free) gradient difference
            np.testing.assert_allclose(out.new - out.old, prob.full_grad(x1) - prob.full_grad(x0), rtol=1e-9,
                                       atol=1e-12)


def test_one_local_step_is_asgd_bit_for_bit():
    """H = 1 local step with server step 1 is vanilla ASGD, bit for bit (float32)."""
    local = jaxsim.REGISTRY["local_asgd"](steps=1)
    timing = make_timing(4, "sqrt", "exponential", scale=1.0)
    kw = dict(seeds=[0, 1], horizon=25.0, num_points=5)
    a = jaxsim.sweep("asgd", QUAD, timing, grid={"gamma": [0.02, 0.1]}, **kw)
    b = jaxsim.sweep(local, QUAD, timing, grid={"gamma": [0.02, 0.1], "eta": 1.0}, **kw)
    for k in a.metrics:
        np.testing.assert_array_equal(a.metrics[k], b.metrics[k], err_msg=k)


def test_local_steps_with_a_time_budget_agree_with_reference():
    """Budget mode: H_w = clip(floor(b / mean_w), 1, max) steps, a job takes H_w times its draw."""
    base = jaxsim.REGISTRY["local_asgd"]
    job = local_steps(budget=2.5, max_steps=4)

    class BudgetLocal(base):
        @property
        def job(self):
            return job

    reference_rule(BudgetLocal)(base.rule)
    method = BudgetLocal()
    with jax.enable_x64(True):
        QUAD = jaxsim.worst_case_quadratic(d=4, noise_scale=0.2)  # float64
        timing = TimingModel(n=3, base=[0.5, 1.0, 3.0], noise=jaxsim.timing.NOISE_LAWS["exponential"](scale=0.3))
        mean = timing.mean(time_key(2))
        np.testing.assert_array_equal(job.steps(mean), np.clip(np.floor(2.5 / mean), 1, 4))
        D = timing.sample(time_key(2), 400)
        hp = {"gamma": 0.05, "eta": 0.7}
        eng = jaxsim.simulate(method, QUAD, timing, seed=2, hparams=hp, horizon=40.0, num_points=6, durations=D)
        ref = reference.run(method, QUAD, timing, hp, durations=D, seed=2, horizon=40.0, num_points=6)
    assert eng["updates"][-1] > 20
    for k in ("loss_gap", "updates", "max_delay"):
        np.testing.assert_allclose(eng[k], ref[k], rtol=1e-9, atol=1e-12, err_msg=k)


def test_local_steps_validation():
    with pytest.raises(ValueError, match="steps"):
        local_steps(0)
    with pytest.raises(ValueError, match="exactly one"):
        LocalSteps()
    with pytest.raises(ValueError, match="max_steps"):
        local_steps(budget=1.0)
    with pytest.raises(ValueError, match="budget"):
        local_steps(budget=-1.0, max_steps=3)


@pytest.mark.xla_default
@pytest.mark.parametrize("name", ["asgd", "ringmaster_stops"])
def test_zero_communication_is_bit_identical(name):
    """Communication times of zero give exactly the results of a model without them. The two are
    different programs, so bit-identity is a property of XLA's optimized code (the second pass):
    at the first pass's -O0 the metric reductions of the two graphs may fuse differently (one ulp
    of ||grad f||^2 with identical events, updates and losses)."""
    grid = {"gamma": [0.05, 0.1]} if name == "asgd" else {"gamma": [0.05, 0.1], "R": 2}
    plain = make_timing(4, "sqrt", "halfnormal")
    zero = TimingModel(n=4, base="sqrt", noise=plain.noise, comm=Comm(down=0.0, up=0.0))
    kw = dict(seeds=[0, 3], grid=grid, horizon=20.0, num_points=4)
    a, b = jaxsim.sweep(name, QUAD, plain, **kw), jaxsim.sweep(name, QUAD, zero, **kw)
    for k in a.metrics:
        np.testing.assert_array_equal(a.metrics[k], b.metrics[k], err_msg=k)


COMMS = [Comm(down=0.2, up=(0.1, 0.3, 0.05, 0.4)),
         Comm(down=0.1, up=0.15, noise=jaxsim.timing.NOISE_LAWS["exponential"](scale=0.2))]


@pytest.mark.parametrize("comm", COMMS)
def test_communication_times_agree_with_reference_stream(comm):
    with jax.enable_x64(True):
        QUAD = jaxsim.worst_case_quadratic(d=4, noise_scale=0.2)  # float64
        timing = TimingModel(n=4, base=[0.4, 0.9, 1.3, 2.0], noise=jaxsim.timing.NOISE_LAWS["halfnormal"](),
                             comm=comm)
        D = timing.sample(time_key(5), 300)
        hp = {"gamma": 0.05}
        eng = jaxsim.simulate("asgd", QUAD, timing, seed=5, hparams=hp, horizon=Horizon(events=250),
                              num_points=6, durations=D)
        ref = reference.run(jaxsim.make_method("asgd"), QUAD, timing, hp, durations=D, seed=5,
                            horizon=Horizon(events=250), num_points=6)  # the communication times of seed 5
        slower = jaxsim.simulate("asgd", QUAD, TimingModel(n=4, base=timing.base, noise=timing.noise), seed=5,
                                 hparams=hp, horizon=Horizon(events=250), num_points=6, durations=D)
    np.testing.assert_allclose(eng["time"], ref["time"], rtol=1e-12)
    assert eng["time"][-1] > slower["time"][-1]  # the same events take longer with communication
    for k in ("loss_gap", "updates", "max_delay", "mean_delay"):
        np.testing.assert_allclose(eng[k], ref[k], rtol=1e-9, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("comm", COMMS)
@pytest.mark.parametrize("name", ["ringmaster_stops", "mindflayer"])
def test_communication_times_agree_with_reference_controlled(comm, name):
    hp = {"gamma": 0.05, "R": 2} if name == "ringmaster_stops" else {"gamma": 0.05, "t": 0.8, "S": 3}
    with jax.enable_x64(True):
        QUAD = jaxsim.worst_case_quadratic(d=4, noise_scale=0.2)  # float64
        timing = TimingModel(n=4, base=[0.4, 0.9, 1.3, 2.0], noise=jaxsim.timing.NOISE_LAWS["exponential"](scale=0.5),
                             comm=comm)
        eng = jaxsim.simulate(name, QUAD, timing, seed=4, hparams=hp, horizon=60.0, num_points=6)
        ref = reference.run_controlled(jaxsim.make_method(name), QUAD, timing, hp, seed=4, horizon=60.0, num_points=6)
    assert eng["updates"][-1] > 5
    for k in ("loss_gap", "updates", "received", "busy_time", "cancelled", "timeouts"):
        np.testing.assert_allclose(eng[k], ref[k], rtol=1e-9, atol=1e-9, err_msg=k)


def test_comm_validation():
    with pytest.raises(ValueError, match="comm.down"):
        Comm(down=-1.0)
    with pytest.raises(ValueError, match="comm.up"):
        TimingModel(n=3, base="sqrt", comm=Comm(up=(0.1, 0.2)))
    with pytest.raises(ValueError, match="timing.comm"):
        jaxsim.sweep("ata", QUAD, TimingModel(n=3, base="sqrt", comm=Comm(up=0.1)), grid={"B": 2}, horizon=5.0)


def test_parameter_pytrees_round_trip_exactly():
    """Flat vectors are the fast path; params/flat convert to and from the model's pytree exactly."""
    from jaxsim.problems import mnist_mlp

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 6)).astype(np.float32), rng.integers(0, 3, 40)
    mlp = mnist_mlp(X=X, y=y, num_workers=2, split="iid", hidden=5, classes=3)
    x = mlp.init() + jnp.asarray(rng.normal(size=mlp.dim), jnp.float32)
    tree = mlp.params(x)
    assert {a.shape for a in jax.tree.leaves(tree)} == {(6, 5), (5,), (5, 3), (3,)}
    np.testing.assert_array_equal(mlp.flat(tree), x)
    # a per-matrix rule (normalize each leaf) through the pytree equals slicing the flat vector by hand
    per_leaf = mlp.flat(jax.tree.map(lambda a: a / jnp.linalg.norm(a), tree))
    offsets = np.cumsum([0] + [a.size for a in jax.tree.leaves(tree)])
    by_hand = np.concatenate([np.asarray(x[a:b]) / np.linalg.norm(np.asarray(x[a:b]))
                              for a, b in zip(offsets[:-1], offsets[1:])])
    np.testing.assert_allclose(per_leaf, by_hand, rtol=1e-6)
    flat_prob = jaxsim.worst_case_quadratic(d=3)
    np.testing.assert_array_equal(flat_prob.flat(flat_prob.params(flat_prob.init())), flat_prob.init())
