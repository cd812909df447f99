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


def use_cpu_devices(k: int) -> None:
    """Give JAX's CPU backend ``k`` devices (``XLA_FLAGS``; replaces a count already there).
    Raises ``ValueError`` naming ``cpu_devices`` if ``k`` is not a positive integer or if JAX's
    backends are already initialized (then it would have no effect)."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"cpu_devices: expected a positive integer, got {k!r}")
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized():
        raise ValueError("cpu_devices: JAX's backends are already initialized; set the device count "
                         "before any JAX computation (or start Python with "
                         f"XLA_FLAGS={FLAG}={k})")
    flags = re.sub(rf"{FLAG}=\S*", "", os.environ.get("XLA_FLAGS", "")).split()
    os.environ["XLA_FLAGS"] = " ".join(flags + [f"{FLAG}={k}"])


__all__ = ["FLAG", "use_cpu_devices"]
