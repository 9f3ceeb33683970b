"""Shared test setup: the real asset cache, fetched once per session."""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def course():
    """The smoke profile after kdcourse.setup() (seeded, quiet)."""
    import kdcourse

    return kdcourse.setup(seed=0, profile="smoke", verbose=False)


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models gain nothing from threads, and on a busy 2-core machine two threads make them far slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
