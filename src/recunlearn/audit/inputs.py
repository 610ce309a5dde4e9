"""The audit's two inputs — an embedding table and an attribute table — and their join by id.

Users are matched by id, never by row order, whenever both sides carry ids. Only when one side
has no ids (an in-memory matrix whose rows are a dataset's user indices, for example) are rows
aligned by position, and then the lengths must agree exactly. Matched users are put in
ascending id order, so the result does not depend on the row order of either input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from recunlearn.core.errors import DataError
from recunlearn.data.types import MISSING_CODE, Attribute, Dataset

ID_COLUMN = "user_id"


def _to_numpy(matrix: Any) -> np.ndarray:
    if hasattr(matrix, "detach"):  # torch.Tensor without importing torch here
        matrix = matrix.detach().cpu().numpy()
    return np.asarray(matrix)


@dataclass(frozen=True)
class EmbeddingTable:
    """User embeddings: one row per user, optionally with raw user ids.

    Attributes:
        matrix: (n_users, d) numbers.
        ids: raw user id per row, or ``None`` (rows are then matched by position).
        path: the file it was read from, for error messages.
        columns: names of the embedding columns (``e0``... when not read from a table).
        id_column: name of the id field, for error messages.
    """

    matrix: np.ndarray
    ids: np.ndarray | None = None
    path: Path | None = None
    columns: tuple[str, ...] = ()
    id_column: str = ID_COLUMN

    def __post_init__(self) -> None:
        matrix = _to_numpy(self.matrix)
        if matrix.ndim != 2:
            raise DataError(
                f"embeddings must be a 2-D matrix, got shape {matrix.shape}",
                path=self.path,
                field="embeddings",
            )
        if not ptypes.is_numeric_dtype(matrix.dtype) or matrix.dtype == bool:
            raise DataError(
                f"embeddings must be numbers, got dtype {matrix.dtype}",
                path=self.path,
                field="embeddings",
            )
        object.__setattr__(self, "matrix", matrix.astype(np.float64, copy=False))
        if not self.columns:
            object.__setattr__(self, "columns", tuple(f"e{j}" for j in range(matrix.shape[1])))
        if self.ids is not None:
            ids = normalise_ids(_to_numpy(self.ids))
            if len(ids) != matrix.shape[0]:
                raise DataError(
                    f"{len(ids)} ids for {matrix.shape[0]} embedding rows",
                    path=self.path,
                    field=self.id_column,
                )
            object.__setattr__(self, "ids", ids)

    @property
    def n_users(self) -> int:
        """Number of rows."""
        return int(self.matrix.shape[0])

    @property
    def dim(self) -> int:
        """Embedding size."""
        return int(self.matrix.shape[1])

    def check(self) -> None:
        """Raise DataError for non-finite values or duplicated ids."""
        finite = np.isfinite(self.matrix)
        if not finite.all():
            rows, cols = np.nonzero(~finite)
            row, col = int(rows[0]), int(cols[0])
            who = f"user id {self.ids[row]!r}" if self.ids is not None else f"row {row}"
            raise DataError(
                f"{int((~finite).sum())} NaN or infinite embedding values "
                f"(first: {who}, value {self.matrix[row, col]})",
                path=self.path,
                field=self.columns[col],
            )
        if self.ids is not None:
            check_unique(self.ids, self.path, self.id_column)


@dataclass(frozen=True)
class AttributeTable:
    """Protected attributes of users: typed attributes and per-row values.

    Attributes:
        attributes: the attributes, in column order.
        values: per attribute name, class codes (int64, -1 = unknown) or floats (NaN = unknown).
        ids: raw user id per row, or ``None`` (rows aligned with the embedding rows).
        path: the file it was read from, for error messages.
        id_column: name of the id field, for error messages.
    """

    attributes: tuple[Attribute, ...]
    values: dict[str, np.ndarray]
    ids: np.ndarray | None = None
    path: Path | None = None
    id_column: str = ID_COLUMN

    def __post_init__(self) -> None:
        n = None
        for attribute in self.attributes:
            if attribute.name not in self.values:
                raise DataError("no values", path=self.path, field=attribute.name)
            length = len(self.values[attribute.name])
            if n is not None and length != n:
                raise DataError(
                    f"{length} values where other attributes have {n}",
                    path=self.path,
                    field=attribute.name,
                )
            n = length
        if self.ids is not None:
            ids = normalise_ids(_to_numpy(self.ids))
            if n is not None and len(ids) != n:
                raise DataError(
                    f"{len(ids)} ids for {n} rows of attribute values",
                    path=self.path,
                    field=self.id_column,
                )
            object.__setattr__(self, "ids", ids)

    @property
    def n_rows(self) -> int:
        """Number of rows (users)."""
        if self.ids is not None:
            return len(self.ids)
        return len(next(iter(self.values.values()))) if self.values else 0

    def attribute(self, name: str) -> Attribute:
        """The attribute called ``name``.

        Raises:
            DataError: unknown name (the message lists the known ones).
        """
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        known = ", ".join(a.name for a in self.attributes) or "none"
        raise DataError(f"no such attribute (known: {known})", path=self.path, field=name)

    def select(self, names: Sequence[str]) -> AttributeTable:
        """A table with only the attributes ``names`` (in that order)."""
        chosen = tuple(self.attribute(n) for n in names)
        return AttributeTable(
            chosen,
            {a.name: self.values[a.name] for a in chosen},
            self.ids,
            self.path,
            self.id_column,
        )

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> AttributeTable:
        """The attributes of a dataset, keyed by its raw user ids."""
        return cls(
            tuple(dataset.attributes),
            {a.name: np.asarray(dataset.labels(a.name)) for a in dataset.attributes},
            np.asarray(dataset.user_ids),
        )

    @classmethod
    def from_mapping(
        cls,
        mapping: Mapping[str, tuple[Attribute, Any]],
        ids: Any = None,
        path: str | Path | None = None,
    ) -> AttributeTable:
        """Build from ``{name: (Attribute, values)}``.

        Categorical values may be class codes (``-1`` or NaN = unknown) or class labels
        (``None`` / NaN = unknown); continuous values must be numbers (NaN = unknown).

        Raises:
            DataError: unknown labels, codes out of range, or text for a continuous attribute.
        """
        path = None if path is None else Path(path)
        attributes, values = [], {}
        for name, entry in mapping.items():
            try:
                attribute, raw = entry
            except (TypeError, ValueError):
                raise DataError(
                    "expected a pair (Attribute, values)", path=path, field=str(name)
                ) from None
            if attribute.name != name:
                raise DataError(
                    f"the key names '{name}' but the Attribute is '{attribute.name}'",
                    path=path,
                    field=str(name),
                )
            attributes.append(attribute)
            values[name] = coerce_values(attribute, raw, path)
        return cls(tuple(attributes), values, ids, path)


def coerce_values(attribute: Attribute, raw: Any, path: Path | None = None) -> np.ndarray:
    """Per-user values of ``attribute`` as codes (int64, -1 unknown) or floats (NaN unknown).

    Raises:
        DataError: text for a continuous attribute, unknown class labels, bad codes.
    """
    series = pd.Series(_to_numpy(raw).ravel() if not isinstance(raw, pd.Series) else raw.values)
    name = attribute.name
    if attribute.kind == "continuous":
        if ptypes.is_bool_dtype(series):
            raise DataError("continuous attribute given as booleans", path=path, field=name)
        numbers = pd.to_numeric(series, errors="coerce")
        bad = series.notna() & numbers.isna()
        if bad.any():
            raise DataError(
                f"continuous attribute given as text (e.g. {series[bad].iloc[0]!r}, "
                f"{int(bad.sum())} such values)",
                path=path,
                field=name,
            )
        out = numbers.to_numpy(dtype=np.float64)
        if np.isinf(out).any():
            raise DataError("infinite value in a continuous attribute", path=path, field=name)
        return out
    if ptypes.is_numeric_dtype(series) and not ptypes.is_bool_dtype(series):
        numbers = series.to_numpy(dtype=np.float64)
        missing = np.isnan(numbers)
        if np.any(np.mod(numbers[~missing], 1) != 0):
            raise DataError("class codes must be integers", path=path, field=name)
        codes = np.where(missing, MISSING_CODE, numbers).astype(np.int64)
        bad = (codes < MISSING_CODE) | (codes >= attribute.n_classes)
        if bad.any():
            raise DataError(
                f"class code {int(codes[bad][0])} out of range 0..{attribute.n_classes - 1}",
                path=path,
                field=name,
            )
        return codes
    lookup = {label: code for code, label in enumerate(attribute.classes)}
    codes = np.full(len(series), MISSING_CODE, dtype=np.int64)
    for row, value in enumerate(series):
        if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
            continue
        key = str(value).strip()
        if key not in lookup:
            raise DataError(
                f"unknown class {value!r} (classes: {', '.join(attribute.classes)})",
                path=path,
                field=name,
            )
        codes[row] = lookup[key]
    return codes


def normalise_ids(ids: np.ndarray) -> np.ndarray:
    """Integer ids stay int64 (integral floats too); anything else becomes stripped strings."""
    ids = np.asarray(ids)
    if ids.dtype.kind in "iu":
        return ids.astype(np.int64)
    if ids.dtype.kind == "f" and np.isfinite(ids).all() and np.all(np.mod(ids, 1) == 0):
        return ids.astype(np.int64)
    return np.array([str(v).strip() for v in ids.tolist()], dtype=str)


def check_unique(ids: np.ndarray, path: Path | None, field: str) -> None:
    """Raise DataError naming a duplicated id."""
    unique, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        dup = unique[counts > 1]
        raise DataError(
            f"{len(dup)} duplicated user ids (e.g. {dup[0]!r} appears {int(counts.max())} times)",
            path=path,
            field=field,
        )


def _comparable(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if a.dtype.kind == "i" and b.dtype.kind == "i":
        return a, b
    return a.astype(str), b.astype(str)


@dataclass(frozen=True)
class JoinedData:
    """Embeddings and attribute values of the matched users, in ascending id order.

    Attributes:
        matrix: (n_matched, d) embeddings.
        ids: raw ids of the matched users (row indices when neither side had ids).
        rows: for each matched user, its row in the embedding table.
        attributes: the attributes.
        values: per attribute, the matched users' codes / floats.
        info: join counts (``join`` = "id" or "row", ``n_embedding_rows``,
            ``n_attribute_rows``, ``n_matched``, ``n_embedding_only``, ``n_attribute_only``).
    """

    matrix: np.ndarray
    ids: np.ndarray
    rows: np.ndarray
    attributes: tuple[Attribute, ...]
    values: dict[str, np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)


def join(
    embeddings: EmbeddingTable, attributes: AttributeTable, *, strict: bool = False
) -> JoinedData:
    """Match users of the two tables by id (or by row when a side has no ids).

    Args:
        embeddings: the embedding table (checked for NaN/inf and duplicated ids).
        attributes: the attribute table (checked for duplicated ids).
        strict: every id must be present on both sides.

    Raises:
        DataError: non-finite embeddings, duplicated ids, no common id, different lengths in
            a row join, or (``strict``) any unmatched id.
    """
    embeddings.check()
    if attributes.ids is not None:
        check_unique(attributes.ids, attributes.path, attributes.id_column)
    where = f"the attribute table{f' {attributes.path}' if attributes.path else ''}"
    info: dict[str, Any] = {
        "n_embedding_rows": embeddings.n_users,
        "n_attribute_rows": attributes.n_rows,
    }
    if embeddings.ids is not None and attributes.ids is not None:
        left, right = _comparable(embeddings.ids, attributes.ids)
        common, e_rows, a_rows = np.intersect1d(left, right, return_indices=True)
        info.update(join="id", n_matched=len(common))
        info["n_embedding_only"] = embeddings.n_users - len(common)
        info["n_attribute_only"] = attributes.n_rows - len(common)
        if len(common) == 0:
            raise DataError(
                f"no user id is shared with {where} (embedding ids e.g. {left[:3].tolist()}, "
                f"attribute ids e.g. {right[:3].tolist()})",
                path=embeddings.path,
                field=embeddings.id_column,
            )
        if strict and (info["n_embedding_only"] or info["n_attribute_only"]):
            missing = np.setdiff1d(left, right)
            extra = np.setdiff1d(right, left)
            raise DataError(
                f"ids differ from {where}: {len(missing)} embedding ids without attributes "
                f"(e.g. {missing[:3].tolist()}), {len(extra)} attribute ids without embeddings "
                f"(e.g. {extra[:3].tolist()})",
                path=embeddings.path,
                field=embeddings.id_column,
            )
        ids = embeddings.ids[e_rows]
    else:
        if embeddings.n_users != attributes.n_rows:
            raise DataError(
                f"{embeddings.n_users} embedding rows but {attributes.n_rows} attribute rows, "
                "and without ids on both sides users can only be matched by position; "
                "give user ids",
                path=embeddings.path or attributes.path,
                field=embeddings.id_column,
            )
        base = embeddings.ids if embeddings.ids is not None else attributes.ids
        if base is None:
            e_rows = a_rows = np.arange(embeddings.n_users)
            ids = e_rows.copy()
        else:
            order = np.argsort(base, kind="stable")
            e_rows = a_rows = order
            ids = base[order]
        info.update(
            join="row", n_matched=embeddings.n_users, n_embedding_only=0, n_attribute_only=0
        )
    values = {a.name: attributes.values[a.name][a_rows] for a in attributes.attributes}
    return JoinedData(
        matrix=embeddings.matrix[e_rows],
        ids=ids,
        rows=np.asarray(e_rows),
        attributes=attributes.attributes,
        values=values,
        info=info,
    )
