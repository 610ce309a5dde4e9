"""Reading the audit's inputs from files: embedding tables, id lists, user-attribute tables,
and run directories.

Embedding formats:

* Parquet (``.parquet``, ``.pq``) or CSV (``.csv``, ``.tsv``): a ``user_id`` column and numeric
  embedding columns (every other column).
* ``.npy``: a 2-D array; ids from ``ids=`` (a ``.txt`` file with one id per line, or a ``.csv``
  with a ``user_id`` column or a single column), else a sibling ``<name>.ids.txt`` /
  ``<name>.ids.csv``.
* ``.safetensors``: the tensor ``user_embeddings`` (or the only 2-D tensor); ids from a 1-D tensor
  ``user_ids``, ``ids=`` or a sibling ids file.

A matrix file without ids is refused: users are joined by id, never by row order.

Attribute tables: CSV / TSV / Parquet with a ``user_id`` column and one column per attribute. A
numeric column with more than 10 distinct values is continuous, anything else categorical,
unless ``kinds`` says otherwise; text among the numbers of such a column is refused with its line
(:func:`recunlearn.data.tabular.check_attribute_numbers`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from recunlearn.audit.inputs import ID_COLUMN, AttributeTable, EmbeddingTable, check_unique
from recunlearn.core.errors import DataError
from recunlearn.data.tabular import (
    check_attribute_numbers,
    encode_categorical,
    encode_continuous,
    id_array,
    infer_kind,
    read_table,
)
from recunlearn.data.types import Attribute

TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".tsv")
MATRIX_SUFFIXES = (".npy", ".safetensors")
EMBEDDING_TENSOR = "user_embeddings"
ID_TENSOR = "user_ids"


# ---------------------------------------------------------------------------------- ids
def read_ids(path: str | Path, id_column: str = ID_COLUMN) -> np.ndarray:
    """User ids from a ``.txt`` (one per line) or ``.csv`` file (``id_column`` or one column).

    Raises:
        DataError: missing file, empty ids, or a CSV with several columns but no ``id_column``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("id file not found", path=path, field=id_column)
    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if id_column in frame.columns:
            series = frame[id_column]
        elif frame.shape[1] == 1:
            series = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)[0]
        else:
            raise DataError(
                f"no '{id_column}' column (columns: {', '.join(frame.columns)})",
                path=path,
                field=id_column,
            )
        lines = [str(v).strip() for v in series]
    else:
        lines = [line.strip() for line in path.read_text().splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        if lines and lines[0] == id_column:
            lines = lines[1:]
    if any(not line for line in lines):
        row = next(i for i, line in enumerate(lines) if not line)
        raise DataError(f"empty id on line {row + 1}", path=path, field=id_column)
    series = pd.Series(lines, dtype=str)
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.notna().all() and np.all(np.mod(numbers.to_numpy(float), 1) == 0):
        return numbers.to_numpy(float).astype(np.int64)
    return series.to_numpy(dtype=str)


def _sibling_ids(path: Path) -> Path | None:
    for suffix in (".ids.txt", ".ids.csv"):
        candidate = path.with_name(path.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def _ids_for_matrix(
    path: Path, ids: Any, id_column: str, embedded: np.ndarray | None
) -> tuple[np.ndarray, Path | None]:
    if ids is not None and not isinstance(ids, str | Path):
        return np.asarray(ids), None
    if ids is not None:
        return read_ids(ids, id_column), Path(ids)
    if embedded is not None:
        return embedded, None
    sibling = _sibling_ids(path)
    if sibling is None:
        raise DataError(
            f"no user ids: give an id file (ids=...) or put one next to it as "
            f"'{path.stem}.ids.txt' (users are joined by id, never by row order)",
            path=path,
            field=id_column,
        )
    return read_ids(sibling, id_column), sibling


# ---------------------------------------------------------------------------- embeddings
def _from_table(path: Path, id_column: str) -> EmbeddingTable:
    frame = read_table(path)
    if id_column not in frame.columns:
        raise DataError(
            f"no '{id_column}' column (columns: {', '.join(map(str, frame.columns[:8]))}...)",
            path=path,
            field=id_column,
        )
    columns = [c for c in frame.columns if c != id_column]
    if not columns:
        raise DataError("no embedding column next to the ids", path=path, field=id_column)
    for column in columns:
        series = frame[column]
        if not ptypes.is_numeric_dtype(series) or ptypes.is_bool_dtype(series):
            example = series.dropna().iloc[0] if series.notna().any() else None
            raise DataError(
                f"embedding column is not numeric (e.g. {example!r})", path=path, field=str(column)
            )
    ids = id_array(frame[id_column], path, id_column)
    return EmbeddingTable(
        frame[columns].to_numpy(np.float64),
        ids,
        path,
        tuple(str(c) for c in columns),
        id_column,
    )


def _load_safetensors(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise DataError(f"cannot read safetensors: {exc}", path=path) from exc
    ids = tensors.pop(ID_TENSOR, None)
    if EMBEDDING_TENSOR in tensors:
        matrix = tensors[EMBEDDING_TENSOR]
    else:
        matrices = {k: v for k, v in tensors.items() if v.ndim == 2}
        if len(matrices) != 1:
            raise DataError(
                f"expected a tensor '{EMBEDDING_TENSOR}' or a single 2-D tensor, found "
                f"{sorted(tensors)}",
                path=path,
                field=EMBEDDING_TENSOR,
            )
        matrix = next(iter(matrices.values()))
    if ids is not None:
        if ids.ndim != 1 or ids.is_floating_point():
            raise DataError("ids must be a 1-D integer tensor", path=path, field=ID_TENSOR)
        ids = ids.numpy().astype(np.int64)
    return matrix.float().numpy().astype(np.float64), ids


def read_embeddings(
    path: str | Path, *, ids: str | Path | Sequence[Any] | None = None, id_column: str = ID_COLUMN
) -> EmbeddingTable:
    """Read an embedding table (Parquet, CSV, ``.npy`` + ids, ``.safetensors``).

    Args:
        path: the file.
        ids: ids of a matrix file: an id file or a sequence (default: embedded or sibling).
        id_column: name of the id column.

    Raises:
        DataError: missing file, unknown format, no ids, non-numeric columns, a row count that
            differs from the id count (NaN / inf and duplicated ids are checked by the audit).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("embedding file not found", path=path)
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return _from_table(path, id_column)
    if suffix == ".npy":
        try:
            matrix = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise DataError(f"cannot read the array: {exc}", path=path) from exc
        embedded = None
    elif suffix == ".safetensors":
        matrix, embedded = _load_safetensors(path)
    else:
        raise DataError(
            f"unknown embedding format '{suffix}' (expected "
            f"{', '.join(TABLE_SUFFIXES + MATRIX_SUFFIXES)})",
            path=path,
        )
    row_ids, id_path = _ids_for_matrix(path, ids, id_column, embedded)
    if len(row_ids) != len(matrix):
        raise DataError(
            f"{len(row_ids)} ids for {len(matrix)} embedding rows"
            + (f" (ids from {id_path})" if id_path else ""),
            path=path,
            field=id_column,
        )
    return EmbeddingTable(matrix, row_ids, path, (), id_column)


# ---------------------------------------------------------------------------- attributes
def read_attributes(
    path: str | Path,
    *,
    id_column: str = ID_COLUMN,
    kinds: Mapping[str, str] | None = None,
    columns: Sequence[str] | None = None,
) -> AttributeTable:
    """Read a user-attribute table: ``id_column`` plus one column per attribute.

    Args:
        path: CSV / TSV / Parquet file.
        id_column: the id column.
        kinds: ``{"column": "categorical" | "continuous"}`` overriding the inferred kinds.
        columns: keep only these attributes (default: every other column).

    Raises:
        DataError: missing id column or attribute column, empty or duplicated ids, an unknown
            kind, text in a continuous column, a categorical column with a single class.
    """
    path = Path(path)
    frame = read_table(path)
    if id_column not in frame.columns:
        raise DataError(
            f"no '{id_column}' column (columns: {', '.join(map(str, frame.columns))})",
            path=path,
            field=id_column,
        )
    ids = id_array(frame[id_column], path, id_column)
    check_unique(ids, path, id_column)
    available = [str(c) for c in frame.columns if c != id_column]
    frame.columns = [str(c) for c in frame.columns]
    wanted = list(columns) if columns is not None else available
    kinds = dict(kinds or {})
    for name in [*wanted, *kinds]:
        if name not in available:
            raise DataError(
                f"no such column (attributes: {', '.join(available) or 'none'})",
                path=path,
                field=name,
            )
    if not wanted:
        raise DataError("no attribute column next to the ids", path=path, field=id_column)
    check_attribute_numbers(frame[wanted], kinds, path)
    attributes: list[Attribute] = []
    values: dict[str, np.ndarray] = {}
    for name in wanted:
        series = frame[name]
        kind = kinds.get(name) or infer_kind(series)
        origin = "declared" if name in kinds else "inferred"
        if kind not in ("categorical", "continuous"):
            raise DataError(
                f"unknown kind {kind!r} (expected categorical or continuous)",
                path=path,
                field=name,
            )
        if kind == "continuous":
            values[name] = encode_continuous(series, path, name)
            attributes.append(
                Attribute(name, "continuous", description=f"{path.name}: {origin} continuous")
            )
            continue
        classes, codes = encode_categorical(series)
        if len(classes) < 2:
            raise DataError(
                f"a single class ({classes[0] if classes else 'no value'}): nothing to infer "
                "(leave the column out)",
                path=path,
                field=name,
            )
        attributes.append(
            Attribute(name, "categorical", classes, description=f"{path.name}: {origin}")
        )
        values[name] = codes
    return AttributeTable(tuple(attributes), values, ids, path, id_column)
