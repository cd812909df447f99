"""The transformer language model (jaxsim.problems.lm_model), its problem (jaxsim.problems.lm) and the text
loader (jaxsim.problems.text).

Tiny shapes (depth 2, n_embd 16, sequence 8, batch 2); compiled functions are shared through
module-scoped fixtures.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsim.problems import text as T
from jaxsim.problems import PROBLEMS, LanguageModel, LMConfig, language_model, make_problem
from jaxsim.problems.lm_model import GPT, param_shapes

TINY = dict(n_layer=2, n_head=2, n_embd=16, seq_len=8, batch=2)
MATRICES = {("attn", "c_q"), ("attn", "c_k"), ("attn", "c_v"), ("attn", "c_proj"),
            ("mlp", "c_fc"), ("mlp", "c_proj")}


@pytest.fixture(scope="module")
def corpus():
    return T.default_corpus(20_000)


@pytest.fixture(scope="module")
def prob(corpus):
    return language_model(text=corpus, config=TINY)


@pytest.fixture(scope="module")
def fns(prob):
    """Jitted functions of the tiny problem, compiled once for the module."""
    return dict(
        vg=jax.jit(lambda x, n: prob.value_and_grad_from_noise(x, n, 0)),
        grad=jax.jit(lambda x, n: prob.grad_from_noise(x, n, 0)),
        logits=jax.jit(prob.logits),
        loss=jax.jit(prob.loss),
    )


@pytest.fixture(scope="module")
def x_trained_like(prob):
    """A point with non-zero output projections (at init they are zero, so attention and
    the MLP contribute nothing and position mixing would be untestable)."""
    noise = 0.3 * jax.random.normal(jax.random.key(3), (prob.dim,), prob.x0.dtype)
    return prob.init() + noise


def _bits(a):
    a = np.asarray(a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def _np_cross_entropy(logits, targets):
    z = np.asarray(logits, np.float64)
    m = z.max(-1, keepdims=True)
    lse = m[..., 0] + np.log(np.exp(z - m).sum(-1))
    zy = np.take_along_axis(z, np.asarray(targets)[..., None], -1)[..., 0]
    return float(np.mean(lse - zy))


# ---- parameters ---------------------------------------------------------------------------------

def test_params_flat_round_trip_is_bit_exact(prob):
    x = jax.random.normal(jax.random.key(0), (prob.dim,), prob.x0.dtype)
    back = prob.flat(prob.params(x))
    assert back.shape == x.shape and back.dtype == x.dtype
    np.testing.assert_array_equal(_bits(back), _bits(x))
    np.testing.assert_array_equal(_bits(prob.flat(prob.params(prob.init()))), _bits(prob.init()))


def test_parameter_tree_names_and_shapes(prob):
    p = prob.params(prob.init())["params"]
    assert set(p) == {"wte", "h_0", "h_1", "lm_head"}
    assert p["wte"]["embedding"].shape == (256, 16)
    assert p["lm_head"]["kernel"].shape == (16, 256)
    for i in range(2):
        leaves = jax.tree_util.tree_flatten_with_path(p[f"h_{i}"])[0]
        names = {tuple(k.key for k in path): leaf for path, leaf in leaves}
        mats = {name[:-1] for name, leaf in names.items() if leaf.ndim == 2}
        assert mats == MATRICES
        scalars = {name: leaf for name, leaf in names.items() if leaf.ndim != 2}
        assert {n: float(v) for n, v in scalars.items()} == pytest.approx(
            {("resid_lambda",): 1.0, ("x0_lambda",): 0.1})
        assert all(v.ndim == 0 for v in scalars.values())
    assert prob.dim == sum(leaf.size for leaf in jax.tree.leaves(p))
    assert prob.dim == 2 * 256 * 16 + LMConfig(**TINY).block_matrix_params + 2 * 2


def test_initialisation_follows_the_spec(prob):
    p = prob.params(prob.init())["params"]
    bound = math.sqrt(3 / 16)
    for i in range(2):
        h = p[f"h_{i}"]
        assert not np.any(np.asarray(h["attn"]["c_proj"]["kernel"]))
        assert not np.any(np.asarray(h["mlp"]["c_proj"]["kernel"]))
        for w in (h["attn"]["c_q"], h["attn"]["c_k"], h["attn"]["c_v"], h["mlp"]["c_fc"]):
            w = np.asarray(w["kernel"])
            assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    # 4096 draws each: the sample std is within 5 % of the true one with overwhelming odds.
    assert np.std(np.asarray(p["wte"]["embedding"])) == pytest.approx(1.0, rel=0.05)
    assert np.std(np.asarray(p["lm_head"]["kernel"])) == pytest.approx(0.001, rel=0.05)


def test_paper_config_shapes():
    cfg = LMConfig.paper()
    assert (cfg.n_layer, cfg.n_head, cfg.head_dim, cfg.n_embd, cfg.seq_len, cfg.batch) == \
        (6, 3, 64, 192, 2048, 4)
    p = param_shapes(cfg)["params"]  # eval_shape: nothing is drawn or run
    blocks = sum(math.prod(leaf.shape) for name, blk in p.items() if name.startswith("h_")
                 for leaf in jax.tree.leaves(blk) if len(leaf.shape) == 2)
    assert blocks == cfg.block_matrix_params == 6 * (4 * 192 ** 2 + 2 * 4 * 192 ** 2) == 2_654_208
    total = sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(p))
    assert total == blocks + 2 * 256 * 192 + 6 * 2
    out = jax.eval_shape(GPT(cfg).apply, param_shapes(cfg),
                         jax.ShapeDtypeStruct((cfg.batch, cfg.seq_len), jnp.int32))
    assert out.shape == (4, 2048, 256)


def test_float64_with_x64():
    with jax.enable_x64(True):
        p = language_model(text="abcdefgh" * 40, config=dict(n_layer=1, n_embd=8, n_head=2,
                                                             seq_len=4, batch=1))
        assert p.x0.dtype == jnp.float64
        assert all(leaf.dtype == jnp.float64 for leaf in jax.tree.leaves(p.params(p.x0)))


# ---- model --------------------------------------------------------------------------------------

def test_attention_is_causal(prob, fns, x_trained_like):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (1, 8)).astype(np.int32)
    b = a.copy()
    t = 4
    b[0, t + 1:] = (a[0, t + 1:] + 1) % 256
    la = np.asarray(fns["logits"](x_trained_like, jnp.asarray(a)))
    lb = np.asarray(fns["logits"](x_trained_like, jnp.asarray(b)))
    np.testing.assert_array_equal(la[0, :t + 1], lb[0, :t + 1])
    # The check has teeth: the later positions see the change (they mix earlier tokens).
    c = a.copy()
    c[0, 0] = (a[0, 0] + 1) % 256
    lc = np.asarray(fns["logits"](x_trained_like, jnp.asarray(c)))
    assert np.abs(lc[0, 1:] - la[0, 1:]).max() > 1e-3


def test_initial_loss_is_log_256(prob, fns):
    """At init the logits are tiny: after the final norm ||h|| <= sqrt(n_embd), so
    |z_j| <= sqrt(n_embd) ||W_:j|| (the soft-cap only shrinks them), and a cross-entropy
    logsumexp(z) - z_y lies within max z - min z <= 2 max|z| of ln 256."""
    W = np.asarray(prob.params(prob.init())["params"]["lm_head"]["kernel"], np.float64)
    bound = 2 * math.sqrt(16) * np.linalg.norm(W, axis=0).max()
    assert bound < 0.05  # lm_head ~ N(0, 0.001²): a few thousandths
    assert abs(float(fns["loss"](prob.init())) - math.log(256)) <= bound
    v, _ = fns["vg"](prob.init(), prob.sample_noise(jax.random.key(0), 0))
    assert abs(float(v) - math.log(256)) <= bound


def test_batch_loss_is_the_cross_entropy_of_the_minibatch(prob, fns, x_trained_like):
    assert prob.has_batch_loss and prob.f_star is None and prob.name == "lm"
    noise = prob.sample_noise(jax.random.key(5), 2)
    v, g = fns["vg"](x_trained_like, noise)
    w = np.asarray(prob.windows(noise))
    logits = fns["logits"](x_trained_like, jnp.asarray(w[:, :-1]))
    want = _np_cross_entropy(logits, w[:, 1:])
    assert abs(want - math.log(256)) > 0.05  # away from the uniform value, so the check is sharp
    assert float(v) == pytest.approx(want, rel=1e-5)
    np.testing.assert_allclose(np.asarray(g), np.asarray(fns["grad"](x_trained_like, noise)),
                               rtol=1e-5, atol=1e-7)
    assert np.linalg.norm(np.asarray(g)) > 0


def test_heldout_loss_and_gradient(corpus):
    """The chunked held-out loss (5 windows in chunks of 2, one padded) equals the plain mean."""
    p = language_model(text=corpus, config=TINY, heldout_windows=5)
    assert p.heldout.shape == (5, 9)
    x = p.init() + 0.3 * jax.random.normal(jax.random.key(1), (p.dim,))

    def direct(x):
        return p._windows_loss(x, p.heldout)

    logits = jax.jit(p.logits)(x, p.heldout[:, :-1])
    assert float(jax.jit(p.loss)(x)) == pytest.approx(
        _np_cross_entropy(logits, np.asarray(p.heldout[:, 1:])), rel=1e-5)
    np.testing.assert_allclose(np.asarray(jax.jit(p.full_grad)(x)),
                               np.asarray(jax.jit(jax.grad(direct))(x)), rtol=1e-4, atol=1e-6)
    # the held-out windows come from the held-out tail, not the training stream
    _, held = T.split_tokens(T.encode(corpus))
    assert np.array_equal(np.asarray(p.heldout[0]), held[:9])
    assert np.array_equal(np.asarray(p.heldout[-1]), held[-9:])


# ---- minibatches --------------------------------------------------------------------------------

def test_minibatches_are_keyed_and_inside_the_training_split(prob, corpus):
    k = jax.random.key(11)
    a = prob.sample_noise(k, 0)
    assert a.shape == (2,) and a.dtype == jnp.int32
    np.testing.assert_array_equal(a, prob.sample_noise(k, 0))
    np.testing.assert_array_equal(a, prob.sample_noise(k, 5))  # homogeneous: same stream
    assert not np.array_equal(a, prob.sample_noise(jax.random.key(12), 0))
    starts = np.asarray(jax.vmap(lambda k: prob.sample_noise(k, 0))(
        jax.random.split(jax.random.key(0), 4000)))
    n_train = prob.train.shape[0]
    assert starts.min() >= 0 and starts.max() + 8 <= n_train - 1
    assert starts.max() > n_train - 8 - 200 and starts.min() < 200  # the whole range is used
    train, _ = T.split_tokens(T.encode(corpus))
    np.testing.assert_array_equal(np.asarray(prob.train), train)
    w = np.asarray(prob.windows(jnp.asarray(starts[:3, 0])))
    for s, row in zip(starts[:3, 0], w):
        np.testing.assert_array_equal(row, train[s:s + 9])


def test_sgd_on_one_minibatch_reduces_its_loss(prob, fns):
    noise = prob.sample_noise(jax.random.key(2), 0)
    x = prob.init()
    first, _ = fns["vg"](x, noise)
    for _ in range(15):
        v, g = fns["vg"](x, noise)
        x = x - 0.5 * g
    last, _ = fns["vg"](x, noise)
    assert float(last) < float(first) - 0.5


# ---- construction and bad input -----------------------------------------------------------------

def test_registry_and_config_forms(corpus):
    assert PROBLEMS["lm"] is language_model
    p = make_problem("lm", text=corpus, config=TINY)
    assert isinstance(p, LanguageModel) and p.config == LMConfig(**TINY)
    assert p.corpus_sha == T.corpus_hash(corpus)
    assert language_model(text=corpus, config=TINY, batch=3).config.batch == 3
    assert language_model(text=corpus, config=LMConfig(**TINY)).dim == p.dim


def test_loader_reads_a_user_file(tmp_path, corpus):
    f = tmp_path / "corpus.txt"
    f.write_bytes(corpus.encode("utf-8"))
    assert T.load_text(f) == corpus
    a, b = language_model(path=f, config=TINY), language_model(text=corpus, config=TINY)
    np.testing.assert_array_equal(a.train, b.train)
    np.testing.assert_array_equal(a.x0, b.x0)  # same seed, same model
    assert a.corpus_sha == b.corpus_sha
    g = tmp_path / "bad.txt"
    g.write_bytes(b"ok \xff\xfe done")
    assert T.load_text(g) == "ok \ufffd\ufffd done"


def test_default_corpus_is_deterministic_and_fingerprinted():
    a = T.default_corpus(20_000)
    assert 0 < len(a.encode("utf-8")) <= 20_000 and a.strip()
    assert T.default_corpus.__wrapped__(20_000) == a  # recomputed without the cache
    h = T.corpus_hash(a)
    assert len(h) == 12 and int(h, 16) >= 0 and h != T.corpus_hash(a + " ")


def test_tokens_and_split():
    tok = T.encode("héllo")
    assert tok.dtype == np.int32 and tok.tolist() == list("héllo".encode("utf-8"))
    assert T.decode(tok) == "héllo"
    train, held = T.split_tokens(np.arange(100))
    assert train.tolist() == list(range(90)) and held.tolist() == list(range(90, 100))


@pytest.mark.parametrize("kwargs, field", [
    (dict(text="short text " * 3), "corpus"),
    (dict(text="x" * 80), "held-out"),  # training part (72) long enough, held-out tail (8) not
    (dict(config=dict(TINY, n_embd=15)), "n_embd"),
    (dict(config=dict(TINY, n_embd=6, n_head=2)), "head dim"),
    (dict(config=dict(TINY, seq_len=0)), "seq_len"),
    (dict(config=dict(TINY, n_layer=-1)), "n_layer"),
    (dict(config=dict(TINY, batch=1.5)), "batch"),
    (dict(config=dict(TINY, vocab=100)), "vocab"),
    (dict(config=dict(TINY, depth=3)), "config: unknown field 'depth'"),
    (dict(config="huge"), "config"),
    (dict(heldout_windows=0), "heldout_windows"),
    (dict(seed=-1), "seed"),
    (dict(heldout_fraction=1.0), "heldout_fraction"),
    (dict(text="abc" * 100, path="x.txt"), "text/path"),
])
def test_bad_input_names_the_field(kwargs, field):
    kwargs = dict(dict(text="some text " * 100, config=TINY), **kwargs)
    with pytest.raises(ValueError, match=field):
        language_model(**kwargs)


def test_bad_files_name_the_field(tmp_path):
    with pytest.raises(FileNotFoundError, match="path: .*no such file"):
        language_model(path=tmp_path / "missing.txt", config=TINY)
    with pytest.raises(ValueError, match="path: .*no such file"):  # also a ValueError
        T.load_text(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(ValueError, match="path: .*empty"):
        language_model(path=tmp_path / "empty.txt", config=TINY)
    with pytest.raises(ValueError, match="path: .*not a regular file"):
        T.load_text(tmp_path)
    with pytest.raises(ValueError, match="max_bytes"):
        T.default_corpus(0)
