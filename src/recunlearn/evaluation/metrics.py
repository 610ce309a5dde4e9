"""Per-user top-K ranking metrics from a boolean hit matrix.

All functions take ``hits``: a (n_users, K) boolean array, ``hits[u, r]`` true when the item at
rank ``r`` (0-based) of user ``u``'s list is a held-out target, and ``n_targets``: the number of
held-out targets per user.
"""

from __future__ import annotations

import numpy as np


def hit_ratio(hits: np.ndarray, k: int) -> np.ndarray:
    """HR@k: 1 if any target is in the top k, else 0."""
    return hits[:, :k].any(axis=1).astype(np.float64)


def ndcg(hits: np.ndarray, n_targets: np.ndarray, k: int) -> np.ndarray:
    """NDCG@k with binary relevance; the ideal DCG places min(k, |T|) targets first."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    top = hits[:, :k]
    dcg = (top * discounts[: top.shape[1]]).sum(axis=1)
    ideal_counts = np.minimum(n_targets, k).astype(np.int64)
    idcg = np.concatenate([[0.0], np.cumsum(discounts)])[ideal_counts]
    return np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0)


def recall(hits: np.ndarray, n_targets: np.ndarray, k: int) -> np.ndarray:
    """Recall@k = hits / |T| (the convention of rmet, used by AdvX-MultVAE)."""
    found = hits[:, :k].sum(axis=1)
    return np.divide(found, n_targets, out=np.zeros(len(found)), where=n_targets > 0)


def recall_capped(hits: np.ndarray, n_targets: np.ndarray, k: int) -> np.ndarray:
    """Recall@k = hits / min(k, |T|) (Liang et al. 2018, used by Adv-MultVAE)."""
    found = hits[:, :k].sum(axis=1)
    denom = np.minimum(n_targets, k)
    return np.divide(found, denom, out=np.zeros(len(found)), where=denom > 0)


METRICS = {
    "HR": lambda hits, n, k: hit_ratio(hits, k),
    "NDCG": ndcg,
    "Recall": recall,
    "RecallCapped": recall_capped,
}
"""Metric name -> function(hits, n_targets, k)."""
