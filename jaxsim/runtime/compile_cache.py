"""JAX's persistent compilation cache, when asked for.

Compiling a sweep's kernel takes seconds (minutes for large controlled loops); with the
cache on, a kernel compiled once is read back from disk by later processes with the same
shapes and options. Off by default. Turn it on with ``jaxsim --compile-cache DIR ...``, the
environment variable ``JAXSIM_COMPILE_CACHE=DIR`` (read when :mod:`jaxsim` is imported: a folder
that cannot be created or written is one warning naming the variable and the folder, and the
cache stays off; ``import jaxsim`` never fails on it), or :func:`enable_compile_cache` from Python
(which raises ``ValueError`` for such a folder). Neither imports JAX when it is not imported yet:
the folder is handed to JAX through its own ``JAX_COMPILATION_CACHE_DIR``, which JAX reads when
it is imported (so ``jaxsim --version`` stays light). JAX decides what is worth caching (by default,
kernels that took at least a second to compile). The test suite uses its own fresh folder
per run (``tests/conftest.py``), never a user's.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

#: The environment variable naming the cache folder.
ENV = "JAXSIM_COMPILE_CACHE"
#: JAX's own variable for its ``jax_compilation_cache_dir`` option, read when JAX is imported.
JAX_ENV = "JAX_COMPILATION_CACHE_DIR"


def enable_compile_cache(path) -> Path:
    """Use ``path`` (created if missing) as JAX's persistent compilation cache; returns it."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"compile cache: expected a folder path, got {path!r}")
    folder = Path(path).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"compile cache: cannot create folder {str(folder)!r}: {e.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise ValueError(f"compile cache: folder {str(folder)!r} is not writable")
    if "jax" in sys.modules:
        sys.modules["jax"].config.update("jax_compilation_cache_dir", str(folder))
    else:  # JAX reads its option from this variable when it is imported
        os.environ[JAX_ENV] = str(folder)
    return folder


def enable_from_environment() -> Path | None:
    """:func:`enable_compile_cache` on ``$JAXSIM_COMPILE_CACHE`` when it is set and not empty.
    A folder that cannot be used is a one-line warning naming the variable and the folder, and
    the cache stays off (this runs when :mod:`jaxsim` is imported, which must not fail)."""
    path = os.environ.get(ENV)
    if not path:
        return None
    try:
        return enable_compile_cache(path)
    except ValueError as e:
        warnings.warn(f"{ENV}={path!r}: {str(e).removeprefix('compile cache: ')}; the compilation cache "
                      "stays off", stacklevel=2)
        return None


__all__ = ["ENV", "JAX_ENV", "enable_compile_cache", "enable_from_environment"]
