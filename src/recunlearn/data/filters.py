"""Dataset filters: k-core, rating binarisation and duplicate removal.

Every filter returns a new :class:`~recunlearn.data.types.Dataset` and appends a one-line note
to ``meta["history"]``; none of them modifies its input. All of them are vectorised numpy.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np

from recunlearn.core.errors import DataError
from recunlearn.data.types import Dataset

logger = logging.getLogger(__name__)

KeepRule = Literal["latest", "earliest"]


def duplicate_keep_mask(
    user: np.ndarray, item: np.ndarray, timestamp: np.ndarray, keep: KeepRule = "latest"
) -> np.ndarray:
    """Boolean mask keeping one row per (user, item) pair.

    Args:
        user, item, timestamp: parallel arrays (any integer ids).
        keep: ``"latest"`` keeps the row with the largest timestamp, ``"earliest"`` the
            smallest. Equal timestamps are broken by row position (the later row for
            ``"latest"``, the earlier row for ``"earliest"``).

    Returns:
        A mask of the rows to keep, in the original row order.
    """
    if keep not in ("latest", "earliest"):
        raise ValueError(f"keep must be 'latest' or 'earliest', got {keep!r}")
    n = len(user)
    if n == 0:
        return np.zeros(0, dtype=bool)
    position = np.arange(n)
    order = np.lexsort((position, timestamp, item, user))
    u, i = np.asarray(user)[order], np.asarray(item)[order]
    if keep == "latest":
        chosen = np.r_[(u[1:] != u[:-1]) | (i[1:] != i[:-1]), True]
    else:
        chosen = np.r_[True, (u[1:] != u[:-1]) | (i[1:] != i[:-1])]
    mask = np.zeros(n, dtype=bool)
    mask[order[chosen]] = True
    return mask


def _counts(dataset: Dataset, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inter = dataset.interactions
    users = np.bincount(inter.user[keep], minlength=dataset.n_users)
    items = np.bincount(inter.item[keep], minlength=dataset.n_items)
    return users, items


def _summary(before: Dataset, after: Dataset) -> str:
    return (
        f"{before.n_users} -> {after.n_users} users, {before.n_items} -> {after.n_items} items, "
        f"{len(before.interactions)} -> {len(after.interactions)} interactions"
    )


def k_core(
    dataset: Dataset, min_user: int = 5, min_item: int = 0, iterative: bool = True
) -> Dataset:
    """Keep users with >= ``min_user`` and items with >= ``min_item`` interactions.

    The papers reproduced here keep users with at least 5 interactions (``min_user=5``,
    ``min_item=0``). With both bounds and ``iterative=True`` the filter is repeated until it is
    stable (a true k-core); a single bound needs only one pass. Users and items left without
    any interaction are removed as well, so the result has no empty rows or columns.

    Args:
        dataset: the input dataset.
        min_user: minimum interactions per user (0 disables the bound).
        min_item: minimum interactions per item (0 disables the bound).
        iterative: repeat until stable when both bounds are active.

    Raises:
        DataError: when no interaction is left.
    """
    if min_user < 0 or min_item < 0:
        raise ValueError("k_core bounds must be >= 0")
    inter = dataset.interactions
    keep = np.ones(len(inter), dtype=bool)
    while True:
        user_counts, item_counts = _counts(dataset, keep)
        good_user = user_counts >= max(min_user, 1)
        good_item = item_counts >= max(min_item, 1)
        new_keep = keep & good_user[inter.user] & good_item[inter.item]
        changed = bool((new_keep != keep).any())
        keep = new_keep
        if not (changed and iterative and min_user > 0 and min_item > 0):
            break
    label = f"k_core(min_user={min_user}, min_item={min_item})"
    if not keep.any():
        field = "min_user" if min_user else "min_item"
        raise DataError(f"no interactions left after {label}", field=field)
    user_counts, item_counts = _counts(dataset, keep)
    users = np.flatnonzero(user_counts >= max(min_user, 1))
    items = np.flatnonzero(item_counts >= max(min_item, 1))
    kept = dataset.with_interactions(inter.take(keep)).subset(users, items)
    note = f"{label}: {_summary(dataset, kept)}"
    logger.info("%s: %s", dataset.name, note)
    return kept.with_interactions(kept.interactions, note=note)


def binarize(dataset: Dataset, threshold: float = 4.0) -> Dataset:
    """Keep interactions rated >= ``threshold`` and set their rating to 1.

    Users and items are kept even when they lose all their interactions (apply :func:`k_core`
    afterwards to remove them; the run pipeline does so).

    Raises:
        DataError: when no rating reaches the threshold.
    """
    inter = dataset.interactions
    keep = inter.rating >= threshold
    label = f"binarize(threshold={threshold:g})"
    if not keep.any():
        raise DataError(f"no interactions left after {label}", field="rating")
    kept = inter.take(keep)
    kept = type(kept)(kept.user, kept.item, np.ones(len(kept), np.float32), kept.timestamp)
    note = f"{label}: {len(inter)} -> {len(kept)} interactions"
    logger.info("%s: %s", dataset.name, note)
    return dataset.with_interactions(kept, note=note)


def drop_duplicates(dataset: Dataset, keep: KeepRule = "latest") -> Dataset:
    """Keep one interaction per (user, item) pair.

    Args:
        dataset: the input dataset.
        keep: ``"latest"`` (largest timestamp) or ``"earliest"``; equal timestamps are broken
            by row order (see :func:`duplicate_keep_mask`).
    """
    inter = dataset.interactions
    mask = duplicate_keep_mask(inter.user, inter.item, inter.timestamp, keep)
    dropped = int((~mask).sum())
    note = f"drop_duplicates(keep={keep}): {dropped} duplicate (user, item) rows removed"
    if dropped:
        logger.info("%s: %s", dataset.name, note)
    return dataset.with_interactions(inter.take(mask), note=note)
