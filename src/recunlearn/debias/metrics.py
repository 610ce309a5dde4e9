"""Debiasing metrics on unbiased test ratings, with the conventions named.

* **AUC** over all test pairs (one global AUC; ties count one half).
* **NDCG@K, Recall@K, Precision@K** per user, ranking each user's *own* test items only
  (K = 5 for Coat / Yahoo! R3, 50 for KuaiRec), then averaged over users. Two choices move the
  numbers (see ``../shared/reference/debias.md`` section 1) and are named in every key:

  - which users count (``users``):
      ``positive_only`` (family A, AutoDebias-style: users with >= 1 positive test item) or
      ``all_users_nopos_ndcg1`` (family B, DR-family: all test users; a user without a positive
      gets NDCG = 1 and Recall = 0);
  - the recall denominator (``recall``): ``n_pos`` (hits / #positives) or ``min_k_npos``
    (hits / min(K, #positives)).

:func:`evaluate_all` returns every combination under keys such as ``"NDCG@5|positive_only"``
and ``"Recall@5|all_users_nopos_ndcg1|min_k_npos"``; :data:`DEFAULT_CONVENTION` is the one our
tables lead with (family A, as the ULTD setup follows).

Within a user, tied scores keep the order of the test rows (deterministic).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

USER_CONVENTIONS = ("positive_only", "all_users_nopos_ndcg1")
RECALL_CONVENTIONS = ("n_pos", "min_k_npos")


@dataclass(frozen=True)
class Convention:
    """A named metric convention: which users count and the recall denominator."""

    users: str = "positive_only"
    recall: str = "n_pos"

    def __post_init__(self) -> None:
        if self.users not in USER_CONVENTIONS:
            raise ValueError(f"users convention must be one of {USER_CONVENTIONS}")
        if self.recall not in RECALL_CONVENTIONS:
            raise ValueError(f"recall convention must be one of {RECALL_CONVENTIONS}")

    @property
    def label(self) -> str:
        """Short name printed beside numbers, e.g. ``positive_only|n_pos``."""
        return f"{self.users}|{self.recall}"


DEFAULT_CONVENTION = Convention("positive_only", "n_pos")


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Global ROC AUC (Mann-Whitney with average ranks); ``nan`` if one class is missing."""
    labels = np.asarray(labels) > 0.5
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(np.asarray(scores, dtype=np.float64))
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _padded(users: np.ndarray, labels: np.ndarray, scores: np.ndarray):
    """Group rows by user into padded (n_test_users, max_items) matrices, row order kept."""
    order = np.argsort(users, kind="stable")
    u_sorted = users[order]
    uniq, start, counts = np.unique(u_sorted, return_index=True, return_counts=True)
    width = int(counts.max())
    col = np.arange(len(order)) - np.repeat(start, counts)
    row = np.repeat(np.arange(len(uniq)), counts)
    lab = np.zeros((len(uniq), width))
    sco = np.full((len(uniq), width), -np.inf)
    valid = np.zeros((len(uniq), width), dtype=bool)
    lab[row, col] = labels[order]
    sco[row, col] = scores[order]
    valid[row, col] = True
    return uniq, lab, sco, valid, counts


def per_user_metrics(
    users: np.ndarray, labels: np.ndarray, scores: np.ndarray, k: int
) -> pd.DataFrame:
    """Per test user: #test items, #positives, hits@k, DCG@k, IDCG@k, and the metric values
    under both conventions (``ndcg`` is ``nan`` for users without a positive; the family-B
    value is ``ndcg_nopos1``)."""
    users = np.asarray(users, dtype=np.int64)
    labels = (np.asarray(labels) > 0.5).astype(np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    uniq, lab, sco, valid, counts = _padded(users, labels, scores)
    # stable descending sort: ties keep the test-row order; padding (-inf) goes last
    rank_order = np.argsort(-sco, axis=1, kind="stable")
    ranked = np.take_along_axis(lab, rank_order, axis=1)
    ranked_valid = np.take_along_axis(valid, rank_order, axis=1)
    kk = min(k, ranked.shape[1])
    top = ranked[:, :kk] * ranked_valid[:, :kk]
    discount = 1.0 / np.log2(np.arange(2, kk + 2))
    dcg = (top * discount).sum(axis=1)
    n_pos = lab.sum(axis=1)
    ideal_len = np.minimum(n_pos, k).astype(int)
    cum = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))])
    idcg = cum[ideal_len]
    hits = top.sum(axis=1)
    has_pos = n_pos > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        ndcg = np.where(has_pos, dcg / np.where(has_pos, idcg, 1.0), np.nan)
        recall_npos = np.where(has_pos, hits / np.maximum(n_pos, 1), 0.0)
        recall_mink = np.where(has_pos, hits / np.maximum(np.minimum(n_pos, k), 1), 0.0)
    return pd.DataFrame(
        {
            "user": uniq,
            "n_test": counts,
            "n_pos": n_pos.astype(int),
            "hits": hits.astype(int),
            "dcg": dcg,
            "idcg": idcg,
            "ndcg": ndcg,
            "ndcg_nopos1": np.where(has_pos, ndcg, 1.0),
            "recall_n_pos": recall_npos,
            "recall_min_k_npos": recall_mink,
            "precision": hits / k,
        }
    )


def summarize(frame: pd.DataFrame, k: int, convention: Convention) -> dict[str, float]:
    """Average a :func:`per_user_metrics` frame under one convention (keys name it)."""
    if convention.users == "positive_only":
        sub = frame[frame["n_pos"] > 0]
        ndcg = sub["ndcg"]
    else:
        sub = frame
        ndcg = sub["ndcg_nopos1"]
    recall = sub[f"recall_{convention.recall}"]
    mean = (lambda s: float(s.mean())) if len(sub) else (lambda s: float("nan"))
    return {
        f"NDCG@{k}|{convention.users}": mean(ndcg),
        f"Recall@{k}|{convention.label}": mean(recall),
        f"Precision@{k}|{convention.users}": mean(sub["precision"]),
        f"n_users|{convention.users}": int(len(sub)),
    }


def evaluate_all(
    users: np.ndarray, labels: np.ndarray, scores: np.ndarray, k: int
) -> tuple[dict[str, float], pd.DataFrame]:
    """AUC plus NDCG/Recall/Precision@k under every convention, and the per-user frame.

    Returns:
        ``(metrics, per_user)``; ``metrics`` holds ``"AUC"`` and one key per metric and
        convention (see the module docstring), plus ``"K"``.
    """
    frame = per_user_metrics(users, labels, scores, k)
    out: dict[str, float] = {"AUC": auc(labels, scores), "K": k}
    for users_conv in USER_CONVENTIONS:
        for recall_conv in RECALL_CONVENTIONS:
            out.update(summarize(frame, k, Convention(users_conv, recall_conv)))
    return out, frame


def headline(metrics: dict[str, float], convention: Convention = DEFAULT_CONVENTION) -> dict:
    """``{"AUC", "NDCG@K", "Recall@K"}`` under one convention (for tables), with its label."""
    k = int(metrics["K"])
    return {
        "AUC": metrics["AUC"],
        f"NDCG@{k}": metrics[f"NDCG@{k}|{convention.users}"],
        f"Recall@{k}": metrics[f"Recall@{k}|{convention.label}"],
        "convention": convention.label,
    }
