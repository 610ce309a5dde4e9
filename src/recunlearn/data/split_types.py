"""The result of a split protocol: what a model trains on and what it is evaluated on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from recunlearn.data.types import Dataset


@dataclass(frozen=True)
class EvalSet:
    """Users to evaluate, the items they are known to have (masked from the ranking and used as
    fold-in input by encoder models), and the held-out target items.

    Attributes:
        users: user indices evaluated (each has >= 1 target item).
        known: n_users x n_items CSR of items excluded from the ranking for these users.
        target: n_users x n_items CSR of held-out items (rows outside ``users`` are empty).
    """

    users: np.ndarray
    known: sp.csr_matrix
    target: sp.csr_matrix


@dataclass(frozen=True)
class Split:
    """A named split protocol applied to a dataset.

    Attributes:
        protocol: protocol name, e.g. ``"loo"`` or ``"user_kfold"``.
        params: the protocol's parameters (tie rule, fold, seed...), recorded in run configs.
        dataset: the dataset split.
        train: n_users x n_items CSR (binary) that ``Recommender.fit`` learns from. For
            ``user_kfold`` it also holds the held-out users' *input* part.
        train_users: users whose rows may be used as training examples. Embedding-table models
            (MF, NCF, LightGCN) train on every row of ``train``; encoder models (MultVAE) train
            only on these rows and fold the others in at inference.
        valid: validation set (``None`` when the protocol has none).
        test: test set.
    """

    protocol: str
    params: dict[str, Any]
    dataset: Dataset
    train: sp.csr_matrix
    train_users: np.ndarray
    test: EvalSet
    valid: EvalSet | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        """Number of users of the dataset."""
        return self.dataset.n_users

    @property
    def n_items(self) -> int:
        """Number of items of the dataset."""
        return self.dataset.n_items
