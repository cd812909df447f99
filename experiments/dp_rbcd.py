"""DP random block coordinate descent: importance vs uniform block sampling vs DP-SGD at equal privacy.

    python experiments/dp_rbcd.py [--samples 1000] [--dim 20] [--dominance 10] [--labels dominant|unscaled|scaled]
                                  [--no-counter] [--eps 0.5 1 2 4 8] [--seeds 0 1 2 ...] [--quick] [--out DIR]

Same as ``jaxsim figure dp-rbcd`` (``--help`` lists its options and states the paper's claim);
the recipe lives in ``jaxsim/figures/dp_rbcd.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "dp-rbcd", *sys.argv[1:]]))
