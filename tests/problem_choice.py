"""The problem a registry-driven test gives a method.

Tests draw or fix a default problem (quadratics). A method that rejects it (its
``check_problem`` raises ``ValueError``: e.g. differentially private methods, which need
per-sample Lipschitz and coordinate-wise smoothness constants) gets a small logistic ERM
problem of the same dimension with those constants instead
(:func:`jaxsim.problems.component_logistic`, float type as the default problem's).
"""

import numpy as np

from jaxsim.problems import component_logistic


def accepted_problem(method, problem, rng=None):
    """``problem`` if ``method`` accepts it, else a component logistic problem of its dimension
    (features with scales drawn from ``rng``, a fixed spread without one)."""
    try:
        method.check_problem(problem)
        return problem
    except ValueError:
        pass
    d = problem.dim
    scales = np.geomspace(3.0, 0.3, d) if rng is None else rng.uniform(0.3, 3.0, d)
    seed = 0 if rng is None else int(rng.integers(0, 2**31 - 1))
    dtype = problem.dtype
    return component_logistic(num_samples=12, dim=d, scales=scales, seed=seed, l2=0.05, dtype=dtype)
