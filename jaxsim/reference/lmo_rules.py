"""The LMO methods' shared reference: momentum and LMO in plain NumPy float64.

Written from the spec (``lmo_vr_local.md`` §2.2–2.4) with loops, independent of
:mod:`jaxsim.methods.lmo_ops` except for the partition's label function (configuration, not arithmetic).
The rule reads the problem's parameter pytree through ``rule.params`` / ``rule.flat``, which
the reference loops set from the problem.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from ..methods.lmo_ops import EUCLID_EPS, NS_COEFFS, NS_EPS, labels_of


def newton_schulz_np(g: np.ndarray, coeffs=NS_COEFFS, eps: float = NS_EPS) -> np.ndarray:
    """The five Newton--Schulz steps on a 2-D block, float64."""
    X = np.array(g, dtype=np.float64)
    transposed = X.shape[0] > X.shape[1]
    if transposed:
        X = X.T
    X = X / (np.sqrt(np.sum(X * X)) + eps)
    for a, b, c in coeffs:
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if transposed else X


def _radius(shape, radius) -> float:
    if callable(radius):
        return float(radius(tuple(shape)))
    if radius == "unit" or len(shape) < 2:
        return 1.0
    fan_in, fan_out = math.prod(shape[:-1]), shape[-1]  # flax's [..., fan_in, fan_out]
    return math.sqrt(max(1.0, fan_out / fan_in))


def lmo_np(tree, config):
    """``lmo(m)`` of a pytree of NumPy arrays, group by group (see :mod:`jaxsim.methods.lmo_ops`)."""
    leaves, treedef = jax.tree.flatten(tree)
    labels = labels_of(config.partition, tree)
    out = list(leaves)
    for label, rule in (("matrix", config.matrix), ("other", config.other)):
        idx = [i for i, lab in enumerate(labels) if lab == label]
        if rule == "euclidean":
            norm = math.sqrt(sum(float(np.sum(leaves[i] ** 2)) for i in idx))
        for i in idx:
            v = np.asarray(leaves[i], dtype=np.float64)
            if rule == "momentum":
                out[i] = -v
            elif rule == "sign":
                out[i] = -np.sign(v)
            elif rule == "euclidean":
                out[i] = -v / (norm + EUCLID_EPS)
            else:  # spectral: the block as a 1 x size row below 2-D, fan_in x fan_out above
                block = v.reshape(1, -1) if v.ndim < 2 else v.reshape(-1, v.shape[-1])
                out[i] = -_radius(v.shape, config.radius) * newton_schulz_np(block).reshape(v.shape)
    return jax.tree.unflatten(treedef, out)


class Momentum:
    """``m <- alpha_k g + (1 - alpha_k) m`` and the step direction ``-lmo(u)`` of a method's options."""

    def __init__(self, method, rule):
        self.method, self.rule = method, rule
        self.m = None

    def direction(self, g: np.ndarray, alpha_k: float) -> np.ndarray:
        if self.m is None:
            self.m = np.zeros_like(g)
        self.m = alpha_k * g + (1 - alpha_k) * self.m
        u = (1 - alpha_k) * self.m + alpha_k * g if self.method.nesterov else self.m
        return -self.rule.flat(lmo_np(self.rule.params(u), self.method.config))

    def first_weight(self, alpha: float, k: int) -> float:
        """``alpha_0 = 1`` in the paper form (``m0="grad"``), else the constant ``alpha``."""
        return 1.0 if (k == 0 and self.method.m0 == "grad") else alpha


__all__ = ["Momentum", "lmo_np", "newton_schulz_np"]
