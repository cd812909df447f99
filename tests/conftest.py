"""Shared fixtures. Test shapes stay tiny: JAX compilation dominates test time."""

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def shared_dir():
    """The project's shared folder when present (never required)."""
    return SHARED if SHARED.is_dir() else None
