"""Problems: objectives with stochastic gradients keyed per ``(seed, worker, job)``."""

from .base import Problem
from .component_logistic import ComponentLogistic, component_logistic
from .generic import LossProblem, from_loss
from .het_quadratic import HeterogeneousQuadratic, heterogeneous_quadratic
from .logistic import (
    LogisticRegression,
    logistic_regression,
    logistic_solve,
    make_logistic,
)
from .lm import LanguageModel, language_model
from .lm_model import GPT, LMConfig
from .mlp import MLP, MLPClassifier, mlp_classifier, mnist_mlp
from .quadratic import WorstCaseQuadratic, worst_case_quadratic

PROBLEMS = {
    "quadratic": worst_case_quadratic,
    "logistic": make_logistic,
    "mnist_mlp": mnist_mlp,
    "het_quadratic": heterogeneous_quadratic,
    "lm": language_model,
    "component_logistic": component_logistic,
}


def make_problem(name: str, **kwargs) -> Problem:
    """Build a registered problem by name (``jaxsim list`` shows the names)."""
    if name not in PROBLEMS:
        raise ValueError(f"problem: unknown name {name!r}; registered: {sorted(PROBLEMS)}")
    return PROBLEMS[name](**kwargs)


__all__ = ["component_logistic", "ComponentLogistic", "from_loss", "GPT", "heterogeneous_quadratic",
           "HeterogeneousQuadratic", "language_model", "LanguageModel", "LMConfig", "logistic_regression",
           "logistic_solve", "LogisticRegression", "LossProblem", "make_logistic", "make_problem", "MLP",
           "mlp_classifier", "MLPClassifier", "mnist_mlp", "Problem", "PROBLEMS", "worst_case_quadratic",
           "WorstCaseQuadratic"]
