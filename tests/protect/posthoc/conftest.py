"""A planted-signal embedding matrix: gender is linearly readable, age weakly, noise not at all."""

from __future__ import annotations

import pytest

from recunlearn.testing.data import planted_matrix


@pytest.fixture(scope="session")
def planted_data():
    """(matrix, labels) of :func:`planted`."""
    return planted_matrix()
