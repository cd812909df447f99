"""Provenance: what made a result (versions, device, source commit, date), saved beside it.

Every :class:`~jaxsim.sweep.SweepResult` carries ``info["provenance"]`` and every figure run
writes it into its ``figure.json``, so a number in a paper can be traced to the code and
machine that produced it.
"""

from __future__ import annotations

import datetime
import functools
import platform
import subprocess
from pathlib import Path


@functools.lru_cache(maxsize=1)
def git_commit() -> dict:
    """``{"commit": sha, "dirty": bool}`` of the source tree jaxsim was imported from, or
    ``{"commit": None}`` when it is not a git checkout (an installed wheel) or git is missing."""
    root = Path(__file__).resolve().parents[2]  # above the jaxsim package
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip() != ""
    except (OSError, subprocess.SubprocessError):
        return {"commit": None}
    return {"commit": sha, "dirty": dirty}


def environment() -> dict:
    """What a run's numbers depend on besides its inputs: the versions of jaxsim, JAX, jaxlib,
    NumPy and optax, whether x64 is on, and the device (``platform:kind``). Part of every
    checkpoint's configuration hash (:func:`jaxsim.runtime.checkpoint.config_components`) and
    of :func:`provenance`."""
    import jax
    import jaxlib
    import numpy as np
    import optax

    from .. import __version__

    dev = jax.devices()[0]
    return dict(jaxsim=__version__, jax=jax.__version__, jaxlib=jaxlib.__version__, numpy=np.__version__,
                optax=optax.__version__, x64=bool(jax.config.jax_enable_x64),
                device=f"{dev.platform}:{getattr(dev, 'device_kind', '')}")


def provenance() -> dict:
    """:func:`environment` and what else traces a result to its making: the Python version, the
    platform, the backend, the device kind and count, the git commit of the source (when it is a
    checkout) and the UTC date."""
    import jax

    devices = jax.devices()
    return dict(environment(), python=platform.python_version(), platform=platform.platform(),
                backend=jax.default_backend(), device_kind=devices[0].device_kind, device_count=len(devices),
                git=git_commit(), date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))


__all__ = ["environment", "git_commit", "provenance"]
