"""An independent model of controlled-clock runs on the worst-case quadratic (homogeneous.md
§3, §6.2-6.3, §8.4, §9), shared by the tests of those methods and of the controlled clock: the
quadratic in NumPy, the counters a run records on its grid, a re-simulation of Rennala with stops,
and the random-timing runs of Ringmaster with stops that several modules read. None of it shares
code with :mod:`jaxsim.sim` or :mod:`jaxsim.reference`.

Compilation dominates: every (method, timing model, grid length, batch shape) compiles once, so
runs are cached (per process) and shared between tests.
"""

import functools

import numpy as np

import jaxsim

TAU3 = np.array([1.0, 1.6, 3.5])
TIMING3 = jaxsim.make_timing(3, TAU3)  # fixed model, noise "none"
D_DIM = 4
GAMMA = 0.5
QUAD0 = jaxsim.worst_case_quadratic(d=D_DIM, noise_scale=0.0)  # noiseless: grad = A x - b
QUADN = jaxsim.worst_case_quadratic(d=D_DIM, noise_scale=0.3)  # same pytree structure, noisy
TOL = 1e-3  # grid points closer than this to an event time are not checked (float32 clocks)


# ---- the worst-case quadratic (L = 1) in NumPy -----------------------------------------------------

def _A_b(d):
    A = (np.diag(np.full(d, 2.0)) - np.diag(np.ones(d - 1), 1) - np.diag(np.ones(d - 1), -1)) / 4
    b = np.zeros(d)
    b[0] = -0.25
    return A, b


A_MAT, B_VEC = _A_b(D_DIM)
F_STAR = -D_DIM / (8 * (D_DIM + 1))
X0 = np.zeros(D_DIM)
X0[0] = np.sqrt(D_DIM)


def grad(x):
    return A_MAT @ x - B_VEC


def gap(x):
    return 0.5 * x @ A_MAT @ x - B_VEC @ x - F_STAR


def replay(points, gamma=GAMMA, scale=None):
    """Iterates ``x^0, x^1, ...`` where update ``u`` steps along the mean of the exact gradients at
    the iterates listed in ``points[u]`` (a list of indices), times ``scale[u]`` if given."""
    xs = [X0.copy()]
    for u, pts in enumerate(points):
        g = np.mean([grad(xs[m]) for m in pts], axis=0)
        c = 1.0 if scale is None else scale[u]
        xs.append(xs[-1] - gamma * c * g)
    return xs


# ---- expected counters on a grid -------------------------------------------------------------

def count(grid, times, weights=None):
    """Events (or their weights) with time <= each grid point."""
    times = np.asarray(times, np.float64)
    order = np.argsort(times, kind="stable")
    w = np.ones(len(times)) if weights is None else np.asarray(weights, np.float64)
    cum = np.concatenate([[0.0], np.cumsum(w[order])])
    return cum[np.searchsorted(times[order], grid, side="right")]


def clear(grid, *time_lists, tol=TOL):
    """Grid points farther than ``tol`` from every listed event time."""
    ts = np.concatenate([np.asarray(t, np.float64).ravel() for t in time_lists] + [np.zeros(0)])
    if ts.size == 0:
        return np.ones(len(grid), bool)
    return np.all(np.abs(np.asarray(grid)[:, None] - ts[None, :]) > tol, axis=1)


def busy(grid, jobs):
    """Total busy time at each grid point of jobs given as (start, end) intervals."""
    jobs = np.asarray(jobs, np.float64).reshape(-1, 2)
    g = np.asarray(grid, np.float64)[:, None]
    return np.sum(np.clip(g - jobs[None, :, 0], 0.0, (jobs[:, 1] - jobs[:, 0])[None, :]), axis=1)


def assert_on(mask, actual, expected, what, atol=1e-6, rtol=0.0):
    assert mask.sum() >= 3, f"{what}: too few checkable grid points"
    np.testing.assert_allclose(np.asarray(actual, np.float64)[mask], np.asarray(expected, np.float64)[mask],
                               rtol=rtol, atol=atol, err_msg=what)


# ---- a re-simulation of Rennala with stops -------------------------------------------------------

def rennala_stops_sim(D, B, horizon):
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


# ---- Ringmaster with stops on random timings, R in {1, 2, 3, 4} ------------------------------------

TIMING_HN5 = jaxsim.make_timing(5, "one_plus_sqrt", "halfnormal")
TIMING_EXP4 = jaxsim.make_timing(4, "sqrt", "exponential", scale=1.0)
RANDOM_TIMINGS = {"halfnormal": TIMING_HN5, "exponential": TIMING_EXP4}
R_GRID = [1, 2, 3, 4]
RANDOM_SEEDS = [0, 1, 2]


@functools.cache
def ringmaster_random(kind, horizon=16.0):
    return jaxsim.sweep("ringmaster_stops", QUADN, RANDOM_TIMINGS[kind], seeds=RANDOM_SEEDS,
                        grid={"gamma": 0.05, "R": R_GRID}, horizon=horizon, num_points=4)
