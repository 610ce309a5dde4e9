"""The contract every attacker honours, as a test mixin.

An attacker is tested by one line in the test suite::

    class TestLogreg(AttackerContract):
        name = "logreg"

``name`` is the attacker's name in :data:`recunlearn.audit.attackers.ATTACKERS`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from recunlearn.audit.attackers import ATTACKERS, Attacker, AttackerSpec
from recunlearn.core.errors import ConfigError


def separable(n: int = 90, d: int = 5, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows whose first coordinate separates ``k`` classes (plus noise)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    X = rng.normal(size=(n, d))
    X[:, 0] += 2.0 * y
    return X, y


class AttackerContract:
    """Checks of a registered attacker: both kinds fit, probabilities in class-code order,
    predictions better than chance on a separable attribute, seeded, no probabilities for a
    continuous attribute."""

    name: ClassVar[str] = ""

    def test_registered(self) -> None:
        assert self.name in ATTACKERS and isinstance(ATTACKERS.get(self.name), AttackerSpec)

    def test_categorical_fit_and_predict(self) -> None:
        X, y = separable()
        attacker = Attacker(self.name, "categorical", n_classes=3, seed=0).fit(X[:60], y[:60])
        proba = attacker.predict_proba(X[60:])
        assert proba.shape == (30, 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
        assert set(attacker.predict(X[60:])) <= {0, 1, 2}
        assert np.mean(attacker.predict(X[60:]) == y[60:]) > 0.5

    def test_continuous_fit_and_predict(self) -> None:
        X, _ = separable()
        values = X[:, 0] * 3.0 + 10.0
        regressor = Attacker(self.name, "continuous", seed=0).fit(X[:60], values[:60])
        predicted = regressor.predict(X[60:])
        assert predicted.shape == (30,) and np.isfinite(predicted).all()
        with pytest.raises(ConfigError):
            regressor.predict_proba(X[60:])

    def test_same_seed_same_predictions(self) -> None:
        X, y = separable()
        a = Attacker(self.name, "categorical", 3, seed=3).fit(X, y).predict_proba(X)
        b = Attacker(self.name, "categorical", 3, seed=3).fit(X, y).predict_proba(X)
        np.testing.assert_array_equal(a, b)
