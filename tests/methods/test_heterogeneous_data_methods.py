"""Heterogeneous-data methods: Ringleader's trace and delay bound, the frequency-weighted
bias of vanilla ASGD against Rescaled ASGD and Ringleader, Malenia's rounds, IA²SGD's
running average, and their bad-input errors."""

import numpy as np
import pytest

import jaxsim
from jaxsim import theory
from jaxsim.sim.events import Horizon
import jax

from jaxsim.methods.base import Arrival, SeedContext, Workers
from jaxsim.problems import heterogeneous_quadratic
from jaxsim.sweep import run
from jaxsim.timing import NOISE_LAWS, TimingModel


def arrival(w, job, grad, x, n, ctx):
    """A valid arrival with delay 0 at time 0 (for calling a rule by hand)."""
    import jax.numpy as jnp

    return Arrival(worker=jnp.int32(w), job=jnp.int32(job), time=0.0, delay=jnp.int32(0), grad=grad, x=x, n=n,
                   workers=Workers(s=jnp.zeros(n, jnp.int32), busy=jnp.ones(n, bool), k=jnp.int32(0)), ctx=ctx,
                   valid=jnp.asarray(True), timed_out=jnp.asarray(False), params=lambda x: x, flat=lambda x: x)

# ---- Ringleader's 3-worker trace (times mirror the paper's timeline) -------------------------

TAU3 = np.array([1.05, 1.5, 2.15])
H3 = np.array([[1.0, 2.0], [0.5, 1.0], [2.0, 0.7]])
A3 = np.array([[1.0, -1.0], [3.0, 0.0], [-2.0, 2.0]])
X0 = np.array([4.0, -3.0])
GAMMA = 0.1
QUAD3 = heterogeneous_quadratic(a=A3, h=H3, x0=X0)


def _gap(x):
    loss = lambda y: 0.5 * np.mean(np.sum(H3 * (y - A3) ** 2, axis=1))  # noqa: E731
    return loss(x) - loss((H3 * A3).sum(0) / H3.sum(0))


def _replay(updates):
    """``updates``: per event, ``None`` or ``{worker: [iterate indices of its table entry]}``.
    The update is ``x <- x - gamma (1/n) sum_i mean_j grad f_i(x^{m_ij})``. Returns the
    model after every event (index 0: before the first)."""
    xs, after = [X0], [X0]
    for upd in updates:
        if upd is not None:
            g = np.mean([np.mean([H3[w] * (xs[m] - A3[w]) for m in pts], axis=0) for w, pts in upd.items()], axis=0)
            xs.append(xs[-1] - GAMMA * g)
        after.append(xs[-1])
    return after


# (time, reporting worker (0-based), update or None); tables list the points of the entries
TRACE_OWN = [
    (1.05, 0, None), (1.50, 1, None), (2.10, 0, None),
    (2.15, 2, {0: [0, 0], 1: [0], 2: [0]}),
    (3.00, 1, {0: [0, 0], 1: [0, 0], 2: [0]}),
    (3.15, 0, {0: [0, 0, 0], 1: [0, 0], 2: [0]}),
    (4.20, 0, None), (4.30, 2, None),
    (4.50, 1, {0: [3], 1: [2], 2: [1]}),
    (5.25, 0, {0: [3, 3], 1: [2], 2: [1]}),
    (6.00, 1, None), (6.30, 0, None),
    (6.45, 2, {0: [3, 3], 1: [2], 2: [1, 1]}),
    (7.35, 0, None), (7.50, 1, None), (8.40, 0, None),
    (8.60, 2, {0: [5, 5, 5], 1: [4, 4], 2: [6]}),
    (9.00, 1, {0: [5, 5, 5], 1: [4, 4, 4], 2: [6]}),
    (9.45, 0, {0: [5, 5, 5, 5], 1: [4, 4, 4], 2: [6]}),
]
# The authors' code: same event times; from 4.30 on, re-dispatches without an update send
# the current model.
TRACE_CURRENT = TRACE_OWN[:12] + [
    (6.45, 2, {0: [3, 3], 1: [2], 2: [1, 3]}),
    (7.35, 0, None), (7.50, 1, None), (8.40, 0, None),
    (8.60, 2, {0: [5, 5, 6], 1: [4, 5], 2: [6]}),
    (9.00, 1, {0: [5, 5, 6], 1: [4, 5, 6], 2: [6]}),
    (9.45, 0, {0: [5, 5, 6, 6], 1: [4, 5, 6], 2: [6]}),
]


@pytest.mark.parametrize("mode,trace", [("own", TRACE_OWN), ("current", TRACE_CURRENT)])
def test_ringleader_trace(mode, trace):
    D = np.tile(TAU3[:, None], (1, 20))
    out = jaxsim.simulate(jaxsim.make_method("ringleader", redispatch=mode), QUAD3, jaxsim.make_timing(3, TAU3),
                          hparams={"gamma": GAMMA}, horizon=Horizon(events=len(trace)), num_points=len(trace),
                          durations=D)
    np.testing.assert_allclose(out["time"][1:], [t for t, _, _ in trace], rtol=1e-6)
    upd = [u for _, _, u in trace]
    np.testing.assert_array_equal(out["updates"], np.concatenate([[0], np.cumsum([u is not None for u in upd])]))
    np.testing.assert_allclose(out["loss_gap"], [_gap(x) for x in _replay(upd)], rtol=2e-5, atol=1e-6)
    assert out["discarded"][-1] == 0
    # x6 at t = 6.45 applies worker 3's gradient at x1: delay 4 = 2n - 2 in the paper's mode
    assert out["max_delay"][13] == (4 if mode == "own" else 2)


def test_ringleader_trace_reference():
    """The reference loop replays the same trace (it is the oracle for random configurations)."""
    from jaxsim import reference

    D = np.tile(TAU3[:, None], (1, 20))
    ref = reference.run(jaxsim.make_method("ringleader"), QUAD3, None, {"gamma": GAMMA}, durations=D, seed=0,
                        horizon=Horizon(events=len(TRACE_OWN)), num_points=len(TRACE_OWN))
    np.testing.assert_allclose(ref["loss_gap"], [_gap(x) for x in _replay([u for _, _, u in TRACE_OWN])],
                               rtol=1e-6)  # the problem's data are float32


# ---- Ringleader's delay bound and bookkeeping over random configurations ----------------------

@pytest.mark.parametrize("n", [2, 5])
def test_ringleader_delays_at_most_2n_minus_2(n):
    """Every applied delay is <= 2n - 2, nothing is discarded, and each round has exactly n
    updates (so after a round the update count is a multiple of n)."""
    rng = np.random.default_rng(n)
    method = jaxsim.make_method("ringleader")
    problem = heterogeneous_quadratic(a=rng.normal(size=(n, 2)), noise_scale=0.1)
    laws = [NOISE_LAWS["none"](), NOISE_LAWS["exponential"](scale=1.0), NOISE_LAWS["lognormal"](sigma=1.0),
            NOISE_LAWS["uniform"](low=0.0, high=5.0), NOISE_LAWS["halfnormal"](var="i")]
    timings, tables, seeds = [], [], []
    for s, law in enumerate(laws * 2):
        base = rng.uniform(0.2, 5.0, n) if s % 2 else np.sort(rng.uniform(0.2, 20.0, n))
        timing = TimingModel(n=n, base=base, noise=law)
        D = timing.sample(jaxsim.runtime.rng.time_key(s), 2000)
        timings.append(timing)
        tables.append(D)
        seeds.append(s)
    out, _, _ = run(method, problem, timings, seeds, [{"gamma": 0.05}], Horizon(events=40 * n * n), 4, durations=tables)
    assert np.all(out["max_delay"] <= 2 * n - 2)
    assert np.all(out["discarded"] == 0)
    assert out["max_delay"].max() >= n  # the configurations do produce long delays
    assert np.all(out["updates"][:, :, -1] > 0)


def test_ringleader_one_worker_is_sgd():
    q = heterogeneous_quadratic(a=[[1.0, 2.0]], noise_scale=0.3)
    timing = jaxsim.make_timing(1, [1.0], "exponential", scale=1.0)
    kw = dict(seed=3, hparams={"gamma": 0.1}, horizon=30.0, num_points=6)
    rl = jaxsim.simulate("ringleader", q, timing, **kw)
    sgd = jaxsim.simulate("asgd", q, timing, **kw)
    np.testing.assert_allclose(rl["loss_gap"], sgd["loss_gap"], rtol=1e-5)
    np.testing.assert_array_equal(rl["updates"], sgd["updates"])


# ---- bias under heterogeneous data -------------------------------------------------------------

def test_vanilla_asgd_targets_frequency_weighted_minimizer():
    """1-D quadratics f_i = (x - a_i)^2 / 2 with fixed times tau = (1, 2, 4): vanilla ASGD settles
    at x_freq = sum p_i a_i (p_i ∝ 1/tau_i), Rescaled ASGD and Ringleader at x_eq = mean(a).

    The loss gap of a 1-D quadratic with unit curvature is (x - x_eq)^2 / 2, so the distance
    to x_eq is read off the recorded gap. Tolerance: with stepsize gamma the iterate moves by
    at most gamma * (updates per period) * (spread of a) within one period of the arrival
    pattern, which bounds its oscillation around the fixed point of the averaged dynamics.
    """
    tau = np.array([1.0, 2.0, 4.0])
    a = np.array([1.747, 0.0, -3.697])
    target = theory.quadratic_minimizers(1.0, a, tau)
    bias = abs(target["x_freq"] - target["x_eq"])
    q = heterogeneous_quadratic(a=a, x0=[5.0])
    timing = jaxsim.make_timing(3, tau)
    gamma = 0.002
    tol = gamma * np.sum(tau.max() / tau) * (a.max() - a.min())
    assert tol < bias / 4  # the test can tell the two minimizers apart
    T, G = 8000.0, 40
    dist = {}
    for name in ("asgd", "rescaled_asgd", "ringleader"):
        out = jaxsim.simulate(name, q, timing, hparams={"gamma": gamma}, horizon=T, num_points=G)
        late = out["loss_gap"][G // 2:]  # second half of the run: transients have decayed
        dist[name] = np.sqrt(np.maximum(2 * late, 0))  # float32 gaps near 0 may round below it
    assert np.all(np.abs(dist["asgd"] - bias) <= tol), (dist["asgd"], bias, tol)
    assert np.all(dist["rescaled_asgd"] <= tol), dist["rescaled_asgd"]
    assert np.all(dist["ringleader"] <= tol), dist["ringleader"]


def test_rescaled_stepsizes_follow_mean_times():
    """With random times the rescaling uses mean durations: gamma_i = gamma E D_i / tau_H."""
    from jaxsim.methods.rescaled_asgd import RescaledASGD
    from jaxsim.methods.base import SeedContext
    import jax.numpy as jnp

    tau = np.array([1.0, 3.0, 6.0])
    mean = tau + 2.0
    ctx = SeedContext(tau=jnp.asarray(tau), mean=jnp.asarray(mean), rank=jnp.arange(3), key=jax.random.key(0))
    for times, t in (("mean", mean), ("base", tau)):
        m = RescaledASGD(times=times)
        steps = [float(m.on_arrival((), arrival(w, 0, jnp.ones(2), jnp.zeros(2), 3, ctx), {"gamma": 0.1})[1].step)
                 for w in range(3)]
        np.testing.assert_allclose(steps, theory.rescaled_stepsizes(0.1, t), rtol=1e-6)


# ---- Malenia ------------------------------------------------------------------------------------

def test_malenia_one_worker_geq_is_rennala():
    """With one worker and the ">=" rule, Malenia's batch of S equals Rennala's batch of B = S."""
    q = heterogeneous_quadratic(a=[[1.0, -1.0]], noise_scale=0.5)
    timing = jaxsim.make_timing(1, [1.0], "exponential", scale=0.5)
    kw = dict(seed=1, horizon=60.0, num_points=6)
    mal = jaxsim.simulate("malenia", q, timing, hparams={"gamma": 0.2, "S": 3}, method_options={"stop_rule": "geq"},
                          **kw)
    ren = jaxsim.simulate("rennala", q, timing, hparams={"gamma": 0.2, "B": 3}, **kw)
    np.testing.assert_allclose(mal["loss_gap"], ren["loss_gap"], rtol=1e-5)
    np.testing.assert_array_equal(mal["updates"], ren["updates"])
    gt = jaxsim.simulate("malenia", q, timing, hparams={"gamma": 0.2, "S": 2}, **kw)  # paper rule: S + 1
    np.testing.assert_array_equal(gt["updates"], ren["updates"])


def test_malenia_restart_all_rounds_last_tau_max():
    """With restarts and fixed times a round ends when the slowest worker reports: k(t) =
    floor(t / tau_max); each round's direction averages per-worker means (unbiased)."""
    tau = np.array([0.3, 0.7, 1.9])
    q = heterogeneous_quadratic(a=A3, h=H3, x0=X0)
    out = jaxsim.simulate("malenia_stops", q, jaxsim.make_timing(3, tau), hparams={"gamma": 0.3},
                          horizon=19.0 * 1.9 + 0.5, num_points=19)
    np.testing.assert_array_equal(out["updates"], np.floor(out["time"] / 1.9 + 1e-9).astype(int))
    # every contribution is at the round's model: the iteration is full-gradient descent on f
    x = X0.copy()
    xs = [x]
    for _ in range(int(out["updates"][-1])):
        x = x - 0.3 * np.mean(H3 * (x - A3), axis=0)
        xs.append(x)
    # float32 loss minus f* (about 4): absolute rounding of order 1e-6
    np.testing.assert_allclose(out["loss_gap"], [_gap(xs[k]) for k in out["updates"]], rtol=1e-4, atol=1e-5)
    # cancelled work: the two fast workers' unfinished jobs at every round end
    assert out["cancelled"][-1] >= 2 * out["updates"][-1]


# ---- IA²SGD and the shared tables -------------------------------------------------------------

def test_ia2sgd_running_average_matches_slots():
    import jax.numpy as jnp

    m = jaxsim.make_method("ia2sgd")
    n, d = 4, 3
    rng = np.random.default_rng(0)
    ctx = SeedContext(tau=jnp.ones(n), mean=jnp.ones(n), rank=jnp.arange(n), key=jax.random.key(0))
    state = m.init(jnp.zeros(d, jnp.float32), {"gamma": 0.1}, ctx, None)
    updates, latest = [], {}
    for e in range(40):
        w = int(rng.integers(n)) if e >= n else e
        g = jnp.asarray(rng.normal(size=d), jnp.float32)
        state, dec = m.on_arrival(state, arrival(w, e, g, jnp.zeros(d), n, ctx), {"gamma": 0.1})
        updates.append(bool(dec.update))
        latest[w] = np.asarray(g)
        np.testing.assert_allclose(state.avg[0], sum(latest.values()) / n, rtol=1e-5, atol=1e-6)
    assert updates[:n] == [False] * n  # warm-up, and the filling arrival does not update
    assert all(updates[n:])


def test_tables_running_means():
    import jax.numpy as jnp
    from jaxsim.methods._tables import add_gradient, clear_table, empty_tables, flush

    rng = np.random.default_rng(1)
    n, d = 3, 2
    tab = empty_tables(jnp.zeros(d), n, copies=1)
    seen = {i: [] for i in range(n)}
    for step in range(30):
        i = int(rng.integers(n))
        g = rng.normal(size=d)
        tab = add_gradient(tab, 0, i, jnp.asarray(g), True)
        seen[i].append(g)
        if step == 14:  # empty the table: stale rows must not leak into the next means
            tab = clear_table(tab, 0, True)
            seen = {i: [] for i in range(n)}
        for w in range(n):
            assert int(tab.count[0, w]) == len(seen[w])
            if seen[w]:
                np.testing.assert_allclose(flush(tab)[0, w], np.mean(seen[w], axis=0), rtol=1e-5, atol=1e-6)
        want = sum(np.mean(v, axis=0) for v in seen.values() if v) / n if any(seen.values()) else np.zeros(d)
        np.testing.assert_allclose(tab.avg[0], want, rtol=1e-4, atol=1e-6)


# ---- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name,options,field", [
    ("ringleader", {"redispatch": "newest"}, "redispatch"),
    ("malenia", {"stop_rule": ">"}, "stop_rule"),
    ("rescaled_asgd", {"times": "median"}, "times"),
    ("rescaled_asgd", {"ref": "median"}, "ref"),
])
def test_bad_options(name, options, field):
    with pytest.raises(ValueError, match=field):
        jaxsim.make_method(name, **options)


def test_rescaled_needs_finite_means():
    timing = jaxsim.make_timing(3, "sqrt", "levy", loc=0.0, scale=1.0)
    with pytest.raises(ValueError, match="timing"):
        jaxsim.simulate("rescaled_asgd", heterogeneous_quadratic(a=[0.0, 1.0, 2.0]), timing, horizon=5.0)


def test_problem_workers_must_match_timing():
    with pytest.raises(ValueError, match="workers"):
        jaxsim.simulate("ringleader", heterogeneous_quadratic(a=[0.0, 1.0, 2.0]), jaxsim.make_timing(4, "sqrt"),
                        horizon=5.0)


@pytest.mark.parametrize("kwargs,field", [
    (dict(a=[[0.0, 1.0]], h=[[1.0, -1.0]]), "problem.h"),
    (dict(a=[[0.0, np.nan]]), "problem.a"),
    (dict(a=[[0.0, 1.0]], x0=[1.0]), "problem.x0"),
    (dict(a=[0.0, 1.0], noise_scale=-1.0), "problem.noise_scale"),
])
def test_het_quadratic_bad_input(kwargs, field):
    with pytest.raises(ValueError, match=field):
        heterogeneous_quadratic(**kwargs)
