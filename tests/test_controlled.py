"""Controlled-event methods (homogeneous.md §3, §6.2-6.3, §7, §8.2-8.5, §9, §12).

Expected values come from hand-derived traces, closed forms, or small NumPy re-simulations
written here (they share no code with :mod:`jaxsim.sim` or :mod:`jaxsim.reference`).

Compilation dominates: every (method, timing model, grid length, batch shape) compiles once,
so the runs below are cached per module and shared between tests.
"""

import functools
import sys

import numpy as np
import pytest

import jaxsim
from jaxsim import reference, theory
from jaxsim.methods import ControlledMethod
from jaxsim.runtime.rng import time_key

SWEEP_MODULE = sys.modules["jaxsim.sweep"]  # ``jaxsim.sweep`` is the function

TAU3 = np.array([1.0, 1.6, 3.5])
TIMING3 = jaxsim.make_timing(3, TAU3)  # fixed model, noise "none"
D_DIM = 4
GAMMA = 0.5
QUAD0 = jaxsim.worst_case_quadratic(d=D_DIM, noise_scale=0.0)  # noiseless: grad = A x - b
QUADN = jaxsim.worst_case_quadratic(d=D_DIM, noise_scale=0.3)  # same pytree structure, noisy
H_TRACE, G_TRACE = 5.2, 52  # grid step 0.1
TOL = 1e-3  # grid points closer than this to an event time are not checked (float32 clocks)


# ---- an independent NumPy model of the worst-case quadratic (L = 1) ----------------------

def _A_b(d):
    A = (np.diag(np.full(d, 2.0)) - np.diag(np.ones(d - 1), 1) - np.diag(np.ones(d - 1), -1)) / 4
    b = np.zeros(d)
    b[0] = -0.25
    return A, b


A_MAT, B_VEC = _A_b(D_DIM)
F_STAR = -D_DIM / (8 * (D_DIM + 1))
X0 = np.zeros(D_DIM)
X0[0] = np.sqrt(D_DIM)


def _grad(x):
    return A_MAT @ x - B_VEC


def _gap(x):
    return 0.5 * x @ A_MAT @ x - B_VEC @ x - F_STAR


def _replay(points, gamma=GAMMA, scale=None):
    """Iterates ``x^0, x^1, ...`` where update ``u`` steps along the mean of the exact gradients at
    the iterates listed in ``points[u]`` (a list of indices), times ``scale[u]`` if given."""
    xs = [X0.copy()]
    for u, pts in enumerate(points):
        g = np.mean([_grad(xs[m]) for m in pts], axis=0)
        c = 1.0 if scale is None else scale[u]
        xs.append(xs[-1] - gamma * c * g)
    return xs


# ---- expected counters on a grid -------------------------------------------------------------

def _count(grid, times, weights=None):
    """Events (or their weights) with time <= each grid point."""
    times = np.asarray(times, np.float64)
    order = np.argsort(times, kind="stable")
    w = np.ones(len(times)) if weights is None else np.asarray(weights, np.float64)
    cum = np.concatenate([[0.0], np.cumsum(w[order])])
    return cum[np.searchsorted(times[order], grid, side="right")]


def _clear(grid, *time_lists, tol=TOL):
    """Grid points farther than ``tol`` from every listed event time."""
    ts = np.concatenate([np.asarray(t, np.float64).ravel() for t in time_lists] + [np.zeros(0)])
    if ts.size == 0:
        return np.ones(len(grid), bool)
    return np.all(np.abs(np.asarray(grid)[:, None] - ts[None, :]) > tol, axis=1)


def _busy(grid, jobs):
    """Total busy time at each grid point of jobs given as (start, end) intervals."""
    jobs = np.asarray(jobs, np.float64).reshape(-1, 2)
    g = np.asarray(grid, np.float64)[:, None]
    return np.sum(np.clip(g - jobs[None, :, 0], 0.0, (jobs[:, 1] - jobs[:, 0])[None, :]), axis=1)


def _assert_on(mask, actual, expected, what, atol=1e-6, rtol=0.0):
    assert mask.sum() >= 3, f"{what}: too few checkable grid points"
    np.testing.assert_allclose(np.asarray(actual, np.float64)[mask], np.asarray(expected, np.float64)[mask],
                               rtol=rtol, atol=atol, err_msg=what)


# ---- small independent re-simulations ----------------------------------------------------

def _minibatch_sim(D, horizon):
    """Rounds of Minibatch SGD: round ``k`` uses job ``k`` of every worker and lasts ``max_i D[i, k]``."""
    K = D.shape[1]
    T, updates, arrivals, jobs = 0.0, [], [], []
    for k in range(K):
        fin = T + D[:, k].astype(np.float64)
        arrivals += list(fin)
        jobs += [(T, f) for f in fin]
        T = float(fin.max())
        updates.append(T)
        if T > horizon:
            return updates, arrivals, jobs
    raise AssertionError("not enough sampled jobs")


def _mindflayer_sim(tau, D, trials, clip, horizon):
    """MindFlayer rounds (§9): worker ``i`` makes ``trials[i]`` attempts in a row; an attempt whose
    duration exceeds ``tau_i + clip`` is abandoned at ``tau_i + clip``. Returns
    ``(round ends, successes per round, attempts as (start, end, ok))``."""
    n = len(tau)
    nxt = np.zeros(n, int)
    T, ends, succ, attempts = 0.0, [], [], []
    while T <= horizon:
        end, ok_count = T, 0
        for i in range(n):
            t = T
            for _ in range(trials[i]):
                d = float(D[i, nxt[i]])
                nxt[i] += 1
                ok = d <= tau[i] + clip
                dur = d if ok else tau[i] + clip
                attempts.append((t, t + dur, ok))
                t += dur
                ok_count += ok
            end = max(end, t)
        assert end > T
        ends.append(end)
        succ.append(ok_count)
        T = end
    return ends, succ, attempts


def _rennala_stops_sim(D, B, horizon):
    """Rennala with stops (§6.2): within a round every worker computes back to back from the round
    start; the B-th completion (ties: lower worker first) ends the round; the reporter's next job
    and every other worker's restart (its running job is cancelled, consuming its index) start the
    next round. A hung job (``inf``) stops that worker for the rest of the round.
    Returns ``(update times, arrival times, stall time)`` up to ``horizon``; the stall time is when
    the last worker hung in a round that can never end (``None`` if no stall)."""
    n = D.shape[0]
    nxt = np.zeros(n, int)
    T, updates, arrivals = 0.0, [], []
    while True:
        comps, hung_at = [], []
        for i in range(n):
            t, j = T, nxt[i]
            while np.isfinite(D[i, j]) and t + D[i, j] <= horizon:
                t += float(D[i, j])
                comps.append((t, i))
                j += 1
            hung_at.append(t if not np.isfinite(D[i, j]) else None)
        comps.sort()
        if len(comps) < B:  # the round does not end within the horizon (a stall or the end)
            stall = max(hung_at) if all(h is not None for h in hung_at) else None
            return updates, arrivals + [c[0] for c in comps], stall
        end, w = comps[B - 1]
        counted = comps[:B]
        arrivals += [c[0] for c in counted]
        for i in range(n):
            nxt[i] += sum(1 for c in counted if c[1] == i) + (0 if i == w else 1)
        updates.append(end)
        T = end


# ---- cached runs ------------------------------------------------------------------------------

@functools.cache
def _ringmaster_fixed(noisy=False):
    """Ringmaster with stops on tau = (1, 1.6, 3.5), R in {1, 2}, grid step 0.1."""
    return jaxsim.sweep("ringmaster_stops", QUADN if noisy else QUAD0, TIMING3, seeds=[0],
                        grid={"gamma": GAMMA, "R": [1, 2]}, horizon=H_TRACE, num_points=G_TRACE)


RENNALA_B = [1, 2, 3, 4, 5, 6]
H_RENNALA, G_RENNALA = 10.4, 104


@functools.cache
def _rennala_fixed():
    return jaxsim.sweep("rennala_stops", QUAD0, TIMING3, seeds=[0], grid={"gamma": GAMMA, "B": RENNALA_B},
                        horizon=H_RENNALA, num_points=G_RENNALA)


TIMING_HN5 = jaxsim.make_timing(5, "one_plus_sqrt", "halfnormal")
TIMING_EXP4 = jaxsim.make_timing(4, "sqrt", "exponential", scale=1.0)
RANDOM_TIMINGS = {"halfnormal": TIMING_HN5, "exponential": TIMING_EXP4}
R_GRID = [1, 2, 3, 4]
RANDOM_SEEDS = [0, 1, 2]


@functools.cache
def _ringmaster_random(kind, horizon=16.0):
    return jaxsim.sweep("ringmaster_stops", QUADN, RANDOM_TIMINGS[kind], seeds=RANDOM_SEEDS,
                        grid={"gamma": 0.05, "R": R_GRID}, horizon=horizon, num_points=4)


# ---- 1. Ringmaster with stops (Alg. 5), §8.4 ----------------------------------------------------

# R = 2, tau = (1.0, 1.6, 3.5): every arrival is applied; (time, points of the gradient).
RM2_UPDATES = [1.0, 1.6, 2.0, 3.0, 4.0, 4.6, 5.0]
RM2_POINTS = [[0], [0], [1], [3], [4], [4], [5]]  # x^{s_i} of each applied gradient
RM2_DELAYS = [0, 1, 1, 0, 0, 1, 1]
RM2_CANCELS = ([1.6, 3.0, 4.6], [1, 2, 1])  # w3 at 1.6; w2, w3 at 3.0; w3 at 4.6


def _replay_lmo(points, alpha, gamma=GAMMA):
    """Ringmaster LMO's iterates (paper form, Euclidean LMO on a vector): ``m <- g`` at the first
    update, then ``m <- alpha g + (1 - alpha) m``; ``x <- x - gamma m / ||m||``."""
    xs, m = [X0.copy()], None
    for pts in points:
        g = _grad(xs[pts[0]])
        m = g if m is None else alpha * g + (1 - alpha) * m
        xs.append(xs[-1] - gamma * m / np.linalg.norm(m))
    return xs


def _check_rm2_trace(out, xs=None):
    """The R = 2 trace; ``xs``: the iterates (default: Ringmaster ASGD's)."""
    grid = np.asarray(out["time"], np.float64)
    ok = _clear(grid, RM2_UPDATES)
    ups = _count(grid, RM2_UPDATES)
    for k in ("updates", "received", "used"):
        _assert_on(ok, out[k], ups, k)
    np.testing.assert_array_equal(out["discarded"], 0)
    _assert_on(ok, out["cancelled"], _count(grid, *RM2_CANCELS), "cancelled")
    _assert_on(ok, out["max_delay"], np.where(grid < 1.6, 0, 1), "max_delay")
    np.testing.assert_array_equal(out["timeouts"], 0)
    np.testing.assert_allclose(out["busy_time"], 3 * grid, rtol=1e-5, atol=1e-5)  # nobody ever idles
    xs = _replay(RM2_POINTS) if xs is None else xs
    gaps = np.array([_gap(x) for x in xs])[ups.astype(int)]
    gns = np.array([np.sum(_grad(x) ** 2) for x in xs])[ups.astype(int)]
    _assert_on(ok, out["loss_gap"], gaps, "loss_gap", rtol=2e-5, atol=1e-6)
    _assert_on(ok, out["grad_norm_sq"], gns, "grad_norm_sq", rtol=2e-5, atol=1e-6)
    # the final model is x^7 of the replay
    assert out["loss_gap"][-1] == pytest.approx(_gap(xs[7]), rel=2e-5)
    assert out["grad_norm_sq"][-1] == pytest.approx(np.sum(_grad(xs[7]) ** 2), rel=2e-5)
    assert out["mean_delay"][-1] == pytest.approx(np.mean(RM2_DELAYS), rel=1e-6)


def test_ringmaster_stops_trace_R2_engine():
    res = _ringmaster_fixed()
    assert res.dims == ("seed", "R", "point")
    out = {k: v[0, 1] for k, v in res.metrics.items()}
    out["time"] = res.time[0]
    np.testing.assert_allclose(out["time"], np.arange(G_TRACE + 1) * 0.1, atol=1e-12)
    _check_rm2_trace(out)


def test_ringmaster_stops_trace_R2_reference():
    out = reference.run_controlled(jaxsim.make_method("ringmaster_stops"), QUAD0, TIMING3,
                                   {"gamma": GAMMA, "R": 2}, seed=0, horizon=H_TRACE, num_points=G_TRACE)
    _check_rm2_trace(out)


LMO_ALPHA = 0.5


def test_ringmaster_lmo_stops_trace_R2():
    """Variant B of Ringmaster LMO with R = 2: the same cancellations and delays as Ringmaster with
    stops (they depend only on the counters), with momentum + normalized steps (engine and reference)."""
    hp = {"gamma": GAMMA, "R": 2, "alpha": LMO_ALPHA}
    res = jaxsim.sweep("ringmaster_lmo_stops", QUAD0, TIMING3, seeds=[0], grid=hp, horizon=H_TRACE,
                       num_points=G_TRACE)
    out = {k: v[0] for k, v in res.metrics.items()}
    out["time"] = res.time[0]
    xs = _replay_lmo(RM2_POINTS, LMO_ALPHA)
    _check_rm2_trace(out, xs)
    ref = reference.run_controlled(jaxsim.make_method("ringmaster_lmo_stops"), QUAD0, TIMING3, hp, seed=0,
                                   horizon=H_TRACE, num_points=G_TRACE)
    _check_rm2_trace(ref, xs)


def test_ringmaster_stops_R1_is_hero():
    """§8.5: with R = 1 every update restarts the race, which worker 1 (tau = 1) always wins."""
    res = _ringmaster_fixed()
    grid = res.time[0]
    ok = _clear(grid, np.arange(1, 6))
    m = {k: v[0, 0] for k, v in res.metrics.items()}
    _assert_on(ok, m["updates"], np.floor(grid), "updates")
    _assert_on(ok, m["received"], np.floor(grid), "received")
    _assert_on(ok, m["cancelled"], 2 * np.floor(grid), "cancelled")  # w2 and w3 at every update
    np.testing.assert_array_equal(m["max_delay"], 0)
    np.testing.assert_array_equal(m["discarded"], 0)
    xs = _replay([[k] for k in range(6)])
    _assert_on(ok, m["loss_gap"], [_gap(xs[int(u)]) for u in np.floor(grid)], "loss_gap", rtol=2e-5, atol=1e-6)

    # the same run with gradient noise equals Hero SGD's (free-running) on the same grid:
    # worker 0 computes jobs 0, 1, 2, ... in both, so even the noise draws coincide
    rm = _ringmaster_fixed(noisy=True)
    hero = jaxsim.simulate("hero", QUADN, TIMING3, hparams={"gamma": GAMMA}, horizon=H_TRACE, num_points=G_TRACE)
    for k in ("updates", "received", "used"):
        _assert_on(ok, rm.metrics[k][0, 0], hero[k], k, atol=0)
    _assert_on(ok, rm.metrics["loss_gap"][0, 0], hero["loss_gap"], "loss_gap vs hero", rtol=1e-5, atol=1e-7)
    _assert_on(ok, rm.metrics["grad_norm_sq"][0, 0], hero["grad_norm_sq"], "grad_norm_sq vs hero",
               rtol=1e-5, atol=1e-7)
    # control: the noise matters, and R = 2 is a different method
    assert not np.allclose(rm.metrics["loss_gap"][0, 0][-1], _gap(xs[5]), rtol=1e-3)
    assert not np.allclose(rm.metrics["loss_gap"][0, 1][-1], hero["loss_gap"][-1], rtol=1e-3)


# ---- 2. Rennala with stops, §6.3 variant B ----------------------------------------------------

def test_rennala_stops_trace_B2():
    res = _rennala_fixed()
    assert res.dims == ("seed", "B", "point")
    grid = res.time[0]
    m = {k: v[0, RENNALA_B.index(2)] for k, v in res.metrics.items()}
    # 1.0 w1 (b=1); 1.6 w2 -> x1, all restart; 2.6 w1; 3.2 w2 -> x2; 4.2 w1; 4.8 w2 -> x3; ...
    updates = 1.6 * np.arange(1, 7)
    arrivals = np.concatenate([updates - 0.6, updates])
    ok = _clear(grid, arrivals)
    ups = _count(grid, updates)
    _assert_on(ok, m["updates"], ups, "updates")
    _assert_on(ok, m["received"], _count(grid, arrivals), "received")
    _assert_on(ok, m["used"], _count(grid, arrivals), "used")
    _assert_on(ok, m["cancelled"], 2 * ups, "cancelled")  # w1 (restarted at +1.0) and w3 each round
    np.testing.assert_array_equal(m["discarded"], 0)
    np.testing.assert_array_equal(m["max_delay"], 0)  # every arrival is fresh
    xs = _replay([[k, k] for k in range(6)])
    _assert_on(ok, m["loss_gap"], [_gap(xs[int(u)]) for u in ups], "loss_gap", rtol=2e-5, atol=1e-6)
    assert m["updates"][50] == 3  # updates at 1.6, 3.2, 4.8 before t = 5


def test_rennala_stops_busy_time_is_n_times_elapsed():
    """§12: every worker is busy for the whole run (restarts, never idles), whatever B."""
    res = _rennala_fixed()
    busy = res.metrics["busy_time"][0]
    for i in range(len(RENNALA_B)):
        np.testing.assert_allclose(busy[i], 3 * res.time[0], rtol=1e-5, atol=1e-5, err_msg=f"B={RENNALA_B[i]}")


# ---- 4. Rennala with stops: round length min{t : sum_i floor(t / tau_i) >= B} -----------------

def _round_length(tau, B):
    """Smallest t with sum_i floor(t / tau_i) >= B (brute force over multiples of the tau_i)."""
    cands = np.sort(np.concatenate([tau_i * np.arange(1, B + 1) for tau_i in tau]))
    for c in cands:
        if np.sum(np.floor(c / np.asarray(tau) + 1e-9)) >= B:
            return float(c)
    raise AssertionError


def test_round_length_hand_values():
    """The brute force above against hand counts for tau = (1, 1.6, 3.5)."""
    assert [_round_length(TAU3, B) for B in RENNALA_B] == pytest.approx([1.0, 1.6, 2.0, 3.0, 3.2, 3.5])


TAU4 = np.array([0.7, 2.3, 1.1, 5.0])
TIMING4 = jaxsim.make_timing(4, TAU4)
B4 = [2, 5, 9]


def _check_rounds(res, tau, b_values):
    grid = res.time[0]
    n = len(tau)
    for i, B in enumerate(b_values):
        L = _round_length(tau, B)
        updates = L * np.arange(1, int(grid[-1] / L) + 2)
        ok = _clear(grid, updates)
        ups = _count(grid, updates)
        m = {k: v[0, i] for k, v in res.metrics.items()}
        _assert_on(ok, m["updates"], ups, f"updates, B={B}")
        assert m["updates"][-1] >= 2, "want at least two rounds"
        # the independent event re-simulation agrees with the closed form
        sim_updates, sim_arrivals, _ = _rennala_stops_sim(np.tile(tau[:, None], (1, 400)), B, float(grid[-1]))
        np.testing.assert_allclose(sim_updates, updates[updates <= grid[-1]], rtol=1e-9)
        # each round: B arrivals and the n - 1 others cancelled; inside the current round worker i
        # has finished floor(elapsed / tau_i) jobs
        T_last = L * ups
        inside = np.sum(np.floor((grid[:, None] - T_last[:, None]) / tau[None, :] + 1e-9), axis=1)
        ok_arr = ok & _clear(grid, sim_arrivals)
        _assert_on(ok_arr, m["received"], B * ups + inside, f"received, B={B}")
        _assert_on(ok_arr, m["received"], _count(grid, sim_arrivals), f"received (re-simulation), B={B}")
        _assert_on(ok, m["cancelled"], (n - 1) * ups, f"cancelled, B={B}")
        np.testing.assert_allclose(m["busy_time"], n * grid, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(m["max_delay"], 0)


def test_rennala_stops_round_length_tau3():
    _check_rounds(_rennala_fixed(), TAU3, RENNALA_B)


def test_rennala_stops_round_length_tau4():
    res = jaxsim.sweep("rennala_stops", QUAD0, TIMING4, seeds=[0], grid={"gamma": GAMMA, "B": B4},
                       horizon=9.7, num_points=50)
    _check_rounds(res, TAU4, B4)


# ---- 3. Minibatch SGD ----------------------------------------------------------------------------

H_MB, G_MB = 11.0, 20


def _check_minibatch(m, grid, D):
    updates, arrivals, jobs = _minibatch_sim(D, float(grid[-1]))
    ok = _clear(grid, arrivals)
    ups = _count(grid, updates)
    _assert_on(ok, m["updates"], ups, "updates")
    _assert_on(ok, m["received"], _count(grid, arrivals), "received")
    _assert_on(ok, m["busy_time"], _busy(grid, jobs), "busy_time", rtol=1e-5, atol=1e-4)
    assert 3 * grid[-1] - m["busy_time"][-1] > 0.5  # early finishers idle at the barrier
    np.testing.assert_array_equal(m["cancelled"], 0)
    np.testing.assert_array_equal(m["max_delay"], 0)
    np.testing.assert_array_equal(m["discarded"], 0)
    # noiseless: each round steps along the exact gradient at the round's model
    xs = _replay([[k] * 3 for k in range(len(updates))])
    _assert_on(ok, m["loss_gap"], [_gap(xs[int(u)]) for u in ups], "loss_gap", rtol=2e-5, atol=1e-6)
    return updates


def test_minibatch_fixed_clock():
    out = jaxsim.simulate("minibatch", QUAD0, TIMING3, hparams={"gamma": GAMMA}, horizon=H_MB, num_points=G_MB)
    updates = _check_minibatch(out, out["time"], np.tile(TAU3[:, None], (1, 10)))
    # k-th update exactly at k * max_i tau_i
    np.testing.assert_allclose(updates[:3], [3.5, 7.0, 10.5])
    assert out["updates"][-1] == 3


def test_minibatch_random_clock():
    """Round k lasts max_i D[i, k] (job index = round index), D from the seed's counter-based draws."""
    timing = jaxsim.make_timing(3, TAU3, "halfnormal")
    seeds = [0, 1, 2]
    res = jaxsim.sweep("minibatch", QUAD0, timing, seeds=seeds, grid={"gamma": GAMMA}, horizon=H_MB,
                       num_points=G_MB)
    for s_i, seed in enumerate(seeds):
        D = timing.sample(time_key(seed), 12)
        m = {k: v[s_i] for k, v in res.metrics.items()}
        updates = _check_minibatch(m, res.time[s_i], D)
        np.testing.assert_allclose(updates, np.cumsum(D.max(axis=0))[:len(updates)], rtol=1e-6)
        assert m["updates"][-1] >= 1


# ---- 5. Ringmaster with stops never receives a gradient with delay >= R -------------------------

@pytest.mark.parametrize("kind", sorted(RANDOM_TIMINGS))
def test_ringmaster_stops_random_invariants(kind):
    res = _ringmaster_random(kind)
    timing = RANDOM_TIMINGS[kind]
    m = res.metrics
    assert res.dims == ("seed", "R", "point")
    for i, R in enumerate(R_GRID):
        assert np.all(m["max_delay"][:, i] < R), (R, m["max_delay"][:, i])
        assert np.all(m["mean_delay"][:, i] <= R - 1 + 1e-6)
    np.testing.assert_array_equal(m["discarded"], 0)
    np.testing.assert_array_equal(m["received"], m["used"])
    np.testing.assert_array_equal(m["used"], m["updates"])  # every arrival is applied
    np.testing.assert_array_equal(m["timeouts"], 0)
    np.testing.assert_allclose(m["busy_time"], np.broadcast_to(timing.n * res.time[:, None, :], m["busy_time"].shape),
                               rtol=1e-5, atol=1e-4)
    assert np.all(m["updates"][..., -1] >= 5)  # the runs did something
    assert np.all(m["cancelled"][:, 0, -1] > 0)  # R = 1 restarts the others at every update
    assert np.all(m["max_delay"][:, -1, -1] >= 1)  # larger R does apply stale gradients
    assert not np.any(m["diverged"])
    assert set(m) == set(SWEEP_MODULE.METRICS) - {"batch_loss"}  # the quadratic has no sample losses


# ---- 6. Naive Optimal ASGD --------------------------------------------------------------------

TAU_NO = np.array([1.3, 0.7, 2.9, 1.9])  # speed order: w1, w0, w3, w2
TIMING_NO = jaxsim.make_timing(4, TAU_NO)
H_NO, G_NO = 10.0, 8  # grid step 1.25: no grid point is a multiple of any tau_i


@functools.cache
def _naive():
    return jaxsim.sweep("naive_optimal_asgd", QUADN, TIMING_NO, seeds=[3], grid={"gamma": 0.1, "m": [1, 2, 3, 4]},
                        horizon=H_NO, num_points=G_NO)


def test_naive_optimal_uses_only_m_fastest():
    res = _naive()
    grid = res.time[0]
    fastest = [1, 0, 3, 2]
    assert _clear(grid, *[t * np.arange(1, 20) for t in TAU_NO]).all()
    for i, m_ in enumerate([1, 2, 3, 4]):
        expect = sum(np.floor(grid / TAU_NO[w]) for w in fastest[:m_])
        np.testing.assert_array_equal(res.metrics["received"][0, i], expect, err_msg=f"m={m_}")
        np.testing.assert_array_equal(res.metrics["updates"][0, i], expect, err_msg=f"m={m_}")
        np.testing.assert_allclose(res.metrics["busy_time"][0, i], m_ * grid, rtol=1e-6, err_msg=f"m={m_}")
    np.testing.assert_array_equal(res.metrics["max_delay"][0, 0], 0)  # one worker: no delays


def test_naive_optimal_with_m_n_equals_asgd():
    res = _naive()
    a = jaxsim.simulate("asgd", QUADN, TIMING_NO, seed=3, hparams={"gamma": 0.1}, horizon=H_NO, num_points=G_NO)
    for k in ("updates", "received", "used", "max_delay"):
        np.testing.assert_array_equal(res.metrics[k][0, 3], a[k], err_msg=k)
    for k in ("loss_gap", "grad_norm_sq", "mean_delay", "busy_time"):
        np.testing.assert_allclose(res.metrics[k][0, 3], a[k], rtol=1e-6, atol=1e-7, err_msg=k)
    assert not np.allclose(res.metrics["loss_gap"][0, 2], a["loss_gap"], rtol=1e-3)  # m = 3 differs


# ---- 7. MindFlayer -------------------------------------------------------------------------------

def test_mindflayer_plan_hand_values():
    """theory.mindflayer_plan for the fixed model (costs tau, p = 1) against hand computation:
    S = 1: t(1) = 2, t(2) = 3/1.625, t(3) = 4/1.9107 -> m* = 2, B = (1, 1, 0);
    S = 4: t(3) = 7/1.9107 = 3.664 is smallest -> B = (ceil(2.66), ceil(1.29), ceil(0.047)) = (3, 2, 1)."""
    np.testing.assert_array_equal(theory.mindflayer_plan(TAU3, 0.0, 1.0, 1)["B"], [1, 1, 0])
    np.testing.assert_array_equal(theory.mindflayer_plan(TAU3, 0.0, 1.0, 4)["B"], [3, 2, 1])


MF_S = [1, 4, 6]  # rounds of 1.6, 3.5 and 4.0 seconds


def test_mindflayer_without_clip_is_minibatch_at_one_point():
    res = jaxsim.sweep("mindflayer", QUAD0, TIMING3, seeds=[0], grid={"gamma": GAMMA, "t": float("inf"), "S": MF_S},
                       horizon=11.0, num_points=20)
    grid = res.time[0]
    for i, S in enumerate(MF_S):
        trials = theory.mindflayer_plan(TAU3, 0.0, 1.0, S)["B"]
        frac = theory.mindflayer_plan(TAU3, 0.0, 1.0, S)["t_m"] / TAU3 - 1
        assert np.all(np.abs(frac - np.round(frac)) > 1e-4)  # no float32 borderline in the plan
        round_len = float(np.max(trials * TAU3))
        m = {k: v[0, i] for k, v in res.metrics.items()}
        ends, succ, attempts = _mindflayer_sim(TAU3, np.tile(TAU3[:, None], (1, 200)), trials, np.inf, 11.0)
        np.testing.assert_allclose(ends[:3], round_len * np.arange(1, 4))  # every round lasts max_i B_i tau_i
        assert succ[0] == trials.sum()
        arr = [a[1] for a in attempts]
        ok = _clear(grid, arr)
        ups = _count(grid, ends)
        _assert_on(ok, m["updates"], ups, f"updates, S={S}")
        _assert_on(ok, m["received"], _count(grid, arr), f"received, S={S}")
        _assert_on(ok, m["busy_time"], _busy(grid, [a[:2] for a in attempts]), f"busy, S={S}", atol=1e-4)
        np.testing.assert_array_equal(m["timeouts"], 0)
        np.testing.assert_array_equal(m["discarded"], 0)
        np.testing.assert_array_equal(m["max_delay"], 0)
        # an unbiased minibatch at one point: the mean of sum(B_i) exact gradients at x^k
        xs = _replay([[k] for k in range(len(ends))])
        _assert_on(ok, m["loss_gap"], [_gap(xs[int(u)]) for u in ups], f"loss_gap, S={S}", rtol=2e-5, atol=1e-6)
        assert m["updates"][-1] >= 2


P_HANG, CLIP = 0.5, 0.5
TIMING_IB = jaxsim.make_timing(3, TAU3, "inf_bernoulli", p=P_HANG)
IB_SEEDS = [0, 1, 2, 3]
H_IB, G_IB = 29.97, 9  # grid step 3.33: never within 1e-3 of a multiple of 0.1


def test_mindflayer_keeps_updating_under_hangs_while_rennala_stalls():
    mf = jaxsim.sweep("mindflayer", QUAD0, TIMING_IB, seeds=IB_SEEDS, grid={"gamma": GAMMA, "t": CLIP, "S": 2},
                      horizon=H_IB, num_points=G_IB)
    rs = jaxsim.sweep("rennala_stops", QUAD0, TIMING_IB, seeds=IB_SEEDS, grid={"gamma": GAMMA, "B": 2},
                      horizon=H_IB, num_points=G_IB)
    plan = theory.mindflayer_plan(TAU3, CLIP, P_HANG, 2)
    trials = plan["B"]
    np.testing.assert_array_equal(trials, [3, 2, 1])  # by hand: costs (1.5, 2.1, 4.0), t(3) = 5.03
    bound = float(np.max(trials * (TAU3 + CLIP)))  # 4.5: a round never lasts longer
    stalled = 0
    for s_i, seed in enumerate(IB_SEEDS):
        grid = mf.time[s_i]
        D = TIMING_IB.sample(time_key(seed), 256)
        assert set(np.unique(D[np.isfinite(D)])) <= set(TAU3.astype(D.dtype))
        m = {k: v[s_i] for k, v in mf.metrics.items()}
        ends, succ, attempts = _mindflayer_sim(TAU3, D, trials, CLIP, H_IB)
        assert np.all(np.diff(np.concatenate([[0], ends])) <= bound + 1e-9)
        ups = _count(grid, ends)
        assert _clear(grid, ends, [a[1] for a in attempts]).all()
        np.testing.assert_array_equal(m["updates"], ups)
        assert np.all(m["updates"] >= np.floor(grid / bound))  # keeps updating
        assert np.all(m["updates"][2:] > m["updates"][:-2])  # 6.66 s > one round
        np.testing.assert_array_equal(m["received"], _count(grid, [a[1] for a in attempts if a[2]]))
        np.testing.assert_array_equal(m["timeouts"], _count(grid, [a[1] for a in attempts if not a[2]]))
        assert m["timeouts"][-1] > 0
        np.testing.assert_allclose(m["busy_time"], _busy(grid, [a[:2] for a in attempts]), rtol=1e-5, atol=1e-4)
        # g = (sum of successful gradients) / (sum_i p_i B_i): a scaled exact gradient at x^k
        xs = _replay([[k] for k in range(len(ends))], scale=np.array(succ) / (P_HANG * trials.sum()))
        np.testing.assert_allclose(m["loss_gap"], [_gap(xs[int(u)]) for u in ups], rtol=5e-5, atol=1e-6)

        r = {k: v[s_i] for k, v in rs.metrics.items()}
        upd, arr, stall = _rennala_stops_sim(D, 2, H_IB)
        assert _clear(grid, upd, arr).all()
        np.testing.assert_array_equal(r["updates"], _count(grid, upd), err_msg=f"seed {seed}")
        np.testing.assert_array_equal(r["received"], _count(grid, arr), err_msg=f"seed {seed}")
        np.testing.assert_allclose(r["busy_time"], 3 * grid, rtol=1e-5, atol=1e-4)  # hung jobs are busy too
        np.testing.assert_array_equal(r["timeouts"], 0)
        if stall is not None and stall < grid[-4]:  # every worker hung: no update ever again
            stalled += 1
            after = grid >= stall
            np.testing.assert_array_equal(r["updates"][after], r["updates"][-1])
            np.testing.assert_array_equal(r["received"][after], r["received"][-1])
            assert m["updates"][-1] > r["updates"][-1]
            assert m["updates"][-1] >= m["updates"][after][0] + 2  # MindFlayer goes on after the stall
    assert stalled >= 3  # precondition of the comparison (from the re-simulation, not the engine)


# ---- 8. Bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.0, -0.2, 1.5, float("nan"), float("inf")])
def test_bad_inf_bernoulli_p(p, no_compile):
    with pytest.raises(ValueError, match=r"\bp\b"):
        jaxsim.make_timing(3, "sqrt", "inf_bernoulli", p=p)


def test_good_inf_bernoulli_p():
    assert jaxsim.make_timing(3, "sqrt", "inf_bernoulli", p=1.0).noise.p == 1.0
    assert jaxsim.make_timing(3, "sqrt", "inf_bernoulli", p=0.01).noise.p == 0.01


@pytest.mark.parametrize("t", [0.0, -1.0, float("nan")])
def test_bad_mindflayer_clip(t, no_compile):
    with pytest.raises(ValueError, match=r"hyperparameter t\b"):
        jaxsim.simulate("mindflayer", QUAD0, TIMING3, hparams={"gamma": 0.1, "t": t}, horizon=5.0, num_points=2)
    with pytest.raises(ValueError, match=r"hyperparameter t\b"):
        jaxsim.sweep("mindflayer", QUAD0, TIMING3, grid={"gamma": 0.1, "t": [1.0, t]}, horizon=5.0, num_points=2)


@pytest.mark.parametrize("m_", [0, 4, -1, 1.5])
def test_bad_naive_optimal_m(m_, no_compile):
    with pytest.raises(ValueError, match=r"\bm\b"):
        jaxsim.simulate("naive_optimal_asgd", QUAD0, TIMING3, hparams={"gamma": 0.1, "m": m_}, horizon=5.0,
                        num_points=2)
    with pytest.raises(ValueError, match=r"\bm\b"):
        jaxsim.sweep("naive_optimal_asgd", QUAD0, TIMING3, grid={"gamma": 0.1, "m": [1, m_]}, horizon=5.0,
                     num_points=2)


CONTROLLED = sorted(k for k, v in jaxsim.REGISTRY.items() if issubclass(v, ControlledMethod))


def test_controlled_registry():
    assert set(CONTROLLED) >= {"ringmaster_stops", "rennala_stops", "minibatch", "mindflayer"}
    assert not issubclass(jaxsim.REGISTRY["naive_optimal_asgd"], ControlledMethod)
    assert not issubclass(jaxsim.REGISTRY["hero"], ControlledMethod)


@pytest.mark.parametrize("name", CONTROLLED)
def test_controlled_needs_horizon_in_seconds(name, no_compile):
    with pytest.raises(ValueError, match="horizon"):
        jaxsim.simulate(name, QUAD0, TIMING3, hparams={"gamma": 0.1}, horizon=jaxsim.Horizon(events=10),
                        num_points=2)


@pytest.mark.parametrize("name", CONTROLLED)
def test_controlled_rejects_durations(name, no_compile):
    with pytest.raises(ValueError, match="durations"):
        jaxsim.simulate(name, QUAD0, TIMING3, hparams={"gamma": 0.1}, horizon=5.0, num_points=2,
                        durations=np.ones((3, 20)))


def test_naive_optimal_needs_horizon_in_seconds(no_compile):
    with pytest.raises(ValueError, match="horizon"):
        jaxsim.simulate("naive_optimal_asgd", QUAD0, TIMING3, hparams={"gamma": 0.1, "m": 2},
                        horizon=jaxsim.Horizon(events=10), num_points=2)


# ---- 9. Determinism and independence from the recording grid and the batch ----------------------

def test_controlled_sweep_is_deterministic():
    a = _ringmaster_random("exponential")
    b = jaxsim.sweep("ringmaster_stops", QUADN, TIMING_EXP4, seeds=RANDOM_SEEDS, grid={"gamma": 0.05, "R": R_GRID},
                     horizon=16.0, num_points=4)
    assert set(a.metrics) == set(b.metrics)
    for k in a.metrics:
        np.testing.assert_array_equal(a.metrics[k], b.metrics[k], err_msg=k)
    np.testing.assert_array_equal(a.time, b.time)


def test_controlled_results_do_not_depend_on_grid_or_batch_order():
    """The per-interval loop runs as many steps as the busiest run of its batch needs: a grid twice
    as coarse (about twice the events per interval), and the settings in reversed order and in
    batches of two (other neighbours in each while-loop), give the same values."""
    fine = _ringmaster_random("exponential")  # grid 0, 4, 8, 12, 16
    coarse = _ringmaster_random("exponential", horizon=32.0)  # grid 0, 8, 16, 24, 32
    rev = jaxsim.sweep("ringmaster_stops", QUADN, TIMING_EXP4, seeds=RANDOM_SEEDS,
                       grid={"gamma": 0.05, "R": R_GRID[::-1]}, horizon=16.0, num_points=4, batch_size=2)
    assert rev.info["batches"] == 2
    np.testing.assert_array_equal(rev.coords["R"], R_GRID[::-1])
    assert np.all(coarse.metrics["updates"][..., 2] - coarse.metrics["updates"][..., 1] > 3)
    for k in ("updates", "received", "cancelled", "max_delay", "used"):
        np.testing.assert_array_equal(fine.metrics[k][..., [0, 2, 4]], coarse.metrics[k][..., [0, 1, 2]], err_msg=k)
        np.testing.assert_array_equal(fine.metrics[k], rev.metrics[k][:, ::-1], err_msg=k)
    for k in ("loss_gap", "grad_norm_sq", "busy_time", "mean_delay"):
        np.testing.assert_allclose(fine.metrics[k][..., [0, 2, 4]], coarse.metrics[k][..., [0, 1, 2]],
                                   rtol=1e-5, atol=1e-6, err_msg=k)
        np.testing.assert_allclose(fine.metrics[k], rev.metrics[k][:, ::-1], rtol=1e-6, atol=1e-7, err_msg=k)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 101])
def test_blocks_find_the_earliest_worker_as_argmin(n):
    """The per-block minima give ``argmin`` (ties to the lowest index), through indexed updates."""
    import jax.numpy as jnp

    from jaxsim.sim.controlled import Blocks

    rng = np.random.default_rng(n)
    blocks = Blocks.of(n)
    assert blocks.K * blocks.nb >= n > blocks.K * (blocks.nb - 1)
    vals = rng.choice([0.5, 1.0, 2.0, np.inf], size=n).astype(np.float32)  # ties and idle workers
    finish = blocks.pad(jnp.asarray(vals))
    bmin = blocks.mins(finish)
    for _ in range(30):
        e, t = blocks.earliest(finish, bmin)
        assert int(e) == int(np.argmin(vals)) and float(t) == float(vals.min())
        w, v = int(rng.integers(n)), float(rng.choice([0.25, 1.0, 3.0, np.inf]))
        vals[w] = v
        finish, bmin = blocks.set(finish, bmin, w, v)
        np.testing.assert_array_equal(np.asarray(bmin), np.asarray(blocks.mins(finish)))


def test_loop_clocks_batch_one_cost_group_at_a_time():
    from jaxsim.sim.plan import cost_group_size

    rm, rs = jaxsim.make_method("ringmaster_stops"), jaxsim.make_method("minibatch")
    grid = [{"gamma": g, "R": r} for g in (0.1, 0.2, 0.3) for r in (1, 4)]
    assert cost_group_size(rm, grid) == 3  # the stepsizes of one threshold
    assert cost_group_size(rm, grid[:2]) == 1  # one setting per threshold
    assert cost_group_size(rs, [{"gamma": g, "B": 2} for g in (0.1, 0.2)]) is None  # one key: no cap
