"""RecBole atomic files: ``<name>.inter`` and an optional ``<name>.user``.

Atomic files are TAB-separated with a typed header, e.g.
``user_id:token<TAB>item_id:token<TAB>rating:float<TAB>timestamp:float``. In ``.user`` files,
``token`` columns become categorical attributes and ``float`` columns continuous ones;
``token_seq``/``float_seq`` columns and high-cardinality token columns (more than
``max_classes`` distinct values, e.g. zip codes) are skipped with a log message unless
``attribute_kinds`` names them. Token ids that are all integers are kept as integers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from recunlearn.core.errors import DataError
from recunlearn.data.tabular import (
    align_attributes,
    assemble,
    check_attribute_numbers,
    encode_attributes,
    id_array,
    row_label,
    timestamps,
    with_attributes,
)
from recunlearn.data.types import Dataset

logger = logging.getLogger(__name__)

FIELD_TYPES = ("token", "token_seq", "float", "float_seq")


def _atomic_paths(folder_or_prefix: str | Path) -> tuple[str, Path, Path]:
    """Dataset name, ``.inter`` path and ``.user`` path (the latter may not exist)."""
    path = Path(folder_or_prefix).expanduser()
    if path.is_dir():
        inter = path / f"{path.name}.inter"
        if not inter.is_file():
            found = sorted(path.glob("*.inter"))
            if len(found) != 1:
                what = "no .inter file" if not found else f"several .inter files ({len(found)})"
                raise DataError(
                    f"{what} in folder '{path}'; pass the path prefix '<folder>/<name>'",
                    path=inter,
                )
            inter = found[0]
        name = inter.name[: -len(".inter")]
        return name, inter, inter.with_name(f"{name}.user")
    if path.suffix in (".inter", ".user"):
        path = path.with_suffix("")
    inter = path.with_name(f"{path.name}.inter")
    if not inter.is_file():
        raise DataError(
            f"RecBole interaction file not found (searched '{inter.parent}')", path=inter
        )
    return path.name, inter, path.with_name(f"{path.name}.user")


def read_atomic(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read an atomic file; returns the frame (typed base column names) and each column's type.

    Raises:
        DataError: a header column without ``name:type`` or with an unknown type, or an
            unreadable file.
    """
    try:
        with path.open(encoding="utf-8") as handle:
            header = handle.readline().rstrip("\r\n").split("\t")
    except UnicodeDecodeError as exc:
        raise DataError(f"cannot decode the header as UTF-8: {exc.reason}", path=path) from exc
    types: dict[str, str] = {}
    for column in header:
        base, sep, kind = column.rpartition(":")
        if not sep or kind not in FIELD_TYPES:
            raise DataError(
                f"header column {column!r} is not 'name:type' with type in {FIELD_TYPES}",
                path=path,
                field=column,
            )
        types[base] = kind
    try:
        frame = pd.read_csv(path, sep="\t", header=0, dtype=str, encoding="utf-8", quoting=3)
    except UnicodeDecodeError as exc:
        raise DataError(f"cannot decode the file as UTF-8: {exc.reason}", path=path) from exc
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot parse the file: {exc}", path=path) from exc
    frame.columns = list(types)
    for column, kind in types.items():
        if kind == "float":
            frame[column] = _floats(frame[column], path, column)
    return frame, types


def _floats(series: pd.Series, path: Path, field: str) -> pd.Series:
    """A ``float`` column as numbers (empty cells -> NaN); text names the field and the line."""
    text = series.str.strip()
    values = pd.to_numeric(text.replace("", pd.NA), errors="coerce").astype(np.float64)
    bad = (series.notna() & text.ne("").fillna(False) & values.isna()).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{row_label(path, row, len(series))}: {series.iloc[row]!r} is not a number (the "
            "header declares the field ':float')",
            path=path,
            field=field,
        )
    return values


def _maybe_int(series: pd.Series) -> pd.Series:
    """Token column -> integers when every non-missing value is an integer literal."""
    known = series.dropna().astype(str).str.strip()
    if len(known) and known.str.fullmatch(r"-?\d+").all():
        return pd.to_numeric(series, errors="coerce").astype("Int64")
    return series


def _ids(frame: pd.DataFrame, field: str, path: Path) -> np.ndarray:
    if field not in frame.columns:
        raise DataError(
            f"column not found (columns: {', '.join(frame.columns)})", path=path, field=field
        )
    return id_array(_maybe_int(frame[field]), path, field)


def _user_columns(
    frame: pd.DataFrame,
    types: Mapping[str, str],
    user_field: str,
    kinds: Mapping[str, str],
    max_classes: int,
    path: Path,
) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Attribute columns to keep, their kinds and the skipped column names."""
    keep: dict[str, pd.Series] = {}
    chosen: dict[str, str] = {}
    skipped: list[str] = []
    for column, kind in types.items():
        if column == user_field:
            continue
        if column in kinds:
            keep[column], chosen[column] = frame[column], kinds[column]
        elif kind.endswith("_seq"):
            logger.info("%s: sequence column '%s' (%s) skipped", path, column, kind)
            skipped.append(column)
        elif kind == "float":
            keep[column], chosen[column] = frame[column], "continuous"
        elif frame[column].nunique() > max_classes:
            logger.info(
                "%s: token column '%s' has %d classes (> %d); skipped (declare its kind in "
                "attribute_kinds to keep it)",
                path, column, frame[column].nunique(), max_classes,
            )  # fmt: skip
            skipped.append(column)
        else:
            keep[column], chosen[column] = _maybe_int(frame[column]), "categorical"
    return pd.DataFrame(keep), chosen, skipped


def load_recbole(
    folder_or_prefix: str | Path,
    *,
    user_field: str = "user_id",
    item_field: str = "item_id",
    rating_field: str = "rating",
    timestamp_field: str = "timestamp",
    attribute_kinds: Mapping[str, str] | None = None,
    allow_missing_timestamp: bool = False,
    max_classes: int = 50,
) -> Dataset:
    """Load RecBole atomic files ``<name>.inter`` (+ optional ``<name>.user``).

    Args:
        folder_or_prefix: a folder ``<dir>/<name>`` holding ``<name>.inter`` (or a single
            ``.inter`` file), or a path prefix ``<dir>/<name>`` / ``<dir>/<name>.inter``.
        user_field, item_field, rating_field, timestamp_field: field names in the header.
        attribute_kinds: force the kind of some ``.user`` columns (also keeps a column that
            would be skipped for its cardinality).
        allow_missing_timestamp: without a timestamp field, use the row order as time.
        max_classes: token columns with more distinct values are skipped.

    Raises:
        DataError: missing files or fields, malformed header, bad ids or values.
    """
    name, inter_path, user_path = _atomic_paths(folder_or_prefix)
    frame, types = read_atomic(inter_path)
    users = _ids(frame, user_field, inter_path)
    items = _ids(frame, item_field, inter_path)
    if rating_field in frame.columns:
        ratings = pd.to_numeric(frame[rating_field], errors="coerce").to_numpy(np.float64)
        if not np.isfinite(ratings).all():
            row = int(np.flatnonzero(~np.isfinite(ratings))[0])
            raise DataError(
                f"{row_label(inter_path, row, len(frame))}: missing or non-numeric rating "
                f"{frame[rating_field].iloc[row]!r}",
                path=inter_path,
                field=rating_field,
            )
    else:
        ratings = np.ones(len(frame))
    if timestamp_field in frame.columns:
        stamps = timestamps(frame[timestamp_field], inter_path, timestamp_field)
    elif allow_missing_timestamp:
        stamps = np.arange(len(frame), dtype=np.int64)
    else:
        raise DataError(
            "timestamp field not found; to use the row order as time pass "
            "--allow-missing-timestamp on the command line (allow_missing_timestamp=True in "
            "Python)",
            path=inter_path,
            field=timestamp_field,
        )
    if len(frame) == 0:
        raise DataError("the file has no rows", path=inter_path)
    meta = {"format": "recbole", "field_types": types, "rating_rows": len(frame)}
    dataset = assemble(
        name=name,
        label=f"{name} (RecBole)",
        path=inter_path,
        users=users,
        items=items,
        ratings=ratings,
        stamps=stamps,
        meta=meta,
    )
    if not user_path.is_file():
        logger.info("%s: no .user file; no attributes", user_path)
        return dataset
    user_frame, user_types = read_atomic(user_path)
    attr_ids = _ids(user_frame, user_field, user_path)
    unique, counts = np.unique(attr_ids, return_counts=True)
    if (counts > 1).any():
        raise DataError(
            f"duplicated user ids {unique[counts > 1][:5].tolist()}",
            path=user_path,
            field=user_field,
        )
    kinds = dict(attribute_kinds or {})
    unknown = set(kinds) - set(user_types)
    if unknown:
        raise DataError(
            "attribute_kinds names an absent field", path=user_path, field=sorted(unknown)[0]
        )
    table, chosen, skipped = _user_columns(
        user_frame, user_types, user_field, kinds, max_classes, user_path
    )
    check_attribute_numbers(table, chosen, user_path)
    aligned, align_counts = align_attributes(dataset.user_ids, attr_ids, table, user_path)
    attributes, values, constant = encode_attributes(
        aligned, chosen, user_path, description=f"{user_path.name}: "
    )
    extra = {
        "attributes_source": str(user_path),
        **align_counts,
        "skipped_attributes": skipped + constant,
    }
    return with_attributes(dataset, attributes, values, extra)
