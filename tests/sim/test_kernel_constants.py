"""The compiled batch holds no foldable d-sized constant: the kernel builds its large arrays
(the starting point, the point store) from run-time inputs, so XLA has nothing of size d to fold
at compile time."""

import re

import numpy as np
import pytest

import jaxsim
from jaxsim.sim import runner


def _large_constants(hlo: str, d: int) -> list:
    out = []
    for m in re.finditer(r"= \w+\[([\d,]*)\]\S* constant\(", hlo):
        size = int(np.prod([int(x) for x in m.group(1).split(",") if x])) if m.group(1) else 1
        if size >= d:
            out.append(m.group(0))
    return out


def test_kernel_builds_large_arrays_from_run_time_inputs(monkeypatch):
    """The compiled batch of a d = 2e5 Ringmaster sweep holds no d-sized constant (XLA folded
    the store's scatter of a constant x^0 at compile time: minutes at d = 1e7). The same kernel
    with x^0 built inside it does, which shows the check can fail."""
    d = 200_000
    captured = {}

    class Stop(Exception):
        pass

    def spy(*a, **k):
        captured["args"] = a
        raise Stop

    real = runner.run_batch
    monkeypatch.setattr(runner, "run_batch", spy)
    with pytest.raises(Stop):
        jaxsim.sweep("ringmaster", jaxsim.worst_case_quadratic(d=d), jaxsim.make_timing(2, "one_plus_sqrt"),
                     grid={"gamma": 0.1, "R": 2}, horizon=3.0, num_points=1)
    args = captured["args"]
    assert args[-1].shape == (d,)  # x^0 is an argument
    assert _large_constants(real.lower(*args).compile().as_text(), d) == []
    assert _large_constants(real.lower(*args[:-1], None).compile().as_text(), d) != []
