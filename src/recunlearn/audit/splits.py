"""Which users an attacker trains on and which it is tested on.

Two protocols:

* ``kfold`` (LEGO appendix A): stratified k-fold over the labelled users (5 folds = 80/20),
  reshuffled per seed. Continuous attributes are stratified on quantile bins.
* ``fixed_test``: the test users are given (e.g. users whose labels an unlearner never saw);
  the attacker trains on every other labelled user. Seeds then only change the attacker's
  initialisation.

All indices refer to positions in the arrays passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from recunlearn.data.types import AttributeKind

QUANTILE_BINS = 5


@dataclass(frozen=True)
class FoldPlan:
    """One train / test partition.

    Attributes:
        seed: the repetition seed.
        fold: fold number (0 in the ``fixed_test`` protocol).
        train: indices of the training users.
        test: indices of the test users.
    """

    seed: int
    fold: int
    train: np.ndarray
    test: np.ndarray


def strata(values: np.ndarray, kind: AttributeKind, n_bins: int = QUANTILE_BINS) -> np.ndarray:
    """Stratification labels: the codes themselves, or quantile bins of a continuous value."""
    if kind == "categorical":
        return np.asarray(values, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return np.searchsorted(edges, values, side="right").astype(np.int64)


def _safe_strata(labels: np.ndarray, n_folds: int) -> np.ndarray | None:
    """The bin labels when every bin has >= ``n_folds`` users, else ``None`` (plain k-fold)."""
    _, counts = np.unique(labels, return_counts=True)
    if counts.min() >= n_folds:
        return labels
    return None


def kfold_plan(
    values: np.ndarray, kind: AttributeKind, n_folds: int, seeds: tuple[int, ...]
) -> list[FoldPlan]:
    """Stratified k-fold partitions of the users, one set per seed.

    The caller has checked that every class has at least ``n_folds`` members.
    """
    plans = []
    n = len(values)
    labels = strata(values, kind)
    if kind == "continuous":
        labels = _safe_strata(labels, n_folds)
    for seed in seeds:
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        target = labels if labels is not None else np.zeros(n, dtype=np.int64)
        for fold, (train, test) in enumerate(splitter.split(np.zeros(n), target)):
            plans.append(FoldPlan(seed, fold, np.sort(train), np.sort(test)))
    return plans


def fixed_plan(is_test: np.ndarray, seeds: tuple[int, ...]) -> list[FoldPlan]:
    """Train on the users where ``is_test`` is false, test on the others (once per seed)."""
    is_test = np.asarray(is_test, dtype=bool)
    train, test = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    return [FoldPlan(seed, 0, train, test) for seed in seeds]


def stratified_sample(values: np.ndarray, kind: AttributeKind, size: int, seed: int) -> np.ndarray:
    """Sorted indices of a stratified sample of ``size`` users (all when size >= n).

    Classes keep their shares (rounded); every class keeps at least one member when possible.
    """
    n = len(values)
    if size >= n:
        return np.arange(n)
    labels = strata(values, kind)
    _, counts = np.unique(labels, return_counts=True)
    stratify = labels if counts.min() >= 2 and size >= len(counts) else None
    keep, _ = train_test_split(
        np.arange(n), train_size=size, random_state=seed, shuffle=True, stratify=stratify
    )
    return np.sort(keep)
