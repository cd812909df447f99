"""The language model of :mod:`jaxsim.problems.lm`: a small decoder-only transformer in flax.

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

Sizes: :meth:`LMConfig.cpu` (the default) is depth 2, 2 heads of dim 16 (``n_embd = 32``),
sequence 64, batch 8 (512 predicted tokens per gradient): ``d = 40 964`` parameters (block
matrices 24 576, embedding and head 8 192 each, 4 scalars). :meth:`LMConfig.paper` is the
spec's size (depth 6, 3 heads of dim 64, ``n_embd`` 192, sequence 2048, batch 4) for a GPU:
block matrices 2 654 208 parameters, ``d = 2 752 524`` with the byte vocabulary (the spec's
≈ 10.5M counts its 8192-token embeddings and value embeddings).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from .text import VOCAB

#: Logit soft-cap ``c`` of ``c tanh(z / c)``.
SOFTCAP = 15.0
#: Rotary-embedding base.
ROPE_BASE = 10000.0


def is_int(v) -> bool:
    """An integer, not a bool (Python or NumPy)."""
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
    vocab: int = VOCAB

    def __post_init__(self):
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if not is_int(v) or v < 1:
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


def flat_to_params(cfg: LMConfig, dtype):
    """The exact map from a flat parameter vector in ``dtype`` to :class:`GPT`'s flax variables
    ``{"params": ...}`` (one function per layout: equal shapes share code)."""
    return _unravel(_shape_key(cfg), jnp.dtype(dtype).name)


def next_token_loss(logits, targets):
    """Mean cross-entropy of ``targets [..., T]`` under ``logits [..., T, V]``, per window
    (the mean over the last token axis)."""
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, targets), axis=-1)
