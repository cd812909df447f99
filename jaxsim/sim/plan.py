"""The batch plan: devices, the memory a batch needs, and how seeds x settings split into batches.

* :func:`resolve_devices`, :func:`mesh_shape`, :func:`make_mesh` -- the devices a sweep shards
  over and how a batch lies on them.
* :func:`memory_estimate` (:class:`Memory`) -- a batch's bytes from the exact shapes of one
  run's state, before anything is allocated or compiled.
* :func:`batches` (:class:`BatchPlan`) -- equal-shape batches under a memory budget, padded to
  at least :data:`MIN_AXIS` seeds and settings; :func:`cost_group_size` keeps a loop clock's
  batch to one cost group.
"""

from __future__ import annotations

import collections
import math
import warnings
from typing import NamedTuple

import jax
import numpy as np
from jax.sharding import Mesh

from ..runtime.memory import default_memory_budget, fmt_bytes
from .setup import Setup


#: A compiled batch never has an axis (seeds, settings) of size 1: with a size-1 axis XLA
#: fuses differently (broadcasting one seed's shared work over the settings becomes free, so
#: it fuses into each run's loop, where LLVM contracts ``a * b + c`` into one FMA, and
#: reductions are emitted another way), which changes a run's results by rounding. Batches
#: are padded with copies to at least this many seeds and settings, so a run's numbers do not
#: depend on what else shares its batch (the copies are dropped before their metrics leave
#: the device). Only a memory budget too small for that batch runs size-1 axes (with a warning).
MIN_AXIS = 2

#: Bytes per run and recorded point (the metrics, with room for a clock's extra ones).
METRIC_BYTES_PER_POINT = 16 * 8


def resolve_devices(devices=None) -> list:
    """The devices a sweep shards over: ``None``, every device of the default backend
    (``jax.devices()``: with :func:`jax.distributed.initialize`, every host's); an integer
    ``k``, the first ``k`` of them; or a sequence of :class:`jax.Device`. Raises ``ValueError``
    naming ``devices`` otherwise."""
    every = jax.devices()
    if devices is None:
        return list(every)
    if isinstance(devices, (int, np.integer)) and not isinstance(devices, (bool, np.bool_)):
        if not 1 <= devices <= len(every):
            raise ValueError(f"devices: {int(devices)} requested, but the {jax.default_backend()} backend has "
                             f"{len(every)} (1 to {len(every)}, or None for all)")
        return list(every[:int(devices)])
    if isinstance(devices, (str, bytes)) or not hasattr(devices, "__iter__"):
        raise ValueError(f"devices: expected None, a count or a list of jax devices, got {devices!r}")
    out = list(devices)
    if not out or not all(isinstance(d, jax.Device) for d in out):
        raise ValueError(f"devices: expected a non-empty list of jax devices, got {devices!r}")
    if len({d.id for d in out}) != len(out):
        raise ValueError(f"devices: the same device is listed twice in {out}")
    if len({d.platform for d in out}) != 1:
        raise ValueError(f"devices: all must be of one platform, got {sorted({d.platform for d in out})}")
    return out


def mesh_shape(S: int, P: int, k: int) -> tuple[int, int]:
    """How ``k`` devices split a sweep of ``S`` seeds x ``P`` settings: ``(ds, dp)`` devices over
    seeds and settings, ``ds * dp = k``, the split that computes the fewest runs when every
    device gets at least :data:`MIN_AXIS` of each (ties: more devices over settings, whose
    seeds' shared inputs are then copied to fewer devices)."""
    ds = min((ds for ds in range(1, k + 1) if k % ds == 0), key=lambda ds: (local_runs(S, P, ds, k // ds), ds))
    return ds, k // ds


def local_runs(S: int, P: int, ds: int, dp: int) -> int:
    """Runs one device computes when ``ds x dp`` devices split ``S`` seeds x ``P`` settings
    (each gets at least :data:`MIN_AXIS` of both: padding included)."""
    return max(math.ceil(S / ds), MIN_AXIS) * max(math.ceil(P / dp), MIN_AXIS)


def useful_devices(S: int, P: int, devices: list) -> list:
    """The first of ``devices`` that a sweep of ``S`` seeds x ``P`` settings gains from: the
    fewest that reach the smallest batch per device (:func:`mesh_shape`'s count). Every device
    runs at least :data:`MIN_AXIS` seeds x settings, so a sweep of a few runs gains nothing from a
    second one and would only compute its padding there (a single run stays on one device)."""
    k = min(range(1, len(devices) + 1), key=lambda k: (local_runs(S, P, *mesh_shape(S, P, k)), k))
    return list(devices[:k])


def make_mesh(devices: list, shape: tuple[int, int]) -> Mesh:
    """A ``("seed", "setting")`` mesh of ``devices`` (row-major: a seed group's devices adjacent)."""
    return Mesh(np.asarray(devices, dtype=object).reshape(shape), ("seed", "setting"))


def _itemsize(dtype) -> int:
    if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):  # a typed key: its words of uint32
        try:
            return 4 * math.prod(dtype._impl.key_shape)
        except AttributeError:
            return 16
    return np.dtype(dtype).itemsize


def tree_bytes(tree) -> int:
    """Bytes of the arrays (or shape structs) of a pytree (typed PRNG keys included)."""
    return int(sum(math.prod(np.shape(a)) * _itemsize(a.dtype) for a in jax.tree.leaves(tree)))


class Memory(NamedTuple):
    """Estimated bytes of a batch: ``fixed + s * per_seed + s * p * per_run`` for ``s`` seeds x
    ``p`` settings (see :func:`memory_estimate`)."""

    per_run: int  # two copies of a run's state (a loop's carry in and out), its metrics, transients
    per_seed: int  # a seed's inputs: event tensors, pre-drawn noise, worker facts, keys
    fixed: int  # shared by every run: the problem's arrays and x^0
    state: int  # one run's state: model, point store, optimizer and method state, per-worker vectors


def memory_estimate(setup: Setup, problem, x0, hp: dict) -> Memory:
    """The memory of ``setup``'s batches, from the exact shapes of one run's state
    (``jax.eval_shape`` of the clock's ``init``: nothing is allocated or compiled)."""
    S = setup.time.shape[0]
    G = setup.time.shape[1] - 1
    seed0 = jax.tree.map(lambda a: a[0], setup.seeds)
    hp0 = {k: v[0] for k, v in hp.items()}
    state = tree_bytes(jax.eval_shape(lambda s, h, x: setup.clock.init(problem, s, h, x), seed0, hp0, x0))
    per_run = 2 * state + (G + 1) * METRIC_BYTES_PER_POINT + int(setup.per_run_bytes)
    per_seed = -(-tree_bytes((setup.seeds, setup.intervals, setup.t0)) // S) + int(setup.per_seed_bytes)
    return Memory(per_run=per_run, per_seed=per_seed, fixed=tree_bytes(problem) + tree_bytes(x0), state=state)


class BatchPlan(NamedTuple):
    """How ``S`` seeds x ``P`` settings run: ``len(seed_groups) x len(chunks)`` calls of one
    compiled kernel of ``seeds_per_batch x settings_per_batch`` runs."""

    chunks: list  # settings of each batch, padded with copies of its last setting
    real: list  # real settings in each chunk (the rest is padding)
    seed_groups: list  # seed indices of each batch, padded with copies of the group's last seed
    seeds_real: list  # real seeds in each group
    settings_per_batch: int
    seeds_per_batch: int
    bytes_per_batch: int  # the estimate of one batch (of one device's part when sharded)
    mesh: tuple = (1, 1)  # devices over (seeds, settings) of a batch

    @property
    def num_batches(self) -> int:
        return len(self.chunks) * len(self.seed_groups)

    @property
    def padding(self) -> float:
        """Fraction of the computed runs that are padding."""
        real = sum(self.real) * sum(self.seeds_real)
        return 1.0 - real / (self.num_batches * self.settings_per_batch * self.seeds_per_batch)


def _split(items: list, n: int, size: int):
    """``items`` in ``n`` contiguous parts of balanced lengths, each padded to ``size`` with
    copies of its last item; returns ``(parts, real lengths)``."""
    base, extra = divmod(len(items), n)
    parts, real, i = [], [], 0
    for g in range(n):
        k = base + (g < extra)
        part = list(items[i:i + k])
        i += k
        parts.append(part + [part[-1]] * (size - k))
        real.append(k)
    return parts, real


def _count(total: int, cap: int, q: int) -> int:
    """How many batches of at most ``cap`` items (at least ``q`` each, padding included) carry
    ``total`` items with the least padding (ties: fewer batches). Balanced batches of
    ``ceil(total / k)`` pad fewer than ``k`` items; trying up to twice the fewest batches
    keeps the padding small whatever the cap."""
    k_min = math.ceil(total / cap)
    return min(range(k_min, max(k_min, min(2 * k_min, total)) + 1),
               key=lambda k: (k * max(math.ceil(total / k), q) - total, k))


def batches(settings: list, per_run_bytes: int, S: int, batch_size, memory_budget, *, per_seed_bytes: int = 0,
            fixed_bytes: int = 0, describe: str = "", mesh: tuple = (1, 1), target_bytes=None,
            model_bytes: int = 0, models_target=None) -> BatchPlan:
    """Plan the batches of ``S`` seeds x ``settings`` under ``memory_budget`` bytes (a batch of
    ``s`` seeds x ``p`` settings is estimated at ``fixed + s * per_seed + s * p * per_run``).

    Every batch has the same shape (one compilation) and at least :data:`MIN_AXIS` seeds and
    settings (padded with copies). All seeds share a batch unless ``MIN_AXIS`` settings of all
    of them do not fit (then the seeds are split too); the number of batches is the fewest
    that fit (and at most ``batch_size`` settings each), adjusted to pad as little as
    possible; the settings are then split evenly, so the padding is less than one run per
    batch. Raises ``ValueError`` before anything is allocated or compiled when a single run
    does not fit (``describe`` names the sizes).

    ``mesh = (ds, dp)``: a batch is sharded over ``ds x dp`` devices, its seeds over ``ds`` and
    its settings over ``dp`` (see :func:`mesh_shape`). The budget, the ``MIN_AXIS`` floor and the
    estimate are then per device: each device runs a local batch of ``s x p`` runs, and a batch
    has ``ds * s`` seeds and ``dp * p`` settings (``batch_size`` caps the settings of a whole batch).

    ``target_bytes`` (the runner gives :func:`~jaxsim.runtime.memory.default_batch_target` under the
    default budget: 2 GiB on CPU): batches are sized to it instead of the budget, except that a
    batch of the fewest runs (``MIN_AXIS`` seeds x settings) larger than it runs as it is when it
    fits the budget. It changes what shares a batch, never whether a run fits.

    ``models_target`` (the runner gives :func:`~jaxsim.runtime.memory.default_models_target` under
    the default budget: 256 KiB on CPU): a device's settings are also capped so that its runs'
    models (``model_bytes`` each) stay within it, down to ``MIN_AXIS`` settings."""
    P = len(settings)
    budget = float(default_memory_budget() if memory_budget is None else memory_budget)

    def need(s, p):
        return fixed_bytes + s * per_seed_bytes + s * p * per_run_bytes

    for q in (MIN_AXIS, 1):
        if need(q, q) <= budget:
            break
    else:
        raise ValueError(
            f"memory: one run needs an estimated {fmt_bytes(need(1, 1))} (per run {fmt_bytes(per_run_bytes)}, "
            f"per seed {fmt_bytes(per_seed_bytes)}, shared {fmt_bytes(fixed_bytes)}"
            f"{'; ' + describe if describe else ''}), more than the memory budget of {fmt_bytes(budget)}: "
            "reduce the sizes (or raise memory_budget if the device has more)")
    if q < MIN_AXIS:
        warnings.warn(f"memory: a batch of {MIN_AXIS} seeds x {MIN_AXIS} settings ({fmt_bytes(need(q + 1, q + 1))}) "
                      f"exceeds the memory budget of {fmt_bytes(budget)}; running one run per batch, whose results "
                      "may differ by rounding from the same run in a larger batch", stacklevel=3)
    if target_bytes is not None:  # size to the target; the smallest batch may exceed it, never the budget
        budget = min(budget, max(float(target_bytes), need(q, q)))
    ds, dp = mesh
    S_loc, P_loc = math.ceil(S / ds), math.ceil(P / dp)  # per device, in one batch
    s_fit = int((budget - fixed_bytes) // (per_seed_bytes + q * per_run_bytes))
    n_groups = _count(S_loc, min(S_loc, s_fit), q) if S_loc > s_fit else 1
    s_b = max(math.ceil(S_loc / n_groups), q)
    p_fit = int((budget - fixed_bytes - s_b * per_seed_bytes) // (s_b * per_run_bytes))
    if models_target is not None and model_bytes > 0:
        p_fit = min(p_fit, max(q, int(models_target // (s_b * model_bytes))))
    cap = max(1, min(P_loc, p_fit, P_loc if batch_size is None else math.ceil(int(batch_size) / dp)))
    n_chunks = _count(P_loc, cap, q)
    p_b = max(math.ceil(P_loc / n_chunks), q)
    chunks, real = _split(list(settings), n_chunks, dp * p_b)
    groups, seeds_real = _split(list(range(S)), n_groups, ds * s_b)
    return BatchPlan(chunks=chunks, real=real, seed_groups=groups, seeds_real=seeds_real,
                     settings_per_batch=dp * p_b, seeds_per_batch=ds * s_b, bytes_per_batch=int(need(s_b, p_b)),
                     mesh=(ds, dp))


def describe_sizes(setup: Setup, method, problem, mem: Memory) -> str:
    """The sizes behind a memory estimate, for error messages."""
    info = setup.info
    n = int(np.shape(setup.seeds.ctx.tau)[-1])
    parts = [f"{method.name}: n={n} workers, d={problem.dim}"]
    if "window" in info:
        parts.append(f"point store W={info['window']} x d ({info.get('store', 'ring')})")
    if "events_per_seed" in info:
        parts.append(f"up to {max(info['events_per_seed'])} events per seed in {setup.time.shape[1] - 1} "
                     f"chunks of {info.get('chunk')}")
    if "slots" in info:
        parts.append(f"{info['slots']} gradient slots per iteration")
    parts.append(f"state {fmt_bytes(mem.state)} per run")
    return ", ".join(parts)


def cost_group_size(method, settings: list) -> int | None:
    """Settings per batch for a clock whose batch steps together (a loop runs as many steps as
    its busiest run needs): the largest group of settings sharing a cost key (e.g. Ringmaster's
    ``R``: the stepsizes of one threshold see the same events), so a batch does not make runs of
    a cheap key wait on a costly one. ``None`` (no cap) when every setting has the same key."""
    sizes = collections.Counter(method.cost_key(s) for s in settings)
    return None if len(sizes) == 1 else max(sizes.values())


__all__ = ["METRIC_BYTES_PER_POINT", "MIN_AXIS", "BatchPlan", "Memory", "batches", "cost_group_size",
           "describe_sizes", "local_runs", "make_mesh", "memory_estimate", "mesh_shape", "resolve_devices",
           "tree_bytes", "useful_devices"]
