"""Batched evaluation of a scoring function on an :class:`EvalSet`.

Two modes:

* ``full`` (default): every item is ranked; the user's known items are masked with -inf.
* ``sampled``: each target competes with ``n_negatives`` items drawn uniformly, with a seeded
  generator, from items that are neither known nor targets (the 1+99 protocol of NCF / D2D).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from recunlearn.data.split_types import EvalSet
from recunlearn.evaluation.metrics import METRICS

ScoreFn = Callable[[np.ndarray], torch.Tensor]
"""Maps a batch of user indices to a (batch, n_items) score tensor."""


@dataclass(frozen=True)
class EvalResult:
    """Per-user metrics and their means.

    Attributes:
        per_user: one row per evaluated user: ``user`` index, ``n_targets`` and one column per
            metric (``HR@10``, ``NDCG@10``...).
        summary: metric name -> mean over users.
        mode: ``full`` or ``sampled``.
    """

    per_user: pd.DataFrame
    summary: dict[str, float]
    mode: str
    details: dict[str, Any] = field(default_factory=dict)


def _metric_columns(metrics: Sequence[str], ks: Sequence[int]) -> list[tuple[str, int]]:
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; known: {sorted(METRICS)}")
    return [(m, k) for m in metrics for k in ks]


def evaluate_scores(
    score_fn: ScoreFn,
    evalset: EvalSet,
    *,
    ks: Sequence[int] = (10, 20),
    metrics: Sequence[str] = ("HR", "NDCG", "Recall"),
    mode: Literal["full", "sampled"] = "full",
    n_negatives: int = 99,
    batch_size: int = 1024,
    seed: int = 0,
    mask_value: float = float("-inf"),
    return_topk: int = 0,
) -> EvalResult:
    """Evaluate ``score_fn`` on ``evalset``.

    Args:
        score_fn: batch of user indices -> (batch, n_items) scores.
        evalset: users, known items and targets.
        ks: cut-offs.
        metrics: names from :data:`recunlearn.evaluation.metrics.METRICS`.
        mode: ``full`` ranking or ``sampled`` (1 + ``n_negatives`` per user, all targets kept).
        n_negatives: sampled negatives per user in sampled mode.
        batch_size: users per scoring batch.
        seed: seed of the negative sampler (sampled mode).
        mask_value: score given to known items; -inf by default. The Adv/AdvX code sets them to
            0, which ranks them above items with negative logits: pass 0.0 to reproduce it.
        return_topk: if > 0, also return the top ``return_topk`` items and scores per user in
            ``details["topk_items"]`` / ``details["topk_scores"]`` (full mode only).
    """
    columns = _metric_columns(metrics, ks)
    if not ks or any(int(k) < 1 for k in ks):
        raise ValueError(f"ks must be a non-empty list of positive cut-offs, got {list(ks)}")
    if mode not in ("full", "sampled"):
        raise ValueError(f"unknown evaluation mode {mode!r}; known: full, sampled")
    kmax = max(ks)
    users = np.asarray(evalset.users, dtype=np.int64)
    known, target = evalset.known, evalset.target
    n_items = target.shape[1]
    rng = np.random.default_rng(seed)
    hit_rows: list[np.ndarray] = []
    top_items: list[np.ndarray] = []
    top_scores: list[np.ndarray] = []
    with torch.no_grad():
        for start in range(0, len(users), batch_size):
            batch = users[start : start + batch_size]
            scores = score_fn(batch).detach().to(torch.float32).clone()
            if scores.shape != (len(batch), n_items):
                raise ValueError(
                    f"score_fn returned shape {tuple(scores.shape)}, expected {(len(batch), n_items)}"
                )
            known_b = known[batch].tocoo()
            target_b = target[batch]
            if mode == "full":
                scores[torch.from_numpy(known_b.row), torch.from_numpy(known_b.col)] = mask_value
                k_eff = min(max(kmax, return_topk), n_items)
                top_val, top_idx = torch.topk(scores, k_eff, dim=1)
                top_np = top_idx.numpy()
                if return_topk:
                    top_items.append(top_np[:, :return_topk])
                    top_scores.append(top_val.numpy()[:, :return_topk])
                dense_target = np.zeros((len(batch), n_items), dtype=bool)
                tb = target_b.tocoo()
                dense_target[tb.row, tb.col] = True
                hits = np.take_along_axis(dense_target, top_np[:, :kmax], axis=1)
            elif mode == "sampled":
                hits = _sampled_hits(scores, known_b, target_b, n_negatives, kmax, rng)
            else:
                raise ValueError(f"unknown evaluation mode {mode!r}")
            if hits.shape[1] < kmax:
                hits = np.pad(hits, ((0, 0), (0, kmax - hits.shape[1])))
            hit_rows.append(hits)
    hits_all = np.concatenate(hit_rows) if hit_rows else np.zeros((0, kmax), dtype=bool)
    n_targets = np.diff(target.indptr)[users]
    frame = pd.DataFrame({"user": users, "n_targets": n_targets})
    for name, k in columns:
        frame[f"{name}@{k}"] = METRICS[name](hits_all, n_targets, k)
    summary = {f"{name}@{k}": float(frame[f"{name}@{k}"].mean()) for name, k in columns}
    details: dict[str, Any] = {"n_users": int(len(users))}
    if return_topk and top_items:
        details["topk_items"] = np.concatenate(top_items)
        details["topk_scores"] = np.concatenate(top_scores)
    return EvalResult(per_user=frame, summary=summary, mode=mode, details=details)


def _sampled_hits(
    scores: torch.Tensor,
    known_b,
    target_b,
    n_negatives: int,
    kmax: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Rank each user's targets among themselves plus sampled negatives; hits in that list."""
    n_items = scores.shape[1]
    known_b = known_b.tocsr()
    rows = []
    for row in range(scores.shape[0]):
        targets = target_b.indices[target_b.indptr[row] : target_b.indptr[row + 1]]
        excluded = np.union1d(
            known_b.indices[known_b.indptr[row] : known_b.indptr[row + 1]], targets
        )
        pool = np.setdiff1d(np.arange(n_items), excluded, assume_unique=True)
        negatives = rng.choice(pool, size=min(n_negatives, len(pool)), replace=False)
        candidates = np.concatenate([targets, negatives])
        cand_scores = scores[row, torch.from_numpy(candidates)].numpy()
        # stable order: ties are broken against the targets (pessimistic)
        order = np.lexsort((-np.arange(len(candidates)), -cand_scores))
        is_target = np.zeros(len(candidates), dtype=bool)
        is_target[: len(targets)] = True
        # users may have fewer than kmax candidates (small catalogues): pad with misses so
        # every row has the same width
        row_hits = np.zeros(kmax, dtype=bool)
        ranked = is_target[order][:kmax]
        row_hits[: len(ranked)] = ranked
        rows.append(row_hits)
    return np.array(rows, dtype=bool).reshape(scores.shape[0], kmax)


def evaluate(
    model: Any, evalset: EvalSet, user_embeddings: torch.Tensor | None = None, **kwargs
) -> EvalResult:
    """Evaluate a fitted :class:`~recunlearn.models.base.Recommender` (optionally with swapped
    user embeddings). Keyword arguments go to :func:`evaluate_scores`."""

    def score_fn(batch: np.ndarray) -> torch.Tensor:
        return model.score(batch, user_embeddings=user_embeddings)

    return evaluate_scores(score_fn, evalset, **kwargs)
