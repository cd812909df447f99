"""ATA paper (arXiv 2502.00775), its quadratic figure at reduced size.

    python experiments/ata_quadratic.py [--quick] [--forms paper|authors] [--n 17 51] [--iterations K] [--out DIR]

Same as ``jaxsim figure ata-quadratic`` (``--help`` lists its options); the recipe lives in
``jaxsim/figures/ata_quadratic.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "ata-quadratic", *sys.argv[1:]]))
