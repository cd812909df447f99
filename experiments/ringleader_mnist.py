"""Ringleader ASGD against its baselines on MNIST with label-skewed workers.

    python experiments/ringleader_mnist.py --data PATH [--split train|test] [--horizon SECONDS]
        [--seeds K] [--authors] [--no-permute] [--out DIR]

Same as ``jaxsim figure ringleader-mnist`` (``--help`` lists its options); the recipe lives in
``jaxsim/figures/ringleader_mnist.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "ringleader-mnist", *sys.argv[1:]]))
