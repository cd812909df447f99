"""DP random block coordinate descent, DP-SkGD with block sampling (arXiv 2412.17054; spec
``lmo_vr_local.md`` §5).

Private ERM ``min_w f(w) = (1/n) sum_i l(w; z_i)`` with full gradients; no workers, no delays.
The coordinates are partitioned into blocks ``A_1..A_b`` (static option ``blocks``: ``None``, one
block per coordinate (default); a count of contiguous blocks; or explicit index tuples). Each of
``T`` outer iterations runs ``K`` inner steps from ``theta^0 = w^t``::

    sample S = A_j with probability q_j,   eta ~ N(0, sigma_S^2 I),
    theta^{k+1} = theta^k - Gamma C (grad f(theta^k) + eta),   C = I_S P^{-1},

and averages, ``w^{t+1} = (1/K) sum_{k=1..K} theta^k``. ``P = Diag(p)``, ``p_l = q_{j(l)}``,
so ``C`` is unbiased, ``E[C] = I``.

* Block probabilities ``q_j ∝ (max_{l∈A_j} M_l) ** importance`` (hyperparameter, traced):
  ``importance = 1`` the paper's importance sampling [paper: poster], ``0`` uniform; ``M`` the
  problem's coordinate-wise smoothness constants.
* Diagonal stepsizes ``Gamma = gamma P M^{-1}`` (``stepsizes="smoothness"``, default), so a
  sampled coordinate moves by ``gamma / M_l`` times its noisy partial derivative: with
  ``gamma = 1`` and ``b = d`` uniform this is DP-CD's ``gamma_l = 1/M_l`` update; or
  ``Gamma = gamma P`` (``stepsizes="scalar"``: one stepsize ``gamma`` on the sampled block,
  textbook DP-SGD for one block). [project choice: the spec leaves ``Gamma`` open.]
* Noise per coordinate of block ``U``: ``sigma_U = c L_U sqrt(T K log(1/delta)) / (n eps)``
  (:func:`jaxsim.theory.dp_noise_scale`; the form is [uncertain] in the spec, ``c`` is the
  static option ``noise_constant``, default ``sqrt(12)`` from DP-CD, a project choice).
  ``L_U`` and ``n`` come from the problem; ``eps = inf`` runs without noise.
* Special cases as settings: DP-SGD is ``blocks=1``; DP-CD is one block per coordinate
  (``blocks=None``) with ``importance=0``.

The problem must provide ``coordinate_smoothness()`` (``M[d]``), ``block_lipschitz(blocks)``
(``L_U``) and ``num_samples`` (:class:`~jaxsim.problems.ComponentLogistic` does).

On the rounds clock one round is one outer iteration and lasts ``K`` (time counts inner
iterations, so a horizon of ``T K`` covers the run); the model is frozen after ``T`` rounds,
when the privacy budget is spent. Metrics are at ``w^t``; ``updates`` counts outer
iterations, ``received``/``used`` inner steps (one block gradient each). The timing model is
not used (any worker count). Randomness: inner step ``k`` of outer iteration ``t`` draws its
block (one uniform) and its noise (``d`` normals) from ``fold_in(fold_in(method_key(seed),
t), k)``, so every setting of a seed shares them.

Hyperparameters: ``gamma``, ``T``, ``K``, ``eps``, ``delta``, ``importance``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import ClassVar, NamedTuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from ..reference.rules import RoundRule
from ..theory.dp import DP_CD_CONSTANT, check_partition, dp_noise_scale
from .base import RoundMethod, RoundResult, reference_rule, register
from .hparams import HParam

STEPSIZES = ("smoothness", "scalar")


class DPState(NamedTuple):
    w: jax.Array  # w^t, the output of the outer iterations done


def step_key(key, t, k):
    """The key of inner step ``k`` of outer iteration ``t``: ``(block key, noise key)``."""
    return jax.random.split(jax.random.fold_in(jax.random.fold_in(key, t), k))


@register
@dataclasses.dataclass(frozen=True)
class DPRBCD(RoundMethod):
    blocks: Union[None, int, tuple] = None
    stepsizes: str = "smoothness"
    noise_constant: float = DP_CD_CONSTANT

    name = "dp_rbcd"
    hparams: ClassVar[dict] = {
        "gamma": HParam(1.0, "positive", "stepsize scale: Gamma = gamma P M^-1 (or gamma P)", draw=(0.05, 1.0)),
        "T": HParam(10, "count", "outer iterations", draw=(1, 4)),
        "K": HParam(1, "count", "inner iterations per outer iteration (averaged)", draw=(1, 4)),
        "eps": HParam(1.0, "budget", "privacy budget epsilon (> 0; inf: no noise)", draw=(0.5, 50.0)),
        "delta": HParam(1e-5, "fraction", "privacy parameter delta in (0, 1)", draw=(1e-6, 0.1)),
        "importance": HParam(1.0, "nonnegative", "q_j ∝ (max_{l in A_j} M_l)^importance: 1 importance, 0 uniform",
                             draw=(0.5, 2.0)),
    }
    paper = "arXiv 2412.17054 (DP random block coordinate descent)"

    def __post_init__(self):
        if self.stepsizes not in STEPSIZES:
            raise ValueError(f"stepsizes: expected one of {STEPSIZES}, got {self.stepsizes!r}")
        c = self.noise_constant
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not (math.isfinite(c) and c > 0):
            raise ValueError(f"noise_constant must be a finite number > 0, got {c!r}")
        object.__setattr__(self, "blocks", _as_blocks(self.blocks))

    # -- input checks -------------------------------------------------------------------

    def check_hparams(self, hp, dtype=None):
        if "eps" in hp:
            e = np.atleast_1d(np.asarray(hp["eps"], dtype=np.float64))
            if np.any(np.isnan(e)) or np.any(e <= 0):
                raise ValueError(f"hyperparameter eps (the privacy budget ε) must be > 0 (inf: no noise), "
                                 f"got {e.tolist()}")
        if "delta" in hp:
            dl = np.atleast_1d(np.asarray(hp["delta"], dtype=np.float64))
            if not np.all((dl > 0) & (dl < 1)):
                raise ValueError(f"hyperparameter delta (the privacy parameter δ) must lie in (0, 1), "
                                 f"got {dl.tolist()}")
        return super().check_hparams(hp, dtype)

    def partition(self, d: int) -> tuple:
        """The blocks as a tuple of index tuples covering ``[0, d)``."""
        return check_partition(d if self.blocks is None else self.blocks, d)

    def check_problem(self, problem):
        missing = [a for a in ("coordinate_smoothness", "block_lipschitz", "num_samples") if not hasattr(problem, a)]
        if missing:
            raise ValueError(f"problem: {self.name} needs a problem with coordinate-wise constants "
                             f"({', '.join(missing)} missing), e.g. jaxsim.problems.component_logistic")
        self.partition(problem.dim)
        M = np.asarray(problem.coordinate_smoothness(), np.float64)
        if not (np.all(np.isfinite(M)) and np.all(M > 0)):
            raise ValueError("problem: coordinate smoothness constants M must be finite and > 0 "
                             f"(zero for coordinate(s) {np.flatnonzero(~(M > 0))[:10].tolist()}; add l2 > 0)")

    # -- the rule -----------------------------------------------------------------------

    def init(self, x0, hp, ctx, timing):
        return DPState(w=x0)

    def constants(self, problem, hp, dtype):
        """``(block of each coordinate, step of each coordinate, its sigma, q)``. The step of a
        sampled coordinate is ``gamma_l / p_l``: ``gamma / M_l`` (or ``gamma``), as ``C``'s
        ``1 / p_l`` cancels ``Gamma``'s ``p_l``."""
        d = problem.dim
        parts = self.partition(d)
        block_of = np.empty(d, np.int32)
        for j, blk in enumerate(parts):
            block_of[list(blk)] = j
        M = problem.coordinate_smoothness().astype(dtype)
        top = jax.ops.segment_max(M, jnp.asarray(block_of), num_segments=len(parts))
        w = (top / jnp.max(top)) ** hp["importance"].astype(dtype)  # scaled first: no overflow for large powers
        q = w / jnp.sum(w)
        step = hp["gamma"] / M if self.stepsizes == "smoothness" else jnp.broadcast_to(hp["gamma"], (d,))
        tk = hp["T"].astype(dtype) * hp["K"].astype(dtype)
        sigma = (self.noise_constant * problem.block_lipschitz(parts).astype(dtype)
                 * jnp.sqrt(tk * jnp.log(1.0 / hp["delta"])) / (problem.num_samples * hp["eps"]))
        return jnp.asarray(block_of), step, sigma[block_of], q

    def min_round_time(self, hp, timing):
        return float(np.min(hp["K"]))  # K seconds per round (then none: the run is over)

    def duration(self, state, hp, env):
        dt = state.w.dtype
        return jnp.where(env.r < hp["T"], hp["K"].astype(dt), jnp.inf).astype(dt)

    def round(self, state, hp, env):
        problem = env.problem
        dt = state.w.dtype
        block_of, step, sigma, q = self.constants(problem, hp, dt)
        edges = jnp.cumsum(q)

        def inner(k, carry):
            theta, acc = carry
            kb, kz = step_key(env.ctx.key, env.r, k)
            u = jax.random.uniform(kb, (), dt)
            j = jnp.minimum(jnp.sum(edges <= u), q.shape[0] - 1)
            z = jax.random.normal(kz, theta.shape, dt)
            g = problem.full_grad(theta)
            theta = theta - jnp.where(block_of == j, step * (g + sigma * z), 0)
            return theta, acc + theta

        _, acc = jax.lax.fori_loop(0, hp["K"], inner, (state.w, jnp.zeros_like(state.w)))
        n = env.job.shape[0]
        return RoundResult(state=DPState(w=acc / hp["K"].astype(dt)), jobs=jnp.zeros((n,), jnp.int32),
                           grads=hp["K"], busy=jnp.zeros((), dt))

    def point(self, state):
        return state.w

    def work_bytes(self, n, d, itemsize):
        return 8 * d * itemsize  # theta, the running sum, the gradient, the noise, per-coordinate constants


def _as_blocks(blocks):
    """``blocks`` as a hashable static option: ``None`` (one per coordinate), a count ``b >= 1``,
    or a tuple of index tuples (checked against the problem's dimension by
    :meth:`DPRBCD.check_problem`)."""
    if blocks is None:
        return None
    if isinstance(blocks, (int, np.integer)) and not isinstance(blocks, bool):
        if blocks < 1:
            raise ValueError(f"blocks: expected a number of blocks >= 1, got {blocks}")
        return int(blocks)
    if isinstance(blocks, (str, bytes)) or not hasattr(blocks, "__iter__"):
        raise ValueError(f"blocks: expected a number of blocks or a sequence of index sequences, got {blocks!r}")
    out = []
    for j, blk in enumerate(blocks):
        if isinstance(blk, (str, bytes)) or not hasattr(blk, "__iter__"):
            raise ValueError(f"blocks: block {j} must be a sequence of coordinate indices, got {blk!r}")
        out.append(tuple(int(v) if isinstance(v, np.integer) else v for v in blk))
    return tuple(out)


# -- reference rule (plain NumPy loops) ----------------------------------------------------

@jax.jit
def _full_grad(problem, x):
    return problem.full_grad(x)


@jax.jit
def _smoothness(problem):
    return problem.coordinate_smoothness()


@functools.partial(jax.jit, static_argnums=(3, 4))
def _draws(key, t, k, d: int, dtype):
    """The uniform that picks inner step ``k``'s block and its ``d`` noise normals (the engine's keys)."""
    kb, kz = step_key(key, t, k)
    return jax.random.uniform(kb, (), dtype), jax.random.normal(kz, (d,), dtype)


@reference_rule(DPRBCD)
class DPRBCDRule(RoundRule):
    def __init__(self, method, hp, n, x0):
        super().__init__(method, hp, n, x0)
        self.w = np.array(x0, dtype=np.float64)
        self.consts = None

    def duration(self, env):
        return float(self.hp["K"]) if env.r < self.hp["T"] else math.inf

    def setup(self, problem):
        """Block of each coordinate, ``q`` per block, and per coordinate its ``M`` and ``sigma``."""
        d = problem.dim
        blocks = self.method.partition(d)
        M = [float(v) for v in np.asarray(_smoothness(problem), dtype=np.float64)]
        L = np.asarray(problem.block_lipschitz(blocks), dtype=np.float64)
        weights = [max(M[c] for c in blk) ** self.hp["importance"] for blk in blocks]
        q = [wj / sum(weights) for wj in weights]
        sigma = dp_noise_scale(L, self.hp["T"], self.hp["K"], problem.num_samples, self.hp["eps"], self.hp["delta"],
                               self.method.noise_constant)
        block_of = [0] * d
        for j, blk in enumerate(blocks):
            for c in blk:
                block_of[c] = j
        return block_of, q, M, [float(sigma[block_of[c]]) for c in range(d)]

    def round(self, env):
        if self.consts is None:
            self.consts = self.setup(env.problem)
        block_of, q, M, sigma = self.consts
        d, K, gamma = len(M), int(self.hp["K"]), self.hp["gamma"]
        theta = self.w.copy()
        total = np.zeros(d)
        for k in range(K):
            u, z = _draws(env.key, env.r, k, d, env.dtype)
            u, z = float(u), np.asarray(z, dtype=np.float64)
            chosen, edge = len(q) - 1, 0.0
            for j, qj in enumerate(q):  # the first block whose cumulative probability exceeds u
                edge += qj
                if u < edge:
                    chosen = j
                    break
            g = np.asarray(_full_grad(env.problem, jnp.asarray(theta)), dtype=np.float64)
            new = theta.copy()
            for c in range(d):
                if block_of[c] != chosen:
                    continue
                p = q[chosen]
                gamma_c = gamma * p / M[c] if self.method.stepsizes == "smoothness" else gamma * p
                new[c] = theta[c] - gamma_c / p * (g[c] + sigma[c] * z[c])
            theta = new
            total += theta
        self.w = total / K
        return [0] * self.n, K, 0.0

    def point(self):
        return self.w
