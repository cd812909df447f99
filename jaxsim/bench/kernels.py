"""The synchronous kernels: what the gradients of a benchmarked batch cost without event logic.

Each clock's kernel (:data:`SYNC`, keyed by the clock's name) runs the batch the engine ran
(``vmap`` over seeds of a ``vmap`` over settings, the same per-job keys, the same recording grid)
and computes the gradients the engine received there, each at the *current* model, followed by
one SGD step through the server's one model update (:func:`jaxsim.sim.server.apply_step` with
SGD's updates ``-g``; the stepsize is the setting's ``gamma``, 0.01 for a method without one).
It keeps no point store, no delays, no worker state, draws no durations and keeps no counters
but its own gradient count. At each grid point it records ``loss``, ``loss_gap`` and
``grad_norm_sq`` (the engine's metrics that cost a problem evaluation) and ``gradients`` (its
count so far).

* ``stream`` (free-running): the engine's pre-sampled stream itself, per recording interval:
  every event's job (:meth:`~jaxsim.methods.jobs.Job.evaluate`, the method's job) from the
  randomness the engine draws once per seed before the scan (:meth:`StreamClock.prepare
  <jaxsim.sim.stream.StreamClock.prepare>`: the same draws, shared by the settings), at the
  current model; padding events step by zero. It computes a gradient for every event of the
  stream, as the engine does (a method that ignores some workers still evaluates their events).
* ``controlled``, ``allocation``, ``rounds`` (loop clocks, whose events are not known before the
  run): the engine's own count of received gradients per run and recording interval (the
  ``received`` metric) sets how many the kernel computes there, in a batch-wide loop (a
  ``while_loop`` per interval that runs until every run of the batch has its count, as the
  engine's loop does). A step computes ``width`` gradients at the current model and steps
  once with their mean:

  - ``controlled``: one gradient per step, the method's job, gradient ``i`` of a run keyed
    ``grad_key(root, i mod n, i div n)`` (job ``i div n`` of worker ``i mod n``: the engine's
    keys, in a fixed order);
  - ``allocation``: one iteration per step, ``B`` gradients (``vmap`` over the clock's ``B_max``
    slots, those past ``B`` masked, as in the engine), slot ``b`` of iteration ``k`` keyed
    ``grad_key(root, b, k)`` as in the engine (its sample drawn for worker ``b mod n``): minibatch
    SGD without the allocation, the duration draws and the regret;
  - ``rounds``: ``n`` gradients per step (one per worker, worker ``b`` keyed ``grad_key(root, b,
    u)`` at step ``u``), the last step of an interval masked to the interval's count: the
    gradients a round method received, as minibatch SGD at one model.

  What both evaluate and mask costs both: a batch-wide loop steps every run of the batch until
  the busiest is done, and ATA's slots past ``B`` are computed. What only the engine evaluates
  and masks counts against it: a round method's workers that have stopped while others step on
  (the kernel computes one gradient per received one, ``n`` at a time).

Its rate is ``gradients / seconds`` and the engine's ``received / seconds``. The two counts are
equal, run by run and interval by interval (the tests check it), except on the free-running
clock for a method that ignores some workers' events (the kernel counts every event, as the
engine evaluates every event).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ..methods.jobs import GRADIENT
from ..runtime.rng import grad_key
from ..sim.kernel import batched
from ..sim.server import apply_step


def _direction(job, out):
    """The gradient a job's result steps along (a pair job's: the one at its start point)."""
    return out.new if job.pair else out


def _points(job, x):
    return (x, x) if job.pair else (x,)


def _record(problem, x, count) -> dict:
    f = problem.loss(x)
    return dict(loss=f, loss_gap=f - problem.f_star if problem.f_star is not None else f,
                grad_norm_sq=jnp.sum(problem.full_grad(x) ** 2), gradients=count)


def _gamma(hp, dtype):
    return hp["gamma"].astype(dtype) if "gamma" in hp else jnp.asarray(0.01, dtype)


@functools.partial(jax.jit, static_argnames=("clock",))
def stream_sync(clock, problem, seeds, intervals, hp, x0) -> dict:
    """The free-running clock's synchronous kernel (see the module docstring): ``[S, P, G]``
    metrics of ``seeds`` x the settings ``hp`` on the engine's prepared stream ``intervals``."""
    iv = clock.prepare(problem, seeds, intervals)
    job = clock.method.job

    def one(worker, valid, noise, steps, h):
        gamma = _gamma(h, x0.dtype)

        def step(c, ev):
            x, count = c
            w, ok, z = ev
            _, out = job.evaluate(problem, _points(job, x), z, w, h, steps[w])
            return (apply_step(x, jnp.where(ok, gamma, 0), -_direction(job, out)), count + ok.astype(jnp.int32)), None

        def chunk(c, ev):
            c, _ = jax.lax.scan(step, c, ev)
            return c, _record(problem, *c)

        return jax.lax.scan(chunk, (x0, jnp.zeros((), jnp.int32)), (worker, valid, noise))[1]

    return batched(one, (0, 0, 0, 0, None), (None, None, None, None, 0))(iv.worker, iv.valid, iv.noise,
                                                                        seeds.steps, hp)


@functools.partial(jax.jit, static_argnames=("job", "n", "width"))
def loop_sync(problem, x0, roots, steps, counts, widths, hp, *, job, n: int, width: int) -> dict:
    """A loop clock's synchronous kernel (see the module docstring): per run, ``counts[G]``
    gradients per recording interval, ``widths`` (at most the static ``width``) per step at the
    current model, their mean stepped along. ``roots [S]`` the seeds' gradient roots, ``steps
    [S, n]`` the workers' local steps per job, ``counts [S, P, G]``, ``widths [P]``, ``hp``
    the settings. Returns ``[S, P, G]`` metrics."""
    def one(root, wsteps, cnt, wid, h):
        gamma = _gamma(h, x0.dtype)

        def grad(x, key_w, j, w):
            noise = job.sample_noise(problem, grad_key(root, key_w, j), w)
            return _direction(job, job.evaluate(problem, _points(job, x), noise, w, h, wsteps[w])[1])

        def mean_grad(x, i, u, left):
            if width == 1:
                return grad(x, i % n, i // n, i % n), jnp.ones((), jnp.int32)
            b = jnp.arange(width, dtype=jnp.int32)
            ok = (b < wid) & (b < left)
            g = jax.vmap(lambda bi: grad(x, bi, u, bi % n))(b)
            k = jnp.sum(ok, dtype=jnp.int32)
            return jnp.sum(jnp.where(ok[:, None], g, 0), axis=0) / jnp.maximum(k, 1).astype(x.dtype), k

        def interval(c, cg):
            end = c[1] + cg

            def body(s):
                x, i, u = s
                g, k = mean_grad(x, i, u, end - i)
                return apply_step(x, gamma, -g), i + k, u + 1

            c = jax.lax.while_loop(lambda s: s[1] < end, body, c)
            return c, _record(problem, c[0], c[1])

        zero = jnp.zeros((), jnp.int32)
        return jax.lax.scan(interval, (x0, zero, zero), cnt)[1]

    return batched(one, (0, 0, 0, None, None), (None, None, 0, 0, 0))(roots, steps, counts, widths, hp)


def interval_counts(received) -> np.ndarray:
    """int32 ``[S, P, G]`` gradients received per recording interval, from the engine's cumulative
    ``received`` metric ``[S, P, G + 1]``."""
    return np.diff(np.asarray(received, np.int64), axis=-1).astype(np.int32)


def _stream_call(setup, method, problem, hp, x0, received):
    return functools.partial(stream_sync, setup.clock, problem, setup.seeds, setup.intervals, hp, x0)


def _loop_call(job_of, width_of, widths_of):
    """A loop clock's call of :func:`loop_sync`: its job, static width and per-setting widths."""
    def call(setup, method, problem, hp, x0, received):
        S, P = np.shape(received)[:2]
        n = setup.clock.n
        steps = getattr(setup.seeds, "steps", None)
        steps = jnp.ones((S, n), jnp.int32) if steps is None else steps
        widths = jnp.broadcast_to(jnp.asarray(widths_of(setup, hp), jnp.int32), (P,))
        counts = jnp.asarray(interval_counts(received))
        return functools.partial(loop_sync, problem, x0, setup.seeds.root, steps, counts, widths, hp,
                                 job=job_of(method), n=n, width=int(width_of(setup)))

    return call


#: Each clock's synchronous kernel, as ``call(setup, method, problem, hp, x0, received) -> f``:
#: ``f()`` runs it on the batch of ``setup`` (``hp``: the settings as arrays; ``received``: the
#: engine's ``received`` metric ``[S, P, G + 1]`` of that batch, which the loop clocks' kernels
#: follow) and returns its ``[S, P, G]`` metrics (see the module docstring).
SYNC = {
    "stream": _stream_call,
    "controlled": _loop_call(lambda m: m.job, lambda s: 1, lambda s, hp: 1),
    "allocation": _loop_call(lambda m: GRADIENT, lambda s: s.clock.Bmax, lambda s, hp: hp["B"]),
    "rounds": _loop_call(lambda m: GRADIENT, lambda s: s.clock.n, lambda s, hp: s.clock.n),
}


def sync_call(clock: str, setup, method, problem, hp, x0, received):
    """``f()``: the synchronous kernel of clock ``clock`` on ``setup``'s batch (see :data:`SYNC`)."""
    return SYNC[clock](setup, method, problem, hp, x0, received)


__all__ = ["SYNC", "interval_counts", "loop_sync", "stream_sync", "sync_call"]
