"""The runner: a clock's :class:`~jaxsim.sim.setup.Setup` run batch after batch.

:func:`run_setup` plans the batches (:mod:`jaxsim.sim.plan`) before anything is compiled,
builds the starting point once, runs each batch with the kernel (:data:`run_batch`,
:mod:`jaxsim.sim.kernel`), saves or loads finished batches in a checkpoint directory
(:mod:`jaxsim.runtime.checkpoint`), shows a progress bar (:class:`ProgressBar`) and returns the
metrics in the caller's order.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from ..runtime.checkpoint import as_checkpoint, config_components
from ..runtime.memory import default_memory_budget
from .kernel import global_inputs, run_batch
from .plan import batches, cost_group_size, describe_sizes, make_mesh, memory_estimate, mesh_shape, resolve_devices
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
    :func:`jaxsim.runtime.memory.default_memory_budget`), and a run that cannot fit raises
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

    ``devices`` (see :func:`~jaxsim.sim.plan.resolve_devices`; default: all of the default backend's): with more
    than one, each batch is sharded over a ``("seed", "setting")`` mesh of them
    (:func:`~jaxsim.sim.plan.mesh_shape`, :data:`run_batch`), padded with masked copies to a multiple of the
    mesh; ``memory_budget`` is then per device. A run's numbers do not depend on the devices."""
    order = sorted(range(len(settings)), key=lambda i: method.cost_key(settings[i]))  # stable
    S = setup.time.shape[0]
    devs = resolve_devices(devices)
    budget = default_memory_budget(devs) if memory_budget is None else memory_budget
    # sized from shapes: the starting point is built only once the plan fits the budget
    mem = memory_estimate(setup, problem, jax.eval_shape(problem.init), hp_arrays(method, list(settings)[:1], dtype))
    shape = mesh_shape(S, len(settings), len(devs))
    if batch_size is None and not setup.clock.independent:
        batch_size = cost_group_size(method, settings)
    plan = batches([settings[i] for i in order], mem.per_run, S, batch_size, budget, per_seed_bytes=mem.per_seed,
                   fixed_bytes=mem.fixed, describe=describe_sizes(setup, method, problem, mem), mesh=shape)
    x0 = jnp.asarray(problem.init())  # a run-time input of the kernel, never a foldable literal
    mesh = make_mesh(devs, shape) if len(devs) > 1 else None
    ckpt = as_checkpoint(checkpoint)
    if ckpt is not None:
        ckpt.open(config_components(setup, problem, settings, dtype))
    work = [(g, c) for g in range(len(plan.seed_groups)) for c in range(len(plan.chunks))]
    outs, t_first, loaded, computed = {}, None, [], []
    inputs = None
    bar = ProgressBar(S * len(settings), method.name, progress)
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
            bar.update(outs[g, c])
            continue
        if inputs is None or inputs[0] != g:
            whole = plan.seed_groups[g] == list(range(S))
            inputs = (g, (setup.seeds, setup.intervals, setup.t0) if whole else seed_inputs(setup, plan.seed_groups[g]))
        args = (problem, inputs[1][0], hp, inputs[1][1], inputs[1][2], x0)
        if mesh is not None:
            args = global_inputs(mesh, args, setup.clock)
        out = run_batch(setup.clock, *args, max_steps=setup.max_steps, mesh=mesh)
        outs[g, c] = {k: np.asarray(v)[:rs, :rp] for k, v in out.items()}  # padded runs dropped
        if ckpt is not None:
            ckpt.save(key, b, outs[g, c])
        computed.append(b)
        t_first = t_first or (time.perf_counter() - tb)
        bar.update(outs[g, c])
    bar.close()
    back = np.argsort(order)
    keys = outs[0, 0].keys()
    metrics = {k: np.concatenate([np.concatenate([outs[g, c][k] for c in range(len(plan.chunks))], axis=1)
                                  for g in range(len(plan.seed_groups))], axis=0)[:, back] for k in keys}
    info = dict(setup.info, batch_size=plan.settings_per_batch, seeds_per_batch=plan.seeds_per_batch,
                batches=plan.num_batches, padded_runs=plan.num_batches * plan.settings_per_batch * plan.seeds_per_batch
                - S * len(settings), memory_per_batch=plan.bytes_per_batch, memory_budget=int(budget),
                memory_per_run=mem.per_run, memory_per_seed=mem.per_seed, memory_shared=mem.fixed,
                seconds_first_batch=t_first, devices=len(devs), mesh=list(plan.mesh))
    if ckpt is not None:
        info.update(checkpoint_dir=str(ckpt.dir), config_hash=ckpt.config_hash, batches_loaded=loaded,
                    batches_computed=computed)
    return metrics, info


class ProgressBar:
    """A tqdm bar over a sweep's runs, advanced per batch: runs done, run-events per second
    (gradients received, summed over the batch's runs, per wall second) and the ETA. A no-op
    when disabled (the library's default; the CLI enables it when stderr is a terminal)."""

    def __init__(self, runs: int, desc: str, enabled: bool):
        self.bar, self.events, self.t0 = None, 0, time.perf_counter()
        if enabled:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=runs, desc=desc, unit="run", dynamic_ncols=True)

    def update(self, out: dict) -> None:
        if self.bar is None:
            return
        received = out.get("received")
        runs = int(np.prod(np.shape(received)[:2])) if received is not None else 0
        if received is not None:
            self.events += int(np.asarray(received)[..., -1].astype(np.int64).sum())
        rate = self.events / max(time.perf_counter() - self.t0, 1e-9)
        self.bar.set_postfix_str(f"{rate:.3g} run-events/s", refresh=False)
        self.bar.update(runs)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


__all__ = ["ProgressBar", "run_setup", "seed_inputs"]
