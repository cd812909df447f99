"""Ringmaster ASGD paper, quadratic figure (Appendix G.1): full tuning grid, best-of-grid.

    python experiments/ringmaster_quadratic.py [--quick] [--out DIR]

Same as ``jaxsim figure ringmaster-quadratic``; the recipe lives in
``jaxsim/figures/ringmaster_quadratic.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "ringmaster-quadratic", *sys.argv[1:]]))
