"""Atomic files and resumable sweeps.

* :func:`atomic_write` / :func:`atomic_savez`: write a temporary file in the target's
  directory, ``fsync`` it, then ``os.replace`` it over the target, so a crash (even
  ``kill -9``) mid-write leaves either the old file or the new one, never a truncated one.
* :class:`Checkpoint`: the ``checkpoint_dir`` of :func:`jaxsim.sweep.sweep`. It holds a
  JSON manifest (``manifest.json``) with the hash of everything that determines the
  sweep's numbers, written before the first batch, and one ``batch-<key>.npz`` per
  finished batch, where ``key`` hashes the manifest's hash with that batch's
  hyperparameter arrays. Re-running the same sweep loads the finished batches instead of
  computing them; a directory whose manifest belongs to another configuration is refused.
* :func:`digest`: a content hash of (nested) Python / NumPy / JAX objects that is stable
  across processes: arrays by dtype, shape and bytes; dataclasses and named tuples by
  type and fields; functions by module, name, bytecode, constants, defaults and closure.
  Objects it cannot describe deterministically (a ``repr`` holding a memory address)
  raise ``ValueError``: a configuration that cannot be hashed is never resumed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import glob
import hashlib
import json
import os
import re
import stat
import tempfile
import time
import types
import warnings
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from .provenance import environment

try:
    import fcntl
except ImportError:  # Windows: stale temporary files are told by their age
    fcntl = None

#: Version of the manifest and batch-file layout.
FORMAT = 1
MANIFEST = "manifest.json"

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


# --------------------------------------------------------------------------------------
# Atomic files
# --------------------------------------------------------------------------------------

def _umask() -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path, write: Callable[[Any], None]) -> Path:
    """Write ``path`` atomically: ``write(f)`` fills a temporary binary file in the same
    directory, which is flushed, ``fsync``-ed and renamed over ``path`` (``os.replace``).
    On any failure the temporary file is removed and ``path`` is left as it was. An
    existing file's permissions are kept (new files: ``0o666`` minus the umask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    remove_stale_temporaries(path.parent, f".{glob.escape(path.name)}.*.tmp")
    fd, tmp = _locked_temporary(path)
    try:
        f = os.fdopen(fd, "wb")
        try:
            write(f)
            f.flush()
            os.fsync(f.fileno())
            if fcntl is None:  # Windows renames no open file
                f.close()
            # with flock, the lock is held until the rename: remove_stale_temporaries (another
            # process resuming into the same folder) leaves a file alone while its writer lives
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        finally:
            f.close()
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    return path


def _locked_temporary(path: Path):
    """``(fd, name)`` of a new temporary file beside ``path``, ``flock``-ed by this process."""
    while True:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        if fcntl is None:
            return fd, tmp
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:  # a cleaner may have removed it between mkstemp and the lock: then make another
            if os.stat(tmp).st_ino == os.fstat(fd).st_ino:
                return fd, tmp
        except FileNotFoundError:
            pass
        os.close(fd)


#: Without ``flock`` (Windows), a temporary file counts as stale after this many seconds.
STALE_AFTER_S = 3600.0


def remove_stale_temporaries(folder, pattern: str = ".*.tmp") -> list:
    """Remove the temporary files of :func:`atomic_write` in ``folder`` matching ``pattern``
    whose writer is gone (killed mid-write): a live writer holds an ``flock`` on its file until
    it renames it, so only unlocked files are removed (without ``flock``: files older than
    :data:`STALE_AFTER_S`). Returns the paths removed; errors are ignored (best effort)."""
    removed = []
    for tmp in Path(folder).glob(pattern):
        try:
            if fcntl is None:
                if time.time() - tmp.stat().st_mtime > STALE_AFTER_S:
                    tmp.unlink()
                    removed.append(tmp)
                continue
            fd = os.open(tmp, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # its writer holds it
                os.close(fd)
                continue
            try:
                if os.stat(tmp).st_ino == os.fstat(fd).st_ino:
                    tmp.unlink()
                    removed.append(tmp)
            finally:
                os.close(fd)
        except OSError:
            continue
    return removed


def atomic_savez(path, **arrays) -> Path:
    """``np.savez_compressed`` to exactly ``path`` (no suffix added), atomically."""
    return atomic_write(path, lambda f: np.savez_compressed(f, **arrays))


# --------------------------------------------------------------------------------------
# Content hashes
# --------------------------------------------------------------------------------------

def _qualname(o) -> str:
    return f"{getattr(o, '__module__', None)}.{getattr(o, '__qualname__', getattr(o, '__name__', '?'))}"


class _Hasher:
    def __init__(self, what: str):
        self.h = hashlib.sha256()
        self.what = what
        self.stack: set[int] = set()

    def token(self, tag: str, payload: bytes = b"") -> None:
        self.h.update(tag.encode() + b":" + str(len(payload)).encode() + b":" + payload)

    def text(self, tag: str, s: str) -> None:
        self.token(tag, s.encode())

    def feed(self, o) -> None:  # noqa: C901  (one case per kind of object)
        if o is None or isinstance(o, (bool, str, bytes)):
            return self.text(type(o).__name__, repr(o))
        if isinstance(o, enum.Enum):
            return self.text("enum", f"{_qualname(type(o))}.{o.name}")
        if isinstance(o, int):
            return self.text("int", str(int(o)))
        if isinstance(o, float):
            return self.text("float", float(o).hex())
        if isinstance(o, complex):
            return self.text("complex", f"{o.real.hex()},{o.imag.hex()}")
        if isinstance(o, type):
            return self.text("type", _qualname(o))
        if isinstance(o, np.dtype):
            return self.text("dtype", o.str)
        if isinstance(o, np.generic):
            return self.token(f"np.{o.dtype.str}", o.tobytes())
        if hasattr(o, "shape") and hasattr(o, "dtype") and hasattr(o, "__array__"):
            return self.array(o)
        key = id(o)
        if key in self.stack:
            return self.text("cycle", _qualname(type(o)))
        self.stack.add(key)
        try:
            self.compound(o)
        finally:
            self.stack.discard(key)

    def array(self, o) -> None:
        import jax

        if jax.dtypes.issubdtype(o.dtype, jax.dtypes.prng_key):
            self.text("prng", str(o.dtype))
            o = jax.random.key_data(o)
        a = np.asarray(o)
        if a.dtype == object:
            self.text("objarray", str(a.shape))
            for v in a.ravel():
                self.feed(v)
            return
        self.text("array", f"{a.dtype.str}{a.shape}")
        self.token("bytes", hashlib.sha256(np.ascontiguousarray(a).tobytes()).digest())

    def compound(self, o) -> None:  # noqa: C901
        if dataclasses.is_dataclass(o):
            self.text("dataclass", _qualname(type(o)))
            for f in dataclasses.fields(o):
                self.text("field", f.name)
                self.feed(getattr(o, f.name))
            return
        if isinstance(o, tuple) and hasattr(o, "_fields"):  # NamedTuple
            self.text("namedtuple", _qualname(type(o)))
            for name, v in zip(o._fields, o):
                self.text("field", name)
                self.feed(v)
            return
        if isinstance(o, (list, tuple)):
            self.text(type(o).__name__, str(len(o)))
            for v in o:
                self.feed(v)
            return
        if isinstance(o, dict):
            items = sorted((digest(k, self.what), v) for k, v in o.items())
            self.text("dict", str(len(items)))
            for k, v in items:
                self.text("key", k)
                self.feed(v)
            return
        if isinstance(o, (set, frozenset)):
            self.text("set", ",".join(sorted(digest(v, self.what) for v in o)))
            return
        if isinstance(o, functools.partial):
            self.text("partial", "")
            self.feed((o.func, o.args, o.keywords))
            return
        if isinstance(o, types.MethodType):
            self.text("method", "")
            self.feed((o.__self__, o.__func__))
            return
        if isinstance(o, types.FunctionType):
            cells = tuple(c.cell_contents if _filled(c) else "<empty cell>" for c in (o.__closure__ or ()))
            self.text("function", _qualname(o))
            self.feed((o.__code__, o.__defaults__, o.__kwdefaults__, cells))
            return
        if isinstance(o, types.CodeType):
            self.token("code", o.co_code)
            self.feed((o.co_consts, o.co_names, o.co_varnames))
            return
        wrapped = getattr(o, "__wrapped__", None)  # jax.jit and functools.wraps wrappers
        if wrapped is not None and callable(o):
            self.text("wrapper", _qualname(type(o)))
            self.feed(wrapped)
            return
        if isinstance(o, (types.BuiltinFunctionType, types.ModuleType)) or (
                callable(o) and hasattr(o, "__qualname__") and not hasattr(o, "__dict__")):
            self.text("builtin", _qualname(o))
            return
        r = repr(o)
        if _ADDRESS.search(r) is None:
            self.text("repr", f"{_qualname(type(o))}:{r}")
            return
        if hasattr(o, "__dict__"):
            self.text("object", _qualname(type(o)))
            self.feed(vars(o))
            return
        raise ValueError(f"checkpoint_dir: cannot hash the {self.what} deterministically (it holds a "
                         f"{type(o).__name__} whose only description is {r!r}); run without a checkpoint "
                         "directory or pass objects made of arrays, numbers, dataclasses and functions")


def _filled(cell) -> bool:
    try:
        _ = cell.cell_contents
    except ValueError:
        return False
    return True


def digest(obj, what: str = "configuration") -> str:
    """A SHA-256 hex digest of ``obj``'s content, stable across processes (see the module
    docstring). ``what`` names the object in errors."""
    h = _Hasher(what)
    h.feed(obj)
    return h.h.hexdigest()


# --------------------------------------------------------------------------------------
# Resumable batches
# --------------------------------------------------------------------------------------

def config_components(setup, problem, settings, dtype) -> dict:
    """What determines a sweep's numbers, as named digests: each field of the clock (method
    and its static options, optimizer, timing model, store layout, ...), the problem (type,
    static fields, array data), the per-seed and per-interval inputs (seed keys, worker
    facts, sampled event streams or durations, recording times: the horizon and number of
    points), the settings in the caller's order, the float type and the versions and device
    (:func:`jaxsim.runtime.provenance.environment`)."""
    clock = setup.clock
    if dataclasses.is_dataclass(clock):
        comps = {f"clock.{f.name}": digest(getattr(clock, f.name), f"clock's {f.name}")
                 for f in dataclasses.fields(clock)}
    else:
        comps = {"clock": digest(clock, "clock")}
    comps.update(clock_type=_qualname(type(clock)), problem=digest(problem, "problem"),
                 inputs=digest((setup.seeds, setup.intervals, setup.t0, setup.time), "batch inputs"),
                 settings=digest([dict(s) for s in settings], "settings"),
                 dtype=str(np.dtype(dtype)) if dtype is not None else None, **environment())
    return comps


class Checkpoint:
    """A directory of finished batches of one sweep configuration.

    ``describe``: a JSON-able summary written into the manifest (and hashed with it) so a
    refusal can say what changed; :func:`jaxsim.sweep.sweep` passes the method, problem,
    timing, seeds, grid, horizon and number of points. The runner
    (:func:`jaxsim.sim.runner.run_setup`) calls :meth:`open` with the hashed components before
    running any batch, then :meth:`load` / :meth:`save` per batch.
    """

    def __init__(self, directory, describe: Optional[dict] = None):
        self.dir = Path(directory)
        # for display (memory addresses dropped); the numbers' inputs are hashed in :meth:`open`
        self.describe = json.loads(_ADDRESS.sub("", json.dumps(describe or {}, default=str)))
        self.config_hash: Optional[str] = None

    def open(self, components: dict) -> str:
        """Validate or create the manifest for ``components`` (name -> digest or JSON value);
        returns the configuration hash. Raises ``ValueError`` if the directory belongs to
        another configuration (or is not a checkpoint directory)."""
        components = dict(components, describe=digest(self.describe))
        config_hash = digest(components)
        if self.dir.exists() and not self.dir.is_dir():
            raise ValueError(f"checkpoint_dir: {self.dir} exists and is not a directory")
        if self.dir.is_dir():  # left by a run killed mid-save (a live writer's files are kept)
            for pattern in (".batch-*.tmp", f".{MANIFEST}.*.tmp"):
                remove_stale_temporaries(self.dir, pattern)
        path = self.dir / MANIFEST
        if path.exists():
            try:
                old = json.loads(path.read_text())
                old_hash, old_components = old["config_hash"], old["components"]
            except (OSError, ValueError, KeyError, TypeError) as e:
                raise ValueError(f"checkpoint_dir: {path} is not a jaxsim checkpoint manifest ({e})") from e
            if old_hash != config_hash:
                changed = sorted(k for k in set(components) | set(old_components)
                                 if components.get(k) != old_components.get(k))
                old_desc = old.get("describe", {})
                detail = [f"{k}: {old_desc.get(k)!r} -> {self.describe.get(k)!r}"
                          for k in sorted(set(old_desc) | set(self.describe))
                          if old_desc.get(k) != self.describe.get(k)]
                raise ValueError(
                    f"checkpoint_dir: {self.dir} holds batches of a different sweep configuration "
                    f"(differs in: {', '.join(changed)}{'; ' + '; '.join(detail) if detail else ''}); "
                    "refusing to mix results: use a new directory or delete this one")
        else:
            if self.dir.is_dir() and any(self.dir.glob("batch-*.npz")):
                raise ValueError(f"checkpoint_dir: {self.dir} holds batch files but no {MANIFEST}; "
                                 "refusing to mix results: use a new directory or delete this one")
            manifest = dict(format=FORMAT, config_hash=config_hash, components=components, describe=self.describe)
            atomic_write(path, lambda f: f.write(json.dumps(manifest, indent=1, sort_keys=True).encode()))
        self.config_hash = config_hash
        return config_hash

    def key(self, hp: dict) -> str:
        """The key of a batch: the configuration hash and the batch's hyperparameter arrays
        (its settings, their order and the batch size, padding included)."""
        if self.config_hash is None:
            raise RuntimeError("Checkpoint.open must be called first")
        return digest((self.config_hash, hp), "batch")

    def path(self, key: str) -> Path:
        return self.dir / f"batch-{key}.npz"

    def load(self, key: str) -> Optional[dict]:
        """The metrics of a finished batch, or ``None`` (missing or unreadable: recompute)."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            with np.load(path) as z:
                if str(z["key"]) != key or str(z["config_hash"]) != self.config_hash:
                    raise ValueError("key mismatch")
                return {k[len("metric/"):]: z[k] for k in z.files if k.startswith("metric/")}
        except Exception as e:  # noqa: BLE001  a damaged file is recomputed, not trusted
            warnings.warn(f"checkpoint_dir: ignoring unreadable batch file {path} ({e}); recomputing it",
                          stacklevel=2)
            return None

    def save(self, key: str, index: int, metrics: dict) -> Path:
        arrays = {f"metric/{k}": np.asarray(v) for k, v in metrics.items()}
        return atomic_savez(self.path(key), key=np.array(key), config_hash=np.array(self.config_hash),
                            index=np.array(index), **arrays)


def as_checkpoint(checkpoint) -> Optional[Checkpoint]:
    """``None``, a :class:`Checkpoint`, or a directory path (a checkpoint without description)."""
    if checkpoint is None or isinstance(checkpoint, Checkpoint):
        return checkpoint
    if isinstance(checkpoint, (str, os.PathLike)):
        return Checkpoint(checkpoint)
    raise ValueError(f"checkpoint_dir: expected a directory path, got {type(checkpoint).__name__}")


__all__ = ["Checkpoint", "FORMAT", "MANIFEST", "as_checkpoint", "atomic_savez", "atomic_write", "config_components",
           "digest", "remove_stale_temporaries"]
