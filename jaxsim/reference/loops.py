"""The reference loops: plain Python heap simulations, one per clock, each with its own plain server.

Written to be read, not to be fast. They consume the same durations ``D[n, J]``, the same
communication times and the same job randomness (keyed by ``(seed, worker, job)``) as
the clocks, and share no simulation code with them (the problems, timing draws and keys are
their common inputs): each worker keeps a full copy of the point(s) its job started from, the
event order comes from a ``heapq`` of ``(finish time, worker, job)``, and each method's rule is
the plain class registered beside it (``method.rule``, see :func:`jaxsim.methods.reference_rule`).

:func:`run` is the one entry point: it picks the loop of the method's clock from :data:`LOOPS`
(the mirror of :data:`jaxsim.sim.clocks.CLOCKS`), and every loop has the same signature. The
clocks must agree with these loops at every recorded point (:func:`jaxsim.reference.check.check`).
"""

from __future__ import annotations

import heapq

import jax
import jax.numpy as jnp
import numpy as np

from ..sim.events import as_horizon
from ..methods.jobs import Job
from ..runtime.rng import comm_key, grad_key, grad_root, method_key, time_key
from .rules import NEW
from .server import Server


def rule_of(method):
    """The method's own reference rule (a subclass inheriting its parent's does not count)."""
    rule = type(method).__dict__.get("rule")
    if rule is None:
        raise ValueError(f"method {method.name!r} has no reference rule: decorate one with "
                         f"@reference_rule({type(method).__name__}) in its file")
    return rule


#: ``grad_key`` and ``fold_in`` compiled once: called eagerly, each ``fold_in`` is its own
#: dispatch, most of a loop's time per job. The keys are the same bits.
_grad_key = jax.jit(grad_key)
_fold_in = jax.jit(jax.random.fold_in)


@jax.jit
def _grad_at(problem, key, x, w):
    return problem.stoch_grad(x, key, w)


@jax.jit
def _sample_loss(problem, key, x, w):
    return problem.value_and_grad_from_noise(x, problem.sample_noise(key, w), w)[0]


@jax.jit
def _metrics(problem, x):
    return problem.loss(x), problem.loss_gap(x), jnp.sum(problem.full_grad(x) ** 2)


class Oracle:
    """The problem's NumPy oracle of one seed (job ``(w, j)``'s sample drawn from its key), built
    for twice as many jobs whenever ``j`` is past its table (the draws are counter-based, so a
    longer table extends a shorter one)."""

    def __init__(self, problem, root, n: int, jobs: int = 64):
        self.problem, self.root, self.n, self.jobs = problem, root, n, 0
        self._oracle = None
        self._grow(jobs)

    def _grow(self, jobs):
        self.jobs = max(64, jobs)
        self._oracle = self.problem.numpy_oracle(self.root, self.n, self.jobs)

    def __call__(self, x, w: int, j: int) -> np.ndarray:
        while j >= self.jobs:
            self._grow(2 * self.jobs)
        return np.asarray(self._oracle(np.asarray(x, dtype=np.float64), w, j), dtype=np.float64)


class JobRunner:
    """What a worker computes (``method.job``), one job at a time, in float64 NumPy."""

    def __init__(self, job: Job, problem, root, hp: dict, steps, oracle):
        self.job, self.problem, self.root, self.hp, self.steps, self.oracle = job, problem, root, hp, steps, oracle

    def grad(self, x, w, key):
        return np.asarray(_grad_at(self.problem, key, jnp.asarray(x), w), dtype=np.float64)

    def loss(self, points, w: int, j: int) -> float:
        """The loss of job ``j``'s sample at its start point (the ``batch_loss`` metric): NaN
        when the problem has none, or for jobs that define their own computation (local steps)."""
        own = type(self.job).compute is not Job.compute and type(self.job).evaluate is Job.evaluate
        if not self.problem.has_batch_loss or own:
            return float("nan")
        return float(_sample_loss(self.problem, _grad_key(self.root, w, j), jnp.asarray(points[0]), w))

    def __call__(self, points, w: int, j: int):
        if self.oracle is not None:  # the problem's NumPy oracle draws job (w, j)'s sample itself
            return self.oracle(points[0], w, j)
        key = _grad_key(self.root, w, j)
        if self.job.pair:  # one sample at two points (or two samples, when not shared)
            old_key = key if self.job.shared else _fold_in(key, 1)
            return (self.grad(points[0], w, key), self.grad(points[1], w, old_key))
        if self.job.scales_time:  # local SGD steps on the worker's own copy
            lr = self.hp[self.job.lr]
            y, total = np.array(points[0], dtype=np.float64), 0.0
            for h in range(int(self.steps[w])):
                g = self.grad(y, w, key if h == 0 else _fold_in(key, h))
                y, total = y - lr * g, total + g
            return total
        return self.grad(points[0], w, key)


def _snapshot_model(problem, srv, batch_loss):
    f, gap, gns = _metrics(problem, jnp.asarray(srv.x))
    return dict(loss=float(f), loss_gap=float(gap), batch_loss=batch_loss, grad_norm_sq=float(gns), updates=srv.k,
                diverged=not (np.all(np.isfinite(srv.x)) and np.isfinite(f) and np.isfinite(gap)
                              and np.isfinite(gns)))


def new_rule(method, problem, facts: dict, *args):
    """The method's reference rule, built whole: the problem's parameter pytree as NumPy
    (``rule.params(x)`` / ``rule.flat(tree)``, for methods acting per weight matrix; exact
    conversions) and the worker ``facts`` (e.g. ``mean``, ``tau``) are set before the rule's own
    ``__init__(method, *args)`` runs, so that it may read them."""
    cls = rule_of(method)
    rule = cls.__new__(cls)
    rule.params = lambda x: jax.tree.map(np.asarray, problem.params(jnp.asarray(x)))
    rule.flat = lambda tree: np.asarray(problem.flat(jax.tree.map(jnp.asarray, tree)), dtype=np.float64)
    for k, v in facts.items():
        setattr(rule, k, v)
    rule.__init__(method, *args)
    return rule


def _hp(hparams):
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in hparams.items()}


def run_stream(method, problem, timing, hparams: dict, *, seed: int, horizon, num_points: int = 100,
               optimizer=None, durations=None) -> dict:
    """A free-running method: every worker restarts the moment it reports.

    Durations are the seed's draws from ``timing`` (counter-based, as the stream clock's), or
    the given ``durations[n, J]``; the worker facts (mean and base times, which rules such as
    Hero SGD's and jobs' step counts read) are ``timing``'s for the seed, or without a timing
    model the sample means of ``durations``. A job's cycle is download, compute (scaled by its
    cost, e.g. ``H`` local steps take ``H`` draws' time), upload."""
    if durations is None:
        table = Durations(timing, time_key(seed), comm_key(seed))
        n, J = timing.n, None
    else:
        table = np.asarray(durations, dtype=np.float64)
        n, J = table.shape
    if timing is None:
        if durations is None:
            raise ValueError("timing: give a timing model, or durations and no timing model")
        mean = tau = table.mean(axis=1)
    else:
        key = time_key(seed)
        mean, tau = timing.mean(key), timing.base_for(key)
    x0 = np.asarray(problem.init(), dtype=np.float64)
    hp = _hp(hparams)
    rule = new_rule(method, problem, dict(mean=np.asarray(mean, np.float64), tau=np.asarray(tau, np.float64)),
                    hp, n, x0.shape[0])
    active = rule.active(rule.mean)
    steps = method.job.steps(rule.mean)
    scale = method.job.time_scale(rule.mean)
    comm = None
    if timing is not None and timing.comm is not None:
        if durations is None:
            comm = table.comm
        else:
            down, up = (np.asarray(c, dtype=np.float64) for c in timing.comm_sample(comm_key(seed), J))
            comm = lambda w, j: (down[w, j], up[w, j])  # noqa: E731

    def cycle(w, j):
        """Job ``j`` of worker ``w`` from start to report (``inf`` past the given durations: an
        error only if it is ever needed)."""
        if J is not None and j >= J:
            return np.inf
        d = table[w, j] if J is not None else table(w, j)
        if scale is not None:
            d = d * scale[w]
        if comm is not None:
            down, up = comm(w, j)
            d = down + d + up
        return d

    root = grad_root(seed)
    plain = type(method.job) is Job  # one gradient per job: the problem's NumPy oracle
    compute = JobRunner(method.job, problem, root, hp, steps, Oracle(problem, root, n, J or 64) if plain else None)
    horizon = as_horizon(horizon)
    srv = Server(x0, optimizer)
    start_k = np.zeros(n, dtype=np.int64)  # k when each worker's current job got its point
    point = {w: (x0.copy(), x0.copy()) for w in range(n) if active[w]}  # (x^s, x^{s-1})
    heap = [(cycle(w, 0), w, 0) for w in range(n) if active[w]]
    heapq.heapify(heap)
    received = used = max_delay = 0
    sum_delay, batch_loss = 0.0, float("nan")

    working = int(np.sum(active))  # free-running: every working worker is always busy

    def snapshot(t):
        return dict(time=t, received=received, used=used, discarded=received - used, max_delay=max_delay,
                    mean_delay=sum_delay / used if used else 0.0, busy_time=working * t, cancelled=0, timeouts=0,
                    **_snapshot_model(problem, srv, batch_loss))

    # Recording times: a fixed grid of seconds, or every K/G events.
    if horizon.time is not None:
        grid = list(np.linspace(0.0, horizon.time, num_points + 1))
        marks = None
    else:
        K = horizon.events
        marks = [int(np.ceil(g * K / num_points)) for g in range(1, num_points + 1)]
    records = [snapshot(0.0)]

    while heap:
        t, w, j = heap[0]
        if horizon.time is not None:
            while len(records) <= num_points and grid[len(records)] < t:
                records.append(snapshot(grid[len(records)]))  # model in force at that grid time
            if t > horizon.time:
                break
        elif received == horizon.events:
            break
        if J is not None and j >= J:
            raise ValueError(f"durations: worker {w} needs more than {J} jobs for this horizon")
        heapq.heappop(heap)
        delay = srv.k - start_k[w]
        g = compute(point[w], w, j) if rule.needs_grad(delay) else None
        received += 1
        batch_loss = compute.loss(point[w], w, j)
        out = rule.arrival(srv, w, delay, g)
        was_used, command = out if isinstance(out, tuple) else (out, NEW)
        if was_used:
            used += 1
            max_delay = max(max_delay, delay)
            sum_delay += delay
        if command == NEW:  # the reporter's next job starts at the current model
            start_k[w] = srv.k
            point[w] = (srv.x.copy(), srv.x_prev.copy())
        heapq.heappush(heap, (t + cycle(w, j + 1), w, j + 1))
        if marks is not None:
            while len(records) <= num_points and marks[len(records) - 1] == received:
                records.append(snapshot(t))
    while len(records) <= num_points:
        records.append(snapshot(grid[len(records)] if marks is None else records[-1]["time"]))
    return {k: np.array([r[k] for r in records]) for k in records[0]}


class Durations:
    """``D[w, j]`` of one seed, drawn in growing tables (the draws are counter-based, so a
    longer table extends a shorter one); with communication, ``(down, up)`` likewise."""

    def __init__(self, timing, key, ckey=None):
        self.timing, self.key, self.ckey = timing, key, ckey
        self.size = 0
        self._grow(64)

    def _grow(self, J):
        self.table = self.timing.sample(self.key, J).astype(np.float64)
        if self.timing.comm is not None:
            down, up = self.timing.comm_sample(self.ckey, J)
            self.down, self.up = down.astype(np.float64), up.astype(np.float64)
        self.size = J

    def __call__(self, w, j):
        while j >= self.size:
            self._grow(2 * self.size)
        return self.table[w, j]

    def comm(self, w, j):
        """``(download, upload)`` seconds of job ``j`` of worker ``w`` (zeros without communication)."""
        if self.timing.comm is None:
            return 0.0, 0.0
        self(w, j)
        return self.down[w, j], self.up[w, j]


def run_controlled(method, problem, timing, hparams: dict, *, seed: int, horizon, num_points: int = 100,
                   optimizer=None, durations=None) -> dict:
    """Simulate a controlled method (cancels, idles, barriers, attempt budgets).

    A heap of ``(finish, worker, job, version)``; cancelling a job bumps the worker's
    version so its stale heap entry is skipped. Every start draws the job's full
    duration ``D[w, j]`` (and its communication times) up front. Returns the clocks'
    metric names plus ``time``.
    """
    horizon = _seconds(method, horizon, durations)
    tkey = time_key(seed)
    tau = timing.base_for(tkey)
    mean = tau + timing.noise.mean(tau)
    n = timing.n
    x0 = np.asarray(problem.init(), dtype=np.float64)
    hp = _hp(hparams)
    rule = new_rule(method, problem, {}, hp, n, x0.shape[0], tau, mean, timing.noise)
    budget = rule.budget()
    D = Durations(timing, tkey, comm_key(seed))
    steps = method.job.steps(tau)
    scale = method.job.time_scale(tau)
    root = grad_root(seed)
    compute = JobRunner(method.job, problem, root, hp, steps, None)

    srv = Server(x0, optimizer)
    s = np.zeros(n, dtype=np.int64)
    job = np.full(n, -1, dtype=np.int64)
    start = np.zeros(n)
    busy = np.zeros(n, bool)
    timed = np.zeros(n, bool)  # the current attempt will hit its budget
    version = np.zeros(n, dtype=np.int64)
    point = [None] * n
    heap = []
    counts = dict(received=0, used=0, max_delay=0, sum_delay=0.0, cancelled=0, timeouts=0, busy_acc=0.0,
                  batch_loss=float("nan"))

    def start_job(w, t):
        job[w] += 1
        version[w] += 1
        d = D(w, job[w]) * (1 if scale is None else scale[w])
        limit = tau[w] + budget[w]
        timed[w] = d > limit
        start[w], busy[w], s[w] = t, True, srv.k
        point[w] = (srv.x.copy(), srv.x_prev.copy())
        down, up = D.comm(w, job[w])
        end = float(timing.finish_np(w, t + down, min(d, limit))) + up if timing.comm is not None \
            else float(timing.finish_np(w, t, min(d, limit)))
        heapq.heappush(heap, (end, w, int(job[w]), int(version[w])))

    def snapshot(t):
        used = counts["used"]
        in_progress = sum(t - start[w] for w in range(n) if busy[w])
        return dict(time=t, received=counts["received"], used=used, discarded=counts["received"] - used,
                    max_delay=counts["max_delay"], mean_delay=counts["sum_delay"] / used if used else 0.0,
                    busy_time=counts["busy_acc"] + in_progress, cancelled=counts["cancelled"],
                    timeouts=counts["timeouts"], **_snapshot_model(problem, srv, counts["batch_loss"]))

    for w in rule.initial():
        start_job(w, 0.0)
    grid = np.linspace(0.0, horizon, num_points + 1)
    records = [snapshot(0.0)]
    while True:
        while heap and heap[0][3] != version[heap[0][1]]:
            heapq.heappop(heap)  # a cancelled job
        t = heap[0][0] if heap else np.inf
        while len(records) <= num_points and grid[len(records)] < t:
            records.append(snapshot(grid[len(records)]))
        if t > horizon:
            break
        _, w, j, _ = heapq.heappop(heap)
        busy[w] = False
        counts["busy_acc"] += t - start[w]
        delay = srv.k - s[w]
        if timed[w]:
            counts["timeouts"] += 1
            g = None
        else:
            counts["received"] += 1
            g = compute(point[w], w, j)
            counts["batch_loss"] = compute.loss(point[w], w, j)
        used, command, cancel, wake = rule.arrival(srv, w, delay, g, timed[w], s, busy | (np.arange(n) == w))
        if used:
            counts["used"] += 1
            counts["max_delay"] = max(counts["max_delay"], delay)
            counts["sum_delay"] += delay
        if command == NEW:
            start_job(w, t)
        for j2 in cancel:
            counts["cancelled"] += 1
            counts["busy_acc"] += t - start[j2]
            start_job(j2, t)
        for j2 in wake:
            if not busy[j2]:
                start_job(j2, t)
    return {k: np.array([r[k] for r in records]) for k in records[0]}


def run_allocation(method, problem, timing, hparams: dict, *, seed: int, horizon, num_points: int = 100,
                   optimizer=None, durations=None) -> dict:
    """Simulate an allocation method: iteration after iteration, each worker's tasks in turn.

    Worker ``i``'s tasks take its next durations ``D[i, j]``; the iteration ends at the
    latest worker finish. A race method (``method.race``) allocates nothing: every worker
    computes from the iteration's start, a heap of ``(finish, worker, job)`` gives the first
    ``B`` completions, and the iteration ends at the ``B``-th. Returns the clocks' metric
    names plus ``proxy_regret`` (not for a race) and ``time``.
    """
    horizon = _seconds(method, horizon, durations)
    tkey, akey, groot = time_key(seed), method_key(seed), grad_root(seed)
    tau = timing.base_for(tkey)
    mean = tau + timing.noise.mean(tau)
    n = timing.n
    x0 = np.asarray(problem.init(), dtype=np.float64)
    dtype = problem.dtype
    hp = _hp(hparams)
    B = int(hp["B"])

    def prio(k):  # the engine's priority vector of iteration k
        return [float(p) for p in np.asarray(jax.random.uniform(jax.random.fold_in(akey, k), (n,), dtype))]

    rule = new_rule(method, problem, {}, hp, n, mean, prio(0))
    D = Durations(timing, tkey)
    v_opt = sorted(float(j) * float(m) for m in mean for j in range(1, B + 1))[B - 1]  # B-th smallest j mu_i
    job = [0] * n

    def launch(a, start):
        T, ends = [0.0] * n, []
        for i in range(n):
            if a[i] == 0:
                continue
            tsum, e = 0.0, start
            for u in range(a[i]):
                d = float(D(i, job[i] + u))
                tsum += d
                if timing.speed is not None:
                    e = float(timing.finish_np(i, e, d))
            job[i] += a[i]
            T[i] = tsum if timing.speed is None else e - start
            ends.append(start + tsum if timing.speed is None else e)
        return T, max(ends)

    def race(start):
        """Everyone computes from ``start``; the ``B``-th completion ends the iteration. Its worker
        goes on with its next job; the others' jobs in progress are stopped and restarted afresh."""
        def finish(i, e, j):
            return float(timing.finish_np(i, e, float(D(i, j))))

        heap = [(finish(i, start, job[i]), i, job[i]) for i in range(n)]
        heapq.heapify(heap)
        a = [0] * n
        for _ in range(B):
            e, last, j = heapq.heappop(heap)
            a[last] += 1
            heapq.heappush(heap, (finish(last, e, j + 1), last, j + 1))
        for i in range(n):
            job[i] += a[i] + (0 if i == last else 1)
        return a, [e - start] * n, e

    def next_iteration(k, start):
        if method.race:
            return race(start)
        a = rule.allocate(k, prio(k))
        return (a, *launch(a, start))

    srv = Server(x0, optimizer)
    acc = {"busy": 0.0, "regret": 0.0, "batch_loss": float("nan")}

    def snapshot(t):
        used = B * srv.k
        out = {"time": t, "received": used, "used": used, "discarded": 0, "max_delay": 0, "mean_delay": 0.0,
               "busy_time": acc["busy"] + sum(min(t - start, T[i]) for i in range(n)), "timeouts": 0,
               **_snapshot_model(problem, srv, acc["batch_loss"])}
        if method.race:  # n - 1 tasks stopped per iteration; no allocation chosen, no proxy regret
            return dict(out, cancelled=(n - 1) * srv.k)
        return dict(out, cancelled=0, proxy_regret=acc["regret"])

    start = 0.0
    a, T, end = next_iteration(1, start)
    grid = np.linspace(0.0, horizon, num_points + 1)
    records = [snapshot(0.0)]
    while True:
        while len(records) <= num_points and grid[len(records)] < end:
            records.append(snapshot(grid[len(records)]))
        if end > horizon:
            break
        g, loss, slot = 0.0, 0.0, 0  # the mean of the B gradients (and sample losses) at x^k, by worker
        for i in range(n):
            for _ in range(a[i]):
                key = _grad_key(groot, slot, srv.k)
                g = g + np.asarray(_grad_at(problem, key, jnp.asarray(srv.x), i), np.float64)
                if problem.has_batch_loss:
                    loss += float(_sample_loss(problem, key, jnp.asarray(srv.x), i))
                slot += 1
        acc["batch_loss"] = loss / B if problem.has_batch_loss else float("nan")
        srv.step(hp["gamma"], g / B)
        rule.observe(a, T)
        acc["regret"] += max(float(a[i]) * float(mean[i]) for i in range(n) if a[i] > 0) - v_opt
        acc["busy"] += sum(T)
        start = end
        a, T, end = next_iteration(srv.k + 1, start)
    return {k: np.array([r[k] for r in records]) for k in records[0]}


class RoundEnv:
    """What a :class:`~jaxsim.reference.rules.RoundRule` reads: the seed's durations and
    gradients in float64, each worker's next unused job index ``job``, the rounds completed
    ``r``, the worker facts ``tau``/``mean`` and the seed's method ``key`` (with ``dtype``,
    the engine's float type, for drawing the same method randomness)."""

    def __init__(self, problem, durations: Durations, root, tau, mean, key, dtype):
        self.problem, self._durations, self.root = problem, durations, root
        self.tau, self.mean, self.key, self.dtype = tau, mean, key, dtype
        self.job = np.zeros(len(tau), dtype=np.int64)
        self.r = 0
        self._oracle = Oracle(problem, root, len(tau))

    def draw(self, w: int, j: int) -> float:
        return float(self._durations(w, j))

    def grad(self, x, w: int, j: int) -> np.ndarray:
        """Job ``(w, j)``'s stochastic gradient at ``x`` (the problem's NumPy oracle)."""
        return self._oracle(x, w, j)


def run_rounds(method, problem, timing, hparams: dict, *, seed: int, horizon, num_points: int = 100,
               optimizer=None, durations=None) -> dict:
    """Simulate a round-based method: round after round, each one ``rule.duration`` long,
    applied at its end (the method updates its own models: no server optimizer). Returns the
    clock's metric names plus ``time``."""
    horizon = _seconds(method, horizon, durations)
    if optimizer is not None:
        raise ValueError(f"optimizer: {method.name} runs in rounds and takes no server optimizer")
    tkey = time_key(seed)
    tau = timing.base_for(tkey)
    mean = tau + timing.noise.mean(tau)
    x0 = np.asarray(problem.init(), dtype=np.float64)
    hp = _hp(hparams)
    rule = new_rule(method, problem, {}, hp, timing.n, x0)
    env = RoundEnv(problem, Durations(timing, tkey), grad_root(seed), tau, mean, method_key(seed),
                   problem.dtype)
    acc = {"grads": 0, "busy": 0.0}

    def snapshot(t):
        model = _snapshot_model(problem, Server(rule.point()), float("nan"))
        del model["batch_loss"]
        model["updates"] = env.r
        return dict(time=t, busy_time=acc["busy"], cancelled=0, timeouts=0, received=acc["grads"],
                    used=acc["grads"], discarded=0, max_delay=0, mean_delay=0.0, **model, **rule.metrics(env.r))

    grid = np.linspace(0.0, horizon, num_points + 1)
    records = [snapshot(0.0)]
    t = 0.0
    while True:
        end = t + rule.duration(env)
        while len(records) <= num_points and grid[len(records)] < end:
            records.append(snapshot(grid[len(records)]))  # the round in progress has not ended
        if end > horizon:
            break
        jobs, grads, busy = rule.round(env)
        env.job = env.job + np.asarray(jobs, dtype=np.int64)
        env.r += 1
        acc["grads"] += int(grads)
        acc["busy"] += float(busy)
        t = end
    return {k: np.array([r[k] for r in records]) for k in records[0]}


def _seconds(method, horizon, durations) -> float:
    """A loop clock's horizon in seconds; such clocks draw their durations themselves."""
    if durations is not None:
        raise ValueError(f"durations: {method.name} draws its durations inside the simulation; pass a timing model")
    horizon = as_horizon(horizon)
    if horizon.time is None:
        raise ValueError(f"horizon: {method.name} needs a horizon in seconds")
    return float(horizon.time)


#: The reference loop of each clock (the keys of :data:`jaxsim.sim.clocks.CLOCKS`), one signature.
LOOPS = {"stream": run_stream, "controlled": run_controlled, "allocation": run_allocation, "rounds": run_rounds}


def run(method, problem, timing, hparams: dict, *, seed: int, horizon, num_points: int = 100, optimizer=None,
        durations=None) -> dict:
    """Simulate one run of ``method`` in plain Python on the loop of its clock (:data:`LOOPS`):
    the seed's durations drawn from ``timing`` (or, on the stream clock, the given
    ``durations[n, J]``), the same job randomness as the engine's, ``num_points + 1`` recording
    points over ``horizon`` (seconds, or a :class:`~jaxsim.events.Horizon`; events only on the
    stream clock). Returns a dict of the engine's metric names plus ``time``."""
    if method.clock not in LOOPS:
        raise ValueError(f"method: {method.name!r} names no clock with a reference loop ({method.clock!r})")
    return LOOPS[method.clock](method, problem, timing, hparams, seed=seed, horizon=horizon, num_points=num_points,
                               optimizer=optimizer, durations=durations)


__all__ = ["Durations", "JobRunner", "LOOPS", "Oracle", "RoundEnv", "new_rule", "rule_of", "run", "run_allocation",
           "run_controlled", "run_rounds", "run_stream"]
