"""Shared fixtures of the per-user methods' tests: a planted matrix with a recommender whose
preferences follow its rows, and the worst attacker's distance from chance."""

from __future__ import annotations

import numpy as np
import pytest

from recunlearn.audit import audit
from recunlearn.protect.posthoc.base import AttributeLabels
from recunlearn.testing.data import LinearScorer, planted_matrix

TOLERANCE = 7.0
"""Points from chance allowed to the worst attacker (1,000 users, 3 folds: one attacker's null
spread is ~1.6 points; AFRL's attribute embeddings keep a little of the other attributes)."""
ATTACKERS = ("logreg", "svm_rbf", "knn")
"""The default attackers of :func:`distance` (the AFRL paper's ``afrl_mlp`` is slow: tests name
it where they need it)."""


@pytest.fixture(scope="session")
def planted():
    """1,000 users x 16 dims: gender and age planted (an attacker reads gender at ~84 % BAcc,
    age at ~60 %), and a linear recommender whose preferences follow the rows."""
    rng = np.random.default_rng(0)
    n = 1000
    gender, age = rng.integers(0, 2, n), rng.integers(0, 3, n)
    matrix = rng.normal(size=(n, 16))
    matrix[:, 0] += 1.0 * (2 * gender - 1)
    matrix[:, 1] += 1.0 * (age - 1)
    _, template = planted_matrix(n=10)
    labels = {
        "gender": AttributeLabels(template["gender"].attribute, gender),
        "age": AttributeLabels(template["age"].attribute, age),
    }
    return matrix.astype(np.float32), labels, LinearScorer(matrix, n_items=60, per_user=8)


def distance(matrix, labels, attribute, attackers=ATTACKERS, **kwargs) -> float:
    """The worst attacker's (signed) distance from chance on ``attribute``, in points."""
    attributes = {n: (e.attribute, e.values) for n, e in labels.items()}
    report = audit(
        matrix, attributes, attackers=list(attackers), select=[attribute], progress=False, n_jobs=1,
        **kwargs,
    )  # fmt: skip
    worst = report.worst_case().iloc[0]
    return 100.0 * float(worst["bacc_mean"] - worst["chance_bacc_mean"])
