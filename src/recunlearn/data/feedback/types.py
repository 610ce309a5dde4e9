"""Rating data with a biased (self-selected) part and an unbiased (randomly sampled) part.

Readers (:mod:`.readers`) for Coat, Yahoo! R3 and KuaiRec return one immutable :class:`DebiasData`;
:func:`split_unbiased` splits its unbiased part by seed into the few unbiased training ratings
``A``, a validation set ``V`` and a test set ``T`` (family-A handling of
``../shared/reference/debias.md``: 5 % / 5 % / 90 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recunlearn.core.errors import DataError


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Triples:
    """Rating triples ``(user, item, rating)`` with their binary label.

    Attributes:
        user: user index (0-based, ``int64``).
        item: item index (0-based, ``int64``).
        rating: the raw rating (``float64``: stars or a watch ratio).
        label: ``1.0`` where ``rating >= threshold`` else ``0.0`` (``float32``).
    """

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    label: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.user)
        for name in ("item", "rating", "label"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"Triples.{name} has {len(getattr(self, name))} rows, not {n}")
        object.__setattr__(self, "user", _readonly(np.asarray(self.user, dtype=np.int64)))
        object.__setattr__(self, "item", _readonly(np.asarray(self.item, dtype=np.int64)))
        object.__setattr__(self, "rating", _readonly(np.asarray(self.rating, dtype=np.float64)))
        object.__setattr__(self, "label", _readonly(np.asarray(self.label, dtype=np.float32)))

    def __len__(self) -> int:
        return len(self.user)

    def take(self, index: np.ndarray) -> Triples:
        """The rows selected by an index or boolean mask."""
        return Triples(self.user[index], self.item[index], self.rating[index], self.label[index])

    @staticmethod
    def concat(parts: list[Triples]) -> Triples:
        """Rows of several triple sets, in order."""
        return Triples(
            np.concatenate([p.user for p in parts]),
            np.concatenate([p.item for p in parts]),
            np.concatenate([p.rating for p in parts]),
            np.concatenate([p.label for p in parts]),
        )

    @property
    def positive_rate(self) -> float:
        """Share of positive labels (``nan`` when empty)."""
        return float(self.label.mean()) if len(self) else float("nan")


@dataclass(frozen=True)
class DebiasData:
    """A rating dataset with a biased and an unbiased part (immutable).

    Attributes:
        name: dataset name (``coat``, ``yahoo``, ``kuairec``, ``synthetic``).
        biased: the self-selected training ratings ``O``.
        unbiased: the randomly sampled ratings (split later into A / V / T).
        n_users: number of users (indices ``0..n_users-1``).
        n_items: number of items.
        rating_scale: ``(low, high)`` bounds of a valid raw rating.
        threshold: binarisation threshold (``label = rating >= threshold``).
        source: where the data came from (folder or ``synthetic(...)``).
    """

    name: str
    biased: Triples
    unbiased: Triples
    n_users: int
    n_items: int
    rating_scale: tuple[float, float]
    threshold: float
    source: str = ""

    def describe(self) -> dict:
        """Counts and positive rates, for logs and records."""
        return {
            "name": self.name,
            "n_users": self.n_users,
            "n_items": self.n_items,
            "n_biased": len(self.biased),
            "n_unbiased": len(self.unbiased),
            "threshold": self.threshold,
            "biased_positive_rate": self.biased.positive_rate,
            "unbiased_positive_rate": self.unbiased.positive_rate,
        }


@dataclass(frozen=True)
class DebiasSplit:
    """Biased training ratings ``O`` plus the seeded split of the unbiased ratings.

    Attributes:
        data: the source dataset.
        train: ``O``, the biased training ratings.
        uniform: ``A``, the few unbiased training ratings.
        valid: ``V``, unbiased validation ratings (early stopping, model selection).
        test: ``T``, unbiased test ratings (reported only).
        seed: the seed of the split.
        fractions: ``(A, V)`` fractions of the unbiased ratings (``T`` gets the rest).
    """

    data: DebiasData
    train: Triples
    uniform: Triples
    valid: Triples
    test: Triples
    seed: int
    fractions: tuple[float, float]

    @property
    def n_users(self) -> int:
        """Number of users."""
        return self.data.n_users

    @property
    def n_items(self) -> int:
        """Number of items."""
        return self.data.n_items


def binarize(rating: np.ndarray, threshold: float) -> np.ndarray:
    """``1.0`` where ``rating >= threshold`` else ``0.0``."""
    return (np.asarray(rating, dtype=np.float64) >= threshold).astype(np.float32)


def _check_classes(label: np.ndarray, threshold: float, path: Path | str, field: str) -> None:
    if len(label) == 0:
        raise DataError("no ratings", path=path, field=field)
    positives = int(label.sum())
    if positives == 0 or positives == len(label):
        which = "positive" if positives == 0 else "negative"
        raise DataError(
            f"threshold {threshold} leaves the {which} class empty "
            f"({positives} of {len(label)} ratings >= {threshold})",
            path=path,
            field=field,
        )


def _check_scale(
    rating: np.ndarray, scale: tuple[float, float], path: Path | str, field: str
) -> None:
    bad = (rating < scale[0]) | (rating > scale[1]) | ~np.isfinite(rating)
    if bad.any():
        first = np.flatnonzero(bad)[0]
        raise DataError(
            f"{int(bad.sum())} ratings outside the scale [{scale[0]}, {scale[1]}] "
            f"(first: row {first}, value {rating[first]})",
            path=path,
            field=field,
        )


def make_debias_data(
    name: str,
    biased: tuple[np.ndarray, np.ndarray, np.ndarray],
    unbiased: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    n_users: int,
    n_items: int,
    rating_scale: tuple[float, float],
    threshold: float,
    source: str = "",
    paths: tuple[Path | str, Path | str] = ("<biased>", "<unbiased>"),
) -> DebiasData:
    """Validate raw ``(user, item, rating)`` arrays and build a :class:`DebiasData`.

    Raises:
        DataError: ratings outside ``rating_scale``, indices out of range, an unbiased set
            without any user of the biased set, or a threshold that leaves a class empty
            (in either part); the message names the file (``paths``) and the field.
    """
    parts = []
    for (user, item, rating), path in zip((biased, unbiased), paths, strict=True):
        user = np.asarray(user, dtype=np.int64)
        item = np.asarray(item, dtype=np.int64)
        rating = np.asarray(rating, dtype=np.float64)
        _check_scale(rating, rating_scale, path, "rating")
        for field, values, size in (("user", user, n_users), ("item", item, n_items)):
            if len(values) and (values.min() < 0 or values.max() >= size):
                raise DataError(f"index outside 0..{size - 1}", path=path, field=field)
        label = binarize(rating, threshold)
        _check_classes(label, threshold, path, "rating")
        parts.append(Triples(user, item, rating, label))
    if not np.intersect1d(parts[0].user, parts[1].user).size:
        raise DataError(
            "the unbiased ratings share no user with the biased ratings",
            path=paths[1],
            field="user",
        )
    return DebiasData(
        name=name,
        biased=parts[0],
        unbiased=parts[1],
        n_users=int(n_users),
        n_items=int(n_items),
        rating_scale=(float(rating_scale[0]), float(rating_scale[1])),
        threshold=float(threshold),
        source=source,
    )


def split_unbiased(
    data: DebiasData, seed: int, *, uniform: float = 0.05, valid: float = 0.05
) -> DebiasSplit:
    """Shuffle the unbiased ratings with ``seed``; the first ``uniform`` share is ``A``, the next
    ``valid`` share ``V``, the rest ``T`` (AutoDebias / family-A handling).

    Raises:
        DataError: a fraction outside (0, 1) or leaving the test set empty, or a part with a
            single class (AUC undefined).
    """
    if not (0 <= uniform < 1 and 0 <= valid < 1 and uniform + valid < 1):
        raise DataError(f"bad fractions A={uniform}, V={valid}", field="fractions")
    n = len(data.unbiased)
    perm = np.random.default_rng(seed).permutation(n)
    n_a = int(round(uniform * n))
    n_v = int(round(valid * n))
    parts = {
        "uniform": data.unbiased.take(np.sort(perm[:n_a])),
        "valid": data.unbiased.take(np.sort(perm[n_a : n_a + n_v])),
        "test": data.unbiased.take(np.sort(perm[n_a + n_v :])),
    }
    for field in ("valid", "test"):
        _check_classes(parts[field].label, data.threshold, data.source or data.name, field)
    return DebiasSplit(
        data=data,
        train=data.biased,
        seed=int(seed),
        fractions=(float(uniform), float(valid)),
        **parts,
    )
