"""The backbone: the jitted engine agrees with the plain heap-loop reference, for every method.

:func:`jaxsim.reference.check.check` (also ``jaxsim.check`` and ``jaxsim check``) simulates
randomized small configurations (worker count, dimension, base times, every noise law,
problems whose workers differ, stepsizes and thresholds from each hyperparameter's declared
range, horizons in seconds or events, speed profiles on the allocation clock, seeds) with both
implementations on the same durations and gradient keys, in float64, and compares every
recorded metric at every point to 1e-9 relative. A method without a reference rule fails.
"""

import dataclasses
import os
import zlib

import jax.numpy as jnp
import pytest

import jaxsim
from jaxsim.methods import REGISTRY, Decision, StreamMethod
from jaxsim.reference import Rule
from jaxsim.reference.check import PLANS, Bucket, check
from jaxsim.sim import kernel

# Deterministic by default; JAXSIM_ORACLE_FUZZ=k draws another set of configurations.
FUZZ = int(os.environ.get("JAXSIM_ORACLE_FUZZ", "0"))


@pytest.fixture(autouse=True)
def _release_kernels():
    """Each oracle test compiles its own float64 engine kernels; release them after it (see
    conftest). Only the engine's: the small kernels of eager operations (duration draws, keys)
    recur from test to test, and compiling them again cost up to a fifth of a test's time (the
    module's end releases them too, ``conftest._release_compiled_kernels``)."""
    yield
    kernel.run_batch.clear_cache()


#: Static options whose code paths differ from the default instance's: each is checked on one
#: bucket besides the default instance's full check.
OPTIONS = {
    "rennala_mvr": [dict(form="independent", kappa=1.0)],
    "rennala_mvr_stops": [dict(form="independent", kappa=3.0)],
}
OPTION_BUCKET = Bucket(4, 3)


def test_option_variants_are_registered_methods():
    assert set(OPTIONS) <= set(REGISTRY)


METHODS = sorted(REGISTRY)


@pytest.mark.parametrize("name", METHODS)
def test_engine_matches_reference(name):
    assert "rule" in vars(REGISTRY[name]), f"method {name!r} has no reference rule of its own"
    method = REGISTRY[name]()
    report = check(method, seed=zlib.crc32(name.encode()) + FUZZ)
    assert report.ok, str(report)
    buckets, count = PLANS[method.clock]
    assert report.runs == count * len(buckets)


@pytest.mark.parametrize("name,options", [(k, o) for k, v in OPTIONS.items() for o in v])
def test_engine_matches_reference_with_options(name, options):
    report = check(REGISTRY[name](**options), seed=zlib.crc32(repr((name, options)).encode()) + FUZZ,
                   buckets=[OPTION_BUCKET])
    assert report.ok, str(report)


def test_reference_agrees_with_server_optimizer():
    """The optax server step (here SGD with heavy-ball momentum) is applied identically by both."""
    import optax

    report = check("ringmaster", seed=1, configs=3, buckets=[Bucket(4, 3, "events")],
                   optimizer=optax.sgd(1.0, momentum=0.9))
    assert report.ok, str(report)
    assert report.worst["loss_gap"] <= 1e-9


@dataclasses.dataclass(frozen=True)
class _SlowedASGD(StreamMethod):
    """ASGD whose reference rule steps 1 % shorter than the engine: the check must catch it."""

    name = "slowed_asgd"
    hparams = {"gamma": jaxsim.methods.GAMMA}

    def on_arrival(self, state, a, hp):
        return state, Decision(direction=a.grad, step=hp["gamma"], update=jnp.asarray(True), used=jnp.asarray(True))


@jaxsim.methods.reference_rule(_SlowedASGD)
class _SlowedRule(Rule):
    def arrival(self, srv, worker, delay, g):
        srv.step(0.99 * self.hp["gamma"], g)
        return True


def test_a_wrong_reference_rule_fails_naming_the_metric():
    report = check(_SlowedASGD(), configs=2, buckets=[Bucket(3, 2)])
    assert not report.ok
    assert any("loss_gap differs" in f for f in report.failures)
    assert report.worst["loss_gap"] > 1e-6 and report.worst["updates"] == 0
    assert "FAIL" in str(report)
