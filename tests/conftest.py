"""Shared test setup: the real asset cache, fetched once per session."""
import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def course():
    """The smoke profile after kdcourse.setup() (seeded, quiet)."""
    import kdcourse

    return kdcourse.setup(seed=0, profile="smoke", verbose=False)
