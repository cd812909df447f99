"""Split the host CPU into several JAX devices, so a sweep's batches use every core.

XLA runs one device's kernel on one thread at a time; a sweep sharded over ``K`` CPU devices
(:func:`jaxsim.sweep`'s ``devices``) runs ``K`` parts of each batch side by side. XLA reads
the device count once, when JAX first initializes its CPU backend, so this must run before any
JAX computation (importing ``jaxsim`` or ``jax`` does not initialize it).

>>> import jaxsim
>>> jaxsim.use_cpu_devices(2)        # before anything runs
>>> res = jaxsim.sweep(...)          # sharded over the 2 CPU devices
"""

from __future__ import annotations

import os
import re

FLAG = "--xla_force_host_platform_device_count"

#: Devices per core allowed: more devices than cores only share the cores, and XLA sets up
#: every device (its thread pools and memory) at startup, so a count in the hundreds spends
#: minutes there and can abort the process instead of running.
PER_CORE = 4


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


def use_cpu_devices(k: int) -> None:
    """Give JAX's CPU backend ``k`` devices (``XLA_FLAGS``; replaces a count already there).
    Raises ``ValueError`` naming ``cpu_devices`` if ``k`` is not an integer in
    ``[1, max_cpu_devices()]`` (:data:`PER_CORE` per core) or if JAX's backends are already
    initialized (then it would have no effect)."""
    check_cpu_devices(k)
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized():
        raise ValueError("cpu_devices: JAX's backends are already initialized; set the device count "
                         "before any JAX computation (or start Python with "
                         f"XLA_FLAGS={FLAG}={k})")
    flags = re.sub(rf"{FLAG}=\S*", "", os.environ.get("XLA_FLAGS", "")).split()
    os.environ["XLA_FLAGS"] = " ".join(flags + [f"{FLAG}={k}"])


__all__ = ["FLAG", "PER_CORE", "check_cpu_devices", "max_cpu_devices", "use_cpu_devices"]
