"""Split the host CPU into several JAX devices, so a sweep's batches use every core.

XLA runs one device's kernel on one thread at a time; a sweep sharded over ``K`` CPU devices
(:func:`jaxsim.sweep`'s ``devices``) runs ``K`` parts of each batch side by side. XLA reads
the device count once, when JAX first initializes its CPU backend, so this must run before any
JAX computation (importing ``jaxsim`` or ``jax`` does not initialize it).

>>> import jaxsim
>>> jaxsim.use_cpu_devices(2)        # before anything runs (no argument: one per core)
>>> res = jaxsim.sweep(...)          # sharded over the 2 CPU devices

The command line does this by default (:func:`apply_default`): one device per core, unless
``--cpu-devices K`` or ``$JAXSIM_CPU_DEVICES`` says otherwise (``1`` opts out) or ``XLA_FLAGS``
already sets the count. A sweep then shards only where that shortens it
(:func:`jaxsim.sim.plan.useful_devices`), and its numbers are the same on any number of devices.
Importing :mod:`jaxsim` changes nothing: in Python, call :func:`use_cpu_devices` yourself.
"""

from __future__ import annotations

import os
import re
import sys

FLAG = "--xla_force_host_platform_device_count"

#: Devices per core allowed: more devices than cores only share the cores, and XLA sets up
#: every device (its thread pools and memory) at startup, so a count in the hundreds spends
#: minutes there and can abort the process instead of running.
PER_CORE = 4

#: The default's ceiling: XLA's per-device startup grows with the count, and a batch rarely has
#: enough runs to fill more (each device runs at least ``MIN_AXIS`` x ``MIN_AXIS`` of them).
AUTO_MAX = 16

#: The environment variable the command line's default reads (an integer; ``1``: no split).
ENV = "JAXSIM_CPU_DEVICES"


def max_cpu_devices() -> int:
    """The largest device count :func:`use_cpu_devices` accepts: :data:`PER_CORE` times the
    host's cores (``os.cpu_count()``)."""
    return PER_CORE * (os.cpu_count() or 1)


def check_cpu_devices(k) -> int:
    """``k`` as an ``int`` if it is an integer in ``[1, max_cpu_devices()]``, else ``ValueError``
    naming ``cpu_devices``. Touches nothing of JAX."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"cpu_devices: expected a positive integer, got {k!r}")
    limit = max_cpu_devices()
    if k > limit:
        raise ValueError(f"cpu_devices: {k} is more than {PER_CORE} devices per core of this host "
                         f"({os.cpu_count() or 1} cores, so at most {limit}); devices beyond the cores "
                         "only share them")
    return k


def default_cpu_devices() -> int:
    """The command line's device count: ``$JAXSIM_CPU_DEVICES`` when set (checked like
    :func:`check_cpu_devices`), else one per core (``os.cpu_count()``, at most :data:`AUTO_MAX`)."""
    text = os.environ.get(ENV, "").strip()
    if text:
        try:
            return check_cpu_devices(int(text))
        except ValueError:
            raise ValueError(f"cpu_devices: ${ENV}={text!r} is not a device count from 1 to "
                             f"{max_cpu_devices()}") from None
    return max(1, min(os.cpu_count() or 1, AUTO_MAX))


def apply_default() -> int:
    """Split the CPU as :func:`default_cpu_devices` says, when nothing else decided already:
    not when ``XLA_FLAGS`` names a device count, nor once JAX's backends are running (then a
    split would have no effect; a command run from Python inside a session keeps its devices).
    Returns the count set, or 0 when it left things as they were."""
    k = default_cpu_devices()
    if k == 1 or FLAG in os.environ.get("XLA_FLAGS", "") or _backends_running():
        return 0
    use_cpu_devices(k)
    return k


def _backends_running() -> bool:
    if "jax" not in sys.modules:  # nothing can have started them; importing JAX here costs the CLI a second
        return False
    from jax._src import xla_bridge

    return xla_bridge.backends_are_initialized()


def use_cpu_devices(k: int | None = None) -> None:
    """Give JAX's CPU backend ``k`` devices (``XLA_FLAGS``; replaces a count already there);
    ``None``: :func:`default_cpu_devices` (one per core). Raises ``ValueError`` naming
    ``cpu_devices`` if ``k`` is not an integer in ``[1, max_cpu_devices()]`` (:data:`PER_CORE`
    per core) or if JAX's backends are already initialized (then it would have no effect)."""
    k = default_cpu_devices() if k is None else check_cpu_devices(k)
    if _backends_running():
        raise ValueError("cpu_devices: JAX's backends are already initialized; set the device count "
                         "before any JAX computation (or start Python with "
                         f"XLA_FLAGS={FLAG}={k})")
    flags = re.sub(rf"{FLAG}=\S*", "", os.environ.get("XLA_FLAGS", "")).split()
    os.environ["XLA_FLAGS"] = " ".join(flags + [f"{FLAG}={k}"])


__all__ = ["AUTO_MAX", "ENV", "FLAG", "PER_CORE", "apply_default", "check_cpu_devices", "default_cpu_devices",
           "max_cpu_devices", "use_cpu_devices"]
