"""Rescaled ASGD against Malenia SGD and Ringleader ASGD on MNIST: training loss over time.

    python experiments/rescaled_mnist.py --data PATH [--quick] [--split train|test] [--out DIR]

Same as ``jaxsim figure rescaled-mnist`` (``--help`` lists its options); the recipe lives in
``jaxsim/figures/rescaled_mnist.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "rescaled-mnist", *sys.argv[1:]]))
