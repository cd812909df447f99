"""Data loaders (IDX / MNIST, LIBSVM, synthetic) and per-worker splits (jaxsim.problems.data)."""

import gzip
import struct

import numpy as np
import pytest

from jaxsim.problems import data

# ----------------------------------------------------------------------------- helpers


def write_idx(path, arr, code=0x08, gz=False, magic=None, cut=0, extra=b""):
    arr = np.asarray(arr)
    dt = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[code]
    head = magic if magic is not None else bytes([0, 0, code, arr.ndim])
    head += b"".join(struct.pack(">I", s) for s in arr.shape)
    buf = head + arr.astype(dt).tobytes() + extra
    buf = buf[: len(buf) - cut]
    path.write_bytes(gzip.compress(buf) if gz else buf)
    return path


def write_mnist(folder, images, labels, prefix="train", gz=True):
    folder.mkdir(exist_ok=True)
    ext = ".gz" if gz else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", images, gz=gz)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", labels, gz=gz)
    return folder


def label_entropy(labels, parts, C):
    """Mean over workers of the entropy (nats) of the worker's label histogram."""
    h = []
    for row in parts:
        p = np.bincount(labels[row], minlength=C) / len(row)
        p = p[p > 0]
        h.append(-(p * np.log(p)).sum())
    return float(np.mean(h))


def assert_valid_split(parts, N, n):
    assert parts.ndim == 2 and parts.shape[0] == n and parts.shape[1] == N // n
    assert np.issubdtype(parts.dtype, np.integer)
    assert len(np.unique(parts)) == parts.size  # disjoint
    assert parts.min() >= 0 and parts.max() < N


# ----------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, gz):
    imgs = np.random.default_rng(0).integers(0, 256, (3, 4, 5), dtype=np.uint8)
    p = write_idx(tmp_path / ("a.idx" + (".gz" if gz else "")), imgs, gz=gz)
    out = data.load_idx(p)
    assert out.dtype == np.uint8 and out.shape == (3, 4, 5)
    np.testing.assert_array_equal(out, imgs)
    ints = np.array([-5, 0, 70000], np.int32)  # other type codes, big-endian on disk
    np.testing.assert_array_equal(data.load_idx(write_idx(tmp_path / "b.idx", ints, 0x0C)), ints)


def test_idx_errors_name_the_file(tmp_path):
    imgs = np.zeros((2, 3, 3), np.uint8)
    with pytest.raises(FileNotFoundError, match="nothere.idx"):
        data.load_idx(tmp_path / "nothere.idx")
    cases = {
        "trunc.idx": ({"cut": 1}, "truncated"),
        "hdr.idx": ({"cut": 2 * 9 + 6}, "truncated IDX header"),
        "magic.idx": ({"magic": b"\x01\x00\x08\x03"}, "bad IDX magic"),
        "code.idx": ({"magic": b"\x00\x00\x07\x03"}, "unknown type code"),
        "extra.idx": ({"extra": b"xx"}, "trailing bytes"),
    }
    for name, (kw, msg) in cases.items():
        p = write_idx(tmp_path / name, imgs, **kw)
        with pytest.raises(ValueError, match=msg) as e:
            data.load_idx(p)
        assert name in str(e.value)
    good = gzip.compress(write_idx(tmp_path / "g", imgs).read_bytes())
    (tmp_path / "cut.gz").write_bytes(good[:-6])  # truncated gzip stream
    with pytest.raises(ValueError, match=r"cut\.gz.*gzip"):
        data.load_idx(tmp_path / "cut.gz")
    (tmp_path / "fake.gz").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x00")
    with pytest.raises(ValueError, match=r"fake\.gz.*not gzip"):
        data.load_idx(tmp_path / "fake.gz")


# ----------------------------------------------------------------------------- MNIST


def test_load_mnist_small(tmp_path):
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    labels = np.array([0, 1, 2, 9, 4, 4], np.uint8)
    folder = write_mnist(tmp_path / "m", imgs, labels)
    X, y = data.load_mnist(folder)
    assert X.shape == (6, 784) and X.dtype == np.float32 and y.dtype == np.int32
    np.testing.assert_array_equal(y, labels)
    expect = (imgs.reshape(6, -1) / 255.0 - 0.1307) / 0.3081
    np.testing.assert_allclose(X, expect, rtol=1e-5, atol=1e-5)
    X01, _ = data.load_mnist(folder, normalize=None)
    np.testing.assert_allclose(X01, imgs.reshape(6, -1) / 255.0, rtol=1e-6)
    Xf, _ = data.load_mnist(folder, normalize=data.FASHION_MNIST_NORMALIZE)
    np.testing.assert_allclose(Xf, (X01 - 0.2860406) / 0.35302424, rtol=1e-5, atol=1e-5)
    write_mnist(folder, imgs[:2], labels[:2], prefix="t10k", gz=False)  # raw files work too
    assert data.load_mnist(folder, "test")[0].shape == (2, 784)


def test_load_mnist_errors(tmp_path):
    imgs = np.zeros((3, 28, 28), np.uint8)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        data.load_mnist(tmp_path / "nowhere")
    folder = write_mnist(tmp_path / "m", imgs, np.array([1, 2, 3], np.uint8))
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.gz"):
        data.load_mnist(folder, "test")  # lists the names it looked for
    with pytest.raises(ValueError, match="split"):
        data.load_mnist(folder, "validation")
    with pytest.raises(ValueError, match="normalize"):
        data.load_mnist(folder, normalize=(0.5, 0.0))
    write_mnist(folder, imgs, np.array([1, 2], np.uint8))
    with pytest.raises(ValueError, match="3 images.*2 labels"):
        data.load_mnist(folder)
    write_mnist(folder, imgs, np.array([1, 2, 10], np.uint8))
    with pytest.raises(ValueError, match=r"labels-idx1-ubyte.*0\.\.9"):
        data.load_mnist(folder)


def test_load_mnist_shared(shared_dir):
    folder = shared_dir / "data" / "mnist" if shared_dir is not None else None
    if folder is None or not (folder / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("shared MNIST test split not present")
    X, y = data.load_mnist(folder, "test")
    assert X.shape == (10000, 784) and y.shape == (10000,)
    assert abs(float(X.mean())) < 0.05 and abs(float(X.std()) - 1.0) < 0.05
    assert set(np.unique(y)) == set(range(10))


# ----------------------------------------------------------------------------- LIBSVM


def test_load_libsvm(tmp_path):
    p = tmp_path / "a.svm"
    p.write_text("# header comment\n+1 1:0.5 3:2\n\n-1 2:1.5  # trailing comment\n"
                 "1 qid:3 4:-1\n")
    X, y = data.load_libsvm(p)
    assert X.dtype == np.float32 and X.shape == (3, 4)
    np.testing.assert_array_equal(X, [[0.5, 0, 2, 0], [0, 1.5, 0, 0], [0, 0, 0, -1]])
    np.testing.assert_array_equal(y, [1, -1, 1])
    assert data.load_libsvm(p, n_features=6)[0].shape == (3, 6)
    with pytest.raises(ValueError, match="n_features"):
        data.load_libsvm(p, n_features=3)
    np.testing.assert_array_equal(data.binary_labels([2, 1, 1, 2]), [1, -1, -1, 1])
    with pytest.raises(ValueError, match="exactly two"):
        data.binary_labels([0, 1, 2])
    with pytest.raises(FileNotFoundError, match="missing.svm"):
        data.load_libsvm(tmp_path / "missing.svm")


@pytest.mark.parametrize("line, msg", [("1 3:x", "malformed"), ("1 3", "malformed"),
                                       ("abc 1:1", "bad label"), ("1 0:1", "feature index 0")])
def test_libsvm_malformed_line_number(tmp_path, line, msg):
    p = tmp_path / "bad.svm"
    p.write_text(f"1 1:1\n# ok\n{line}\n")
    with pytest.raises(ValueError, match=rf"bad\.svm:3: {msg}"):
        data.load_libsvm(p)


# ----------------------------------------------------------------------------- synthetic


def test_synthetic_logistic():
    X, y, parts = data.synthetic_logistic(4, 50, 3, heterogeneity=5.0, seed=1)
    assert X.shape == (200, 3) and X.dtype == np.float32 and set(np.unique(y)) == {-1.0, 1.0}
    assert_valid_split(parts, 200, 4)
    means = np.stack([X[r].mean(0) for r in parts])
    X0, _, _ = data.synthetic_logistic(4, 50, 3, heterogeneity=0.0, seed=1)
    means0 = np.stack([X0[r].mean(0) for r in parts])
    assert means.std(0).mean() > 5 * means0.std(0).mean()  # shifts make workers differ
    again = data.synthetic_logistic(4, 50, 3, heterogeneity=5.0, seed=1)
    np.testing.assert_array_equal(again[0], X)
    with pytest.raises(ValueError, match="heterogeneity"):
        data.synthetic_logistic(2, 3, 4, heterogeneity=-1.0)
    with pytest.raises(ValueError, match="samples_per_worker"):
        data.synthetic_logistic(2, 0, 4)


# ----------------------------------------------------------------------------- splits

LABELS = np.random.default_rng(7).integers(0, 10, 2003)


@pytest.mark.parametrize("split", [
    lambda y, n, s: data.split_iid(y, n, s),
    lambda y, n, s: data.split_by_class(y, n, s),
    lambda y, n, s: data.split_dirichlet(y, n, 0.3, seed=s),
])
def test_splits_equal_disjoint_deterministic(split):
    parts = split(LABELS, 20, 3)
    assert_valid_split(parts, LABELS.size, 20)
    np.testing.assert_array_equal(parts, split(LABELS, 20, 3))
    assert not np.array_equal(parts, split(LABELS, 20, 4))


def test_dirichlet_skew_vs_alpha():
    low = label_entropy(LABELS, data.split_dirichlet(LABELS, 20, 0.05), 10)
    high = label_entropy(LABELS, data.split_dirichlet(LABELS, 20, 1000.0), 10)
    iid = label_entropy(LABELS, data.split_iid(LABELS, 20), 10)
    assert low < 0.6 * np.log(10)  # one or two classes per worker
    assert high > 0.95 * iid  # near-uniform label mix


def test_dirichlet_trim_is_class_proportional():
    y = np.repeat(np.arange(3), [500, 300, 209])  # N = 1009, n = 10: drop 9
    parts = data.split_dirichlet(y, 10, 1.0)
    kept = np.bincount(y[parts.ravel()], minlength=3)
    # 9 * (500, 300, 209) / 1009 = (4.46, 2.68, 1.86): floors (4, 2, 1), largest remainders +1
    np.testing.assert_array_equal(np.bincount(y) - kept, [4, 3, 2])


def _dirichlet_reference(y, n, alpha, seed, trim_seed):
    """experiments.md §4 written out plainly with Python lists (an independent check)."""
    C, N = int(y.max()) + 1, len(y)
    r = N % n
    kept = np.arange(N)
    if r:
        rng = np.random.default_rng(trim_seed)
        by = [np.where(y == c)[0] for c in range(C)]
        raw = np.array([len(b) for b in by]) / N * r
        drop = np.floor(raw).astype(int)
        drop[np.argsort(-(raw - drop))[: r - drop.sum()]] += 1
        gone = np.concatenate([rng.choice(by[c], drop[c], replace=False)
                               for c in range(C) if drop[c]])
        kept = np.setdiff1d(kept, gone)
    yk, per = y[kept], len(kept) // n
    rng = np.random.default_rng(seed)
    pools = [list(np.where(yk == c)[0]) for c in range(C)]
    for pool in pools:
        rng.shuffle(pool)
    out = []
    for _ in range(n):
        raw = rng.dirichlet([alpha] * C) * per
        need = np.floor(raw).astype(int)
        need[np.argsort(-(raw - need))[: per - need.sum()]] += 1
        mine = []
        for c in range(C):
            k = min(need[c], len(pools[c]))
            mine += pools[c][:k]
            pools[c] = pools[c][k:]
            short = need[c] - k
            for c2 in np.argsort(-np.array([len(p) for p in pools])):
                k2 = min(short, len(pools[c2]))
                mine += pools[c2][:k2]
                pools[c2] = pools[c2][k2:]
                short -= k2
        rng.shuffle(mine)
        out.append(mine)
    return kept[np.array(out)]


@pytest.mark.parametrize("N, n, alpha", [(2003, 20, 0.1), (997, 7, 2.0)])
def test_dirichlet_matches_recipe(N, n, alpha):
    y = LABELS[:N]
    np.testing.assert_array_equal(data.split_dirichlet(y, n, alpha, seed=5, trim_seed=9),
                                  _dirichlet_reference(y, n, alpha, 5, 9))


def test_by_class_shards():
    y = np.repeat(np.arange(5), 40)  # 5 classes, n a multiple of 5
    for n in (5, 10, 20):
        parts = data.split_by_class(y, n, seed=1)
        assert_valid_split(parts, y.size, n)
        assert max(len(np.unique(y[row])) for row in parts) == 1
    parts = data.split_by_class(LABELS, 30, seed=2)  # unequal classes: at most a boundary
    assert max(len(np.unique(LABELS[row])) for row in parts) <= 2


def test_split_bad_inputs():
    with pytest.raises(ValueError, match="alpha"):
        data.split_dirichlet(LABELS, 5, 0.0)
    with pytest.raises(ValueError, match="alpha"):
        data.split_dirichlet(LABELS, 5, float("nan"))
    for f in (data.split_iid, data.split_by_class):
        with pytest.raises(ValueError, match="number of workers"):
            f(LABELS[:4], 5)
        with pytest.raises(ValueError, match="number of workers"):
            f(LABELS, 0)
    with pytest.raises(ValueError, match="labels"):
        data.split_iid(LABELS.reshape(-1, 1), 2)
    with pytest.raises(ValueError, match="labels"):
        data.split_dirichlet(np.array([0.5, 1.0, 2.0]), 1, 1.0)
    with pytest.raises(ValueError, match="split"):
        data.make_split(LABELS, 2, "random")
    with pytest.raises(ValueError, match=r"y \(labels\) has 3 entries"):
        data.check_dataset(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="parts"):
        data.check_parts(np.array([[0, 4]]), 4)
