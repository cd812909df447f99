"""What a worker computes per job, declared by the method (``Method.job``).

A job starts from the point(s) the server gave the worker and draws all its randomness
from the job's key ``grad_key(seed, worker, job)``, so every clock and the reference
loops compute the same thing for the same job:

* :data:`GRADIENT` (default): one stochastic gradient at the job's start point ``x^s``;
* :class:`PairGradient`: one sample evaluated at two points, ``x^s`` and ``x^{s-1}`` (the
  model one update earlier; ``x^0`` when ``s = 0``), for momentum variance reduction;
  the result is a :class:`Pair`; a pair may cost more time than one gradient (``cost``);
* :class:`LocalSteps`: ``H`` local SGD steps ``y <- y - lr g_h`` on the worker's own copy,
  starting at ``x^s``, returning the sum of the local gradients ``sum_h g_h``: the model
  difference ``x^s - y_H`` divided by the local stepsize (exact in real arithmetic; a
  method applies it with step ``lr``, or ``lr`` times a server stepsize, so one local
  step with server step 1 is ASGD bit for bit). Step ``h``
  draws from the job's key for ``h = 0`` and from ``fold_in(key, h)`` after, so a
  one-step job sees the same sample as a plain gradient job. ``H`` is fixed
  (``steps=H``) or comes from the worker's mean step time and a time budget
  (``budget=b``: ``H_w = clip(floor(b / mean_w), 1, max_steps)``); a job of ``H_w``
  steps takes ``H_w`` times its drawn duration.

A job splits in two like a problem's gradient: :meth:`Job.sample_noise` (the randomness,
drawn up front by the free-running clock for every event at once) and
:meth:`Job.compute`. The clocks call :meth:`Job.evaluate`, which also returns the loss of
the job's sample at its start point when the problem has one (``batch_loss``; NaN for
local-step jobs and problems without it).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np


class Pair(NamedTuple):
    """A :class:`PairGradient` result: the same sample at ``x^s`` and at ``x^{s-1}``."""

    new: Any
    old: Any


@dataclasses.dataclass(frozen=True)
class Job:
    """One stochastic gradient at the job's start point (the default job)."""

    #: Whether the job needs ``x^{s-1}`` besides ``x^s`` (the server then keeps one more point).
    pair: bool = dataclasses.field(default=False, init=False)
    #: Whether a job runs several steps (its duration is the drawn duration times its steps).
    scales_time: bool = dataclasses.field(default=False, init=False)

    @property
    def has_loss(self) -> bool:
        """Whether :meth:`evaluate` reports the sample's loss (one gradient or a pair: yes; a job
        with its own :meth:`compute` and no :meth:`evaluate`: no)."""
        return type(self).compute is Job.compute or type(self).evaluate is not Job.evaluate

    def steps(self, mean: np.ndarray) -> Optional[np.ndarray]:
        """int[n] local steps per job of each worker (``None``: one)."""
        return None

    def time_scale(self, mean: np.ndarray) -> Optional[np.ndarray]:
        """float64[n]: a job of worker ``w`` takes ``time_scale[w]`` times its drawn duration
        ``D[w, j]`` (``None``: once). Default: its local steps, for jobs that run several."""
        steps = self.steps(mean)
        return None if steps is None or not self.scales_time else np.asarray(steps, np.float64)

    def sample_noise(self, problem, key, worker):
        return problem.sample_noise(key, worker)

    def compute(self, problem, points, noise, worker, hp: dict, steps):
        """The job's result from its start point(s), its randomness and the worker's step count."""
        return problem.grad_from_noise(points[0], noise, worker)

    def evaluate(self, problem, points, noise, worker, hp: dict, steps):
        """``(loss of the sample at x^s, result)``: :meth:`compute` plus the sample's loss
        (NaN unless the problem has one and the job is one gradient or a pair)."""
        if not self.has_loss:
            out = self.compute(problem, points, noise, worker, hp, steps)
            return jnp.full((), jnp.nan, points[0].dtype), out
        return problem.value_and_grad_from_noise(points[0], noise, worker)


GRADIENT = Job()


@dataclasses.dataclass(frozen=True)
class PairGradient(Job):
    """The same sample at ``x^s`` and ``x^{s-1}`` (:class:`Pair`).

    ``cost``: a pair job takes ``cost`` times the drawn duration ``D[w, j]`` (1: a pair counts
    as one oracle call; 2: two gradients' worth of compute). ``shared=False`` draws the sample
    at ``x^{s-1}`` from ``fold_in(key, 1)`` instead of the job's key: two independent samples,
    the "different minibatch" form of inexact momentum variance reduction.
    """

    pair: bool = dataclasses.field(default=True, init=False)
    cost: float = 1.0
    shared: bool = True

    def __post_init__(self):
        if isinstance(self.cost, bool) or not isinstance(self.cost, (int, float, np.floating, np.integer)) \
                or not (np.isfinite(self.cost) and self.cost > 0):
            raise ValueError(f"PairGradient.cost (a multiple of one gradient's time) must be a positive "
                             f"finite number, got {self.cost!r}")

    def time_scale(self, mean):
        return None if self.cost == 1 else np.full(np.shape(mean), float(self.cost))

    def sample_noise(self, problem, key, worker):
        if self.shared:
            return problem.sample_noise(key, worker)
        return problem.sample_noise(key, worker), problem.sample_noise(jax.random.fold_in(key, 1), worker)

    def _noises(self, noise):
        return (noise, noise) if self.shared else noise

    def compute(self, problem, points, noise, worker, hp, steps):
        now, then = self._noises(noise)
        return Pair(problem.grad_from_noise(points[0], now, worker),
                    problem.grad_from_noise(points[1], then, worker))

    def evaluate(self, problem, points, noise, worker, hp, steps):
        now, then = self._noises(noise)
        loss, new = problem.value_and_grad_from_noise(points[0], now, worker)
        return loss, Pair(new, problem.grad_from_noise(points[1], then, worker))


def local_keys(key, H: int):
    """The keys of ``H`` local steps: the job's key, then ``fold_in(key, h)``."""
    rest = jax.vmap(lambda h: jax.random.fold_in(key, h))(jnp.arange(1, H, dtype=jnp.uint32))
    return jnp.concatenate([key[None], rest]) if H > 1 else key[None]


@dataclasses.dataclass(frozen=True)
class LocalSteps(Job):
    """``H`` local SGD steps with stepsize ``hp[lr]``; returns ``sum_h g_h`` (the model
    difference over ``lr``)."""

    scales_time: bool = dataclasses.field(default=True, init=False)
    steps_: Optional[int] = None
    budget: Optional[float] = None
    max_steps: Optional[int] = None
    lr: str = "gamma"

    def __post_init__(self):
        if (self.steps_ is None) == (self.budget is None):
            raise ValueError("LocalSteps: give exactly one of steps (a count) or budget (seconds)")
        if self.steps_ is not None and (not isinstance(self.steps_, (int, np.integer)) or self.steps_ < 1):
            raise ValueError(f"LocalSteps.steps must be an integer >= 1, got {self.steps_!r}")
        if self.budget is not None:
            if not (np.isfinite(self.budget) and self.budget > 0):
                raise ValueError(f"LocalSteps.budget must be positive seconds, got {self.budget!r}")
            if not isinstance(self.max_steps, (int, np.integer)) or self.max_steps < 1:
                raise ValueError(f"LocalSteps.max_steps must be an integer >= 1 with a budget, got {self.max_steps!r}")

    @property
    def H(self) -> int:
        """The most steps a job can take (static: the length of the local loop)."""
        return int(self.steps_ if self.steps_ is not None else self.max_steps)

    def steps(self, mean):
        mean = np.asarray(mean, np.float64)
        if self.steps_ is not None:
            return np.full(mean.shape, self.steps_, np.int32)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.floor(self.budget / mean)
        return np.clip(np.nan_to_num(h, nan=1.0, posinf=1.0), 1, self.max_steps).astype(np.int32)

    def sample_noise(self, problem, key, worker):
        return jax.vmap(lambda k: problem.sample_noise(k, worker))(local_keys(key, self.H))

    def compute(self, problem, points, noise, worker, hp, steps):
        lr = hp[self.lr]

        def step(carry, xs):
            y, total = carry
            h, nz = xs
            g = problem.grad_from_noise(y, nz, worker)
            live = h < steps
            return (jnp.where(live, y - lr * g, y), jnp.where(live, total + g, total)), None

        y0 = points[0]
        (_, total), _ = jax.lax.scan(step, (y0, jnp.zeros_like(y0)), (jnp.arange(self.H), noise))
        return total


def local_steps(steps: Optional[int] = None, *, budget: Optional[float] = None, max_steps: Optional[int] = None,
                lr: str = "gamma") -> LocalSteps:
    """A :class:`LocalSteps` job: ``steps=H`` fixed, or ``budget`` seconds per job with at most
    ``max_steps`` steps; ``lr`` names the hyperparameter used as the local stepsize."""
    return LocalSteps(steps_=steps, budget=budget, max_steps=max_steps, lr=lr)


PAIR = PairGradient()

__all__ = ["GRADIENT", "PAIR", "Job", "LocalSteps", "Pair", "PairGradient", "local_keys", "local_steps"]
