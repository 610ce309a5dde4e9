"""The AFRL attacker: its AUC, its early stopping with the best epoch reloaded, and the paper's
folded requirement-level AUC computed from the audit's records."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from recunlearn.audit import audit
from recunlearn.audit.afrl_attacker import (
    AFRLAttackerClassifier,
    fold_auc,
    ovr_macro_auc,
    requirement_auc,
)
from recunlearn.audit.leakage_report import LeakageReport
from recunlearn.testing.data import planted_matrix


def test_ovr_macro_auc_matches_sklearn_and_skips_absent_classes():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, 200)
    proba = rng.dirichlet(np.ones(4), 200)  # class 3 never occurs: left out
    expected = np.mean([roc_auc_score(codes == c, proba[:, c]) for c in range(3)])
    assert ovr_macro_auc(codes, proba) == pytest.approx(expected)
    assert math.isnan(ovr_macro_auc(np.zeros(5, int), proba[:5]))


def test_fold_auc_reads_a_flipped_attacker_back():
    assert fold_auc(0.3) == pytest.approx(0.7) and fold_auc(0.8) == 0.8
    assert math.isnan(fold_auc(math.nan))


def test_best_epoch_is_reloaded_and_early_stopping_waits_for_min_epochs():
    matrix, labels = planted_matrix(n=300)
    y = labels["gender"].values
    keep = y >= 0
    clf = AFRLAttackerClassifier(max_epochs=60, min_epochs=30, patience=5, random_state=0)
    clf.fit(matrix[keep], y[keep])
    assert 30 <= clf.n_epochs_ <= 60
    assert 1 <= clf.best_epoch_ <= clf.n_epochs_
    # the weights kept are the best epoch's: retraining exactly that many epochs without
    # validation-based stopping gives the same network
    again = AFRLAttackerClassifier(
        max_epochs=clf.best_epoch_, min_epochs=10**6, patience=10**6, random_state=0
    ).fit(matrix[keep], y[keep])
    np.testing.assert_allclose(
        clf.predict_proba(matrix[:20]), again.predict_proba(matrix[:20]), atol=1e-6
    )
    assert np.mean(clf.predict(matrix[keep]) == y[keep]) > 0.8  # gender is planted


def test_requirement_auc_folds_each_record_and_averages_over_attributes():
    records = pd.DataFrame(
        [
            {"attribute": "gender", "kind": "categorical", "attacker": "afrl_mlp", "seed": 0,
             "fold": f, "auc": auc}
            for f, auc in enumerate([0.3, 0.6])
        ]
        + [
            {"attribute": "age", "kind": "categorical", "attacker": "afrl_mlp", "seed": 0,
             "fold": f, "auc": auc}
            for f, auc in enumerate([0.5, 0.9])
        ]
        + [{"attribute": "age", "kind": "categorical", "attacker": "logreg", "seed": 0,
            "fold": 0, "auc": 0.99}]
    )  # fmt: skip
    out = requirement_auc(LeakageReport(records), ["gender", "age"])
    # fold 0: (0.7 + 0.5) / 2 = 0.6; fold 1: (0.6 + 0.9) / 2 = 0.75
    assert out["auc_mean"] == pytest.approx(0.675)
    assert out["auc_std"] == pytest.approx(np.std([0.6, 0.75], ddof=1))
    assert out["auc:gender"] == pytest.approx(0.65) and out["auc:age"] == pytest.approx(0.7)
    assert math.isnan(requirement_auc(LeakageReport(records), ["occupation"])["auc_mean"])


def test_the_audit_runs_the_afrl_attacker_in_both_views():
    matrix, labels = planted_matrix(n=300)
    attributes = {n: (e.attribute, e.values) for n, e in labels.items() if n != "age_raw"}
    report = audit(matrix, attributes, attackers=["afrl_mlp"], n_folds=3, progress=False)
    readable = requirement_auc(report, ["gender"])["auc_mean"]
    control = requirement_auc(report, ["noise"])["auc_mean"]
    assert readable > 0.85 and control < 0.62
    hidden = np.zeros(len(matrix), bool)
    hidden[::4] = True
    held = audit(
        matrix, attributes, attackers=["afrl_mlp"], select=["gender"], test_users=hidden,
        progress=False,
    )  # fmt: skip
    assert requirement_auc(held, ["gender"])["auc_mean"] > 0.85
