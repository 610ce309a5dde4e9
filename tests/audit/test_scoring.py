"""Adversary scores (audit.scoring) against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recunlearn.audit.scoring import (
    categorical_scores,
    continuous_scores,
    leakage,
    recall_counts_bacc,
)


def test_recall_counts_bacc_skips_absent_classes():
    # recalls 1/2 and 3/4; the third class has no example and does not count
    assert recall_counts_bacc(np.array([1, 3, 0]), np.array([2, 4, 0])) == pytest.approx(5 / 8)
    assert math.isnan(recall_counts_bacc(np.array([0, 0]), np.array([0, 0])))


def test_categorical_scores_by_hand():
    y = np.array([0, 0, 0, 1, 2, 2])
    proba = np.array(
        [[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1], [0.5, 0.1, 0.4]]
        + [[0.0, 0.2, 0.8]]
    )
    s = categorical_scores(y, proba)  # predicted 0, 1, 0, 1, 0, 2
    assert s["bacc"] == pytest.approx((2 / 3 + 1 + 1 / 2) / 3)
    assert s["acc"] == pytest.approx(4 / 6)
    assert s["chance_bacc"] == pytest.approx(1 / 3)
    assert s["n"] == 6
    # chance counts only the classes present among the scored users
    assert categorical_scores(np.array([0, 2]), np.eye(3)[[0, 2]])["chance_bacc"] == 0.5


def test_categorical_scores_of_nobody_are_nan():
    s = categorical_scores(np.zeros(0, np.int64), np.zeros((0, 3)))
    assert math.isnan(s["bacc"]) and math.isnan(s["acc"]) and math.isnan(s["chance_bacc"])
    assert s["n"] == 0


def test_continuous_scores_by_hand():
    s = continuous_scores(np.array([20.0, 30.0, 50.0]), np.array([25.0, 30.0, 41.0]), 60.0, 30.0)
    assert s["mae"] == pytest.approx(14 / 3)
    assert s["mae_scaled"] == pytest.approx(14 / 3 / 60)
    assert s["chance_mae"] == pytest.approx(30 / 3)
    assert s["n"] == 3
    empty = continuous_scores(np.zeros(0), np.zeros(0), 60.0, 30.0)
    assert empty["n"] == 0 and all(math.isnan(empty[k]) for k in ("mae", "mae_scaled"))
    assert math.isnan(empty["chance_mae"])


def test_leakage_by_hand():
    # categorical: |BAcc - chance| / (1 - chance), below chance counts too
    assert leakage({"g": {"bacc": 0.75, "chance_bacc": 0.5}}) == pytest.approx(0.5)
    assert leakage({"g": {"bacc": 0.25, "chance_bacc": 0.5}}) == pytest.approx(0.5)
    # continuous: 1 - MAE / chance MAE, floored at 0
    assert leakage({"a": {"mae": 6.0, "chance_mae": 8.0}}) == pytest.approx(0.25)
    assert leakage({"a": {"mae": 9.0, "chance_mae": 8.0}}) == 0.0
    # averaged over attributes; unusable entries are skipped
    scores = {
        "g": {"bacc": 1.0, "chance_bacc": 0.5},
        "a": {"mae": 6.0, "chance_mae": 8.0},
        "nan": {"bacc": math.nan, "chance_bacc": 0.5},
        "one_class": {"bacc": 1.0, "chance_bacc": 1.0},
        "no_spread": {"mae": 1.0, "chance_mae": 0.0},
        "no_mae": {"chance_mae": 3.0},
    }
    assert leakage(scores) == pytest.approx((1.0 + 0.25) / 2)
    assert math.isnan(leakage({}))
    assert math.isnan(leakage({"x": {"bacc": math.nan, "chance_bacc": 0.5}}))


def test_a_class_with_one_example_counts():
    # a class seen once is present: its recall (0 or 1) enters the mean
    assert recall_counts_bacc(np.array([1, 0]), np.array([1, 2])) == pytest.approx(0.5)


def test_continuous_scores_of_one_user():
    s = continuous_scores(np.array([40.0]), np.array([43.0]), 60.0, 30.0)
    assert s == {"mae": 3.0, "mae_scaled": pytest.approx(0.05), "chance_mae": 10.0, "n": 1}


def test_leakage_skips_continuous_entries_without_a_usable_chance():
    assert math.isnan(leakage({"a": {"mae": 3.0}}))  # no chance MAE recorded
    # a chance MAE below 1 still counts (ages scaled to [0, 1], say)
    assert leakage({"a": {"mae": 0.1, "chance_mae": 0.4}}) == pytest.approx(0.75)
