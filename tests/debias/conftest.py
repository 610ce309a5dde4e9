"""Fixtures for the debiasing tests: a small seeded MNAR dataset and its split."""

from __future__ import annotations

import pytest

from recunlearn.data.feedback import make_mnar, split_unbiased


@pytest.fixture(scope="session")
def mnar_split():
    """Synthetic MNAR data (200 users x 120 items) split 5 / 5 / 90 with seed 0."""
    return split_unbiased(make_mnar(seed=1), 0, uniform=0.1, valid=0.1)
