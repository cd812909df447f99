"""Bit-identity of two runs' metrics (NaN equal to NaN), the check of every test that a number
does not depend on how runs are batched."""

import numpy as np


def assert_same_metrics(a: dict, b: dict, where: str = ""):
    """``a`` and ``b`` hold the same metrics, equal bit for bit; ``where`` prefixes the message."""
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k], equal_nan=True), f"{where}{k} differs"
