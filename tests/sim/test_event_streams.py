"""Free-running event streams (jaxsim.sim.events): order, ties, chunking, max delay, coverage."""

import jax
import numpy as np
import pytest

from jaxsim import Horizon, free_running, make_timing, sample_stream

# Dyadic base times, so cumulative sums are exact in floating point.
TAU = np.array([1.0, 2.0, 0.75, 1.25])


def _fixed(tau=TAU, jobs=40):
    return np.tile(np.asarray(tau, np.float64)[:, None], (1, jobs))


def _random_durations(n=5, jobs=60, seed=0):
    rng = np.random.default_rng(seed)
    base = 1.0 + np.sqrt(np.arange(n))
    return base[:, None] + rng.exponential(1.0, size=(n, jobs))


def _brute_events(D, T, active=None):
    """All (time, worker, job) with finish time <= T, by explicit loops."""
    n, J = D.shape
    out = []
    for w in range(n):
        if active is not None and not active[w]:
            continue
        t = 0.0
        for j in range(J):
            t += D[w, j]
            if t > T:
                break
            out.append((t, w, j))
    return sorted(out)  # (time, worker) order; ties by lower worker index


def test_fixed_times_arrivals_at_multiples_of_tau():
    T = 6.0
    st = free_running(_fixed(), T, num_points=4)
    w, j, t = st.flat()
    for i, tau in enumerate(TAU):
        mine = w == i
        k = int(np.floor(T / tau))
        assert mine.sum() == k, (i, mine.sum())
        np.testing.assert_array_equal(j[mine], np.arange(k))  # job j ...
        np.testing.assert_array_equal(t[mine], (np.arange(k) + 1) * tau)  # ... ends at (j+1) tau
    assert st.num_events == sum(int(np.floor(T / tau)) for tau in TAU)


def test_ties_go_to_lower_worker_index():
    st = free_running(_fixed([1.0, 2.0], 10), 4.0, num_points=1)
    w, j, t = st.flat()
    np.testing.assert_array_equal(t, [1.0, 2.0, 2.0, 3.0, 4.0, 4.0])
    np.testing.assert_array_equal(w, [0, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(j, [0, 1, 0, 2, 3, 1])
    # reversed speeds: tie at t = 2 still goes to worker 0 first
    w2, _, t2 = free_running(_fixed([2.0, 1.0], 10), 2.0, num_points=1).flat()
    np.testing.assert_array_equal(t2, [1.0, 2.0, 2.0])
    np.testing.assert_array_equal(w2, [1, 0, 1])


def test_random_stream_sorted_and_complete():
    D = _random_durations()
    T = 12.0
    st = free_running(D, T, num_points=7)
    w, j, t = st.flat()
    assert np.all(np.diff(t) >= 0)
    tie = np.diff(t) == 0
    assert np.all(np.diff(w)[tie] > 0)
    expected = _brute_events(D, T)
    got = list(zip(t.tolist(), w.tolist(), j.tolist()))
    assert len(got) == len(expected)
    for (te, we, je), (tg, wg, jg) in zip(expected, got):
        assert (we, je) == (wg, jg)
        assert tg == pytest.approx(te, rel=1e-12)


def test_time_chunking():
    D = _random_durations(seed=1)
    T, G = 10.0, 6
    st = free_running(D, T, num_points=G)
    assert st.grid_time.shape == (G + 1,)
    np.testing.assert_allclose(st.grid_time, np.linspace(0, T, G + 1))
    assert st.shape[0] == G
    for g in range(1, G + 1):
        lo, hi = st.grid_time[g - 1], st.grid_time[g]
        chunk_t = st.time[g - 1][st.valid[g - 1]]
        assert np.all((chunk_t > lo) & (chunk_t <= hi)), g
        # and nothing of that interval lies in another chunk
        all_t = st.time[st.valid]
        assert np.sum((all_t > lo) & (all_t <= hi)) == chunk_t.size
    # padding is invalid and sits at the end of each chunk
    C = st.shape[1]
    for g in range(G):
        v = st.valid[g]
        np.testing.assert_array_equal(v, np.arange(C) < v.sum())


def test_event_horizon_gives_exactly_k_events():
    D = _random_durations(seed=2)
    K, G = 23, 5
    st = free_running(D, Horizon(events=K), num_points=G)
    assert st.num_events == K
    w, j, t = st.flat()
    expected = _brute_events(D, 1e9)[:K]
    assert [(e[1], e[2]) for e in expected] == list(zip(w.tolist(), j.tolist()))
    counts = st.valid.sum(axis=1)
    assert counts.sum() == K and counts.max() - counts.min() <= 1
    # the grid time of point g is the time of the last event of chunk g-1
    for g in range(G):
        assert st.grid_time[g + 1] == st.time[g][st.valid[g]][-1]
    assert st.grid_time[0] == 0.0 and st.grid_time[-1] == t[-1]


def _brute_max_delay(worker):
    best = 0
    for i, w in enumerate(worker):
        prev = -1
        for p in range(i - 1, -1, -1):
            if worker[p] == w:
                prev = p
                break
        best = max(best, i - prev - 1)
    return best


@pytest.mark.parametrize("seed", [0, 3, 4])
def test_max_delay_brute_force(seed):
    D = _random_durations(n=6, seed=seed)
    st = free_running(D, 15.0, num_points=3)
    w, _, _ = st.flat()
    assert st.max_delay == _brute_max_delay(w.tolist())


def test_max_delay_fixed_times_by_hand():
    # tau = (1, 2): order w0@1, w0@2, w1@2, w0@3, w0@4, w1@4 -> worker 1's jobs each see
    # two arrivals of worker 0 in between
    st = free_running(_fixed([1.0, 2.0], 10), 4.0, num_points=2)
    assert st.max_delay == 2
    # equal times: n arrivals per round, worker n-1 sees n-1 others first
    st = free_running(_fixed([1.0, 1.0, 1.0], 10), 3.0, num_points=2)
    assert st.max_delay == 2


def test_active_mask_excludes_workers():
    D = _random_durations(n=5, seed=5)
    active = np.array([True, False, True, False, True])
    st = free_running(D, 10.0, num_points=4, active=active)
    w, j, t = st.flat()
    assert set(w.tolist()) == {0, 2, 4}
    expected = _brute_events(D, 10.0, active)
    assert [(e[1], e[2]) for e in expected] == list(zip(w.tolist(), j.tolist()))
    assert st.max_delay == _brute_max_delay(w.tolist())
    np.testing.assert_allclose(st.busy_time, 3 * st.grid_time)  # only active workers are busy


def test_too_few_jobs_raise():
    with pytest.raises(ValueError, match="durations"):
        free_running(_fixed([1.0, 2.0], 3), 10.0)
    with pytest.raises(ValueError, match="horizon.events"):
        free_running(_fixed([1.0, 2.0], 3), Horizon(events=50))


@pytest.mark.parametrize("noise", ["none", "halfnormal"])
def test_sample_stream_covers_horizon(noise):
    tm = make_timing(4, "one_plus_sqrt", noise)
    T = 30.0
    st, D = sample_stream(tm, jax.random.key(6), T, num_points=5)
    D = np.asarray(D, np.float64)
    np.testing.assert_array_equal(D, tm.sample(jax.random.key(6), D.shape[1]))  # same draws
    w, j, t = st.flat()
    finish = np.cumsum(D, axis=1)
    for i in range(4):
        m = int(np.sum(w == i))
        assert m < D.shape[1], "no unfinished job sampled for this worker"
        assert np.all(finish[i, :m] <= T)
        assert finish[i, m] > T  # the next job ends after the horizon
    assert t.max() <= T


def test_sample_stream_event_horizon():
    tm = make_timing(3, "linear", "exponential")
    st, D = sample_stream(tm, jax.random.key(0), Horizon(events=200), num_points=4)
    assert st.num_events == 200
    w, j, _ = st.flat()
    for i in range(3):
        assert np.sum(w == i) < D.shape[1]
