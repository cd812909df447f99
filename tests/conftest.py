"""Shared fixtures. Test shapes stay tiny: JAX compilation dominates test time."""

import os
from pathlib import Path

import pytest

#: XLA's LLVM optimization is most of each compile and buys nothing at test sizes, so the suite
#: compiles with ``--xla_backend_optimization_level=0`` (about 40 % less time), and, where this
#: XLA has it, with its older CPU code generator (``--xla_cpu_use_fusion_emitters=false``: the
#: compile-bound modules took about half the CPU time again, e.g. the oracle's 311 s -> 150 s).
#: Tests marked ``xla_default`` check that results are bit-identical across batch shapes, a
#: property of the optimized code (LLVM's FMA contraction decides it), so they run only with
#: XLA's default flags: ``JAXSIM_TEST_XLA=default`` (``make test`` runs them in a second pass,
#: which also compiles every method's kernels with the default code generator). Set before any
#: JAX backend starts; workers of pytest-xdist inherit it.
XLA_DEFAULT = os.environ.get("JAXSIM_TEST_XLA") == "default"
LEGACY_EMITTERS = "--xla_cpu_use_fusion_emitters=false"
os.environ.pop("JAXSIM_COMPILE_CACHE", None)  # a user's cache never serves the tests (see pytest_configure)


def _xla_accepts(flag: str) -> bool:
    """Whether this XLA knows ``flag`` (a debug option that a later XLA may drop, and XLA aborts
    the process on a flag it does not know): asked once, in a subprocess; the verdict is kept in
    the environment for pytest-xdist's workers."""
    verdict = os.environ.get("JAXSIM_TEST_LEGACY_EMITTERS")
    if verdict is None:
        import subprocess
        import sys

        env = dict(os.environ, XLA_FLAGS=flag, JAX_PLATFORMS="cpu")
        try:
            ok = subprocess.run([sys.executable, "-c", "import jax; jax.devices()"], env=env,
                                capture_output=True, timeout=300).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        verdict = os.environ["JAXSIM_TEST_LEGACY_EMITTERS"] = "1" if ok else "0"
    return verdict == "1"


if not XLA_DEFAULT:
    _flags = os.environ.get("XLA_FLAGS", "").split()
    for _flag in ["--xla_backend_optimization_level=0"] + ([LEGACY_EMITTERS] if _xla_accepts(LEGACY_EMITTERS) else []):
        if _flag not in _flags:
            _flags.append(_flag)
    os.environ["XLA_FLAGS"] = " ".join(_flags)

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def no_compile(monkeypatch, caplog):
    """Fail if the simulation kernel is called or compiled while the block runs (bad input
    must be refused before compiling)."""
    import logging

    import jax

    from jaxsim.sim import runner

    calls = []
    real = runner.run_batch

    def spy(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(runner, "run_batch", spy)
    caplog.set_level(logging.DEBUG, logger="jax")
    with jax.log_compiles(True):
        yield
    assert not calls, "run_batch was called"
    bad = [r.getMessage() for r in caplog.records
           if "Compiling" in r.getMessage() and "run_batch" in r.getMessage()]
    assert not bad, bad


@pytest.fixture
def compiles(caplog):
    """``compiles(fn)`` runs ``fn()`` and returns its result and the messages of the JAX
    compilations it triggered (``[]``: every kernel it called was already compiled)."""
    import logging

    import jax

    def run(fn):
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="jax"), jax.log_compiles(True):
            out = fn()
        return out, [r.getMessage() for r in caplog.records if "Compiling" in r.getMessage()]

    return run


@pytest.fixture(scope="session")
def shared_dir():
    """The project's shared folder when present (never required)."""
    return SHARED if SHARED.is_dir() else None


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory):
    """A folder of MNIST IDX files: the shared MNIST test set when present, else 600 generated
    28x28 images per split (``t10k-*`` and ``train-*``; labels balanced, pixels random)."""
    real = SHARED / "data" / "mnist"
    if (real / "t10k-images-idx3-ubyte.gz").is_file():
        return real
    import gzip
    import struct

    import numpy as np

    folder = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(0)
    labels = np.arange(600) % 10
    images = rng.integers(0, 256, size=(600, 28, 28), dtype=np.uint8)
    for prefix in ("t10k", "train"):
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels.astype(np.uint8))):
            head = bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
            (folder / f"{prefix}-{kind}-ubyte.gz").write_bytes(gzip.compress(head + arr.tobytes()))
    return folder


def _import_user_methods():
    """Register the one-file methods of ``tests/user_methods`` before any test module is
    collected, as a user's own method module would be imported before use."""
    import importlib.util
    import sys

    for path in sorted((Path(__file__).resolve().parent / "user_methods").glob("[!_]*.py")):
        name = f"jaxsim_user_methods.{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)


_import_user_methods()


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_kernels():
    """Drop JAX's compiled executables after each test module. The suite compiles hundreds of
    kernels; kept alive together, their JIT code mappings grow until a later compile crashes
    XLA:CPU (seen as a segfault/abort in ``backend_compile`` late in a full run)."""
    yield
    import jax

    jax.clear_caches()


def pytest_configure(config):
    """A persistent compilation cache for this run (a fresh folder unless JAXSIM_TEST_CACHE
    names one): kernels released by :func:`_release_compiled_kernels` and recompiled later
    (the duration samplers, the reference loop's gradients, shared shapes) are read back
    instead of compiled again."""
    import os
    import tempfile

    import jax

    folder = os.environ.get("JAXSIM_TEST_CACHE")
    if not folder:
        # Set before pytest-xdist starts its workers, which inherit it and share the folder;
        # only the process that made it removes it.
        folder = config._jaxsim_cache = tempfile.mkdtemp(prefix="jaxsim-test-cache-")
        os.environ["JAXSIM_TEST_CACHE"] = folder
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def pytest_unconfigure(config):
    import os
    import shutil

    folder = getattr(config, "_jaxsim_cache", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop("JAXSIM_TEST_CACHE", None)


def pytest_collection_modifyitems(config, items):
    if XLA_DEFAULT:
        return
    skip = pytest.mark.skip(reason="bit-identity of optimized code: runs with JAXSIM_TEST_XLA=default "
                                   "(make test's second pass)")
    for item in items:
        if "xla_default" in item.keywords:
            item.add_marker(skip)
