"""Rennala MVR against Rennala SGD (Ringmaster ASGD as an extra) on a quadratic with curvature
noise (spec experiments.md §8).

    python experiments/rennala_mvr_quadratic.py [--quick] [--kappa 2] [--noise none|halfnormal] [--out DIR]

Same as ``jaxsim figure rennala-mvr-quadratic`` (``--help`` lists its options); the recipe lives in
``jaxsim/figures/rennala_mvr_quadratic.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "rennala-mvr-quadratic", *sys.argv[1:]]))
