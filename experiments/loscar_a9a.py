"""LOSCAR-SGD paper, a9a logistic regression (spec experiments.md §9): merge vs overwrite vs no overlap vs dense.

    python experiments/loscar_a9a.py [--data a9a] [--n 10] [--quick] [--out DIR]

Same as ``jaxsim figure loscar-a9a`` (``--help`` lists its options); the recipe lives in
``jaxsim/figures/loscar_a9a.py``.
"""

import sys

from jaxsim.cli import main

if __name__ == "__main__":
    sys.exit(main(["figure", "loscar-a9a", *sys.argv[1:]]))
