"""Re-encode protected rows from their own recommendation lists (a label-free post-step).

Each row is replaced by a decoding of the ranked ids of its top-``K`` items (scored by the
frozen model, no exclusion of the user's own interactions: an exclusion mask alone carries the
attribute). The decoder is a kernel ridge regression from rank-weighted ``K``-hot bags to target
rows, fitted on the other users only (``folds``-fold cross-fitting over users, seeded, label
free). Whatever the output carries about a user's attribute it can only carry through that
user's list (data processing), so geometric residue that the ranking does not use is dropped.

Measured after the split eraser (ML-1M users 1-2999, the six audit attackers, 3 seeds;
benchmarks/notes/removal.md): short lists remove most -- with K = 10, MF gender goes from 8.3 /
8.3 points (transductive / held-out) at 98 % NDCG@10 to 4.5 / 5.6 at 95.5 %, and every other
model and requirement of that grid roughly halves its leakage for 2-5 points of NDCG; on
ML-100K's ~940 users the decoder costs 6-15 points of NDCG. The ridge is solved over the items
that occur in the lists when they are fewer than the users (short lists), else over the users.
Off by default (``SplitEraser(reencode_top=...)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import torch

ScoreRows = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(user indices, user table) -> unmasked scores of every item (the scorer's ``raw``)."""


def top_lists(
    score_rows: ScoreRows, table: torch.Tensor, top: int, chunk: int = 1024
) -> tuple[np.ndarray, int]:
    """The ranked ids of each row's ``top`` highest-scored items (n x top) and the catalogue
    size."""
    out, n_items = [], 0
    with torch.no_grad():
        for start in range(0, len(table), chunk):
            users = torch.arange(start, min(start + chunk, len(table)))
            scores = score_rows(users, table)
            n_items = scores.shape[1]
            out.append(torch.topk(scores, min(top, n_items), dim=1).indices.numpy())
    return np.concatenate(out), int(n_items)


def list_bags(lists: np.ndarray, n_items: int) -> sp.csr_matrix:
    """Rank-weighted bags: item at rank r (1-based) gets ``1 / log2(r + 1)``."""
    n, k = lists.shape
    weights = 1.0 / np.log2(np.arange(2, k + 2))
    rows = np.repeat(np.arange(n), k)
    return sp.csr_matrix((np.tile(weights, n), (rows, lists.ravel())), shape=(n, n_items))


def reencode(
    bags: sp.csr_matrix,
    target: np.ndarray,
    alpha: float,
    folds: int,
    seed: int,
    form: Literal["auto", "items", "users"] = "auto",
) -> np.ndarray:
    """Cross-fitted ridge decoding of ``target`` rows from ``bags``: each fold's rows come from
    a decoder fitted on the other folds' bags and target rows.

    The ridge is solved in whichever space is smaller: over the items that occur in some list
    (``m x m``, one Gram matrix built once and corrected per fold) or over the training users
    (the kernel form, ``n x n``). Both give the same decoder (push-through identity
    ``B_te B_tr^T (B_tr B_tr^T + a I)^-1 = B_te (B_tr^T B_tr + a I)^-1 B_tr^T``); with short
    lists the item form is much the smaller (ML-1M users 1-2999: their top-10 lists name 907
    items). ``form`` forces one of the two (``auto``: the smaller)."""
    n = bags.shape[0]
    fold = np.random.default_rng(seed).permutation(n) % folds
    target = np.asarray(target, dtype=np.float64)
    used = np.unique(bags.indices)
    if form == "items" or (form == "auto" and len(used) < n - n // folds):
        return _reencode_items(bags[:, used].tocsr(), target, alpha, fold, folds)
    return _reencode_users(bags, target, alpha, fold, folds)


def _reencode_users(
    bags: sp.csr_matrix, target: np.ndarray, alpha: float, fold: np.ndarray, folds: int
) -> np.ndarray:
    """The kernel (user-space) form: one ``n_train x n_train`` solve per fold."""
    kernel = (bags @ bags.T).toarray()
    out = np.zeros_like(target)
    for f in range(folds):
        train, test = fold != f, fold == f
        if not test.any():
            continue
        gram = kernel[np.ix_(train, train)]
        gram[np.diag_indices_from(gram)] += alpha
        coef = scipy.linalg.solve(gram, target[train], assume_a="pos")
        out[test] = kernel[np.ix_(test, train)] @ coef
    return out


def _reencode_items(
    bags: sp.csr_matrix, target: np.ndarray, alpha: float, fold: np.ndarray, folds: int
) -> np.ndarray:
    """The primal (item-space) form: the full Gram matrix and moment once, each fold's own
    share subtracted before its ``m x m`` solve."""
    gram = (bags.T @ bags).toarray()
    moment = np.asarray(bags.T @ target)
    out = np.zeros_like(target)
    for f in range(folds):
        test = np.flatnonzero(fold == f)
        if not len(test):
            continue
        held = bags[test]
        fold_gram = gram - (held.T @ held).toarray()
        fold_gram[np.diag_indices_from(fold_gram)] += alpha
        weights = scipy.linalg.solve(
            fold_gram, moment - np.asarray(held.T @ target[test]), assume_a="pos"
        )
        out[test] = held @ weights
    return out


def reencode_rows(
    rows: torch.Tensor,
    score_rows: ScoreRows,
    *,
    top: int,
    alpha: float,
    target: np.ndarray | None = None,
    folds: int = 5,
    seed: int = 0,
) -> torch.Tensor:
    """``rows`` re-encoded from their own top-``top`` lists (see the module docstring);
    ``target`` defaults to ``rows`` themselves."""
    lists, n_items = top_lists(score_rows, rows, top)
    goal = rows.numpy() if target is None else target
    decoded = reencode(list_bags(lists, n_items), goal, alpha, folds, seed)
    return torch.as_tensor(decoded, dtype=torch.float32)
