"""A run's numbers do not depend on what shares its batch: every registered method gives
bit-identical metrics alone, among other settings, in batches of one, and as the one seed of
``simulate``; new hyperparameter values reuse the compiled kernel (the jit/vmap and
no-recompile check every method gets). Bit-identity is a property of XLA's optimized code, so
these run in the second pass (``xla_default``)."""

import zlib

import numpy as np
import pytest

import jaxsim
from tests.problem_choice import accepted_problem
from tests.same_metrics import assert_same_metrics

PROB = jaxsim.worst_case_quadratic(d=8, noise_scale=0.05, noise="isotropic")
TIMING = jaxsim.make_timing(3, "one_plus_sqrt", "halfnormal")

HET = jaxsim.problems.heterogeneous_quadratic(a=np.random.default_rng(0).normal(size=(3, 6)),
                                              h=np.random.default_rng(1).uniform(0.5, 2.0, (3, 6)),
                                              noise_scale=0.1)
HET_METHODS = ("ringleader", "malenia", "ia2sgd")  # per-worker tables, heterogeneous data
CASES = [(name, "quadratic") for name in sorted(jaxsim.REGISTRY)] + [(name, "het") for name in HET_METHODS]


@pytest.mark.xla_default
@pytest.mark.parametrize("name,problem", CASES)
def test_results_do_not_depend_on_what_shares_the_batch(compiles, name, problem):
    """A setting's metrics are bit-identical alone (one setting), among other settings in one
    batch, and in batches of one setting (isotropic noise: one draw per coordinate).

    Every registered method (``tests/user_methods`` included) also gets the jit/vmap and
    no-recompile check here, on the kernels this test compiles anyway: a sweep is one kernel
    for seeds x settings, and new hyperparameter values reuse it -- new values of every float
    hyperparameter, on two grid axes, and a count's values moved to other runs of the batch
    (the largest count can set a shape: ring window, task slots)."""
    method = jaxsim.REGISTRY[name]()
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    grid = {k: spec.sample(rng, TIMING.n) for k, spec in method.hparams.items()}
    vary = next(k for k, spec in method.hparams.items() if spec.kind != "count")
    values = [grid[vary] * f for f in (1.0, 0.5, 1.5)]
    prob = accepted_problem(method, PROB if problem == "quadratic" else HET)
    run = lambda g, **kw: jaxsim.sweep(method, prob, TIMING, seeds=[0, 1], grid=g,  # noqa: E731
                                       horizon=15.0, num_points=2, **kw)
    alone = run(dict(grid, **{vary: values[:1]}))  # one setting: padded to a batch of two
    shared, log = compiles(lambda: run(dict(grid, **{vary: values})))
    assert any("run_batch" in m for m in log), "a batch of three settings compiles its own kernel"
    single = run(dict(grid, **{vary: values}), batch_size=1)
    assert shared.info["batches"] == 1 and single.info["batches"] == 3
    assert shared.metrics["updates"].shape == (2, 3, 3)
    assert shared.metrics["updates"][..., -1].min() > 0, "every run made progress"
    assert np.isfinite(shared.metrics["loss_gap"]).all()
    assert_same_metrics({k: v[:, 0] for k, v in alone.metrics.items()}, {k: v[:, 0] for k, v in shared.metrics.items()},
          "alone vs shared: ")
    assert_same_metrics(single.metrics, shared.metrics, "batch_size=1 vs all: ")

    # New values of every float hyperparameter (the counts kept), on the batch of three.
    floats = [k for k, spec in method.hparams.items() if spec.kind != "count"]
    new = dict(grid, **{k: method.hparams[k].sample(rng, TIMING.n) for k in floats})
    new[vary] = sorted({method.hparams[vary].sample(rng, TIMING.n) for _ in range(3)} - set(values))[:3]
    assert len(new[vary]) == 3
    if len(floats) > 1:
        new[floats[1]] = [new[floats[1]]]  # a second grid axis (of one value): still three settings
    again, log = compiles(lambda: run(new))
    assert log == [], f"{name}: new hyperparameter values recompiled: {log}"
    shape = (2,) + tuple(len(v) for v in new.values() if isinstance(v, list)) + (3,)
    assert again.metrics["updates"].shape == shape and again.info["batches"] == 1
    assert again.metrics["updates"][..., -1].min() > 0, "every run made progress"
    assert np.isfinite(again.metrics["loss_gap"]).all()

    # A count's values moved between the runs of a batch (of two: the kernel of ``alone``).
    count = next((k for k, spec in method.hparams.items() if spec.kind == "count"), None)
    if count is not None:
        c, low = grid[count], 0 if method.hparams[count].zero else 1
        pair = [c, c - 1] if c - 1 >= low else [c + 1, c]  # the largest first
        first, _ = compiles(lambda: run(dict(grid, **{count: pair})))  # a larger count may compile
        swapped, log = compiles(lambda: run(dict(grid, **{count: pair[::-1]})))
        assert log == [], f"{name}: {count}={pair[::-1]} after {count}={pair} recompiled: {log}"
        for res in (first, swapped):
            assert res.metrics["updates"].shape == (2, 2, 3) and res.metrics["updates"][..., -1].min() > 0
            assert np.isfinite(res.metrics["loss_gap"]).all()


@pytest.mark.xla_default
@pytest.mark.parametrize("name", ["asgd", "ringmaster_stops", "ata"])
def test_a_seed_alone_equals_the_seed_among_others(name):
    """One seed and one setting (``simulate``) give the numbers of that seed and setting in a
    larger sweep, bit for bit (the batch's axes are never of size 1)."""
    grid = {"gamma": [0.1, 0.2]} if name != "ata" else {"gamma": [0.1, 0.2], "B": 2}
    kw = dict(horizon=15.0, num_points=2)
    many = jaxsim.sweep(name, PROB, TIMING, seeds=[3, 0, 1], grid=grid, **kw)
    one = jaxsim.simulate(name, PROB, TIMING, seed=0, hparams={k: v[0] if isinstance(v, list) else v
                                                               for k, v in grid.items()}, **kw)
    assert_same_metrics({k: v for k, v in one.items() if k != "time"}, {k: v[1, 0] for k, v in many.metrics.items()})
