"""Small planted-signal embeddings for the audit tests (fast: a few hundred users)."""

from __future__ import annotations

import numpy as np
import pytest

from recunlearn.data.types import Attribute

GENDER = Attribute("gender", "categorical", ("F", "M"))
NOISE = Attribute("noise", "categorical", ("a", "b"))
AGE = Attribute("age_raw", "continuous")
OCCUPATION = Attribute("occupation", "categorical", ("x", "y", "z"))


def planted(n: int = 300, d: int = 8, seed: int = 0) -> dict:
    """Embeddings where gender and age drive two directions; noise is an independent label."""
    rng = np.random.default_rng(seed)
    gender = rng.integers(0, 2, n)
    noise = rng.integers(0, 2, n)
    age = rng.normal(35, 10, n)
    occupation = rng.integers(0, 3, n)
    X = rng.normal(size=(n, d))
    X[:, 0] += 1.5 * (2 * gender - 1)
    X[:, 1] += (age - 35) / 10
    X[:, 2] += 1.2 * occupation
    ids = np.arange(1000, 1000 + n)
    return {
        "X": X,
        "ids": ids,
        "attributes": {
            "gender": (GENDER, gender),
            "noise": (NOISE, noise),
            "age_raw": (AGE, age),
            "occupation": (OCCUPATION, occupation),
        },
    }


@pytest.fixture(scope="session")
def planted_data() -> dict:
    """300 users x 8 dims with planted gender / age / occupation and an independent label."""
    return planted()
