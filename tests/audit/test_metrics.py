"""Leakage metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recunlearn.audit.core import null_bacc_sd
from recunlearn.audit.metrics import (
    balanced_accuracy,
    categorical_metrics,
    chance_mae_from_train,
    continuous_metrics,
    macro_auc,
)


def test_categorical_metrics_by_hand():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 0, 2])
    m = categorical_metrics(y_true, y_pred)
    # recalls 2/3, 1/2, 1 -> BAcc 13/18
    assert m["bacc"] == pytest.approx(13 / 18)
    assert m["micro_f1"] == pytest.approx(4 / 6)  # accuracy
    # per-class F1: 2/3, 1/2, 1
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert m["chance_bacc"] == pytest.approx(1 / 3)
    assert m["bacc_gap"] == pytest.approx(13 / 18 - 1 / 3)
    assert math.isnan(m["auc"])  # no scores given


def test_binary_auc_by_hand():
    y = np.array([0, 0, 1, 1])
    p1 = np.array([0.1, 0.6, 0.4, 0.9])
    proba = np.column_stack([1 - p1, p1])
    # positive/negative pairs ranked right: 3 of 4
    assert macro_auc(y, proba) == pytest.approx(0.75)
    assert categorical_metrics(y, (p1 > 0.5).astype(int), proba)["auc"] == pytest.approx(0.75)


def test_below_chance_is_a_large_gap():
    m = categorical_metrics(np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0]))
    assert m["bacc"] == 0.0
    assert m["bacc_gap"] == pytest.approx(0.5)


def test_class_absent_from_the_test_fold():
    y_true = np.array([0, 0, 1, 1])
    y_pred = np.array([0, 2, 1, 1])  # predicts a class nobody in the fold has
    proba = np.array([[0.8, 0.1, 0.1], [0.3, 0.2, 0.5], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1]])
    m = categorical_metrics(y_true, y_pred, proba)
    assert m["bacc"] == pytest.approx((0.5 + 1.0) / 2)
    assert m["chance_bacc"] == pytest.approx(0.5)  # two classes present
    assert m["n_test_classes"] == 2
    # class 0 scores: members 0.8, 0.3 vs others 0.1, 0.2 -> 1.0; class 1: 0.8, 0.7 vs 0.1, 0.2
    assert m["auc"] == pytest.approx(1.0)


def test_single_class_fold_has_no_auc():
    m = categorical_metrics(np.array([1, 1]), np.array([1, 0]), np.full((2, 2), 0.5))
    assert math.isnan(m["auc"])
    assert m["bacc"] == pytest.approx(0.5)
    assert m["chance_bacc"] == 1.0


def test_balanced_accuracy_empty_is_nan():
    assert math.isnan(balanced_accuracy(np.array([]), np.array([])))


def test_continuous_metrics_by_hand():
    m = continuous_metrics(np.array([2.0, 4.0]), np.array([3.0, 3.0]), np.array([1, 2, 3, 10]))
    assert m["mae"] == pytest.approx(1.0)
    assert m["chance_mae"] == pytest.approx(1.0)  # training median 2.5
    assert m["r2"] == pytest.approx(0.0)
    assert chance_mae_from_train(np.array([0.0, 10.0]), np.array([5.0])) == pytest.approx(0.0)


def test_null_bacc_sd_by_hand():
    labels = np.repeat([0, 1], 100)
    assert null_bacc_sd(labels) == pytest.approx(math.sqrt(0.25 / 100 + 0.25 / 100) / 2)
    assert math.isnan(null_bacc_sd(np.zeros(5)))


def test_macro_f1_averages_the_classes_present_only():
    # class 2 is predicted but nobody in the fold has it: it does not enter the mean
    m = categorical_metrics(np.array([0, 0, 1, 1]), np.array([0, 2, 1, 1]))
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1) / 2)


def test_an_empty_fold_gives_nan_not_an_error():
    m = categorical_metrics(np.zeros(0, np.int64), np.zeros(0, np.int64))
    for key in ("bacc", "chance_bacc", "bacc_gap", "micro_f1", "macro_f1", "auc"):
        assert math.isnan(m[key]), key
    assert m["n_test_classes"] == 0
