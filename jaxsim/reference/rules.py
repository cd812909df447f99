"""Base classes of the reference rules (one per method, in the method's own file).

A rule is the plain-Python form of a method, written to be read: lists and loops, no
masks. The generic loops of :mod:`jaxsim.reference.loops` call it, after giving it the
problem's parameter pytree as ``rule.params(x)`` / ``rule.flat(tree)`` (NumPy).

* :class:`Rule` (free-running methods): ``arrival(srv, worker, delay, g)`` returns whether
  the job's result ``g`` was used (applied or batched), or ``(used, command)`` where
  ``command`` says where the reporter's next job starts: ``NEW`` (the current model, the
  default) or ``OWN`` (the point its last job used). ``needs_grad(delay)`` lets a rule
  skip computing results it will discard.
* :class:`ControlledRule`: ``arrival(srv, w, delay, g, timed_out, s, busy)`` returns
  ``(used, reporter command, workers to cancel, workers to wake)``; ``initial()`` and
  ``budget()`` say who starts and how long an attempt may take.
* :class:`AllocationRule` (ATA family): ``allocate(k, prio)`` returns iteration ``k``'s
  allocation (``prio``: the iteration's random priorities, drawn with the engine's key so
  both make the same random choices); ``observe(a, T)`` gets each worker's total time.
* :class:`RoundRule` (round-based methods): ``duration(env)`` is the length of round
  ``env.r`` from the rule's state at its start; ``round(env)`` runs it and returns ``(jobs
  consumed per worker, gradients computed, worker-seconds computing)``; ``point()`` is where
  metrics are evaluated and ``metrics(rounds)`` the method's extras. ``env`` gives
  ``draw(w, j)``, ``grad(x, w, j)``, ``job`` (each worker's next unused index), ``r``, the
  worker facts ``tau``/``mean`` and the seed's method ``key``.
"""

from __future__ import annotations

import numpy as np

from ..methods.base import IDLE, NEW, OWN  # the same commands as the clocks


class Rule:
    def __init__(self, method, hp: dict, n: int, dim: int):
        self.method, self.hp, self.n = method, hp, n

    def active(self, mean_times: np.ndarray) -> np.ndarray:
        return np.ones(self.n, bool)

    def needs_grad(self, delay: int) -> bool:
        return True

    def arrival(self, srv, worker: int, delay: int, g) -> bool:
        raise NotImplementedError


class ControlledRule:
    def __init__(self, method, hp: dict, n: int, dim: int, tau, mean, noise):
        self.method, self.hp, self.n = method, hp, n
        self.tau, self.mean, self.noise = tau, mean, noise

    def initial(self) -> list:
        return list(range(self.n))

    def stale(self, k: int, w: int, s, busy, R) -> list:
        """Busy workers other than ``w`` whose jobs are ``R`` or more updates behind ``k``."""
        return [j for j in range(self.n) if j != w and busy[j] and k - s[j] >= R]

    def budget(self) -> np.ndarray:
        return np.full(self.n, np.inf)


class AllocationRule:
    def __init__(self, method, hp: dict, n: int, mean, prio0):
        self.method, self.hp, self.n, self.mean = method, hp, n, mean
        self.K = [0] * n
        self.total = [0.0] * n

    def observe(self, a, T):
        for i in range(self.n):
            self.K[i] += a[i]
            self.total[i] += T[i]

    def widths(self, k):
        """``(mu_hat_i, sqrt(L/K_i) + L/K_i)`` per sampled worker, ``None`` for the others."""
        kf = float(k)
        L = float(np.log(2.0 * kf * kf))
        out = []
        for i in range(self.n):
            if self.K[i] == 0:
                out.append(None)
                continue
            K = float(self.K[i])
            out.append((self.total[i] / K, float(np.sqrt(L / K)) + L / K))
        return out

    def allocate(self, k, prio):
        s = self.scores(k)
        return greedy_minmax(s, [K == 0 for K in self.K], self.hp["B"], prio)


class RoundRule:
    def __init__(self, method, hp: dict, n: int, x0: np.ndarray):
        self.method, self.hp, self.n = method, hp, n

    def duration(self, env) -> float:
        raise NotImplementedError

    def round(self, env) -> tuple:
        raise NotImplementedError

    def point(self) -> np.ndarray:
        raise NotImplementedError

    def metrics(self, rounds: int) -> dict:
        return {}


def greedy_minmax(scores, new, B: int, prio) -> list:
    """The greedy min-max allocation (the ATA code's "harmonia" solver), written as plain loops."""
    n = len(scores)

    def by_prio(idx):
        return sorted(idx, key=lambda i: (prio[i], i))

    a = [0] * n
    for i in by_prio([i for i in range(n) if new[i]])[:B]:  # 1. never-sampled workers first
        a[i] = 1
    left = B - sum(a)
    zero = [i for i in range(n) if scores[i] == 0]
    if zero:  # 2. spread what is left over the zero-score workers
        q, r = divmod(left, len(zero))
        extra = set(by_prio(zero)[:r])
        for i in zero:
            a[i] += q + (1 if i in extra else 0)
        return a
    used = [float(a[i]) * scores[i] for i in range(n) if a[i] > 0]
    curmax = max(used) if used else 0.0
    count = used.count(curmax) if used else 0
    for _ in range(left):  # 3. one task at a time
        best = None
        for i in range(n):
            v = float(a[i] + 1) * scores[i]
            cnt = count if v < curmax else (count + 1 if v == curmax else 1)
            cand = (max(curmax, v), cnt, prio[i], i)
            if best is None or cand < best[0]:
                best = (cand, i, v)
        _, i, v = best
        a[i] += 1
        if v > curmax:
            curmax, count = v, 1
        elif v == curmax:
            count += 1
    return a


__all__ = ["AllocationRule", "ControlledRule", "IDLE", "NEW", "OWN", "RoundRule", "Rule", "greedy_minmax"]
