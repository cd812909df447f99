"""Text corpora for the language-model problem: loading, a bundled default, byte tokens.

* :func:`load_text` reads a user's UTF-8 text file (undecodable bytes become U+FFFD).
* :func:`default_corpus` needs no download: the docstrings of the running Python's standard
  library, gathered by a fixed procedure (see its docstring). Its content therefore depends on
  the Python version; :func:`corpus_hash` gives a short fingerprint to record next to results.
* :func:`encode` / :func:`decode` tokenize at the byte level: a token is one UTF-8 byte, so the
  vocabulary is :data:`VOCAB` = 256 and no tokenizer has to be trained or shipped.
* :func:`split_tokens` keeps the last part of the token stream as held-out data.

Bad input raises ``ValueError`` naming the argument at fault (a missing file raises
:class:`CorpusFileNotFound`, both a ``FileNotFoundError`` and a ``ValueError``).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import math
import os
import sysconfig
from pathlib import Path

import numpy as np

#: Vocabulary size of the byte-level tokenizer.
VOCAB = 256
#: Default size cap of :func:`default_corpus` (about 1.8 s to gather on a slow 2-core CPU).
DEFAULT_MAX_BYTES = 1_000_000
#: Standard-library folders left out of :func:`default_corpus`: test suites (terse docstrings,
#: some files deliberately unparsable), generated code with little prose (the codec modules of
#: ``encodings``, ``pydoc_data``), demos, the IDLE GUI, and installed packages.
SKIP_DIRS = frozenset({"test", "tests", "idlelib", "turtledemo", "encodings", "pydoc_data",
                       "site-packages", "dist-packages", "__pycache__"})


class CorpusFileNotFound(FileNotFoundError, ValueError):
    """A corpus file that does not exist (caught by handlers of either base class)."""


def load_text(path, name: str = "path") -> str:
    """The text of the file ``path``, decoded as UTF-8 with ``errors="replace"``.

    ``name`` is the argument named in errors: a missing path, a folder, or a file with no
    text is refused.
    """
    p = Path(path)
    if not p.exists():
        raise CorpusFileNotFound(f"{name}: {p}: no such file")
    if not p.is_file():
        raise ValueError(f"{name}: {p}: not a regular file")
    text = p.read_bytes().decode("utf-8", errors="replace")
    if not text:
        raise ValueError(f"{name}: {p}: the file is empty (a corpus needs text)")
    return text


def _stdlib_files(root: Path) -> list[Path]:
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        files += [Path(folder) / n for n in names if n.endswith(".py")]
    # Sort by the relative POSIX path so the order is the same on every file system.
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def _docstrings(tree: ast.AST):
    """Docstrings of a module and its classes and functions, in source order (pre-order)."""
    if isinstance(tree, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        doc = ast.get_docstring(tree)
        if doc:
            yield doc
    for child in ast.iter_child_nodes(tree):
        yield from _docstrings(child)


@functools.cache
def default_corpus(max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """About ``max_bytes`` bytes of English technical prose that every Python has: the
    docstrings of the standard library.

    Procedure (deterministic for a given Python installation): list the ``.py`` files under
    ``sysconfig.get_paths()["stdlib"]``, skipping the folders in :data:`SKIP_DIRS`, sorted by
    relative path; parse each with :mod:`ast` (files that fail to parse are skipped); take the
    module, class and function docstrings (``ast.get_docstring``, which also dedents them) in
    source order; join them with blank lines, stopping once ``max_bytes`` UTF-8 bytes are
    reached; cut to exactly ``max_bytes`` bytes, dropping a trailing partial character.

    The content depends on the Python version (and on a distribution that strips parts of the
    standard library), so record :func:`corpus_hash` of the result with experiment outputs.
    Cached: gathered once per process.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)) or max_bytes < 1:
        raise ValueError(f"max_bytes must be an integer >= 1, got {max_bytes!r}")
    root = Path(sysconfig.get_paths()["stdlib"])
    parts, size = [], 0
    for path in _stdlib_files(root):
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, OSError):
            continue
        for doc in _docstrings(tree):
            # A docstring may hold lone surrogates (from escapes); they have no UTF-8 bytes.
            doc = doc.encode("utf-8", errors="replace").decode("utf-8")
            parts.append(doc)
            size += len(doc.encode("utf-8")) + 2
        if size >= max_bytes:
            break
    if not parts:
        raise ValueError(f"default corpus: no docstrings found under {root} "
                         "(a stripped Python installation?); pass text or path instead")
    raw = "\n\n".join(parts).encode("utf-8")[:int(max_bytes)]
    return raw.decode("utf-8", errors="ignore")


def corpus_hash(text: str, length: int = 12) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``text``'s UTF-8 bytes: a short
    fingerprint that tells which corpus a result was computed on."""
    return hashlib.sha256(text.encode("utf-8", errors="replace")).hexdigest()[:length]


def encode(text: str) -> np.ndarray:
    """Byte-level tokens of ``text``: its UTF-8 bytes as ``int32`` in ``[0, 256)``.

    Characters with no UTF-8 form (lone surrogates) become ``?``."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    return np.frombuffer(text.encode("utf-8", errors="replace"), np.uint8).astype(np.int32)


def decode(tokens) -> str:
    """The text of byte-level ``tokens`` (invalid UTF-8 sequences become U+FFFD)."""
    return bytes(np.asarray(tokens, np.uint8).tolist()).decode("utf-8", errors="replace")


def split_tokens(tokens, heldout_fraction: float = 0.1):
    """``(train, heldout)``: the token stream cut so the last ``ceil(heldout_fraction * N)``
    tokens are held out (a contiguous tail, so no training window overlaps held-out text)."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 1:
        raise ValueError(f"tokens must be 1-D, got shape {tokens.shape}")
    f = float(heldout_fraction)
    if not (0.0 < f < 1.0):
        raise ValueError(f"heldout_fraction must lie in (0, 1), got {heldout_fraction!r}")
    cut = tokens.shape[0] - math.ceil(f * tokens.shape[0])
    return tokens[:cut], tokens[cut:]
