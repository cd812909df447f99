"""Ringmaster LMO paper, stochastic-quadratic experiment (spec experiments.md §7.2).

    python experiments/ringmaster_lmo_quadratic.py [--quick] [--forms paper|authors] [--n 6174] [--out DIR]

Same as ``jaxsim figure ringmaster-lmo-quadratic`` (``--help`` lists its options); the recipe lives in
``jaxsim/figures/ringmaster_lmo_quadratic.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "ringmaster-lmo-quadratic", *sys.argv[1:]]))
