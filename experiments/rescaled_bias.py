"""Vanilla ASGD's frequency-weighted bias under data heterogeneity, and what removes it.

    python experiments/rescaled_bias.py [--gamma 0.01] [--horizon 300] [--out DIR]

Same as ``jaxsim figure rescaled-bias`` (``--help`` lists its options); the recipe lives in
``jaxsim/figures/rescaled_bias.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "rescaled-bias", *sys.argv[1:]]))
