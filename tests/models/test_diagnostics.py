"""Tests of recunlearn.models.diagnostics."""

import numpy as np
import torch

from recunlearn.models.diagnostics import dead_dimensions, dead_dimensions_warning


def test_dead_dimensions_counts_columns_that_are_zero_for_every_user() -> None:
    values = torch.randn(50, 6)
    values[:, 1] = 1e-30
    values[:, 4] = 0.0
    values[3, 5] = 0.0  # zero for one user only: alive
    assert dead_dimensions(values) == 2
    assert dead_dimensions(values.numpy()) == 2


def test_dead_dimensions_of_a_healthy_or_empty_matrix_is_zero() -> None:
    assert dead_dimensions(np.random.default_rng(0).normal(size=(10, 4))) == 0
    assert dead_dimensions(torch.zeros(0, 4)) == 0


def test_warning_names_the_count_only_when_something_is_dead() -> None:
    assert dead_dimensions_warning(0, 64) is None
    message = dead_dimensions_warning(32, 64)
    assert message is not None and "32 of 64" in message
