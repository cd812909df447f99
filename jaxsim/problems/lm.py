"""The language-model problem: :class:`LanguageModel` on a byte-level text corpus.

The model is :class:`~jaxsim.problems.lm_model.GPT` (:mod:`jaxsim.problems.lm_model`: its
architecture, parameter tree and sizes, :class:`~jaxsim.problems.lm_model.LMConfig`).

Data: a text corpus (:func:`jaxsim.problems.text.default_corpus` unless a ``text`` or a file
``path`` is given) encoded to bytes and cut into a training stream and a held-out tail (10 %).
Data are homogeneous: every worker samples the same training stream. One stochastic gradient
is the gradient of the mean next-token cross-entropy over ``batch`` windows of ``seq_len + 1``
tokens at uniform random offsets; the call's noise is just those ``batch`` offsets, so a
minibatch is fixed by ``(seed, worker, job)``.

Metrics: ``value_and_grad_from_noise`` returns the minibatch's loss with its gradient
(``has_batch_loss``: the spec's "latest minibatch loss", at the point where the gradient was
computed); ``loss(x)`` is the mean cross-entropy on ``heldout_windows`` (default 8) fixed,
evenly spaced held-out windows at ``x`` (the held-out loss at the current model) and
``full_grad`` its gradient (for the gradient-norm metric). ``f_star`` is unknown.
Under ``vmap`` a minibatch gradient is computed per run even where runs share its windows
(:func:`jaxsim.problems.batching.per_run`).
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from . import text as _text
from ..runtime.pytree import pytree_dataclass, static_field
from .base import Problem
from .batching import per_run
from .lm_model import GPT, LMConfig, flat_to_params, init_params, is_int, make_config, next_token_loss
from .logistic import default_dtype
from .options import Option, command_line


@pytree_dataclass
class LanguageModel(Problem):
    """See the module docstring. Leaves: ``train [N_train]`` and ``heldout [E, seq_len + 1]``
    (int32 tokens), ``x0 [d]``; static: ``config`` (:class:`LMConfig`), ``corpus_sha`` (the
    corpus fingerprint, :func:`jaxsim.problems.text.corpus_hash`)."""

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
        return flat_to_params(self.config, x.dtype)(x)

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
        return _minibatch_value_and_grad(self, x, noise, worker)[1]

    def value_and_grad_from_noise(self, x, noise, worker):
        """``(mean next-token cross-entropy of the minibatch at x, its gradient)``."""
        return _minibatch_value_and_grad(self, x, noise, worker)

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


# Per run under vmap: settings of a seed share its windows (see jaxsim.problems.batching).
_minibatch_value_and_grad = per_run(
    lambda problem, x, noise, worker: jax.value_and_grad(problem._windows_loss)(x, problem.windows(noise)))


def heldout_windows_of(tokens: np.ndarray, count: int, length: int) -> np.ndarray:
    """``count`` windows of ``length`` tokens at evenly spaced offsets of ``tokens`` (the
    first starts at 0, the last ends at the end; they overlap when the tail is short)."""
    starts = np.round(np.linspace(0, tokens.shape[0] - length, count)).astype(np.int64)
    return tokens[starts[:, None] + np.arange(length)]


@command_line(
    Option("data", "path", "a UTF-8 text file (default: the standard library's docstrings)", kind="path"),
    Option("data_seed", "seed", "seed of the initial parameters (default: 7)", kind="seed"),
    Option("batch", "batch", "sequences per minibatch (default: 8)", kind="count"),
)
def language_model(text: Optional[str] = None, path=None, config=None, *, batch=None,
                   seed: int = 7, heldout_windows: int = 8, heldout_fraction: float = 0.1,
                   max_bytes: int = _text.DEFAULT_MAX_BYTES, dtype=None) -> LanguageModel:
    """The registry's ``"lm"`` builder: :class:`LanguageModel` on a byte-level corpus.

    Corpus: the file ``path`` (UTF-8), else ``text``, else :func:`jaxsim.problems.text.default_corpus`
    (``max_bytes``; only for the default corpus). The last ``heldout_fraction`` of its tokens
    is held out; ``heldout_windows`` evenly spaced windows of it define :meth:`~LanguageModel.loss`.
    ``config``: see :func:`make_config` (default :meth:`LMConfig.cpu`); ``batch`` overrides its
    minibatch size. Parameters are drawn from ``seed`` (the spec's model seed 7) in ``dtype``
    (float64 when x64 is enabled, else float32).
    """
    cfg = make_config(config)
    if batch is not None:
        cfg = dataclasses.replace(cfg, batch=batch)
    if isinstance(seed, bool) or not is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not is_int(heldout_windows) or heldout_windows < 1:
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
