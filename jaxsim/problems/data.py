"""Datasets and per-worker splits for heterogeneous-data problems (NumPy only, no network).

Loaders read files the user already has: :func:`load_idx` / :func:`load_mnist` (MNIST and
Fashion-MNIST in the IDX format, raw or gzipped) and :func:`load_libsvm` (svmlight text).
:func:`synthetic_logistic` makes a small logistic-regression dataset whose per-worker
objectives ``f_i`` differ.

A *split* is an integer array ``parts[n, m]``: row ``i`` holds the sample indices of worker
``i``. All rows have the same length ``m``, so ``f = (1/n) sum_i f_i`` is the mean loss over
every sample in ``parts`` (the Ringleader paper's MNIST setup), and rows are disjoint.
:func:`split_dirichlet` is the label-skew recipe of the Ringleader experiments
(the Ringleader paper's MNIST setup); :func:`split_iid` and :func:`split_by_class` are the two extremes.

Every loader and split validates its input and raises ``FileNotFoundError`` or
``ValueError`` naming the file or argument at fault.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

#: ``(mean, std)`` of MNIST training pixels after scaling to ``[0, 1]``.
MNIST_NORMALIZE = (0.1307, 0.3081)
#: ``(mean, std)`` of Fashion-MNIST training pixels (the Ringleader code's constants).
FASHION_MNIST_NORMALIZE = (0.2860406, 0.35302424)

# IDX type codes (third magic byte) -> big-endian NumPy dtype.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


# ----------------------------------------------------------------------------- IDX / MNIST

def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if not path.is_file():
        raise ValueError(f"{path}: not a regular file")
    raw = path.read_bytes()
    # Sniff the gzip magic rather than trust the suffix: mirrors ship both forms under
    # either name.
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({e})") from e
    if path.suffix == ".gz":
        raise ValueError(f"{path}: name ends in .gz but the file is not gzip data")
    return raw


def load_idx(path) -> np.ndarray:
    """Read one IDX file (raw or gzipped) into an array of its declared shape and type.

    Validates the magic number (two zero bytes, a known type code such as ``0x08`` for
    uint8, a dimension count >= 1) and that the data size matches the declared dims,
    so a truncated download fails here instead of as a silent reshape error later.
    """
    path = Path(path)
    buf = _read_bytes(path)
    if len(buf) < 4:
        raise ValueError(f"{path}: truncated IDX header ({len(buf)} bytes, need at least 4)")
    if buf[0] != 0 or buf[1] != 0:
        raise ValueError(f"{path}: bad IDX magic number {buf[:4].hex()} (must start with 0000)")
    code, ndim = buf[2], buf[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: bad IDX magic number {buf[:4].hex()}: unknown type code "
                         f"0x{code:02x} (known: {', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)})")
    if ndim < 1:
        raise ValueError(f"{path}: bad IDX magic number {buf[:4].hex()}: 0 dimensions")
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(buf)} bytes, need {header} "
                         f"for {ndim} dimensions)")
    dims = tuple(int(v) for v in np.frombuffer(buf, ">u4", ndim, 4))
    dtype = np.dtype(_IDX_DTYPES[code])
    want = math.prod(dims) * dtype.itemsize
    have = len(buf) - header
    if have < want:
        raise ValueError(f"{path}: truncated: dims {dims} need {want} data bytes, found {have}")
    if have > want:
        raise ValueError(f"{path}: {have - want} unexpected trailing bytes after the "
                         f"{want} data bytes of dims {dims}")
    arr = np.frombuffer(buf, dtype, math.prod(dims), header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))


def _find(folder: Path, stems: list[str]) -> Path:
    tried = [folder / (s + ext) for s in stems for ext in ("", ".gz")]
    for p in tried:
        if p.is_file():
            return p
    raise FileNotFoundError(f"{folder}: none of the files {[p.name for p in tried]} exist")


def load_mnist(path, split: str = "train", normalize=MNIST_NORMALIZE):
    """MNIST-format images and labels from folder ``path``: ``(X float32 [N, 784], y int32 [N])``.

    Looks for the standard names (``train-images-idx3-ubyte[.gz]``,
    ``train-labels-idx1-ubyte[.gz]``, ``t10k-...`` for ``split="test"``). Pixels are
    scaled to ``[0, 1]`` and then standardised with ``normalize = (mean, std)``:
    :data:`MNIST_NORMALIZE` for MNIST, :data:`FASHION_MNIST_NORMALIZE` for Fashion-MNIST
    (same file names), ``None`` to keep ``[0, 1]``.
    """
    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: MNIST folder does not exist")
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: MNIST path is not a folder")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    prefix = "train" if split == "train" else "t10k"
    # The dotted variant (train-images.idx3-ubyte) is how some mirrors name the files.
    img_path = _find(folder, [f"{prefix}-images-idx3-ubyte", f"{prefix}-images.idx3-ubyte"])
    lab_path = _find(folder, [f"{prefix}-labels-idx1-ubyte", f"{prefix}-labels.idx1-ubyte"])
    images, labels = load_idx(img_path), load_idx(lab_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{img_path}: expected uint8 images [N, rows, cols], got "
                         f"{images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(f"{lab_path}: expected uint8 labels [N], got {labels.dtype} {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{img_path} has {images.shape[0]} images but {lab_path} has "
                         f"{labels.shape[0]} labels")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{lab_path}: labels must lie in 0..9, found {int(labels.max())}")
    X = images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(255.0)
    if normalize is not None:
        mean, std = _check_normalize(normalize)
        X = (X - np.float32(mean)) / np.float32(std)
    return X, labels.astype(np.int32)


def _check_normalize(normalize):
    try:
        mean, std = (float(v) for v in normalize)
    except (TypeError, ValueError):
        raise ValueError(f"normalize must be (mean, std) or None, got {normalize!r}") from None
    if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
        raise ValueError(f"normalize must be a finite (mean, std) with std > 0, got {normalize!r}")
    return mean, std


# ----------------------------------------------------------------------------- LIBSVM

def load_libsvm(path, n_features: int | None = None):
    """Parse an svmlight / LIBSVM text file into ``(X float32 [N, d] dense, y float32 [N])``.

    Lines read ``label idx:val idx:val ...`` with 1-based feature indices; text after ``#``
    and blank lines are ignored; ``qid:`` tokens are skipped. ``d`` is ``n_features`` or
    the largest index seen. Dense output keeps the problems simple; it suits the small
    LIBSVM benchmarks (a9a, w8a, ...), not rcv1-sized data.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if n_features is not None and (isinstance(n_features, bool) or not isinstance(
            n_features, (int, np.integer)) or n_features < 1):
        raise ValueError(f"n_features must be a positive integer or None, got {n_features!r}")
    text = _read_bytes(path).decode("utf-8", errors="replace")
    labels, rows, cols, vals = [], [], [], []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        tokens = line.split()
        try:
            label = float(tokens[0])
        except ValueError:
            raise ValueError(f"{path}:{lineno}: bad label {tokens[0]!r}") from None
        if not math.isfinite(label):
            raise ValueError(f"{path}:{lineno}: label {tokens[0]!r} is not finite")
        r = len(labels)
        labels.append(label)
        for tok in tokens[1:]:
            key, sep, val = tok.partition(":")
            if not sep:
                raise ValueError(f"{path}:{lineno}: malformed feature {tok!r} (want idx:val)")
            if key == "qid":
                continue
            try:
                j, v = int(key), float(val)
            except ValueError:
                raise ValueError(f"{path}:{lineno}: malformed feature {tok!r} (want idx:val)") from None
            if j < 1:
                raise ValueError(f"{path}:{lineno}: feature index {j} < 1 (indices are 1-based)")
            if n_features is not None and j > n_features:
                raise ValueError(f"{path}:{lineno}: feature index {j} exceeds n_features={n_features}")
            if not math.isfinite(v):
                raise ValueError(f"{path}:{lineno}: feature value {val!r} is not finite")
            rows.append(r)
            cols.append(j - 1)
            vals.append(v)
    if not labels:
        raise ValueError(f"{path}: no samples (empty file or only comments)")
    d = n_features if n_features is not None else (max(cols) + 1 if cols else 0)
    if d == 0:
        raise ValueError(f"{path}: no features in any line (give n_features)")
    X = np.zeros((len(labels), d), np.float32)
    X[np.asarray(rows, np.int64), np.asarray(cols, np.int64)] = np.asarray(vals, np.float32)
    return X, np.asarray(labels, np.float32)


def binary_labels(y) -> np.ndarray:
    """Map a two-valued label vector to ``-1`` (smaller value) / ``+1`` (larger), float32.

    LIBSVM binary sets use ``{-1, 1}``, ``{0, 1}`` or ``{1, 2}``; the logistic problem
    needs ``±1``.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {y.shape}")
    values = np.unique(y)
    if values.size != 2:
        shown = values[:10].tolist()
        raise ValueError(f"labels: expected exactly two distinct values, got {values.size} "
                         f"({shown}{' ...' if values.size > 10 else ''})")
    return np.where(y == values[1], 1.0, -1.0).astype(np.float32)


# ----------------------------------------------------------------------------- synthetic

def synthetic_logistic(num_workers: int, samples_per_worker: int, dim: int,
                       heterogeneity: float = 1.0, seed: int = 0):
    """A logistic-regression dataset with worker-specific feature distributions.

    Worker ``i`` draws features ``a ~ N(h * mu_i, I)`` with its own shift
    ``mu_i ~ N(0, I)`` scaled by ``h = heterogeneity``; every label comes from one shared
    ground truth, ``P(y = +1 | a) = sigmoid(a . w*)``, so the noise in the labels keeps
    the data non-separable while the shifts make the ``f_i`` (and their minimisers)
    differ. ``h = 0`` gives i.i.d. workers. Returns ``(X float32 [n*m, dim],
    y float32 ±1 [n*m], parts int64 [n, m])`` with worker ``i`` owning rows
    ``i*m .. i*m + m - 1``.
    """
    n = _check_count("num_workers", num_workers)
    m = _check_count("samples_per_worker", samples_per_worker)
    dim = _check_count("dim", dim)
    if not (np.isfinite(heterogeneity) and heterogeneity >= 0):
        raise ValueError(f"heterogeneity must be finite and >= 0, got {heterogeneity!r}")
    _check_seed("seed", seed)
    rng = np.random.default_rng(seed)
    w_star = rng.standard_normal(dim) * (2.0 / math.sqrt(dim))  # margins of order 2: noisy labels
    shifts = heterogeneity * rng.standard_normal((n, 1, dim))
    X = (shifts + rng.standard_normal((n, m, dim))).reshape(n * m, dim)
    p = 1.0 / (1.0 + np.exp(-(X @ w_star)))
    y = np.where(rng.random(n * m) < p, 1.0, -1.0)
    return X.astype(np.float32), y.astype(np.float32), np.arange(n * m).reshape(n, m)


# ----------------------------------------------------------------------------- validation

def _check_count(name, v, minimum=1):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {v!r}")
    return int(v)


def _check_seed(name, seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed!r}")
    return int(seed)


def check_labels(labels, name: str = "labels") -> np.ndarray:
    """``labels`` as a 1-D int64 array of non-negative class ids (``ValueError`` otherwise).

    Float arrays are accepted when every value is a whole number, so ``{0., 1.}`` works.
    """
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {y.shape}")
    if y.size == 0:
        raise ValueError(f"{name} is empty")
    if np.issubdtype(y.dtype, np.floating):
        if not (np.all(np.isfinite(y)) and np.all(y == np.round(y))):
            raise ValueError(f"{name} must be integer class ids, got non-integer values")
    elif not np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_:
        raise ValueError(f"{name} must be integer class ids, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.min() < 0:
        raise ValueError(f"{name} must be non-negative class ids, found {int(y.min())}")
    return y


def check_dataset(X, y):
    """Validate a feature matrix and its labels: ``X`` 2-D, finite; ``y`` 1-D, same length.

    Returns the NumPy arrays. Used by the problem builders so a shape mistake is
    reported by name before anything is compiled.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X (features) must be 2-D [samples, features], got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise ValueError(f"X (features) must be real numbers, got dtype {X.dtype}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X (features) is empty: shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X (features) contains NaN or inf")
    if y.ndim != 1:
        raise ValueError(f"y (labels) must be 1-D, got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y (labels) has {y.shape[0]} entries but X (features) has "
                         f"{X.shape[0]} rows")
    return X, y


def check_parts(parts, num_samples: int) -> np.ndarray:
    """Validate a split ``parts[n, m]`` of sample indices into ``[0, num_samples)``."""
    p = np.asarray(parts)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 1:
        raise ValueError(f"parts must be a non-empty 2-D array [workers, samples per worker], "
                         f"got shape {p.shape}")
    if not np.issubdtype(p.dtype, np.integer) or p.dtype == np.bool_:
        raise ValueError(f"parts must hold integer sample indices, got dtype {p.dtype}")
    if p.min() < 0 or p.max() >= num_samples:
        raise ValueError(f"parts: indices must lie in [0, {num_samples}), found "
                         f"[{int(p.min())}, {int(p.max())}]")
    return p.astype(np.int64)


def _check_split(labels, n):
    y = check_labels(labels)
    n = _check_count("n (number of workers)", n)
    if n > y.size:
        raise ValueError(f"n (number of workers) = {n} exceeds the {y.size} samples")
    return y, n


# ----------------------------------------------------------------------------- splits

def split_iid(labels, n: int, seed: int = 0) -> np.ndarray:
    """A uniformly random split into ``n`` equal shards (``N mod n`` random samples dropped)."""
    y, n = _check_split(labels, n)
    rng = np.random.default_rng(_check_seed("seed", seed))
    m = y.size // n
    return rng.permutation(y.size)[: n * m].reshape(n, m)


def split_by_class(labels, n: int, seed: int = 0, shuffle_workers: bool = True) -> np.ndarray:
    """Pathological label skew: sort by label and cut into ``n`` contiguous equal shards.

    Each worker then sees one class, or two at a shard boundary (when every class has at
    least ``m = N // n`` samples). Samples are drawn at random within a class, the
    ``N mod n`` dropped samples are random, and with ``shuffle_workers`` the shards are
    dealt to workers in random order so that class does not follow worker index (which
    the timing models tie to speed).
    """
    y, n = _check_split(labels, n)
    rng = np.random.default_rng(_check_seed("seed", seed))
    m = y.size // n
    keep = np.sort(rng.permutation(y.size)[: n * m])
    order = keep[np.lexsort((rng.random(keep.size), y[keep]))]  # by label, random within
    parts = order.reshape(n, m)
    return parts[rng.permutation(n)] if shuffle_workers else parts


def _largest_remainder(p, total):
    # np.argsort's default kind on purpose: it fixes the tie order of the reference code.
    raw = p * total
    base = np.floor(raw).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:
        base[np.argsort(-(raw - base))[:short]] += 1
    return base


def _trim_to_multiple(y, n, num_classes, seed):
    """Indices kept after dropping ``N mod n`` samples, spread over classes by size."""
    N = y.size
    r = N - (N // n) * n
    if r == 0:
        return np.arange(N)
    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(y == c) for c in range(num_classes)]
    counts = np.array([len(ix) for ix in by_class])
    drops = _largest_remainder(counts / N, r)
    dropped = [rng.choice(by_class[c], size=int(k), replace=False)
               for c, k in enumerate(drops) if k > 0]
    mask = np.ones(N, bool)
    mask[np.concatenate(dropped)] = False
    return np.flatnonzero(mask)


def split_dirichlet(labels, n: int, alpha: float, seed: int = 654321, trim_seed: int = 123456,
                    num_classes: int | None = None) -> np.ndarray:
    """Equal-size Dirichlet label-skew split of the Ringleader experiments (the Ringleader paper's MNIST setup).

    1. trim to a multiple of ``n``, dropping class-proportionally (``trim_seed``);
    2. shuffle each class pool (one generator seeded ``seed`` for steps 2–3);
    3. for each worker in order: ``p ~ Dir(alpha * 1_C)``, per-class counts by
       largest-remainder rounding of ``p * N/n``, taken from the front of each class
       pool; when a pool runs short the deficit is topped up at once from the classes
       with most items left; finally the worker's indices are shuffled.

    The generator calls follow the authors' ``dirichlet_partition_equal_size`` so the
    partition is the same for a given ``(labels, n, alpha, seed)``. Small ``alpha``: each
    worker holds one or two classes; large ``alpha``: close to i.i.d. ``num_classes``
    defaults to ``max(labels) + 1``. Indices refer to the untrimmed ``labels``.
    """
    y, n = _check_split(labels, n)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) \
            or not (math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}")
    seed, trim_seed = _check_seed("seed", seed), _check_seed("trim_seed", trim_seed)
    C = int(y.max()) + 1 if num_classes is None else _check_count("num_classes", num_classes)
    if y.max() >= C:
        raise ValueError(f"labels: found class {int(y.max())} but num_classes = {C}")

    kept = _trim_to_multiple(y, n, C, trim_seed)
    yk = y[kept]
    per = yk.size // n
    rng = np.random.default_rng(seed)
    pools = [np.flatnonzero(yk == c) for c in range(C)]
    for pool in pools:
        rng.shuffle(pool)
    head = np.zeros(C, np.int64)  # pools[c][head[c]:] is what class c has left

    def take(c, k, out):
        out.append(pools[c][head[c]:head[c] + k])
        head[c] += k

    parts = np.empty((n, per), np.int64)
    for j in range(n):
        need = _largest_remainder(rng.dirichlet(np.full(C, float(alpha))), per)
        got = []
        for c in range(C):
            k = min(int(need[c]), len(pools[c]) - int(head[c]))
            if k > 0:
                take(c, k, got)
            deficit = int(need[c]) - k
            if deficit > 0:
                left = np.array([len(pools[c2]) - head[c2] for c2 in range(C)])
                for c2 in np.argsort(-left):
                    if deficit == 0:
                        break
                    give = min(deficit, int(left[c2]))
                    if give > 0:
                        take(c2, give, got)
                        deficit -= give
        client = np.concatenate(got)
        rng.shuffle(client)
        parts[j] = client
    return kept[parts]


SPLITS = ("iid", "by_class", "dirichlet")


def make_split(labels, n: int, split: str = "dirichlet", alpha: float = 0.1,
               seed: int | None = None) -> np.ndarray:
    """Dispatch to :func:`split_iid`, :func:`split_by_class` or :func:`split_dirichlet`.

    ``seed=None`` keeps each split's default (654321 for Dirichlet, as in the recipe; 0
    otherwise); ``alpha`` only matters for the Dirichlet split.
    """
    if split == "iid":
        return split_iid(labels, n, 0 if seed is None else seed)
    if split == "by_class":
        return split_by_class(labels, n, 0 if seed is None else seed)
    if split == "dirichlet":
        return split_dirichlet(labels, n, alpha, 654321 if seed is None else seed)
    raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
