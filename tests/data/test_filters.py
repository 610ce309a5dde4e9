"""Filters: k-core, binarisation, duplicate removal."""

from __future__ import annotations

import numpy as np
import pytest

from recunlearn.core.errors import DataError
from recunlearn.data.filters import binarize, drop_duplicates, duplicate_keep_mask, k_core
from recunlearn.data.types import Attribute, Dataset, Interactions


def build(rows: list[tuple[int, int, float, int]], n_users: int, n_items: int) -> Dataset:
    """A dataset from (user, item, rating, timestamp) rows with a gender attribute."""
    user, item, rating, stamp = (np.array(c) for c in zip(*rows, strict=True))
    return Dataset(
        name="hand",
        interactions=Interactions(user, item, rating, stamp),
        user_ids=np.arange(100, 100 + n_users),
        item_ids=np.arange(500, 500 + n_items),
        attributes=(Attribute("gender", "categorical", ("F", "M")),),
        user_values={"gender": np.arange(n_users) % 2},
    )


def _counts(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    inter = data.interactions
    return (
        np.bincount(inter.user, minlength=data.n_users),
        np.bincount(inter.item, minlength=data.n_items),
    )


def test_k_core_users_only() -> None:
    rows = [(0, i, 5.0, i) for i in range(5)] + [(1, 0, 4.0, 9), (1, 5, 4.0, 10)]
    rows += [(2, i, 3.0, i) for i in range(6)]
    data = build(rows, n_users=4, n_items=7)  # user 3 and item 6 have no interaction
    kept = k_core(data, min_user=5)
    assert kept.user_ids.tolist() == [100, 102]
    assert kept.item_ids.tolist() == [500, 501, 502, 503, 504, 505]
    assert kept.labels("gender").tolist() == [0, 0]
    assert len(kept.interactions) == 11
    assert kept.meta["history"][-1].startswith("k_core(min_user=5, min_item=0): 4 -> 2 users")
    assert len(data.interactions) == 13 and "history" not in data.meta


def test_k_core_iterative_reaches_a_fixed_point() -> None:
    rng = np.random.default_rng(0)
    rows = {
        (int(u), int(i))
        for u, i in zip(rng.integers(0, 40, 300), rng.zipf(1.6, 300) % 60, strict=True)
    }
    data = build([(u, i, 1.0, k) for k, (u, i) in enumerate(sorted(rows))], 40, 60)
    core = k_core(data, min_user=5, min_item=3)
    users, items = _counts(core)
    assert users.min() >= 5 and items.min() >= 3
    once = k_core(data, min_user=5, min_item=3, iterative=False)
    assert len(once.interactions) >= len(core.interactions)


def test_k_core_single_pass_needs_no_iteration() -> None:
    rows = [(0, 0, 1.0, 0), (0, 1, 1.0, 1), (1, 0, 1.0, 2)]
    kept = k_core(build(rows, 2, 2), min_user=2)
    assert kept.user_ids.tolist() == [100] and kept.n_items == 2


def test_k_core_empty_raises() -> None:
    with pytest.raises(DataError, match="no interactions left after k_core") as info:
        k_core(build([(0, 0, 1.0, 0)], 1, 1), min_user=5)
    assert info.value.field == "min_user"


def test_binarize() -> None:
    rows = [(0, 0, 5.0, 0), (0, 1, 3.0, 1), (1, 0, 4.0, 2), (1, 1, 1.0, 3)]
    kept = binarize(build(rows, 2, 2), threshold=4.0)
    assert kept.interactions.rating.tolist() == [1.0, 1.0]
    assert kept.interactions.item.tolist() == [0, 0]
    assert kept.n_users == 2 and kept.meta["history"] == [
        "binarize(threshold=4): 4 -> 2 interactions"
    ]
    with pytest.raises(DataError, match="binarize") as info:
        binarize(build(rows, 2, 2), threshold=6)
    assert info.value.field == "rating"


def test_drop_duplicates_latest_and_earliest() -> None:
    rows = [(0, 0, 1.0, 5), (0, 0, 2.0, 9), (0, 0, 3.0, 7), (1, 1, 4.0, 3), (1, 1, 5.0, 3)]
    data = build(rows, 2, 2)
    latest = drop_duplicates(data).interactions
    assert latest.rating.tolist() == [2.0, 5.0]  # tie at t=3: the later row
    earliest = drop_duplicates(data, keep="earliest").interactions
    assert earliest.rating.tolist() == [1.0, 4.0]
    assert "3 duplicate" in drop_duplicates(data).meta["history"][-1]


def test_duplicate_keep_mask_keeps_row_order() -> None:
    user = np.array([2, 1, 2, 1])
    item = np.array([7, 7, 7, 8])
    stamp = np.array([1, 1, 0, 1])
    assert duplicate_keep_mask(user, item, stamp).tolist() == [True, True, False, True]
    assert duplicate_keep_mask(user[:0], item[:0], stamp[:0]).tolist() == []
    with pytest.raises(ValueError, match="keep"):
        duplicate_keep_mask(user, item, stamp, keep="middle")  # type: ignore[arg-type]
