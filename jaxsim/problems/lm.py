"""A small decoder-only transformer language model on a byte-level text corpus.

Model (``flax.linen``, :class:`GPT`), the NanoChat-style GPT of experiments.md §7.1 at a
small size: token embedding ``wte`` followed by a parameter-free RMS-norm; ``n_layer`` blocks
``h_0 .. h_{L-1}``, each mixing ``x <- resid_lambda * x + x0_lambda * x0`` (``x0`` the normed
embedding; per-layer scalars, init 1 and 0.1), then ``x + attn(norm(x))`` and
``x + mlp(norm(x))``; causal self-attention with rotary embeddings (base 10000, half-split
pairs) followed by QK RMS-norm; a ReLU² MLP of width ``4 n_embd``; a final norm; an untied
``lm_head`` and the logit soft-cap ``15 tanh(z / 15)``. Every norm is ``x / sqrt(mean(x²) +
eps)`` with no weights (``eps`` the dtype's machine epsilon, as ``F.rms_norm``); no biases.
Init: ``wte ~ N(0, 1)``, ``lm_head ~ N(0, 0.001²)``, q/k/v/fc ``~ U(±√3/√n_embd)``, both
output projections zero, so the initial next-token distribution is almost uniform and the
initial loss is almost ``ln 256 ≈ 5.545``.

Parameter tree (what a Muon label function partitions): ``{"params": {"wte": {"embedding"},
"h_<i>": {"attn": {"c_q", "c_k", "c_v", "c_proj"}, "mlp": {"c_fc", "c_proj"},
"resid_lambda", "x0_lambda"}, "lm_head": {"kernel"}}}``; each ``{...}`` of a layer holds its
2-D ``kernel``. The 2-D leaves under ``h_*`` are the block matrices (``12 n_embd²`` per layer),
the scalars are 0-D.

Omitted from the spec's model, and why: the sliding-window pattern (at CPU sequence lengths a
1024-token window covers the whole sequence anyway; with :meth:`LMConfig.paper` every layer
here attends to the full causal prefix); value embeddings and their gate (extra parameters
outside the blocks, left out to keep the model small and simple); multi-query attention (the
spec uses as many KV as query heads, so it changes nothing); bf16 autocast (the problem
computes in its parameter dtype: float32, or float64 with ``jax_enable_x64``); the BPE
tokenizer (bytes, vocabulary 256, need no training data).

Data: a text corpus (:func:`jaxsim.text.default_corpus` unless a ``text`` or a file ``path``
is given) encoded to bytes and cut into a training stream and a held-out tail (10 %). Data
are homogeneous: every worker samples the same training stream. One stochastic gradient is
the gradient of the mean next-token cross-entropy over ``batch`` windows of ``seq_len + 1``
tokens at uniform random offsets; the call's noise is just those ``batch`` offsets, so a
minibatch is fixed by ``(seed, worker, job)``.

Metrics: ``value_and_grad_from_noise`` returns the minibatch's loss with its gradient
(``has_batch_loss``: the spec's "latest minibatch loss", at the point where the gradient was
computed); ``loss(x)`` is the mean cross-entropy on ``heldout_windows`` (default 8) fixed,
evenly spaced held-out windows at ``x`` (the held-out loss at the current model) and
``full_grad`` its gradient (for the gradient-norm metric). ``f_star`` is unknown.

Sizes: :meth:`LMConfig.cpu` (the default) is depth 2, 2 heads of dim 16 (``n_embd = 32``),
sequence 64, batch 8 (512 predicted tokens per gradient): ``d = 40 964`` parameters (block
matrices 24 576, embedding and head 8 192 each, 4 scalars); one jitted value-and-gradient
takes ≈ 3.5–4.5 ms on a 2-core CPU (``n_embd = 64``: ``d = 131 076``, ≈ 7–9 ms; ``n_embd = 64``
with sequence 32 and batch 4: ≈ 2 ms), measured with ``timeit`` after warm-up on a shared
machine, so indicative only. In a sweep (asgd, 8 workers, 4 settings) a gradient costs
≈ 7 ms with the recording, and 200 simulated seconds take the held-out loss from 5.55 to 2.8.
:meth:`LMConfig.paper` is the spec's size (depth 6, 3 heads of dim 64, ``n_embd`` 192,
sequence 2048, batch 4) for a GPU: block matrices 2 654 208 parameters, ``d = 2 752 524`` with
the byte vocabulary (the spec's ≈ 10.5M counts its 8192-token embeddings and value embeddings).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Optional

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from .. import text as _text
from ..runtime.pytree import pytree_dataclass, static_field
from .base import Problem
from .logistic import default_dtype

#: Logit soft-cap ``c`` of ``c tanh(z / c)``.
SOFTCAP = 15.0
#: Rotary-embedding base.
ROPE_BASE = 10000.0


def _is_int(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer))


@dataclasses.dataclass(frozen=True)
class LMConfig:
    """Model and minibatch sizes (hashable: a static field of the problem).

    ``head_dim = n_embd // n_head`` must be a whole, even number (rotary embeddings rotate
    pairs of channels). ``batch`` windows of ``seq_len`` predicted tokens make one gradient.
    """

    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 32
    seq_len: int = 64
    batch: int = 8
    vocab: int = _text.VOCAB

    def __post_init__(self):
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if not _is_int(v) or v < 1:
                raise ValueError(f"config.{f.name} must be an integer >= 1, got {v!r}")
            object.__setattr__(self, f.name, int(v))
        if self.n_embd % self.n_head:
            raise ValueError(f"config.n_embd = {self.n_embd} is not divisible by "
                             f"config.n_head = {self.n_head}")
        if self.head_dim % 2:
            raise ValueError(f"config.n_embd / config.n_head = {self.head_dim} (the head dim) must "
                             "be even: rotary embeddings rotate pairs of channels")

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @classmethod
    def cpu(cls) -> "LMConfig":
        """The default: one gradient costs a few milliseconds on a small CPU."""
        return cls()

    @classmethod
    def paper(cls) -> "LMConfig":
        """The spec's size (depth 6, 3 heads of dim 64, sequence 2048, batch 4), for a GPU."""
        return cls(n_layer=6, n_head=3, n_embd=192, seq_len=2048, batch=4)

    @property
    def block_matrix_params(self) -> int:
        """Entries of the blocks' 2-D matrices: ``n_layer * 12 n_embd²`` (q, k, v, proj, and
        the two ``4 n_embd``-wide MLP matrices)."""
        return self.n_layer * 12 * self.n_embd ** 2


def make_config(config=None) -> LMConfig:
    """``config`` as an :class:`LMConfig`: ``None`` (the CPU default), ``"cpu"``, ``"paper"``,
    an :class:`LMConfig`, or a mapping of fields overriding the CPU default."""
    if config is None:
        return LMConfig.cpu()
    if isinstance(config, LMConfig):
        return config
    if isinstance(config, str):
        if config not in ("cpu", "paper"):
            raise ValueError(f"config: unknown name {config!r}; use 'cpu' or 'paper'")
        return getattr(LMConfig, config)()
    if isinstance(config, dict):
        names = [f.name for f in dataclasses.fields(LMConfig)]
        for k in config:
            if k not in names:
                raise ValueError(f"config: unknown field {k!r}; fields: {names}")
        return dataclasses.replace(LMConfig.cpu(), **config)
    raise ValueError(f"config must be None, 'cpu', 'paper', an LMConfig or a dict, "
                     f"got {type(config).__name__}")


# ----------------------------------------------------------------------------- model

def rms_norm(x):
    """``x / sqrt(mean(x²) + eps)`` over the last axis, no weights (``F.rms_norm``'s default
    ``eps``: the dtype's machine epsilon)."""
    eps = jnp.finfo(x.dtype).eps
    return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + eps)


def rotary_tables(seq_len: int, head_dim: int, dtype):
    """``(cos, sin)`` of shape ``[seq_len, head_dim / 2]``: angle ``t / base^(2j / head_dim)``
    for position ``t`` and channel pair ``j`` (computed in float64, then cast)."""
    inv_freq = 1.0 / ROPE_BASE ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    angles = np.outer(np.arange(seq_len, dtype=np.float64), inv_freq)
    return jnp.asarray(np.cos(angles), dtype), jnp.asarray(np.sin(angles), dtype)


def apply_rotary(x, cos, sin):
    """Rotate channel pairs ``(j, j + D/2)`` of ``x [B, T, H, D]`` by the position's angle."""
    d = x.shape[-1] // 2
    x1, x2 = x[..., :d], x[..., d:]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return jnp.concatenate([x1 * c + x2 * s, x2 * c - x1 * s], axis=-1)


def _uniform(bound: float):
    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


class CausalSelfAttention(nn.Module):
    """Multi-head causal attention with rotary embeddings and QK RMS-norm."""

    cfg: LMConfig
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, cos, sin):
        B, T, C = x.shape
        H, D = self.cfg.n_head, self.cfg.head_dim
        init = _uniform(math.sqrt(3.0 / C))

        def dense(name, kernel_init):
            return nn.Dense(C, use_bias=False, kernel_init=kernel_init, dtype=self.dtype,
                            param_dtype=self.dtype, name=name)

        q = dense("c_q", init)(x).reshape(B, T, H, D)
        k = dense("c_k", init)(x).reshape(B, T, H, D)
        v = dense("c_v", init)(x).reshape(B, T, H, D)
        q = rms_norm(apply_rotary(q, cos, sin))
        k = rms_norm(apply_rotary(k, cos, sin))
        scores = jnp.einsum("bthd,bshd->bhts", q, k) / jnp.sqrt(jnp.asarray(D, x.dtype))
        causal = jnp.tril(jnp.ones((T, T), bool))
        # A large finite fill, not -inf: each row keeps its diagonal, so nothing is lost, and
        # no inf - inf can appear in the backward pass.
        scores = jnp.where(causal, scores, jnp.finfo(scores.dtype).min)
        y = jnp.einsum("bhts,bshd->bthd", jax.nn.softmax(scores, axis=-1), v).reshape(B, T, C)
        return dense("c_proj", nn.initializers.zeros)(y)


class ReluSquaredMLP(nn.Module):
    """``c_proj(relu(c_fc(x))²)`` of hidden width ``4 n_embd``."""

    cfg: LMConfig
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x):
        C = x.shape[-1]
        h = nn.Dense(4 * C, use_bias=False, kernel_init=_uniform(math.sqrt(3.0 / C)),
                     dtype=self.dtype, param_dtype=self.dtype, name="c_fc")(x)
        h = jnp.square(nn.relu(h))
        return nn.Dense(C, use_bias=False, kernel_init=nn.initializers.zeros, dtype=self.dtype,
                        param_dtype=self.dtype, name="c_proj")(h)


class Block(nn.Module):
    """``x <- resid_lambda x + x0_lambda x0``, then attention and MLP residual branches."""

    cfg: LMConfig
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x, x0, cos, sin):
        resid = self.param("resid_lambda", nn.initializers.ones, (), self.dtype)
        mix = self.param("x0_lambda", nn.initializers.constant(0.1), (), self.dtype)
        x = resid * x + mix * x0
        x = x + CausalSelfAttention(self.cfg, self.dtype, name="attn")(rms_norm(x), cos, sin)
        return x + ReluSquaredMLP(self.cfg, self.dtype, name="mlp")(rms_norm(x))


class GPT(nn.Module):
    """The decoder-only transformer of the module docstring: tokens ``[B, T]`` -> soft-capped
    logits ``[B, T, vocab]``."""

    cfg: LMConfig
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, tokens):
        cfg = self.cfg
        x = nn.Embed(cfg.vocab, cfg.n_embd, embedding_init=nn.initializers.normal(1.0),
                     dtype=self.dtype, param_dtype=self.dtype, name="wte")(tokens)
        x = x0 = rms_norm(x)
        cos, sin = rotary_tables(tokens.shape[1], cfg.head_dim, self.dtype)
        for i in range(cfg.n_layer):
            x = Block(cfg, self.dtype, name=f"h_{i}")(x, x0, cos, sin)
        logits = nn.Dense(cfg.vocab, use_bias=False, kernel_init=nn.initializers.normal(0.001),
                          dtype=self.dtype, param_dtype=self.dtype, name="lm_head")(rms_norm(x))
        return SOFTCAP * jnp.tanh(logits / SOFTCAP)


def param_shapes(cfg: LMConfig, dtype=jnp.float32):
    """The flax variables' shapes (``jax.ShapeDtypeStruct`` leaves), without drawing them."""
    return jax.eval_shape(GPT(cfg, dtype).init, jax.random.key(0),
                          jax.ShapeDtypeStruct((1, 1), jnp.int32))


def _shape_key(cfg: LMConfig) -> LMConfig:
    # The parameters do not depend on the sequence length or the batch size.
    return dataclasses.replace(cfg, seq_len=1, batch=1)


@functools.cache
def _init_fn(cfg: LMConfig, dtype_name: str):
    # Jitted and cached: one compile per layout beats running the init op by op.
    return jax.jit(GPT(cfg, jnp.dtype(dtype_name)).init)


def init_params(cfg: LMConfig, seed: int, dtype=jnp.float32):
    """The initial flax variables of :class:`GPT` drawn from ``seed`` (one-token input: the
    parameter shapes do not depend on the sequence length, and the forward pass stays trivial)."""
    return _init_fn(_shape_key(cfg), jnp.dtype(dtype).name)(jax.random.key(seed),
                                                            jnp.zeros((1, 1), jnp.int32))


@functools.cache
def _unravel(cfg: LMConfig, dtype_name: str):
    # Cached per (shape, dtype): one function object per layout, so equal shapes share code.
    shapes = param_shapes(cfg, jnp.dtype(dtype_name))
    return ravel_pytree(jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), shapes))[1]


def next_token_loss(logits, targets):
    """Mean cross-entropy of ``targets [..., T]`` under ``logits [..., T, V]``, per window
    (the mean over the last token axis)."""
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, targets), axis=-1)


# ----------------------------------------------------------------------------- problem

@pytree_dataclass
class LanguageModel(Problem):
    """See the module docstring. Leaves: ``train [N_train]`` and ``heldout [E, seq_len + 1]``
    (int32 tokens), ``x0 [d]``; static: ``config`` (:class:`LMConfig`), ``corpus_sha`` (the
    corpus fingerprint, :func:`jaxsim.text.corpus_hash`)."""

    train: jax.Array
    heldout: jax.Array
    x0: jax.Array
    config: LMConfig = static_field(default=LMConfig())
    corpus_sha: str = static_field(default="")

    name = "lm"
    has_batch_loss = True

    @property
    def dim(self):
        return self.x0.shape[0]

    def init(self):
        return self.x0

    def params(self, x):
        """The flax variables ``{"params": ...}`` of the flat vector ``x`` (exact)."""
        return _unravel(_shape_key(self.config), jnp.dtype(x.dtype).name)(x)

    def logits(self, x, tokens):
        """Soft-capped logits ``[B, T, vocab]`` of ``tokens [B, T]`` at parameters ``x``."""
        return GPT(self.config, x.dtype).apply(self.params(x), tokens)

    def _windows_loss(self, x, windows, weights=None):
        per_window = next_token_loss(self.logits(x, windows[:, :-1]), windows[:, 1:])
        return jnp.mean(per_window) if weights is None else jnp.sum(weights * per_window)

    def windows(self, starts):
        """The training windows ``[B, seq_len + 1]`` that begin at offsets ``starts [B]``."""
        return self.train[starts[:, None] + jnp.arange(self.config.seq_len + 1)]

    def sample_noise(self, key, worker):
        """``batch`` window offsets, uniform over the training stream (same for every worker)."""
        hi = self.train.shape[0] - self.config.seq_len  # exclusive: the window's end fits
        return jax.random.randint(key, (self.config.batch,), 0, hi, dtype=jnp.int32)

    def grad_from_noise(self, x, noise, worker):
        return jax.grad(self._windows_loss)(x, self.windows(noise))

    def value_and_grad_from_noise(self, x, noise, worker):
        """``(mean next-token cross-entropy of the minibatch at x, its gradient)``."""
        return jax.value_and_grad(self._windows_loss)(x, self.windows(noise))

    def _chunks(self, dtype):
        # Held-out windows in chunks of `batch` (padding: window 0 with weight 0), so a
        # recording point never holds more activations than one training gradient.
        E, c = self.heldout.shape[0], min(self.config.batch, self.heldout.shape[0])
        k = -(-E // c)
        idx = jnp.concatenate([jnp.arange(E), jnp.zeros((k * c - E,), int)]).reshape(k, c)
        w = jnp.concatenate([jnp.full((E,), 1.0 / E, dtype), jnp.zeros((k * c - E,), dtype)])
        return idx, w.reshape(k, c)

    def loss(self, x):
        """Mean next-token cross-entropy on the held-out windows at ``x``."""
        idx, w = self._chunks(x.dtype)

        def body(acc, iw):
            i, wi = iw
            return acc + self._windows_loss(x, self.heldout[i], wi), None

        return jax.lax.scan(body, jnp.zeros((), x.dtype), (idx, w))[0]

    def full_grad(self, x):
        """The gradient of :meth:`loss` (one chunk's activations at a time)."""
        idx, w = self._chunks(x.dtype)

        def body(acc, iw):
            i, wi = iw
            return acc + jax.grad(self._windows_loss)(x, self.heldout[i], wi), None

        return jax.lax.scan(body, jnp.zeros_like(x), (idx, w))[0]


def heldout_windows_of(tokens: np.ndarray, count: int, length: int) -> np.ndarray:
    """``count`` windows of ``length`` tokens at evenly spaced offsets of ``tokens`` (the
    first starts at 0, the last ends at the end; they overlap when the tail is short)."""
    starts = np.round(np.linspace(0, tokens.shape[0] - length, count)).astype(np.int64)
    return tokens[starts[:, None] + np.arange(length)]


def language_model(text: Optional[str] = None, path=None, config=None, *, batch=None,
                   seed: int = 7, heldout_windows: int = 8, heldout_fraction: float = 0.1,
                   max_bytes: int = _text.DEFAULT_MAX_BYTES, dtype=None) -> LanguageModel:
    """The registry's ``"lm"`` builder: :class:`LanguageModel` on a byte-level corpus.

    Corpus: the file ``path`` (UTF-8), else ``text``, else :func:`jaxsim.text.default_corpus`
    (``max_bytes``; only for the default corpus). The last ``heldout_fraction`` of its tokens
    is held out; ``heldout_windows`` evenly spaced windows of it define :meth:`~LanguageModel.loss`.
    ``config``: see :func:`make_config` (default :meth:`LMConfig.cpu`); ``batch`` overrides its
    minibatch size. Parameters are drawn from ``seed`` (the spec's model seed 7) in ``dtype``
    (float64 when x64 is enabled, else float32).
    """
    cfg = make_config(config)
    if batch is not None:
        cfg = dataclasses.replace(cfg, batch=batch)
    if isinstance(seed, bool) or not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not _is_int(heldout_windows) or heldout_windows < 1:
        raise ValueError(f"heldout_windows must be an integer >= 1, got {heldout_windows!r}")
    if path is not None and text is not None:
        raise ValueError("text/path: give at most one (path reads the text from a file)")
    if path is not None:
        corpus = _text.load_text(path, "path")
    elif text is not None:
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, got {type(text).__name__}")
        corpus = text
    else:
        corpus = _text.default_corpus(max_bytes)
    tokens = _text.encode(corpus)
    train, held = _text.split_tokens(tokens, heldout_fraction)
    if cfg.vocab < _text.VOCAB:
        raise ValueError(f"config.vocab = {cfg.vocab} is below the {_text.VOCAB} byte tokens")
    need = cfg.seq_len + 1
    for part, toks in (("training", train), ("held-out", held)):
        if toks.shape[0] < need:
            raise ValueError(f"corpus: its {part} part ({toks.shape[0]} of {tokens.shape[0]} byte "
                             f"tokens) is shorter than one sequence (config.seq_len + 1 = {need} "
                             "tokens); give a longer text or a smaller seq_len")
    dtype = default_dtype(dtype)
    x0 = ravel_pytree(init_params(cfg, seed, dtype))[0]
    return LanguageModel(train=jnp.asarray(train, jnp.int32),
                         heldout=jnp.asarray(heldout_windows_of(held, int(heldout_windows), need),
                                             jnp.int32),
                         x0=jnp.asarray(x0, dtype), config=cfg,
                         corpus_sha=_text.corpus_hash(corpus))
