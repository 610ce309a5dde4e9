"""Typed, immutable containers for interaction data and user attributes.

Users and items are addressed by contiguous integer *indices* (0..n-1); the raw ids of the
source files are kept in ``Dataset.user_ids`` / ``Dataset.item_ids`` so every output can be
written back in raw ids.

Attribute values are stored per user index: categorical attributes as ``int64`` class codes
(``-1`` = unknown), continuous attributes as ``float64`` (``NaN`` = unknown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

AttributeKind = Literal["categorical", "continuous"]

MISSING_CODE = -1


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    if array.flags.writeable:
        array = array.copy()
        array.flags.writeable = False
    return array


@dataclass(frozen=True)
class Attribute:
    """A protected user attribute.

    Attributes:
        name: column name, e.g. ``"gender"``.
        kind: ``"categorical"`` or ``"continuous"``.
        classes: class labels in code order (categorical only).
        description: how the values were derived (e.g. the age bins).
    """

    name: str
    kind: AttributeKind
    classes: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("categorical", "continuous"):
            raise ValueError(f"attribute '{self.name}': unknown kind {self.kind!r}")
        if self.kind == "categorical" and len(self.classes) < 2:
            raise ValueError(f"attribute '{self.name}': a categorical attribute needs >= 2 classes")
        if self.kind == "continuous" and self.classes:
            raise ValueError(f"attribute '{self.name}': a continuous attribute has no classes")

    @property
    def n_classes(self) -> int:
        """Number of classes (0 for continuous attributes)."""
        return len(self.classes)

    @property
    def chance_level(self) -> float | None:
        """Chance balanced accuracy, 1 / n_classes; ``None`` for a continuous attribute.

        For continuous attributes the chance level depends on the label distribution: see
        :func:`chance_mae`.
        """
        return 1.0 / self.n_classes if self.kind == "categorical" else None


def chance_mae(values: np.ndarray) -> float:
    """MAE of the best constant predictor (the median) on ``values``, ignoring NaNs."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan")
    return float(np.mean(np.abs(values - np.median(values))))


@dataclass(frozen=True)
class Interactions:
    """Parallel arrays of user index, item index, rating and timestamp (one row per event)."""

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    timestamp: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.user)
        for name in ("item", "rating", "timestamp"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"interactions: column '{name}' has a different length")
        object.__setattr__(self, "user", _readonly(np.asarray(self.user, dtype=np.int64)))
        object.__setattr__(self, "item", _readonly(np.asarray(self.item, dtype=np.int64)))
        object.__setattr__(self, "rating", _readonly(np.asarray(self.rating, dtype=np.float32)))
        object.__setattr__(self, "timestamp", _readonly(np.asarray(self.timestamp, dtype=np.int64)))

    def __len__(self) -> int:
        return len(self.user)

    def take(self, mask_or_index: np.ndarray) -> Interactions:
        """Rows selected by a boolean mask or an index array."""
        return Interactions(
            self.user[mask_or_index],
            self.item[mask_or_index],
            self.rating[mask_or_index],
            self.timestamp[mask_or_index],
        )

    def to_frame(self) -> pd.DataFrame:
        """A pandas copy with columns user, item, rating, timestamp."""
        return pd.DataFrame(
            {
                "user": self.user,
                "item": self.item,
                "rating": self.rating,
                "timestamp": self.timestamp,
            }
        )


@dataclass(frozen=True)
class Dataset:
    """An immutable recommendation dataset with typed user attributes.

    Attributes:
        name: short name, e.g. ``"ml-100k"``; ``label`` is the human label used in reports
            (e.g. ``"ML-1M, users 1-2999"``).
        interactions: events in index space.
        user_ids: raw user id per user index.
        item_ids: raw item id per item index.
        attributes: the protected attributes available for these users.
        user_values: per attribute name, a per-user-index array (codes or floats).
        items: optional item table (one row per item index), e.g. titles and genres.
        meta: provenance (source files, filters applied, checksums...).
    """

    name: str
    interactions: Interactions
    user_ids: np.ndarray
    item_ids: np.ndarray
    attributes: tuple[Attribute, ...] = ()
    user_values: dict[str, np.ndarray] = field(default_factory=dict)
    items: pd.DataFrame | None = None
    label: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "user_ids", _readonly(self.user_ids))
        object.__setattr__(self, "item_ids", _readonly(self.item_ids))
        if not self.label:
            object.__setattr__(self, "label", self.name)
        values = {}
        names = {a.name for a in self.attributes}
        for attribute in self.attributes:
            if attribute.name not in self.user_values:
                raise ValueError(
                    f"dataset '{self.name}': no values for attribute '{attribute.name}'"
                )
            column = np.asarray(self.user_values[attribute.name])
            if len(column) != self.n_users:
                raise ValueError(
                    f"dataset '{self.name}': attribute '{attribute.name}' has {len(column)} values "
                    f"for {self.n_users} users"
                )
            dtype = np.int64 if attribute.kind == "categorical" else np.float64
            values[attribute.name] = _readonly(column.astype(dtype))
        extra = set(self.user_values) - names
        if extra:
            raise ValueError(f"dataset '{self.name}': values without an attribute: {sorted(extra)}")
        object.__setattr__(self, "user_values", values)
        n = len(self.interactions)
        if n and (self.interactions.user.max() >= self.n_users or self.interactions.user.min() < 0):
            raise ValueError(f"dataset '{self.name}': user index out of range")
        if n and (self.interactions.item.max() >= self.n_items or self.interactions.item.min() < 0):
            raise ValueError(f"dataset '{self.name}': item index out of range")

    @property
    def n_users(self) -> int:
        """Number of users (rows of the user table)."""
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        """Number of items."""
        return len(self.item_ids)

    def attribute(self, name: str) -> Attribute:
        """The attribute called ``name``; a clear error listing the known ones otherwise."""
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        known = ", ".join(a.name for a in self.attributes) or "none"
        raise KeyError(f"dataset '{self.name}' has no attribute '{name}' (known: {known})")

    def labels(self, name: str) -> np.ndarray:
        """Per-user values of attribute ``name`` (codes with -1 for unknown, or floats with NaN)."""
        self.attribute(name)
        return self.user_values[name]

    def known(self, name: str) -> np.ndarray:
        """Boolean mask of users whose value of ``name`` is known."""
        values = self.labels(name)
        if self.attribute(name).kind == "categorical":
            return values != MISSING_CODE
        return ~np.isnan(values)

    def user_table(self) -> pd.DataFrame:
        """One row per user index: raw ``user_id`` then one column per attribute (decoded)."""
        table = pd.DataFrame({"user_id": self.user_ids})
        for attribute in self.attributes:
            values = self.user_values[attribute.name]
            if attribute.kind == "categorical":
                labels = np.array(attribute.classes + (None,), dtype=object)
                table[attribute.name] = labels[np.where(values < 0, len(attribute.classes), values)]
            else:
                table[attribute.name] = values
        return table

    def matrix(self, binary: bool = True) -> sp.csr_matrix:
        """User x item CSR matrix of the interactions (1.0 or the rating; duplicates summed)."""
        data = (
            np.ones(len(self.interactions), dtype=np.float32)
            if binary
            else self.interactions.rating.astype(np.float32)
        )
        m = sp.csr_matrix(
            (data, (self.interactions.user, self.interactions.item)),
            shape=(self.n_users, self.n_items),
        )
        if binary:
            m.data[:] = 1.0
        return m

    def with_interactions(self, interactions: Interactions, note: str | None = None) -> Dataset:
        """A copy with other interactions (same users and items); ``note`` is logged in meta."""
        meta = dict(self.meta)
        if note:
            meta["history"] = [*meta.get("history", []), note]
        return Dataset(
            name=self.name,
            interactions=interactions,
            user_ids=self.user_ids,
            item_ids=self.item_ids,
            attributes=self.attributes,
            user_values=self.user_values,
            items=self.items,
            label=self.label,
            meta=meta,
        )

    def subset(self, users: np.ndarray, items: np.ndarray, note: str | None = None) -> Dataset:
        """Keep the given user and item indices (sorted), re-indexing everything contiguously."""
        users = np.unique(np.asarray(users, dtype=np.int64))
        items = np.unique(np.asarray(items, dtype=np.int64))
        user_map = np.full(self.n_users, -1, dtype=np.int64)
        user_map[users] = np.arange(len(users))
        item_map = np.full(self.n_items, -1, dtype=np.int64)
        item_map[items] = np.arange(len(items))
        inter = self.interactions
        keep = (user_map[inter.user] >= 0) & (item_map[inter.item] >= 0)
        kept = Interactions(
            user_map[inter.user[keep]],
            item_map[inter.item[keep]],
            inter.rating[keep],
            inter.timestamp[keep],
        )
        meta = dict(self.meta)
        if note:
            meta["history"] = [*meta.get("history", []), note]
        return Dataset(
            name=self.name,
            interactions=kept,
            user_ids=self.user_ids[users],
            item_ids=self.item_ids[items],
            attributes=self.attributes,
            user_values={k: v[users] for k, v in self.user_values.items()},
            items=None if self.items is None else self.items.iloc[items].reset_index(drop=True),
            label=self.label,
            meta=meta,
        )

    def describe(self) -> dict[str, Any]:
        """Counts and attribute distributions, for ``recunlearn data describe``."""
        n = len(self.interactions)
        out: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "users": self.n_users,
            "items": self.n_items,
            "interactions": n,
            "density": n / max(1, self.n_users * self.n_items),
            "attributes": {},
        }
        for attribute in self.attributes:
            values = self.user_values[attribute.name]
            known = self.known(attribute.name)
            entry: dict[str, Any] = {"kind": attribute.kind, "known": int(known.sum())}
            if attribute.kind == "categorical":
                counts = np.bincount(values[known], minlength=attribute.n_classes)
                entry["counts"] = dict(zip(attribute.classes, counts.tolist(), strict=True))
                entry["chance_bacc"] = attribute.chance_level
            else:
                entry["mean"] = float(np.nanmean(values)) if known.any() else None
                entry["chance_mae"] = chance_mae(values)
            out["attributes"][attribute.name] = entry
        return out
