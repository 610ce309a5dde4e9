"""How well an adversary (or attacker) predicts an attribute, and one leakage number to select on.

Balanced accuracy is the mean of the per-class recalls over the classes present among the
evaluated users (chance = 1 / their number); MAE is reported in the attribute's units and on
the adversary's scaled target (AdvX reports ``MAE_A`` on age / 60, in percent).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from recunlearn.audit.metrics import balanced_accuracy


def recall_counts_bacc(correct: np.ndarray, total: np.ndarray) -> float:
    """Balanced accuracy from per-class counts of correct predictions and of examples."""
    total = np.asarray(total, dtype=np.float64)
    present = total > 0
    if not present.any():
        return math.nan
    return float(np.mean(np.asarray(correct, dtype=np.float64)[present] / total[present]))


def categorical_scores(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """``bacc``, ``acc``, ``chance_bacc`` (1 / classes present) and ``n`` of predictions."""
    y_true = np.asarray(y_true, dtype=np.int64)
    predicted = np.asarray(proba).argmax(axis=1) if len(y_true) else np.zeros(0, np.int64)
    n_present = len(np.unique(y_true))
    return {
        "bacc": balanced_accuracy(y_true, predicted),
        "acc": float(np.mean(predicted == y_true)) if len(y_true) else math.nan,
        "chance_bacc": 1.0 / n_present if n_present else math.nan,
        "n": int(len(y_true)),
    }


def continuous_scores(
    y_true: np.ndarray, y_pred: np.ndarray, scale: float, reference: float
) -> dict[str, float]:
    """``mae`` (units), ``mae_scaled`` (on value / ``scale``), ``chance_mae`` (MAE of the
    constant ``reference``, e.g. the training median) and ``n``."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.size == 0:
        return {"mae": math.nan, "mae_scaled": math.nan, "chance_mae": math.nan, "n": 0}
    mae = float(np.mean(np.abs(y_true - y_pred)))
    return {
        "mae": mae,
        "mae_scaled": mae / scale,
        "chance_mae": float(np.mean(np.abs(y_true - reference))),
        "n": int(len(y_true)),
    }


def leakage(scores: Mapping[str, Mapping[str, float]]) -> float:
    """One number in [0, 1] summarising what the heads still predict, averaged over attributes.

    Categorical: ``|BAcc - chance| / (1 - chance)`` (0 at chance, 1 when perfect; below chance
    counts as leakage too). Continuous: ``max(0, 1 - MAE / chance MAE)`` (0 when no better than
    the constant prediction). Used by ``selection="adversary"``.
    """
    values = []
    for entry in scores.values():
        if "bacc" in entry:
            bacc, chance = entry["bacc"], entry["chance_bacc"]
            if math.isfinite(bacc) and chance < 1:
                values.append(abs(bacc - chance) / (1.0 - chance))
        elif math.isfinite(entry.get("mae", math.nan)) and entry.get("chance_mae", 0) > 0:
            values.append(max(0.0, 1.0 - entry["mae"] / entry["chance_mae"]))
    return float(np.mean(values)) if values else math.nan
