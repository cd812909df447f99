"""Problems: objectives with stochastic gradients keyed per ``(seed, worker, job)``."""

from .base import Problem
from .generic import LossProblem, from_loss
from .quadratic import WorstCaseQuadratic, worst_case_quadratic

PROBLEMS = {
    "quadratic": worst_case_quadratic,
}


def make_problem(name: str, **kwargs) -> Problem:
    """Build a registered problem by name (``jaxsim list`` shows the names)."""
    if name not in PROBLEMS:
        raise ValueError(f"problem: unknown name {name!r}; registered: {sorted(PROBLEMS)}")
    return PROBLEMS[name](**kwargs)


__all__ = ["Problem", "LossProblem", "WorstCaseQuadratic", "PROBLEMS", "from_loss",
           "make_problem", "worst_case_quadratic"]
