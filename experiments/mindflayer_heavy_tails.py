"""MindFlayer SGD against Rennala SGD and ASGD as compute times get heavier-tailed.

    python experiments/mindflayer_heavy_tails.py [--quick] [--out DIR]

Same as ``jaxsim figure mindflayer-heavy-tails`` (``--help`` lists its options); the recipe lives in
``jaxsim/figures/mindflayer_heavy_tails.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "mindflayer-heavy-tails", *sys.argv[1:]]))
