"""What the LMO methods share: their static options and the momentum + LMO direction.

Ringmaster LMO and its baselines (spec ``lmo_vr_local.md`` §2.3–2.8) keep a momentum
``m`` (one ``d``-vector per run) and step along an LMO of it, taken per block of the
problem's parameter pytree (:mod:`jaxsim.methods.lmo_ops`):

    m <- alpha_k g + (1 - alpha_k) m                     (momentum weight alpha_k; beta = 1 - alpha_k)
    u  = m, or (1 - alpha_k) m + alpha_k g with Nesterov
    x <- x + eta_k lmo(u)

Paper form (the default): no Nesterov, ``alpha_0 = 1`` (the first update uses the gradient
itself, ``m0="grad"``). The authors' code form (spec §2.4, **DIFF**) is the options
:data:`CODE_FORM`: Nesterov on, ``m^0 = 0`` (``m0="zero"``), the Muon partition with
unnormalized momentum on non-matrix leaves and the radius ``sqrt(max(1, fan_out/fan_in))`` (the
code's ``sqrt(max(1, rows/cols))`` of a torch weight), with
``beta = 0.95`` (``alpha = 0.05``) as the hyperparameter.

The server's update is ``x - step * direction``, so a method returns ``direction = -lmo(u)``.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, NamedTuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from .lmo_ops import LMOConfig, labels_of, lmo
from .hparams import HParam

M0 = ("grad", "zero")

#: Options reproducing the authors' code (``RingmasterMuonASGD``; spec §2.4), besides ``beta = 0.95``.
CODE_FORM = dict(nesterov=True, m0="zero", partition="muon_code", other="momentum", radius="muon")

ALPHA = HParam(0.05, "fraction", "momentum weight alpha in (0, 1] (beta = 1 - alpha; pass beta instead to "
                                 "give it as the code does)")


class MomentumState(NamedTuple):
    m: jax.Array  # momentum, flat like x


@dataclasses.dataclass(frozen=True)
class LMOOptions:
    """Static options of every LMO method (see the module docstring)."""

    lmo: str = "spectral"  # rule of the "matrix" leaves (jaxsim.methods.lmo_ops.RULES)
    other: str = "euclidean"  # rule of the other leaves
    partition: Union[str, Callable] = "default"  # jaxsim.methods.lmo_ops.PARTITIONS or a label function
    radius: Union[str, Callable] = "unit"  # spectral radius per block
    nesterov: bool = False
    m0: str = "grad"  # "grad": alpha_0 = 1 (paper); "zero": m^0 = 0 (code)

    def __post_init__(self):
        LMOConfig(self.lmo, self.other, self.partition, self.radius).check()
        if self.m0 not in M0:
            raise ValueError(f"{self.name}.m0 must be one of {M0}, got {self.m0!r}")
        if not isinstance(self.nesterov, bool):
            raise ValueError(f"{self.name}.nesterov must be True or False, got {self.nesterov!r}")

    @property
    def config(self) -> LMOConfig:
        return LMOConfig(self.lmo, self.other, self.partition, self.radius)

    def check_problem(self, problem) -> None:
        """The partition must label every leaf of the problem's parameter pytree."""
        labels_of(self.partition, jax.eval_shape(problem.params, jax.ShapeDtypeStruct((problem.dim,), jnp.float32)))

    def translate(self, hp: dict) -> dict:
        """Accept ``beta`` (the code's momentum, ``beta in [0, 1)``) for ``alpha = 1 - beta``."""
        hp = dict(hp)
        if "beta" not in hp or "alpha" not in self.hparams:
            return hp
        if "alpha" in hp:
            raise ValueError("hyperparameter beta: give alpha or beta (= 1 - alpha), not both")
        beta = hp.pop("beta")
        try:
            arr = np.asarray(beta, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"hyperparameter beta must be a number or a list of numbers in [0, 1), "
                             f"got {beta!r}") from None
        if arr.ndim > 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr >= 1):
            raise ValueError(f"hyperparameter beta must be in [0, 1), got {np.asarray(beta).tolist()}")
        hp["alpha"] = (1.0 - arr).tolist() if arr.ndim else float(1.0 - arr)
        return hp

    def init(self, x0, hp, ctx, timing):
        return MomentumState(m=jnp.zeros_like(x0))

    def first_weight(self, alpha, k):
        """``alpha_k`` of a constant ``alpha``: ``1`` at ``k = 0`` in the paper form."""
        return jnp.where(k == 0, jnp.ones_like(alpha), alpha) if self.m0 == "grad" else alpha

    def momentum_step(self, m, g, alpha_k, take, a):
        """``(momentum after the step if take, direction -lmo(u))``; ``a``: the arrival
        (its ``params`` / ``flat`` give the pytree the LMO acts on)."""
        alpha_k = jnp.asarray(alpha_k, m.dtype)
        m_new = alpha_k * g + (1 - alpha_k) * m
        u = (1 - alpha_k) * m_new + alpha_k * g if self.nesterov else m_new
        direction = -a.flat(lmo(a.params(u), self.config))
        return jnp.where(take, m_new, m), direction


def isqrt(k):
    """``floor(sqrt(k))`` of a non-negative int32, exact (the float root corrected by one)."""
    r = jnp.floor(jnp.sqrt(k.astype(jnp.float32))).astype(jnp.int32)
    r = jnp.where(r * r > k, r - 1, r)
    return jnp.where((r + 1) * (r + 1) <= k, r + 1, r)


__all__ = ["ALPHA", "CODE_FORM", "LMOOptions", "M0", "MomentumState", "isqrt"]
