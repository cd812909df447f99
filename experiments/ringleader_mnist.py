"""Ringleader ASGD against its baselines on MNIST with label-skewed workers.

    python experiments/ringleader_mnist.py --data PATH [--quick] [--forms paper|authors] [--split train|test]
        [--horizon SECONDS] [--seeds S ...] [--out DIR]

Same as ``jaxsim figure ringleader-mnist`` (``--help`` lists its options); the recipe lives in
``jaxsim/figures/ringleader_mnist.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "ringleader-mnist", *sys.argv[1:]]))
