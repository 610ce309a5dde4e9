"""The user's own interaction table (CSV or Parquet) with an optional user-attribute table.

Interactions: one row per event with a user column, an item column, an optional rating
(default 1.0) and a timestamp (required unless ``allow_missing_timestamp=True``, in which case
the row order is used as time: row ``k`` gets timestamp ``k``). Timestamps may be numbers
(taken as Unix seconds, fractional parts dropped) or date strings (converted to Unix seconds,
UTC).

Ids may be integers or strings: integer columns keep integer raw ids, anything else becomes
strings. Duplicated (user, item) rows are repaired like the MovieLens readers do: the latest
is kept (ties: the later row), a warning is logged and ``meta["repairs"]`` counts them.

User attributes: a table whose user column (``user_col``) is followed by attribute columns.
The kind of each column is inferred (numeric with more than 10 distinct values ->
``continuous``, anything else -> ``categorical``) unless ``attribute_kinds`` says otherwise.
Text in a column of numbers (``age = old`` in one row) is refused with its line and value
rather than turning the column categorical, unless the column's kind is declared (see
:func:`check_attribute_numbers`).
Interaction users missing from the attribute table get unknown values (code -1 / NaN);
attribute rows of users without interactions are ignored; both are counted in ``meta`` and
logged. Columns with fewer than two distinct values are skipped with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from recunlearn.core.errors import DataError
from recunlearn.data.filters import duplicate_keep_mask
from recunlearn.data.types import Attribute, Dataset, Interactions

logger = logging.getLogger(__name__)

#: A numeric column with more distinct values than this is inferred as continuous.
MAX_CATEGORICAL_NUMERIC = 10

_CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": ","}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_KINDS = ("categorical", "continuous")


# ------------------------------------------------------------------------------- reading
def read_table(
    path: str | Path, *, sep: str | None = None, encoding: str = "utf-8"
) -> pd.DataFrame:
    """Read a CSV/TSV (``.csv``, ``.tsv``, ``.txt``) or Parquet (``.parquet``, ``.pq``) file.

    Raises:
        DataError: missing file, unknown suffix, unreadable content or encoding.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"file not found (searched '{path.parent}')", path=path)
    suffix = path.suffix.lower()
    try:
        if suffix in _PARQUET_SUFFIXES:
            return pd.read_parquet(path)
        if suffix in _CSV_SUFFIXES:
            return pd.read_csv(path, sep=sep or _CSV_SUFFIXES[suffix], encoding=encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"cannot decode the file as {encoding} ({exc.reason} at byte {exc.start}); "
            "pass the right encoding",
            path=path,
        ) from exc
    except (ValueError, OSError, ImportError) as exc:
        raise DataError(f"cannot read the table: {exc}", path=path) from exc
    raise DataError(
        f"unknown file type '{suffix}' (expected .csv, .tsv, .txt, .parquet or .pq)", path=path
    )


def data_lines(path: Path, n_rows: int, *, header: bool = True) -> list[int] | None:
    """The file line (1-based) of each data row of a text table (CSV, TSV, RecBole atomic file),
    or None when rows and lines cannot be matched one to one (Parquet, cells spanning several
    lines, an unreadable file).

    Blank lines are skipped, as pandas does; ``header`` says whether the first line is one.
    """
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        return None
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    skip = 1 if header else 0
    return lines[skip:] if len(lines) == n_rows + skip else None


def row_label(path: Path, row: int, n_rows: int, *, header: bool = True) -> str:
    """Where data row ``row`` (0-based) of a table file is: ``line 14 (data row 13)`` for a
    text file whose lines map to rows, ``data row 13`` otherwise (see :func:`data_lines`)."""
    lines = data_lines(path, n_rows, header=header)
    if lines is None:
        return f"data row {row + 1}"
    return f"line {lines[row]} (data row {row + 1})"


def _column(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    if column not in frame.columns:
        known = ", ".join(map(str, frame.columns))
        raise DataError(f"column not found (columns: {known})", path=path, field=column)
    return frame[column]


def _first_missing(series: pd.Series) -> int:
    return int(np.flatnonzero(series.isna().to_numpy())[0])


def id_array(series: pd.Series, path: Path, field: str) -> np.ndarray:
    """Raw ids: ``int64`` for an integer(-valued) numeric column, strings otherwise.

    Raises:
        DataError: empty ids, or non-integer numbers.
    """
    if series.isna().any():
        row = _first_missing(series)
        raise DataError(f"{row_label(path, row, len(series))}: empty id", path=path, field=field)
    if ptypes.is_bool_dtype(series):
        return series.astype(str).to_numpy(dtype=str)
    if ptypes.is_numeric_dtype(series):
        if ptypes.is_integer_dtype(series):
            return series.to_numpy(dtype=np.int64)
        values = series.to_numpy(dtype=float)
        if np.all(np.mod(values, 1) == 0):
            return values.astype(np.int64)
        raise DataError(
            "ids must be integers or strings, got fractional numbers", path=path, field=field
        )
    return series.astype(str).str.strip().to_numpy(dtype=str)


def _align_ids(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Make two id arrays comparable (strings unless both are integers)."""
    if a.dtype.kind == "i" and b.dtype.kind == "i":
        return a, b
    return a.astype(str), b.astype(str)


def _ratings(frame: pd.DataFrame, column: str | None, path: Path) -> np.ndarray:
    if column is None or column not in frame.columns:
        return np.ones(len(frame), dtype=np.float64)
    series = frame[column]
    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{row_label(path, row, len(series))}: rating {series.iloc[row]!r} is not a finite "
            "number",
            path=path,
            field=column,
        )
    return values.to_numpy(dtype=np.float64)


def timestamps(series: pd.Series, path: Path, field: str) -> np.ndarray:
    """Unix seconds from a numeric column (fractions dropped) or a column of date strings."""
    if series.isna().any():
        row = _first_missing(series)
        where = row_label(path, row, len(series))
        raise DataError(f"{where}: empty timestamp", path=path, field=field)
    if ptypes.is_datetime64_any_dtype(series):
        stamps = pd.to_datetime(series, utc=True)
    elif ptypes.is_numeric_dtype(series) and not ptypes.is_bool_dtype(series):
        return _unix_seconds(series.to_numpy(dtype=float), path, field)
    else:
        numbers, _ = _not_numbers(series)
        if numbers.notna().all():  # numbers stored as text
            return _unix_seconds(numbers.to_numpy(dtype=float), path, field)
        stamps = pd.to_datetime(series, utc=True, format="mixed", errors="coerce")
        _check_dates(series, numbers, stamps, path, field)
    return ((stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(np.int64)


def _unix_seconds(values: np.ndarray, path: Path, field: str) -> np.ndarray:
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values))[0])
        where = row_label(path, row, len(values))
        raise DataError(f"{where}: non-finite timestamp", path=path, field=field)
    return np.floor(values).astype(np.int64)


def _check_dates(
    series: pd.Series, numbers: pd.Series, stamps: pd.Series, path: Path, field: str
) -> None:
    """Refuse a timestamp column with a cell that is neither a number nor a date, or one that
    mixes numbers (Unix seconds) with dates."""
    neither = (numbers.isna() & stamps.isna()).to_numpy()
    mixed = numbers.notna().to_numpy()
    if neither.any():
        row = int(np.flatnonzero(neither)[0])
        problem = "is neither a number (Unix seconds) nor a date"
    elif mixed.any():
        row = int(np.flatnonzero(mixed)[0])
        problem = "is a number (Unix seconds) but other rows hold dates; use one format"
    else:
        return
    raise DataError(
        f"{row_label(path, row, len(series))}: {series.iloc[row]!r} {problem}",
        path=path,
        field=field,
    )


# ---------------------------------------------------------------------------- attributes
def infer_kind(series: pd.Series) -> str:
    """``"continuous"`` for a numeric column with > 10 distinct values, else ``"categorical"``."""
    numeric = ptypes.is_numeric_dtype(series) and not ptypes.is_bool_dtype(series)
    many = series.dropna().nunique() > MAX_CATEGORICAL_NUMERIC
    return "continuous" if numeric and many else "categorical"


def _class_label(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _not_numbers(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The column as numbers (NaN where missing or not a number) and the mask of cells holding
    something that is not a number."""
    if ptypes.is_numeric_dtype(series) and not ptypes.is_bool_dtype(series):
        values = series.astype(float)
        return values, pd.Series(False, index=series.index)
    text = series.astype("string").str.strip()
    values = pd.to_numeric(text.replace("", pd.NA), errors="coerce").astype(float)
    bad = series.notna() & text.ne("").fillna(False) & values.isna()
    return values, bad.astype(bool)


def check_attribute_numbers(frame: pd.DataFrame, kinds: Mapping[str, str], path: Path) -> None:
    """Refuse text where an attribute column holds numbers, naming the file, the line and the
    value, before the kinds are inferred.

    A column declared ``continuous`` must hold only numbers (empty cells are unknown). An
    undeclared column whose cells are mostly numbers with more than
    :data:`MAX_CATEGORICAL_NUMERIC` distinct values (it would be continuous) but where a few
    cells are text (``age = old``) would silently become categorical with one class per
    number; it is refused too, unless ``kinds`` declares its kind.

    Args:
        frame: the attribute columns in file order (one row per data row of the file).
        kinds: declared kinds by column.
        path: the file, for the message.

    Raises:
        DataError: the first offending cell, with its file, field, line and value.
    """
    for column in frame.columns:
        name = str(column)
        if kinds.get(name) == "categorical":
            continue
        declared = kinds.get(name) == "continuous"
        problem = _text_among_numbers(frame[column], name, declared, path)
        if problem is not None:
            raise DataError(problem, path=path, field=name)


def _text_among_numbers(series: pd.Series, name: str, declared: bool, path: Path) -> str | None:
    """What is wrong with the first cell of text in a column that should hold numbers (declared
    continuous, or numbers but for a few cells), or None when the column is fine as it is."""
    values, bad = _not_numbers(series)
    if not bad.any():
        return None
    row = int(np.flatnonzero(bad.to_numpy())[0])
    value, where = series.iloc[row], row_label(path, row, len(series))
    if declared:
        return (
            f"continuous attribute has a non-numeric value {value!r} at {where} (the column is "
            "declared continuous); fix the value (an empty cell means unknown)"
        )
    numbers = values.dropna()
    if len(numbers) <= int(bad.sum()) or numbers.nunique() <= MAX_CATEGORICAL_NUMERIC:
        return None  # a categorical column (codes mixed with labels), as inferred
    return (
        f"{where}: {value!r} is not a number, but {len(numbers)} of the column's values are "
        f"({numbers.nunique()} distinct; {int(bad.sum())} cell(s) are not): the column would "
        "silently turn categorical with one class per value. Fix the value (an empty cell "
        f"means unknown), or declare the column's kind (attribute_kinds={{'{name}': "
        f"'categorical'}}; on the command line --kind {name}=categorical)"
    )


def encode_categorical(series: pd.Series) -> tuple[tuple[str, ...], np.ndarray]:
    """Classes (sorted distinct values, as strings) and int codes (-1 for missing)."""
    labels = series.map(_class_label, na_action="ignore")
    if ptypes.is_numeric_dtype(series) and not ptypes.is_bool_dtype(series):
        order = sorted(series.dropna().unique().tolist())
        classes = list(dict.fromkeys(_class_label(v) for v in order))
    else:
        classes = sorted(labels.dropna().unique().tolist())
    codes = pd.Categorical(labels, categories=classes).codes.astype(np.int64)
    return tuple(classes), codes


def encode_continuous(series: pd.Series, path: Path, field: str) -> np.ndarray:
    """Float values (NaN for missing); text that is not a number raises DataError."""
    values = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & values.isna()
    if bad.any():
        example = series[bad].iloc[0]
        raise DataError(
            f"continuous attribute has a non-numeric value {example!r} "
            f"({int(bad.sum())} such values); declare it categorical or fix the data",
            path=path,
            field=field,
        )
    return values.to_numpy(dtype=np.float64)


def encode_attributes(
    table: pd.DataFrame,
    kinds: Mapping[str, str],
    path: Path,
    *,
    description: str = "",
) -> tuple[tuple[Attribute, ...], dict[str, np.ndarray], list[str]]:
    """Encode every column of ``table`` (one row per user index) into typed attributes.

    Args:
        table: attribute columns, rows aligned to user indices (missing values allowed).
        kinds: kind per column; columns without an entry are inferred with :func:`infer_kind`.
        path: the attribute file, for error messages.
        description: prefix of each attribute's description.

    Returns:
        The attributes, their per-user values and the names of skipped constant columns.
    """
    attributes: list[Attribute] = []
    values: dict[str, np.ndarray] = {}
    skipped: list[str] = []
    for column in table.columns:
        name = str(column)
        kind = kinds.get(name) or infer_kind(table[column])
        if kind not in _KINDS:
            raise DataError(
                f"unknown attribute kind {kind!r} (expected {_KINDS})", path=path, field=name
            )
        source = f"{description}{name} ({'declared' if name in kinds else 'inferred'} {kind})"
        if kind == "continuous":
            attributes.append(Attribute(name, "continuous", description=source))
            values[name] = encode_continuous(table[column], path, name)
            continue
        classes, codes = encode_categorical(table[column])
        if len(classes) < 2:
            logger.warning("%s: attribute '%s' has fewer than 2 classes; skipped", path, name)
            skipped.append(name)
            continue
        attributes.append(Attribute(name, "categorical", classes, description=source))
        values[name] = codes
    return tuple(attributes), values, skipped


def _attribute_table(
    path: Path,
    user_col: str,
    kinds: Mapping[str, str],
    *,
    sep: str | None,
    encoding: str,
) -> tuple[np.ndarray, pd.DataFrame]:
    frame = read_table(path, sep=sep, encoding=encoding)
    ids = id_array(_column(frame, user_col, path), path, user_col)
    unique, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        dup = unique[counts > 1][:5].tolist()
        raise DataError(f"duplicated user ids {dup}", path=path, field=user_col)
    table = frame.drop(columns=[user_col]).reset_index(drop=True)
    unknown = set(kinds) - {str(c) for c in table.columns}
    if unknown:
        raise DataError(
            "attribute_kinds names a column that is not in the file",
            path=path,
            field=sorted(unknown)[0],
        )
    check_attribute_numbers(table, kinds, path)
    return ids, table


def align_attributes(
    user_ids: np.ndarray,
    attr_ids: np.ndarray,
    table: pd.DataFrame,
    path: Path,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rows of ``table`` (keyed by ``attr_ids``) re-ordered to ``user_ids``; unknown -> NaN."""
    left, right = _align_ids(user_ids, attr_ids)
    rows = pd.Index(right).get_indexer(left)
    missing = int((rows < 0).sum())
    ignored = int((~np.isin(right, left)).sum())
    aligned = table.reindex(rows).reset_index(drop=True)  # row -1 is absent -> all NaN
    if missing:
        logger.warning("%s: %d users with interactions have no attributes (unknown)", path, missing)
    if ignored:
        logger.info("%s: %d attribute rows of users without interactions ignored", path, ignored)
    return aligned, {"users_without_attributes": missing, "attribute_rows_ignored": ignored}


# ------------------------------------------------------------------------------ assembly
def assemble(
    *,
    name: str,
    label: str,
    path: Path,
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    stamps: np.ndarray,
    meta: dict[str, Any],
) -> Dataset:
    """Repair duplicates, index users and items and build an attribute-less Dataset."""
    keep = duplicate_keep_mask(users, items, stamps, keep="latest")
    dropped = int((~keep).sum())
    if dropped:
        logger.warning(
            "%s: %d duplicated (user, item) rows; kept the latest of each", path, dropped
        )
        users, items, ratings, stamps = users[keep], items[keep], ratings[keep], stamps[keep]
    user_ids, user_index = np.unique(users, return_inverse=True)
    item_ids, item_index = np.unique(items, return_inverse=True)
    meta = {
        "source": str(path),
        **meta,
        "repairs": {"duplicate_rows_dropped": dropped},
        "history": [],
    }
    return Dataset(
        name=name,
        interactions=Interactions(user_index, item_index, ratings, stamps),
        user_ids=user_ids,
        item_ids=item_ids,
        label=label,
        meta=meta,
    )


def with_attributes(
    dataset: Dataset,
    attributes: tuple[Attribute, ...],
    values: dict[str, np.ndarray],
    meta: dict[str, Any],
) -> Dataset:
    """A copy of ``dataset`` with attributes and extra meta."""
    return Dataset(
        name=dataset.name,
        interactions=dataset.interactions,
        user_ids=dataset.user_ids,
        item_ids=dataset.item_ids,
        attributes=attributes,
        user_values=values,
        items=dataset.items,
        label=dataset.label,
        meta={**dataset.meta, **meta},
    )


def load_interactions_table(
    interactions_path: str | Path,
    attributes_path: str | Path | None = None,
    *,
    user_col: str = "user",
    item_col: str = "item",
    rating_col: str | None = "rating",
    timestamp_col: str = "timestamp",
    attribute_kinds: Mapping[str, str] | None = None,
    allow_missing_timestamp: bool = False,
    sep: str | None = None,
    encoding: str = "utf-8",
    name: str | None = None,
) -> Dataset:
    """Load the user's own interactions (CSV/TSV/Parquet) and optional user attributes.

    Args:
        interactions_path: table with columns ``user_col``, ``item_col``, optional
            ``rating_col`` (ratings default to 1.0 when the column is absent) and
            ``timestamp_col``.
        attributes_path: optional table: ``user_col`` then one column per attribute.
        user_col, item_col, rating_col, timestamp_col: column names.
        attribute_kinds: ``{"column": "categorical" | "continuous"}`` overriding inference.
        allow_missing_timestamp: without a timestamp column, use the row order as time
            (row k -> timestamp k) instead of raising.
        sep: CSV separator (default ``,``; ``\\t`` for ``.tsv``).
        encoding: text encoding of CSV files.
        name: dataset name (default: the file stem).

    Raises:
        DataError: missing file/column, bad ids, ratings or timestamps, duplicated attribute
            rows, text in a continuous attribute. Every message names the file and field.
    """
    path = Path(interactions_path)
    frame = read_table(path, sep=sep, encoding=encoding)
    users = id_array(_column(frame, user_col, path), path, user_col)
    items = id_array(_column(frame, item_col, path), path, item_col)
    ratings = _ratings(frame, rating_col, path)
    if timestamp_col in frame.columns:
        stamps = timestamps(frame[timestamp_col], path, timestamp_col)
        time_source = timestamp_col
    elif allow_missing_timestamp:
        logger.info("%s: no '%s' column; row order used as time", path, timestamp_col)
        stamps = np.arange(len(frame), dtype=np.int64)
        time_source = "row order"
    else:
        raise DataError(
            "timestamp column not found; to use the row order as time pass "
            "--allow-missing-timestamp on the command line (allow_missing_timestamp=True in "
            "Python)",
            path=path,
            field=timestamp_col,
        )
    if len(frame) == 0:
        raise DataError("the table has no rows", path=path)
    stem = name or path.stem
    meta = {"time": time_source, "rating_rows": len(frame)}
    dataset = assemble(
        name=stem,
        label=stem,
        path=path,
        users=users,
        items=items,
        ratings=ratings,
        stamps=stamps,
        meta=meta,
    )
    if attributes_path is None:
        return dataset
    attr_path = Path(attributes_path)
    attr_ids, table = _attribute_table(
        attr_path, user_col, dict(attribute_kinds or {}), sep=sep, encoding=encoding
    )
    aligned, counts = align_attributes(dataset.user_ids, attr_ids, table, attr_path)
    attributes, values, skipped = encode_attributes(
        aligned, dict(attribute_kinds or {}), attr_path, description=f"{attr_path.name}: "
    )
    extra = {"attributes_source": str(attr_path), **counts, "skipped_attributes": skipped}
    return with_attributes(dataset, attributes, values, extra)
