"""A planted-signal embedding matrix: gender is linearly readable, age weakly, noise not at all."""

from __future__ import annotations

import numpy as np
import pytest

from recunlearn.data.types import Attribute
from recunlearn.protect.posthoc.base import AttributeLabels


def planted(
    n: int = 400, d: int = 16, seed: int = 0
) -> tuple[np.ndarray, dict[str, AttributeLabels]]:
    """Rows with a gender direction, an age-bin direction and an independent noise label."""
    rng = np.random.default_rng(seed)
    gender = rng.integers(0, 2, n)
    age = rng.integers(0, 3, n)
    noise = rng.integers(0, 2, n)
    age_raw = 20 + 15 * age + rng.normal(0, 3, n)
    matrix = rng.normal(0, 1, (n, d))
    matrix[:, 0] += 2.0 * (2 * gender - 1)
    matrix[:, 1] += 1.0 * (age - 1)
    gender_known = gender.copy()
    gender_known[:20] = -1  # some users never disclosed their gender
    labels = {
        "gender": AttributeLabels(Attribute("gender", "categorical", ("F", "M")), gender_known),
        "age": AttributeLabels(Attribute("age", "categorical", ("<28", "28-40", ">40")), age),
        "noise": AttributeLabels(Attribute("noise", "categorical", ("a", "b")), noise),
        "age_raw": AttributeLabels(Attribute("age_raw", "continuous"), age_raw),
    }
    return matrix.astype(np.float32), labels


@pytest.fixture(scope="session")
def planted_data():
    """(matrix, labels) of :func:`planted`."""
    return planted()
