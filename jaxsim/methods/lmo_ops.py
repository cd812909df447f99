"""Linear minimization oracles (LMOs) over parameter pytrees.

For a norm ``||.||`` and a momentum ``m != 0``, ``lmo(m) in argmin_{||u|| <= 1} <m, u>`` is a
unit step *downhill*; an LMO method updates ``x <- x + eta * lmo(m)`` (spec
``lmo_vr_local.md`` §2.2). The rules here, each a small pure function:

========== ===================================================== ==========================
rule       ``lmo(m)``                                            norm
========== ===================================================== ==========================
euclidean  ``-m / (||m||_2 + 1e-10)`` over the whole *group*     l2 (the authors' code's eps)
sign       ``-sign(m)`` elementwise, ``sign(0) = 0``             l-infinity
spectral   ``-r * NS(m)`` per leaf (block), ``NS(m) ~ U V^T``    spectral, radius ``r``
momentum   ``-m`` (not an LMO: a plain momentum step)            --
========== ===================================================== ==========================

``NS`` is the authors' five-step Newton--Schulz iteration with the coefficient triples
:data:`NS_COEFFS` (:func:`newton_schulz`), run in the input's float type (float32 by
default, float64 under ``jax_enable_x64``). It does not converge to ``U V^T``: it maps every
normalised singular value in ``[0.001, 1]`` into ``[0.858, 1.142]`` (``s = 1 -> 0.859``), which
is what the methods of the Ringmaster LMO paper use. A leaf of fewer than two dimensions is
treated as a ``1 x size`` row (so a vector gets ``0.859 * m / ||m||``); a leaf of two or more
dimensions is read in flax's layout ``[..., fan_in, fan_out]`` and acts as the block
``prod(shape[:-1]) x shape[-1]`` (a dense kernel as it is, a conv kernel as im2col weights).
The spectral radius is ``1`` (``radius="unit"``) or, as in the authors' code,
``sqrt(max(1, fan_out / fan_in))`` (``radius="muon"``: their ``sqrt(max(1, rows / cols))`` of a
torch weight, which is laid out ``[fan_out, fan_in]``; ``1`` for a vector); a callable
``radius(shape)`` gives any per-block radius (e.g. for a pytree in torch's layout). Together,
per-block LMOs with per-block radii are the LMO of the layer-wise product (max) norm.

A *partition* labels each leaf of the parameter pytree ``"matrix"`` or ``"other"``; each group
gets its own rule (:func:`lmo`). Partitions (:data:`PARTITIONS`) or any label function
``params -> pytree of labels``:

* ``"default"``: every 2-D leaf except embeddings and the output head (a leaf whose path has
  a key in :data:`EMBEDDING_AND_HEAD`) [project choice, spec §2.2];
* ``"muon_code"``: every leaf of ``ndim >= 2`` inside a transformer block (a path key
  starting with ``h_``), as the authors' code partitions NanoChat [code];
* ``"all"`` / ``"none"``: every leaf a matrix / no leaf a matrix.

optax's Muon (``optax.contrib.muon``) differs from the spec (one coefficient triple for every
step, its own momentum and scaling), so it is not reused; :func:`newton_schulz` agrees with
optax's ``orthogonalize_via_newton_schulz`` given the same five triples and ``eps``
(``tests/methods/test_lmo_ops.py``). :func:`scale_by_lmo` wraps a rule set as an optax transformation.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Union

import jax
import jax.numpy as jnp
import optax

#: The authors' Newton--Schulz coefficients ``(a, b, c)``, one triple per step [code].
NS_COEFFS = (
    (8.156554524902461, -22.48329292557795, 15.878769915207462),
    (4.042929935166739, -2.808917465908714, 0.5000178451051316),
    (3.8916678022926607, -2.772484153217685, 0.5060648178503393),
    (3.285753657755655, -2.3681294933425376, 0.46449024233003106),
    (2.3465413258596377, -1.7097828382687081, 0.42323551169305323),
)
NS_EPS = 1e-7  # X <- u / (||u||_F + eps) before the iteration [code]
EUCLID_EPS = 1e-10  # -m / (||m|| + eps) [code]

RULES = ("euclidean", "sign", "spectral", "momentum")
PARTITIONS = ("default", "muon_code", "all", "none")
RADII = ("unit", "muon")
LABELS = ("matrix", "other")
#: Path keys marking an embedding or the output head (left out of the default "matrix" group).
EMBEDDING_AND_HEAD = frozenset({"wte", "embedding", "embed", "embeddings", "lm_head", "head", "output"})


# -- Newton--Schulz ----------------------------------------------------------------------------

def newton_schulz(g: jax.Array, coeffs=NS_COEFFS, eps: float = NS_EPS) -> jax.Array:
    """The orthogonalizing iteration on a 2-D block, in ``g``'s float type.

    Transpose to ``rows <= cols``, ``X <- g / (||g||_F + eps)``, then for each ``(a, b, c)``:
    ``A = X X^T``, ``X <- a X + (b A + c A^2) X``; transpose back. Each step maps a singular
    value ``s`` to ``a s + b s^3 + c s^5``."""
    if g.ndim != 2:
        raise ValueError(f"newton_schulz: expected a 2-D block, got shape {g.shape}")
    wide = g.shape[0] <= g.shape[1]
    X = g if wide else g.T
    X = X / (jnp.linalg.norm(X) + eps)
    for a, b, c in coeffs:
        A = X @ X.T
        X = a * X + (b * A + c * (A @ A)) @ X
    return X if wide else X.T


def as_block(leaf: jax.Array) -> jax.Array:
    """The 2-D view the spectral rule acts on: ``1 x size`` below two dimensions, else
    ``prod(shape[:-1]) x shape[-1]`` (flax's ``[..., fan_in, fan_out]``)."""
    if leaf.ndim < 2:
        return leaf.reshape(1, -1)
    return leaf.reshape(-1, leaf.shape[-1])


def spectral_radius(shape, radius: Union[str, Callable] = "unit") -> float:
    """A block's radius: ``1``, or (``"muon"``) ``sqrt(max(1, fan_out / fan_in))`` of a leaf of two
    or more dimensions in flax's layout (``1`` for a vector), or ``radius(shape)``."""
    if callable(radius):
        return float(radius(tuple(shape)))
    if radius == "unit" or len(shape) < 2:
        return 1.0
    fan_out = shape[-1]
    fan_in = math.prod(shape[:-1])
    return math.sqrt(max(1.0, fan_out / fan_in)) if fan_in else 1.0


def orthogonalize(leaf: jax.Array, radius: Union[str, Callable] = "unit") -> jax.Array:
    """``r * NS(leaf)`` on the leaf's 2-D view, reshaped back (the spectral step's size)."""
    return (spectral_radius(leaf.shape, radius) * newton_schulz(as_block(leaf))).reshape(leaf.shape)


# -- partitions --------------------------------------------------------------------------------

def _key_name(k) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def default_labels(params) -> Any:
    """``"matrix"`` for every 2-D leaf outside embeddings and the head, else ``"other"``."""
    def label(path, leaf):
        names = {_key_name(k).lower() for k in path}
        return "matrix" if leaf.ndim == 2 and not names & EMBEDDING_AND_HEAD else "other"

    return jax.tree_util.tree_map_with_path(label, params)


def muon_code_labels(params) -> Any:
    """``"matrix"`` for every leaf of ``ndim >= 2`` inside a block (a path key ``h_<i>``)."""
    def label(path, leaf):
        in_block = any(_key_name(k).startswith("h_") for k in path)
        return "matrix" if leaf.ndim >= 2 and in_block else "other"

    return jax.tree_util.tree_map_with_path(label, params)


def _constant_labels(value):
    return lambda params: jax.tree.map(lambda _: value, params)


_PARTITION_FNS = {"default": default_labels, "muon_code": muon_code_labels,
                  "all": _constant_labels("matrix"), "none": _constant_labels("other")}


def label_function(partition: Union[str, Callable]) -> Callable:
    """The label function of a partition name, or ``partition`` itself if callable."""
    if callable(partition):
        return partition
    if partition not in _PARTITION_FNS:
        raise ValueError(f"partition: unknown name {partition!r}; expected one of {PARTITIONS} or a function "
                         "params -> pytree of 'matrix'/'other'")
    return _PARTITION_FNS[partition]


def labels_of(partition: Union[str, Callable], params) -> list:
    """The label of each leaf of ``params`` (in ``jax.tree.leaves`` order), validated: every
    leaf labeled, with ``"matrix"`` or ``"other"``; errors name the field ``partition``."""
    fn = label_function(partition)
    labels = fn(params)
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(params)]
    try:
        flat = jax.tree.structure(params).flatten_up_to(labels)
    except (ValueError, TypeError) as e:
        raise ValueError(f"partition: the label function must return one label per leaf of the parameter "
                         f"pytree (leaves: {paths}); it left a leaf unlabeled or changed the structure: {e}") from None
    for path, lab in zip(paths, flat):
        if not isinstance(lab, str) or lab not in LABELS:
            raise ValueError(f"partition: leaf {path} is labeled {lab!r}; every leaf needs a label in {LABELS}")
    return flat


# -- the LMO of a pytree -----------------------------------------------------------------------

class LMOConfig(NamedTuple):
    """A rule per group, the partition and the spectral radius (static, hashable)."""

    matrix: str = "spectral"
    other: str = "euclidean"
    partition: Union[str, Callable] = "default"
    radius: Union[str, Callable] = "unit"

    def check(self) -> "LMOConfig":
        """Raise ``ValueError`` naming the field for an unknown rule, partition or radius."""
        for field in ("matrix", "other"):
            if getattr(self, field) not in RULES:
                raise ValueError(f"lmo.{field}: unknown rule {getattr(self, field)!r}; expected one of {RULES}")
        label_function(self.partition)
        if not callable(self.radius) and self.radius not in RADII:
            raise ValueError(f"radius: unknown name {self.radius!r}; expected one of {RADII} or a function "
                             "shape -> radius")
        return self


#: The paper's default rules (immutable, so one instance serves as every default argument).
DEFAULT_LMO = LMOConfig()


def _group(rule: str, leaves: list, radius) -> list:
    """One group's rule on its leaves (the Euclidean rule normalizes by the group's norm)."""
    if rule == "momentum":
        return [-v for v in leaves]
    if rule == "sign":
        return [-jnp.sign(v) for v in leaves]
    if rule == "spectral":
        return [-orthogonalize(v, radius) for v in leaves]
    if rule == "euclidean":
        norm = jnp.sqrt(sum(jnp.sum(v * v) for v in leaves))
        return [-v / (norm + EUCLID_EPS) for v in leaves]
    raise ValueError(f"lmo: unknown rule {rule!r}; expected one of {RULES}")


def lmo(m, config: LMOConfig = DEFAULT_LMO) -> Any:
    """``lmo(m)`` of a parameter pytree: each group's rule (see the module docstring)."""
    leaves, treedef = jax.tree.flatten(m)
    labels = labels_of(config.partition, m)
    out = [None] * len(leaves)
    for label, rule in (("matrix", config.matrix), ("other", config.other)):
        idx = [i for i, lab in enumerate(labels) if lab == label]
        if idx:
            for i, v in zip(idx, _group(rule, [leaves[i] for i in idx], config.radius)):
                out[i] = v
    return jax.tree.unflatten(treedef, out)


def scale_by_lmo(config: LMOConfig = DEFAULT_LMO) -> optax.GradientTransformation:
    """An optax transformation mapping a direction ``u`` to ``-lmo(u)`` (stateless).

    Like a gradient, the output still needs a descent sign: chain it as
    ``optax.chain(scale_by_lmo(cfg), optax.scale_by_learning_rate(lr))`` (steps ``lr * lmo(u)``)."""
    config.check()

    def update(updates, state, params=None):
        return jax.tree.map(jnp.negative, lmo(updates, config)), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


__all__ = ["EMBEDDING_AND_HEAD", "LABELS", "LMOConfig", "NS_COEFFS", "PARTITIONS", "RADII", "RULES", "as_block",
           "default_labels", "label_function", "labels_of", "lmo", "muon_code_labels", "newton_schulz",
           "orthogonalize", "scale_by_lmo", "spectral_radius"]
