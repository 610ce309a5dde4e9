"""Shared fixtures: a tiny dataset with planted attribute signal and a hand-made LOO split.

These fixtures depend only on the core types, so model tests do not depend on the loaders.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from recunlearn.data.split_types import Split
from recunlearn.data.types import Dataset
from recunlearn.testing.data import make_tiny_dataset, make_tiny_split

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data(name: str) -> Path:
    """Path of a local copy of a real dataset, skipping the test when it is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"real data not available at {path}")
    return path


@pytest.fixture(scope="session")
def tiny_dataset() -> Dataset:
    """A 60-user dataset with a planted gender signal."""
    return make_tiny_dataset()


@pytest.fixture(scope="session")
def tiny_split(tiny_dataset: Dataset) -> Split:
    """LOO split of ``tiny_dataset``."""
    return make_tiny_split(tiny_dataset)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny models are slower with 2 threads on a busy 2-core machine (thread stalls)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
