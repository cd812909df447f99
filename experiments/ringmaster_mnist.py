"""Ringmaster ASGD paper, MNIST MLP figure (Appendix G.2): full tuning grid, best-of-grid.

    python experiments/ringmaster_mnist.py --data PATH [--quick] [--out DIR]

Same as ``jaxsim figure ringmaster-mnist`` (``--help`` lists its options); the recipe lives in
``jaxsim/figures/ringmaster_mnist.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "ringmaster-mnist", *sys.argv[1:]]))
