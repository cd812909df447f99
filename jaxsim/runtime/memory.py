"""Memory budgets: what a batch (device) or a sampled duration table (host) may use.

The default budget is what the device has: a GPU's ``memory_stats()["bytes_limit"]``
when the backend reports it, else (CPU) half of the host's physical memory. Sweeps
estimate each batch before compiling and shrink batches to fit (see
:func:`jaxsim.sim.plan.batches`); the host-side duration table of a free-running
stream is checked before it is sampled (:func:`jaxsim.sim.events.sample_stream`).
On CPU, batches under the default budget also aim at :data:`CPU_BATCH_BYTES`
(:func:`default_batch_target`): a larger batch is not faster there, only larger; and their
models aim at :data:`CPU_MODELS_BYTES` per device (:func:`default_models_target`), the size
that stays in a core's cache.
"""

from __future__ import annotations

import os

import jax

#: Fraction of the host's physical memory a CPU run may use by default.
HOST_FRACTION = 0.5


def host_memory_budget() -> int:
    """Half of the host's physical memory (``SC_PAGE_SIZE * SC_PHYS_PAGES``); 8 GiB if unknown."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * HOST_FRACTION)
    except (ValueError, OSError, AttributeError):
        return 8 * 2 ** 30


def default_memory_budget(devices=None) -> int:
    """What one device has: its ``memory_stats()["bytes_limit"]`` when the backend reports it
    (GPUs), else (CPU) :func:`host_memory_budget` shared by this process's devices among
    ``devices`` (default ``jax.devices()[:1]``): CPU devices split one host's memory."""
    devices = list(devices) if devices else jax.devices()[:1]
    try:
        stats = devices[0].memory_stats() or {}
    except Exception:  # noqa: BLE001  backends without memory statistics
        stats = {}
    limit = stats.get("bytes_limit")
    if limit:
        return int(limit)
    local = sum(getattr(d, "process_index", jax.process_index()) == jax.process_index() for d in devices)
    return host_memory_budget() // max(local, 1)


#: What a batch aims at on CPU when no ``memory_budget`` is given (its estimate, which counts a
#: run's state twice: the resident batch is about half of it). A CPU gains nothing from larger
#: batches, while half of the host's memory made batches of gigabytes: the quick main job's
#: Ringmaster sweep ran 2 batches of 4.5 GB (4.6 GiB peak), now 10 of 0.9 GB (1.3 GiB peak) in no
#: more time. A batch of the fewest runs is never split further: then the budget alone rules.
CPU_BATCH_BYTES = 2 * 2 ** 30

#: What one CPU device's models (runs x d numbers) aim at when no ``memory_budget`` is given. An
#: event reads and writes a few arrays of that size (the job's point and result, the model, the
#: method's buffers), which stay in a core's cache up to about this size: on the paper's quadratic
#: (d = 1729), Rennala SGD's 210 runs took 22.9 s in one batch (105 runs per device, 0.73 MB of
#: models) and 15.1 s in batches of 21 runs per device (0.15 MB), 1000 simulated seconds, two
#: CPU devices (2-core CPU, load 1.6-1.8). Batches of the fewest runs are never split further.
CPU_MODELS_BYTES = 256 * 2 ** 10


def default_batch_target(devices=None):
    """The size batches aim at under the default budget: :data:`CPU_BATCH_BYTES` where the device
    reports no memory limit (CPU), ``None`` (as large as the budget allows) on GPUs."""
    devices = list(devices) if devices else jax.devices()[:1]
    try:
        stats = devices[0].memory_stats() or {}
    except Exception:  # noqa: BLE001  backends without memory statistics
        stats = {}
    return None if stats.get("bytes_limit") else CPU_BATCH_BYTES


def default_models_target(devices=None):
    """The size a batch's models (per device) aim at under the default budget:
    :data:`CPU_MODELS_BYTES` on CPU, ``None`` (no aim) on GPUs, which want wide batches."""
    return None if default_batch_target(devices) is None else CPU_MODELS_BYTES


def fmt_bytes(b) -> str:
    """``1.5 GB``-style sizes (powers of 1000)."""
    b = float(b)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(b) < 1000 or unit == "TB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.3g} {unit}"
        b /= 1000
    return f"{b:.3g} TB"


__all__ = ["CPU_BATCH_BYTES", "CPU_MODELS_BYTES", "HOST_FRACTION", "default_batch_target", "default_memory_budget",
           "default_models_target", "fmt_bytes", "host_memory_budget"]
