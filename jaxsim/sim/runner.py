"""The runner: a clock's :class:`~jaxsim.sim.setup.Setup` run batch after batch.

:func:`run_setup` plans the batches (:mod:`jaxsim.sim.plan`) before anything is compiled,
builds the starting point once, runs each batch with the kernel (:data:`run_batch`,
:mod:`jaxsim.sim.kernel`), saves or loads finished batches in a checkpoint directory
(:mod:`jaxsim.runtime.checkpoint`), shows a progress bar (:class:`ProgressBar`) and returns the
metrics in the caller's order.
"""

from __future__ import annotations

import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from ..runtime.checkpoint import as_checkpoint, config_components
from ..runtime.memory import default_batch_target, default_memory_budget, default_models_target
from .kernel import global_inputs, run_batch
from .plan import batches, cost_group_size, describe_sizes, make_mesh, memory_estimate, mesh_shape, resolve_devices, \
    useful_devices
from .setup import Setup, hp_arrays


def seed_inputs(setup: Setup, idx):
    """``(seeds, intervals, t0)`` of ``setup`` for the seeds ``idx`` (indices, repeats allowed)."""
    idx = np.asarray(idx)
    seeds = jax.tree.map(lambda a: a[idx], setup.seeds)
    if setup.clock.independent:  # intervals [S, G, ...]
        intervals = jax.tree.map(lambda a: a[idx], setup.intervals)
    else:  # intervals [G, S]
        intervals = jax.tree.map(lambda a: a[:, idx], setup.intervals)
    return seeds, intervals, jax.tree.map(lambda a: a[idx], setup.t0)


def run_setup(setup: Setup, method, problem, settings, *, batch_size=None, memory_budget=None, progress=False,
              dtype=None, checkpoint=None, devices=None):
    """The one batch runner: every clock's settings in equal-size batches, grouped by the
    method's cost key (an in-scan loop runs as many steps as its busiest run needs).
    Returns ``(metrics [S, P, G + 1] in the caller's order, info)``.

    Batches are planned by :func:`~jaxsim.sim.plan.batches` from
    :func:`~jaxsim.sim.plan.memory_estimate` before anything is
    compiled: they fit ``memory_budget`` bytes (``None``: what the device has,
    :func:`jaxsim.runtime.memory.default_memory_budget`, and on CPU batches then aim at
    :data:`~jaxsim.runtime.memory.CPU_BATCH_BYTES`, ``info["memory_target"]``, with a device's
    models within :data:`~jaxsim.runtime.memory.CPU_MODELS_BYTES`), and a run that cannot fit raises
    ``ValueError`` naming the sizes. ``info`` reports the plan (``batch_size`` settings x
    ``seeds_per_batch`` seeds per call, ``batches`` calls, ``padded_runs``) and the estimate
    in bytes (``memory_per_batch``, ``memory_budget`` and the parts ``memory_per_run``,
    ``memory_per_seed``, ``memory_shared``: see :class:`~jaxsim.sim.plan.Memory`). A clock whose batch steps
    together gets batches of at most one cost group (:func:`~jaxsim.sim.plan.cost_group_size`) unless
    ``batch_size`` is given.

    ``checkpoint`` (a directory or a :class:`~jaxsim.runtime.checkpoint.Checkpoint`): each finished
    batch is saved there atomically under a hash of its configuration, and batches already
    there are loaded instead of computed (``info["batches_loaded"]`` /
    ``info["batches_computed"]``: batch indices); another configuration's directory is refused.

    ``devices`` (see :func:`~jaxsim.sim.plan.resolve_devices`; default: those of the default backend's that
    shorten the sweep, :func:`~jaxsim.sim.plan.useful_devices`): with more
    than one, each batch is sharded over a ``("seed", "setting")`` mesh of them
    (:func:`~jaxsim.sim.plan.mesh_shape`, :data:`run_batch`), padded with masked copies to a multiple of the
    mesh; ``memory_budget`` is then per device. A run's numbers do not depend on the devices.

    ``progress``: ``False`` (nothing), ``True`` or ``"bar"`` (a bar on stderr), ``"lines"`` (a plain
    line on stderr at most every :data:`LINE_SECONDS`: logs): see :class:`ProgressBar`. It advances
    after each segment of a batch's loop and changes no number."""
    order = sorted(range(len(settings)), key=lambda i: method.cost_key(settings[i]))  # stable
    S = setup.time.shape[0]
    devs = resolve_devices(devices)
    if devices is None:
        devs = useful_devices(S, len(settings), devs)
    budget = default_memory_budget(devs) if memory_budget is None else memory_budget
    target = default_batch_target(devs) if memory_budget is None else None
    # sized from shapes: the starting point is built only once the plan fits the budget
    mem = memory_estimate(setup, problem, jax.eval_shape(problem.init), hp_arrays(method, list(settings)[:1], dtype))
    shape = mesh_shape(S, len(settings), len(devs))
    if batch_size is None and not setup.clock.independent:
        batch_size = cost_group_size(method, settings)
    plan = batches([settings[i] for i in order], mem.per_run, S, batch_size, budget, per_seed_bytes=mem.per_seed,
                   fixed_bytes=mem.fixed, describe=describe_sizes(setup, method, problem, mem), mesh=shape,
                   target_bytes=target, model_bytes=problem.dim * np.dtype(dtype or problem.dtype).itemsize,
                   models_target=default_models_target(devs) if memory_budget is None else None)
    x0 = jnp.asarray(problem.init())  # a run-time input of the kernel, never a foldable literal
    mesh = make_mesh(devs, shape) if len(devs) > 1 else None
    ckpt = as_checkpoint(checkpoint)
    if ckpt is not None:
        ckpt.open(config_components(setup, problem, settings, dtype))
    work = [(g, c) for g in range(len(plan.seed_groups)) for c in range(len(plan.chunks))]
    outs, t_first, loaded, computed = {}, None, [], []
    inputs = None
    bar = ProgressBar(S * len(settings), method.name, progress, times=setup.time)
    for b, (g, c) in enumerate(work):
        tb = time.perf_counter()
        hp = hp_arrays(method, plan.chunks[c], dtype)
        rs, rp = plan.seeds_real[g], plan.real[c]
        key = None if ckpt is None else ckpt.key(hp if len(plan.seed_groups) == 1 else
                                                 dict(hp, seed_group=np.asarray(plan.seed_groups[g])))
        out = None if ckpt is None else ckpt.load(key)
        if out is not None:
            outs[g, c] = out
            loaded.append(b)
            bar.batch_loaded(rs * rp)
            continue
        if inputs is None or inputs[0] != g:
            whole = plan.seed_groups[g] == list(range(S))
            inputs = (g, (setup.seeds, setup.intervals, setup.t0) if whole else seed_inputs(setup, plan.seed_groups[g]))
        args = (problem, inputs[1][0], hp, inputs[1][1], inputs[1][2], x0)
        if mesh is not None:
            args = global_inputs(mesh, args, setup.clock)
        bar.batch_start(rs * rp)
        report = None if not bar.enabled else (
            lambda done, recorded, received, rs=rs, rp=rp: bar.segment(
                done, recorded, None if received is None else int(received[:rs, :rp].astype(np.int64).sum())))
        out = run_batch(setup.clock, *args, max_steps=setup.max_steps, mesh=mesh, on_segment=report)
        outs[g, c] = {k: np.asarray(v)[:rs, :rp] for k, v in out.items()}  # padded runs dropped
        if ckpt is not None:
            ckpt.save(key, b, outs[g, c])
        computed.append(b)
        t_first = t_first or (time.perf_counter() - tb)
        received = outs[g, c].get("received")
        bar.batch_end(None if received is None else int(received[..., -1].astype(np.int64).sum()))
    bar.close()
    back = np.argsort(order)
    keys = outs[0, 0].keys()
    metrics = {k: np.concatenate([np.concatenate([outs[g, c][k] for c in range(len(plan.chunks))], axis=1)
                                  for g in range(len(plan.seed_groups))], axis=0)[:, back] for k in keys}
    info = dict(setup.info, batch_size=plan.settings_per_batch, seeds_per_batch=plan.seeds_per_batch,
                batches=plan.num_batches, padded_runs=plan.num_batches * plan.settings_per_batch * plan.seeds_per_batch
                - S * len(settings), memory_per_batch=plan.bytes_per_batch, memory_budget=int(budget),
                memory_target=None if target is None else int(target),
                memory_per_run=mem.per_run, memory_per_seed=mem.per_seed, memory_shared=mem.fixed,
                seconds_first_batch=t_first, devices=len(devs), mesh=list(plan.mesh))
    if ckpt is not None:
        info.update(checkpoint_dir=str(ckpt.dir), config_hash=ckpt.config_hash, batches_loaded=loaded,
                    batches_computed=computed)
    return metrics, info


#: What ``progress=`` takes (see :class:`ProgressBar`).
PROGRESS_MODES = (False, None, True, "bar", "lines")


def check_progress(mode) -> None:
    """``ValueError`` unless ``mode`` is one of :data:`PROGRESS_MODES`."""
    if not any(mode is m or (isinstance(m, str) and mode == m) for m in PROGRESS_MODES):
        raise ValueError(f"progress: expected False, True, 'bar' or 'lines', got {mode!r}")


#: Seconds between two plain progress lines (``progress="lines"``: stderr not a terminal): a line
#: comes when at least this long has passed since the process's previous one, never sooner.
LINE_SECONDS = 30.0


class Throttle:
    """Lets a plain progress line through when :data:`LINE_SECONDS` (or ``interval``) have passed
    since the previous one, or since the throttle first saw a sweep start. One per process
    (:data:`LINES`), so a figure's sweeps together print no more often; ``clock`` is for tests."""

    def __init__(self, interval=None, clock=time.monotonic):
        self.interval, self.clock, self.last = interval, clock, None

    def start(self) -> None:
        if self.last is None:
            self.last = self.clock()

    def ready(self) -> bool:
        now = self.clock()
        if self.last is None:
            self.last = now
        if now - self.last < (LINE_SECONDS if self.interval is None else self.interval):
            return False
        self.last = now
        return True


#: The process's throttle of plain progress lines.
LINES = Throttle()


#: Seconds between two redraws of the bar (``progress="bar"``).
BAR_SECONDS = 0.5
_BAR = "{desc}: {percentage:3.0f}%|{bar}| "


def _clock_text(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class ProgressBar:
    """A sweep's progress over its runs, advanced after each segment of a batch's loop (so it moves
    inside a batch, with the simulated time the batch's runs have reached): runs done (a batch's
    runs count in proportion to its loop units done), the simulated time, run-events per second
    (gradients received, summed over the runs, per wall second) and the ETA (from the pace since
    the first segment, which compiled, ended).

    ``mode``: ``False``/``None`` (a no-op: the library's default), ``True`` or ``"bar"`` (a tqdm
    bar on stderr; the CLI's choice on a terminal), ``"lines"`` (one plain line on ``stream``,
    default stderr, when ``throttle`` lets one through: at most one every :data:`LINE_SECONDS`
    in a process; the CLI's choice when stderr is not a terminal, e.g. under ``make`` with output
    redirected). ``times``: the recording times ``[S, G + 1]`` (the simulated time shown)."""

    def __init__(self, runs: int, desc: str, mode=False, *, times=None, throttle=None, stream=None,
                 clock=time.perf_counter):
        check_progress(mode)
        self.mode = "bar" if mode is True else (mode or None)
        self.runs, self.desc, self.clock = int(runs), desc, clock
        self.times = None if times is None else np.median(np.asarray(times, np.float64), axis=0)
        self.throttle = LINES if throttle is None else throttle
        self.stream = stream
        self.t0 = clock()
        self.done_runs, self.events = 0.0, 0  # finished batches (computed or loaded); their events
        self.batch_runs, self.fraction, self.batch_events, self.recorded = 0, 0.0, 0, 0
        self.pace = None  # (clock, runs done) at the end of the first segment: the ETA's origin
        self.bar, self.drawn = None, -float("inf")
        if self.mode == "bar":
            from tqdm.auto import tqdm
            self.bar = tqdm(total=self.runs, desc=desc, unit="run", dynamic_ncols=True, bar_format=_BAR, file=stream)
        elif self.mode == "lines":
            self.throttle.start()

    @property
    def enabled(self) -> bool:
        return self.mode is not None

    def batch_start(self, runs: int) -> None:
        self.batch_runs, self.fraction, self.batch_events, self.recorded = int(runs), 0.0, 0, 0

    def segment(self, done: float, recorded: int, received) -> None:
        """After a segment: ``done`` of the batch's loop, ``recorded`` intervals finished by
        every run, ``received`` gradients summed over the batch's real runs at the last of them."""
        self.fraction, self.recorded = float(done), int(recorded)
        if received is not None:
            self.batch_events = int(received)
        if self.pace is None:
            self.pace = (self.clock(), self.runs_done)
        self._show()

    def batch_end(self, received) -> None:
        self.done_runs += self.batch_runs
        self.events += int(received or 0)
        self.batch_runs, self.fraction, self.batch_events = 0, 0.0, 0
        self._show()

    def batch_loaded(self, runs: int) -> None:
        """A batch read from a checkpoint: its runs count, its events (no time spent) do not."""
        self.done_runs += int(runs)
        if self.pace is not None:
            self.pace = (self.pace[0], self.pace[1] + int(runs))
        self._show()

    @property
    def runs_done(self) -> float:
        return self.done_runs + self.batch_runs * self.fraction

    def text(self) -> str:
        """Runs done, simulated time, run-events/s, elapsed and ETA, in one line."""
        now = self.clock()
        elapsed = now - self.t0
        done = self.runs_done
        parts = [f"{done:.1f}/{self.runs} runs" if done % 1 else f"{int(done)}/{self.runs} runs"]
        if self.batch_runs and self.times is not None and self.recorded:
            parts.append(f"t={self.times[min(self.recorded, len(self.times) - 1)]:.4g}/{self.times[-1]:.4g} s")
        events = self.events + self.batch_events
        parts.append(f"{events / max(elapsed, 1e-9):.3g} run-events/s")
        parts.append(f"{_clock_text(elapsed)} elapsed")
        if done < self.runs and self.pace is not None and done > self.pace[1] and now > self.pace[0]:
            eta = (self.runs - done) * (now - self.pace[0]) / (done - self.pace[1])
            parts.append(f"ETA {_clock_text(eta)}")
        return ", ".join(parts)

    def _show(self) -> None:
        if self.bar is not None:  # redrawn at most every BAR_SECONDS, the text as it is (a postfix leads with ", ")
            now = self.clock()
            if now - self.drawn >= BAR_SECONDS or self.runs_done >= self.runs:
                self.bar.bar_format = _BAR + self.text().replace("{", "{{").replace("}", "}}")
                self.bar.n = self.runs_done
                self.bar.refresh()
                self.drawn = now
        elif self.mode == "lines" and self.throttle.ready():
            pct = 100.0 * self.runs_done / max(self.runs, 1)
            print(f"jaxsim: {self.desc}: {pct:.1f} %: {self.text()}", file=self.stream or sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.drawn = -float("inf")
            self._show()
            self.bar.close()


__all__ = ["LINES", "LINE_SECONDS", "PROGRESS_MODES", "ProgressBar", "Throttle", "check_progress", "run_setup",
           "seed_inputs"]
