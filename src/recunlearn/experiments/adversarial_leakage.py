"""Leakage of frozen user embeddings after training, summarised per attribute and attacker.

A thin layer over :func:`recunlearn.audit.audit` that always adds the AdvX attacker and keeps,
per attribute, each attacker's mean metrics and the worst case (largest |BAcc - chance| or
lowest MAE).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from recunlearn.audit import AttackerSpec, audit
from recunlearn.audit.advx_attacker import ADVX_ATTACKER
from recunlearn.core.errors import ConfigError
from recunlearn.data.types import Dataset


def _summaries(report: Any) -> dict[str, Any]:
    """Per attribute: every attacker's mean metrics and the worst case."""
    table = report.summary()
    out: dict[str, Any] = {}
    for attribute, part in table.groupby("attribute", sort=False):
        kind = part["kind"].iloc[0]
        columns = (
            ["bacc_mean", "chance_bacc_mean", "micro_f1_mean", "macro_f1_mean", "bacc_gap"]
            if kind == "categorical"
            else ["mae_mean", "chance_mae_mean", "r2_mean"]
        )
        entry: dict[str, Any] = {"kind": kind}
        for _, row in part.iterrows():
            values = {c.removesuffix("_mean"): float(row[c]) for c in columns}
            entry[str(row["attacker"])] = values
            if bool(row["worst"]):
                entry["worst"] = {"attacker": str(row["attacker"]), **values}
        out[str(attribute)] = entry
    return out


def measure_leakage(
    embeddings: np.ndarray,
    dataset: Dataset,
    attributes: Sequence[str],
    *,
    train_users: np.ndarray | None = None,
    test_users: np.ndarray | None = None,
    attackers: Iterable[str | AttackerSpec] = ("logreg",),
    n_folds: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Audit frozen embeddings: fixed train -> test users, or k-fold over all labelled users.

    Args:
        embeddings: every user's representation (n_users x d).
        dataset: labels per user index.
        attributes: attributes to attack.
        train_users / test_users: user indices (both or neither; neither = k-fold over every
            user).
        attackers: audit attackers; the AdvX attacker is always added.
        n_folds: folds of the k-fold variant.
        seed: audit seed.

    Returns:
        ``{attribute: {"kind", <attacker>: metrics, "worst": {"attacker", metrics}}}``.
    """
    specs = [*attackers, ADVX_ATTACKER]
    if (train_users is None) != (test_users is None):
        raise ConfigError("give both train_users and test_users, or neither")
    if train_users is None:
        rows = np.arange(dataset.n_users)
        is_test = None
    else:
        rows = np.concatenate([train_users, test_users]).astype(np.int64)
        is_test = np.r_[np.zeros(len(train_users), bool), np.ones(len(test_users), bool)]
    mapping = {a: (dataset.attribute(a), dataset.labels(a)[rows]) for a in attributes}
    report = audit(
        np.asarray(embeddings)[rows],
        mapping,
        attackers=specs,
        n_folds=n_folds,
        seeds=(seed,),
        test_users=is_test,
        n_jobs=1,
        progress=False,
        rare_classes="drop",
    )
    return _summaries(report)
