"""What a method is: a rule of one *kind*, its hyperparameters, its job and its reference rule.

The server (:mod:`jaxsim.sim.server`) owns the model ``x``, the update counter ``k``,
each worker's start counter ``s[w]`` (the value of ``k`` when its current job got its
point), the store of points late jobs were computed at, and the server optimizer. A
*clock* (:mod:`jaxsim.sim`) decides which worker reports when. A method only decides:

* :class:`StreamMethod` (free-running workers; each restarts when it reports) and
  :class:`ControlledMethod` (the method cancels, idles or synchronizes workers) see one
  :class:`Arrival` at a time and return ``(state, Decision)``; a decision says which
  direction to step along, with which stepsize, whether the job's result was used, and
  (:class:`Commands`, default: "the reporter starts a new job at the current model")
  what the workers do next;
* :class:`AllocationMethod` (the ATA family) assigns ``B`` tasks per iteration;
* :class:`RoundMethod` runs whole rounds (or iterations) on its own state: each round has a
  duration and a state change, and no server model (:mod:`jaxsim.sim.rounds`).

The kind is the type: the clock is chosen from it, never from flags. What a worker
computes is the method's :attr:`Method.job` (:mod:`jaxsim.methods.jobs`; default one stochastic
gradient at the job's start point). Hyperparameters are a dict of traced arrays, so a
sweep over them compiles once; :class:`~jaxsim.methods.hparams.HParam`
(:mod:`jaxsim.methods.hparams`) declares each one's domain, its default and the range the
oracle test draws from. The engine knows no method by name.

A new method is one file in :mod:`jaxsim.methods` (or anywhere, imported before use):
the class decorated with :func:`register` and its plain-NumPy reference rule decorated
with :func:`reference_rule`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, ClassVar, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from .hparams import HParam
from .jobs import GRADIENT, Job
from ..runtime.rng import grad_key

NEW, OWN, IDLE = 0, 1, 2  # what the reporting worker does next


class Workers(NamedTuple):
    """What a method may read about all workers at an arrival."""

    s: jax.Array  # int32[n]: start counter of each worker's current job
    busy: jax.Array  # bool[n]: running a job (the reporter counts as busy)
    k: jax.Array  # update counter before this arrival


class SeedContext(NamedTuple):
    """Per-seed facts about the workers, computed on the host before the simulation."""

    tau: jax.Array  # float[n]: base times as used by this seed (after any permutation)
    mean: jax.Array  # float[n]: mean durations
    rank: jax.Array  # int32[n]: rank by mean duration (0 = fastest; ties to the lower index)
    key: jax.Array  # the seed's key for method randomness (``jaxsim.runtime.rng.method_key``)


class Arrival(NamedTuple):
    """A finished job, as the server sees it."""

    worker: jax.Array  # int32, 0-based
    job: jax.Array  # int32, the worker's job index
    time: jax.Array  # arrival time
    delay: jax.Array  # k - s[worker]: updates since the job got its point
    grad: Any  # what the job computed (see ``Method.job``); garbage if delay >= window
    x: jax.Array  # current model x^k
    n: int  # number of workers (static)
    workers: Workers  # a view of every worker
    ctx: SeedContext  # the seed's worker facts
    valid: jax.Array  # False for padding events, whose state changes the server discards
    timed_out: jax.Array  # the attempt hit its time budget and computed nothing
    params: Callable  # flat vector -> the problem's parameter pytree (``Problem.params``)
    flat: Callable  # parameter pytree -> flat vector, exact (``Problem.flat``)
    loss: Any = None  # the job's sample loss at its start point (NaN when the problem has none)


class Commands(NamedTuple):
    """What the workers do after an arrival (applied after the update, if any).

    ``reporter``: ``NEW`` (start a job at the current model), ``OWN`` (start a job at the
    point its finished job used) or ``IDLE`` (controlled methods only). ``cancel``: busy
    workers to stop and restart at the current model; ``wake``: idle workers to start a
    job at the current model (controlled methods only; ``None``: nobody; a scalar: all of them).
    The reporter is never cancelled or woken by the masks. A mask over the workers costs O(n) per
    arrival, a scalar O(1) (the clock expands it only when it is true); stops that follow a
    staleness threshold are declared by :meth:`ControlledMethod.stop_threshold` (O(1)).
    """

    reporter: Any = NEW
    cancel: Any = None
    wake: Any = None


class Decision(NamedTuple):
    """What the server does with an arrival.

    ``x <- x - step * optimizer(direction)`` happens iff ``update``; ``used`` says whether
    the job's result entered an update or a pending batch (otherwise it is discarded);
    ``commands`` says what the workers do next.
    """

    direction: Any
    step: jax.Array
    update: jax.Array
    used: jax.Array
    commands: Commands = Commands()


@dataclasses.dataclass(frozen=True)
class Method:
    """Common base of the four method kinds, :class:`StreamMethod`, :class:`ControlledMethod`,
    :class:`AllocationMethod` and :class:`RoundMethod` (subclass one of those, not this).

    Subclasses set ``name``, ``hparams`` and implement their kind's rule; the other
    hooks have defaults that fit a stateless method using every worker.
    """

    name: ClassVar[str] = "method"
    hparams: ClassVar[dict[str, HParam]] = {}
    paper: ClassVar[str] = ""
    #: The clock that runs this kind (a key of :data:`jaxsim.sim.clocks.CLOCKS`).
    clock: ClassVar[str] = ""
    #: What a worker computes per job (:mod:`jaxsim.methods.jobs`).
    job: ClassVar[Job] = GRADIENT
    #: The plain-NumPy reference rule the oracle runs (set by :func:`reference_rule`).
    rule: ClassVar[Optional[type]] = None

    def window(self, hp: dict[str, np.ndarray]) -> Optional[int]:
        """Delays this method can still apply, as ``max usable delay + 1`` over the grid
        ``hp`` (``None``: unbounded). The server keeps only that many past points."""
        return None

    def init(self, x0: jax.Array, hp: dict, ctx: SeedContext, timing) -> Any:
        """Method-specific state of one run (a pytree; ``()`` if none). ``timing`` is the
        run's :class:`~jaxsim.timing.TimingModel` (``None`` for streams built from given
        durations)."""
        return ()

    def cost_key(self, setting: dict) -> float:
        """Sort key grouping settings of similar simulation cost into the same batch
        (an in-scan loop runs as many steps as its busiest run needs)."""
        return 0.0

    def translate(self, hp: dict) -> dict:
        """Hyperparameters as given by a user -> this method's names (default: unchanged).
        A method accepting an alternative parametrization (``beta = 1 - alpha``) converts it
        here, validating it and naming the field."""
        return dict(hp)

    def check_hparams(self, hp: dict, dtype=None) -> dict[str, np.ndarray]:
        """Validate a dict of hyperparameter values/grids, fill defaults; names the bad field.
        ``dtype``: the run's float type (see :meth:`HParam.check`)."""
        unknown = set(hp) - set(self.hparams)
        if unknown:
            raise ValueError(f"{self.name}: unknown hyperparameter(s) {sorted(unknown)}; "
                             f"expected {sorted(self.hparams)}")
        return {k: spec.check(k, hp.get(k, spec.default), dtype) for k, spec in self.hparams.items()}

    def check_workers(self, n: int) -> None:
        """Raise if the method cannot run on ``n`` workers."""

    def check_problem(self, problem) -> None:
        """Raise ``ValueError`` if the method cannot act on ``problem`` (e.g. its parameter
        pytree); called before anything is compiled."""

    def check_grid(self, hp: dict[str, np.ndarray], n: int) -> None:
        """Raise ``ValueError`` for hyperparameter values that do not fit ``n`` workers."""

    def check_timing(self, timing) -> None:
        """Raise ``ValueError`` if the method cannot run with this timing model."""


@dataclasses.dataclass(frozen=True)
class EventMethod(Method):
    """The event protocol: the server hands the method one arrival at a time
    (:meth:`on_arrival`) and applies its :class:`Decision`. Its two kinds differ only in who
    decides when workers work, which picks the clock: :class:`StreamMethod` (workers restart
    the moment they report: arrivals are pre-sampled) and :class:`ControlledMethod` (the method
    cancels, idles or synchronizes workers: an event loop inside the scan). The other protocol
    is whole iterations or rounds (:class:`AllocationMethod`, :class:`RoundMethod`)."""

    #: ``True``: :meth:`on_arrival` leaves its state unchanged when ``arrival.valid`` is
    #: False, so the server need not select between old and new state per event (an
    #: O(state) pass that dominates for ``n x d`` tables).
    masks_invalid: ClassVar[bool] = False

    def on_arrival(self, state, arrival: Arrival, hp: dict) -> tuple[Any, Decision]:
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class StreamMethod(EventMethod):
    """Free-running workers: every worker restarts the moment it reports, so arrivals
    are pre-sampled (:mod:`jaxsim.sim.stream`). Commands may only say ``NEW`` or ``OWN``
    for the reporter."""

    clock: ClassVar[str] = "stream"
    #: ``True``: :meth:`on_arrival` may return ``Commands(reporter=OWN)``, so its delays are
    #: not bounded by the stream's; the server then keeps one point per worker.
    keeps_points: ClassVar[bool] = False

    def active_workers(self, mean_times: np.ndarray) -> Optional[np.ndarray]:
        """Boolean mask of the workers that ever compute (``None``: all); fixed per seed."""
        return None

    def participates(self, hp: dict, ctx: SeedContext) -> Optional[jax.Array]:
        """bool[n] of the workers that compute, when it depends on traced hyperparameters
        (arrivals of the others are ignored). ``None``: all. Such methods need horizons
        in seconds (a stream's event count includes the ignored workers)."""
        return None

    @property
    def selects_workers(self) -> bool:
        """Whether :meth:`participates` is overridden."""
        return type(self).participates is not StreamMethod.participates


@dataclasses.dataclass(frozen=True)
class ControlledMethod(EventMethod):
    """The method decides when workers work (cancels, idles, barriers, attempt budgets);
    arrivals come from an event loop inside the scan (:mod:`jaxsim.sim.controlled`).
    :meth:`window` must bound the delays it applies."""

    clock: ClassVar[str] = "controlled"

    def initial_workers(self, hp: dict, ctx: SeedContext, state) -> jax.Array:
        """bool[n]: the workers that start a job at time 0 (``state``: from :meth:`init`)."""
        return jnp.ones(ctx.tau.shape, bool)

    def budget(self, hp: dict, ctx: SeedContext) -> jax.Array:
        """float[n]: per-attempt time budget beyond the base time (an attempt of worker ``w``
        is abandoned after ``tau_w + budget_w`` nominal seconds); ``inf`` = none."""
        return jnp.full(ctx.tau.shape, jnp.inf)

    def stop_threshold(self, hp: dict, k: jax.Array) -> Optional[Any]:
        """``R`` in force once the update counter is ``k`` (Ringmaster's stops): after each
        arrival, its update (if any) counted in ``k``, the clock stops every busy job that has
        become ``R`` updates stale and restarts it at the current model. ``None``: no stops.

        ``R`` must be an integer >= 1, non-decreasing in ``k`` and at most :meth:`window`. Stops
        declared here cost O(1) per arrival: the clock counts busy jobs per start counter, and
        with a threshold that never falls the jobs an update makes stale all started at
        ``k - R``; it builds the O(n) mask only when one did. A ``Commands.cancel`` mask costs
        O(n) at every arrival. ``hp`` and ``k`` are traced in the kernel; at setup the clock
        calls this with the whole grid (NumPy arrays) to learn whether there are stops."""
        return None


@dataclasses.dataclass(frozen=True)
class AllocationMethod(Method):
    """Per-iteration task allocation (:mod:`jaxsim.sim.allocation`): each iteration the
    method assigns ``B`` tasks (gradients at the current model) to workers, sees each
    worker's total time, and allocates again. Hyperparameters include ``gamma`` and ``B``."""

    clock: ClassVar[str] = "allocation"
    #: ``True``: the allocation is not chosen but realized by a race (:meth:`allocate` is never
    #: called): every worker computes from the iteration's start, one task after another, the
    #: first ``B`` completions form the batch and all other work is stopped
    #: (:func:`jaxsim.sim.allocation.race`).
    race: ClassVar[bool] = False

    def allocate(self, state, k, key, hp: dict, ctx: SeedContext, max_B: int | None = None) -> jax.Array:
        """int32[n] allocation of iteration ``k`` (1-based, traced) summing to ``hp["B"]``;
        ``key`` is the seed's method key of iteration ``k``; ``max_B`` (static, or ``None``) bounds
        ``hp["B"]`` over the batch, so selections can be sized by it instead of by ``n``."""
        raise NotImplementedError

    def observe(self, state, a, task_sums) -> Any:
        """State after an iteration: ``a`` the allocation, ``task_sums[i]`` worker ``i``'s
        total time on its ``a_i`` tasks (0 where ``a_i = 0``)."""
        return state

    def cost_key(self, setting: dict) -> float:
        return float(setting["B"])  # iterations per second fall with B


class RoundEnv(NamedTuple):
    """What a round method reads besides its state and hyperparameters (one run, traced)."""

    problem: Any
    timing: Any  # the run's TimingModel
    tkey: jax.Array  # the seed's duration key
    root: jax.Array  # the seed's gradient-key root
    ctx: SeedContext
    job: jax.Array  # int32[n]: each worker's next unused job index
    r: jax.Array  # int32: rounds completed before this one

    def draw(self, w, j, dtype):
        """Duration of job ``j`` of worker ``w``: the draw every clock uses for that job."""
        return self.timing.draw(self.tkey, self.ctx.tau, w, j, dtype)

    def grad(self, x, w, j):
        """The stochastic gradient of job ``j`` of worker ``w`` at ``x`` (its key
        ``grad_key(root, w, j)``, as on every clock)."""
        p = self.problem
        return p.grad_from_noise(x, p.sample_noise(grad_key(self.root, w, j), w), w)


class RoundResult(NamedTuple):
    """A round's outcome: the new state, the job indices each worker consumed (``int32[n]``;
    the next round's draws start after them), the gradients computed (counted as
    ``received`` and ``used``) and the worker-seconds spent computing (``busy_time``)."""

    state: Any
    jobs: jax.Array
    grads: jax.Array
    busy: jax.Array


@dataclasses.dataclass(frozen=True)
class RoundMethod(Method):
    """Round-based methods (:mod:`jaxsim.sim.rounds`): the method owns its models (no server
    model, no server optimizer) and the clock runs round after round. Round ``r`` starts when
    round ``r - 1`` ends, lasts :meth:`duration` (from the state at its start) and applies
    :meth:`round` at its end. Durations come from :meth:`RoundEnv.draw` with the job indices
    in ``env.job`` (the same counter-based draws as the other clocks), gradients from
    :meth:`RoundEnv.grad`. Metrics are evaluated at :meth:`point`; :attr:`extras` names the
    method's own metrics (:meth:`metrics`). A method without workers ignores the draws and
    returns zero ``jobs``."""

    clock: ClassVar[str] = "rounds"
    #: Names of the metrics :meth:`metrics` adds to every recorded point.
    extras: ClassVar[tuple] = ()

    def duration(self, state, hp: dict, env: RoundEnv) -> jax.Array:
        """Seconds round ``env.r`` lasts, when it starts from ``state``."""
        raise NotImplementedError

    def min_round_time(self, hp: dict, timing) -> float:
        """A lower bound on every round's :meth:`duration` under the settings ``hp`` (name ->
        array over settings) and ``timing``, in seconds: the rounds clock bounds its loop by the
        horizon over it before compiling. ``0`` (the default): unknown, the loop is bounded by
        the int32 counters alone."""
        return 0.0

    def round(self, state, hp: dict, env: RoundEnv) -> RoundResult:
        """Round ``env.r``: the state at its end and its counts (the same draws as
        :meth:`duration` for that round)."""
        raise NotImplementedError

    def point(self, state) -> jax.Array:
        """The model the recorded metrics (loss, gradient norm, divergence) are evaluated at."""
        raise NotImplementedError

    def metrics(self, state, hp: dict, rounds) -> dict:
        """The :attr:`extras` metrics of ``state`` after ``rounds`` completed rounds."""
        return {}

    def check_dims(self, hp: dict[str, np.ndarray], d: int) -> None:
        """Raise ``ValueError`` for hyperparameter values that do not fit dimension ``d``."""

    def work_bytes(self, n: int, d: int, itemsize: int) -> int:
        """Transient bytes of one run's round besides its state (estimate)."""
        return 2 * d * itemsize


KINDS = (StreamMethod, ControlledMethod, AllocationMethod, RoundMethod)

#: Every registered method class by name (filled by :func:`register`).
REGISTRY: dict[str, type[Method]] = {}


def register(cls: type[Method]) -> type[Method]:
    """Class decorator: add a method to :data:`REGISTRY` under ``cls.name``."""
    if not (isinstance(cls, type) and issubclass(cls, KINDS)):
        raise ValueError(f"register: {cls!r} is not a StreamMethod, ControlledMethod, AllocationMethod or "
                         "RoundMethod")
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ValueError(f"method name {cls.name!r} is already registered")
    REGISTRY[cls.name] = cls
    return cls


def reference_rule(method_cls: type[Method]):
    """Class decorator: make the decorated plain-NumPy rule ``method_cls``'s reference rule
    (what :mod:`jaxsim.reference` runs for it)."""
    def deco(rule):
        method_cls.rule = rule
        return rule
    return deco


def max_count(hp, name) -> int:
    return int(np.max(hp[name])) if name in hp else 1
