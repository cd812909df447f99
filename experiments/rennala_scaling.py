"""Rennala SGD paper: time to reach eps against the number of workers, Rennala vs ASGD vs Minibatch SGD.

    python experiments/rennala_scaling.py [--quick] [--out DIR]

Same as ``jaxsim figure rennala-scaling`` (``--help`` lists its options); the recipe lives in
``jaxsim/figures/rennala_scaling.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "rennala-scaling", *sys.argv[1:]]))
