"""ATA paper (arXiv 2502.00775), its quadratic figure at reduced size.

    python experiments/ata_quadratic.py [--n 17 51] [--iterations 3000] [--horizon SECONDS]
                                        [--seeds 0 1 2] [--points 300] [--out DIR]

Same as ``jaxsim figure ata-quadratic`` (``--help`` lists its options); the recipe lives in
``jaxsim/figures/ata_quadratic.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "ata-quadratic", *sys.argv[1:]]))
