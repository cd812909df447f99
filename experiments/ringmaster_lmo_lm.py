"""Ringmaster LMO paper, language-model experiment (spec experiments.md §7.1) at CPU size.

    python experiments/ringmaster_lmo_lm.py [--quick] [--forms paper|authors] [--levels 1 sqrt_i i] [--out DIR]

Same as ``jaxsim figure ringmaster-lmo-lm`` (``--help`` lists its options); the recipe lives in
``jaxsim/figures/ringmaster_lmo_lm.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "ringmaster-lmo-lm", *sys.argv[1:]]))
