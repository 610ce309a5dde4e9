"""Leakage metrics of one attacker on one test fold.

Categorical attributes: balanced accuracy (BAcc, the mean recall over the classes present in
the test users), micro-F1 (equals accuracy for single-label multiclass: LEGO's "F1"),
macro-F1 (over the classes present in the test users), one-vs-rest macro AUC (over the present
classes that have both positive and negative test users), the chance BAcc and the distance
``|BAcc - chance|`` — a BAcc far *below* chance is leakage too (flip the predictions).

The chance BAcc is ``1 / k`` with ``k`` the number of classes present among the test users:
any predictor that ignores the embedding has an expected BAcc of at most ``1 / k`` (exactly
``1 / k`` when it only predicts present classes). With stratified folds every class is present
and this equals the attribute's ``1 / n_classes``.

Continuous attributes: MAE, R² and the chance MAE, i.e. the MAE of the training users' median
predicted for every test user (the best constant predictor a label-only attacker can build).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score, r2_score, roc_auc_score

CATEGORICAL_METRICS = ("bacc", "chance_bacc", "bacc_gap", "micro_f1", "macro_f1", "auc")
"""Metric keys of a categorical record."""

CONTINUOUS_METRICS = ("mae", "chance_mae", "r2")
"""Metric keys of a continuous record."""


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean recall over the classes present in ``y_true`` (NaN for an empty fold)."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    classes = np.unique(y_true)
    if classes.size == 0:
        return float("nan")
    recalls = [np.mean(y_pred[y_true == c] == c) for c in classes]
    return float(np.mean(recalls))


def macro_auc(y_true: np.ndarray, proba: np.ndarray) -> float:
    """One-vs-rest AUC averaged over the classes present in ``y_true``.

    ``proba`` has one column per class code. A class contributes only when the test users
    contain both members and non-members of it; NaN when no class qualifies (a single class
    in the test fold). For two classes this is the ordinary binary AUC.
    """
    y_true = np.asarray(y_true)
    proba = np.asarray(proba, dtype=np.float64)
    scores = []
    for c in np.unique(y_true):
        positive = y_true == c
        if positive.all() or not positive.any():
            continue
        scores.append(roc_auc_score(positive, proba[:, c]))
    return float(np.mean(scores)) if scores else float("nan")


def categorical_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None = None
) -> dict[str, float]:
    """BAcc, chance BAcc, |BAcc - chance|, micro-F1, macro-F1 and macro AUC of one fold.

    Args:
        y_true: true class codes of the test users.
        y_pred: predicted class codes.
        proba: class scores (n, n_classes), columns in code order; AUC is NaN without it.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    present = np.unique(y_true)
    bacc = balanced_accuracy(y_true, y_pred)
    chance = 1.0 / len(present) if len(present) else float("nan")
    micro = float(np.mean(y_true == y_pred)) if len(y_true) else float("nan")
    macro = (
        float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0))
        if len(present)
        else float("nan")
    )
    auc = macro_auc(y_true, proba) if proba is not None else float("nan")
    return {
        "bacc": bacc,
        "chance_bacc": chance,
        "bacc_gap": abs(bacc - chance),
        "micro_f1": micro,
        "macro_f1": macro,
        "auc": auc,
        "n_test_classes": float(len(present)),
    }


def chance_mae_from_train(y_train: np.ndarray, y_test: np.ndarray) -> float:
    """MAE on ``y_test`` of the training users' median, predicted for everyone."""
    y_train = np.asarray(y_train, dtype=np.float64)
    y_test = np.asarray(y_test, dtype=np.float64)
    if y_train.size == 0 or y_test.size == 0:
        return float("nan")
    return float(np.mean(np.abs(y_test - np.median(y_train))))


def continuous_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, y_train: np.ndarray
) -> dict[str, float]:
    """MAE, the chance MAE (training median) and R² of one fold (R² NaN below 2 test users)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    mae = float(np.mean(np.abs(y_true - y_pred))) if y_true.size else float("nan")
    r2 = float(r2_score(y_true, y_pred)) if y_true.size >= 2 else float("nan")
    return {"mae": mae, "chance_mae": chance_mae_from_train(y_train, y_true), "r2": r2}
