"""The corpus of malformed inputs: the synthetic datasets written in every format a loader
reads (:mod:`recunlearn.testing.files`), then corrupted one way at a time.

A :class:`Fault` names the format, the file it corrupts, how, and what the error must say:
the field (``None`` for a problem of the whole file, e.g. a missing file) and a piece of text
(usually the line). :data:`FORMATS` says how each format is written, loaded in Python and
loaded by the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recunlearn.data.feedback.mnar import make_mnar
from recunlearn.data.feedback.readers import (
    COAT_SHAPE,
    YAHOO_FILES,
    read_coat,
    read_kuairec,
    read_yahoo,
)
from recunlearn.data.movielens import load_movielens_1m, load_movielens_100k
from recunlearn.data.recbole import load_recbole
from recunlearn.data.tabular import load_interactions_table
from recunlearn.testing import files

YAHOO_TRAIN, YAHOO_TEST = YAHOO_FILES
COAT_DATA = make_mnar(n_users=COAT_SHAPE[0], n_items=COAT_SHAPE[1], n_biased=8, n_unbiased=6)
"""Coat's reader (and ``recunlearn debias``) expects the real 290 x 300 shape."""


@dataclass(frozen=True)
class Format:
    """How one on-disk format is written and read.

    Attributes:
        write: folder -> the files written there.
        load: folder -> the loaded data (raises on a malformed file).
        cli: folder -> the command-line arguments that load it (before ``--out``).
    """

    write: Callable[[Path], object]
    load: Callable[[Path], object]
    cli: Callable[[Path], list[str]]


def _train(dataset: str, *data: str) -> list[str]:
    args = ["train", "--dataset", dataset, "--data-dir", data[0], "--min-user", "1"]
    if len(data) > 1:
        args += ["--attributes", data[1]]
    return [*args, "--epochs", "1", "--quiet"]


def _debias(dataset: str, folder: Path) -> list[str]:
    return ["debias", "--dataset", dataset, "--data-dir", str(folder), "--method", "mf"]


def _table(folder: Path, suffix: str) -> tuple[Path, Path]:
    return folder / f"interactions{suffix}", folder / f"users{suffix}"


FORMATS: dict[str, Format] = {
    "ml-100k": Format(files.write_ml100k, load_movielens_100k, lambda f: _train("ml-100k", str(f))),
    "ml-1m": Format(files.write_ml1m, load_movielens_1m, lambda f: _train("ml-1m", str(f))),
    "csv": Format(
        files.write_table,
        lambda f: load_interactions_table(*_table(f, ".csv")),
        lambda f: _train("csv", *map(str, _table(f, ".csv"))),
    ),
    "parquet": Format(
        lambda f: files.write_table(f, suffix=".parquet"),
        lambda f: load_interactions_table(*_table(f, ".parquet")),
        lambda f: _train("parquet", *map(str, _table(f, ".parquet"))),
    ),
    "recbole": Format(
        lambda f: files.write_recbole(f, name="syn"),
        lambda f: load_recbole(f / "syn"),
        lambda f: _train("recbole", str(f / "syn")),
    ),
    "coat": Format(
        lambda f: files.write_coat(f, COAT_DATA), read_coat, lambda f: _debias("coat", f)
    ),
    "yahoo": Format(files.write_yahoo, read_yahoo, lambda f: _debias("yahoo", f)),
    "kuairec": Format(files.write_kuairec, read_kuairec, lambda f: _debias("kuairec", f)),
}


# ------------------------------------------------------------------------------ corruptions
Corruption = Callable[[Path], None]
"""Corrupts one file in place (given its path)."""


def _lines(path: Path) -> list[str]:
    return path.read_bytes().decode("latin-1").split("\n")


def _write(path: Path, lines: list[str]) -> None:
    path.write_bytes("\n".join(lines).encode("latin-1"))


def cell(line: int, index: int, value: str, sep: str) -> Corruption:
    """Replace field ``index`` of text line ``line`` (1-based) by ``value``."""

    def corrupt(path: Path) -> None:
        lines = _lines(path)
        parts = lines[line - 1].split(sep)
        parts[index] = value
        lines[line - 1] = sep.join(parts)
        _write(path, lines)

    return corrupt


def replace_in_line(line: int, old: str, new: str, count: int = -1) -> Corruption:
    """Replace text within line ``line`` (1-based)."""

    def corrupt(path: Path) -> None:
        lines = _lines(path)
        lines[line - 1] = lines[line - 1].replace(old, new, count)
        _write(path, lines)

    return corrupt


def drop_last_field(sep: str) -> Corruption:
    """Cut the last field of every line (a column missing from the file)."""

    def corrupt(path: Path) -> None:
        _write(path, [line.rsplit(sep, 1)[0] if line else line for line in _lines(path)])

    return corrupt


def delete(path: Path) -> None:
    """The file is missing."""
    path.unlink()


def utf16(path: Path) -> None:
    """The file re-saved as UTF-16."""
    path.write_bytes(path.read_bytes().decode("latin-1").encode("utf-16"))


def garbage(path: Path) -> None:
    """Bytes that are not the format at all."""
    path.write_bytes(b"PAR1 this is not a parquet file")


def parquet_cell(row: int, column: str, value: str) -> Corruption:
    """Set one cell of a Parquet table (0-based data row) to text."""

    def corrupt(path: Path) -> None:
        frame = pd.read_parquet(path)
        frame[column] = frame[column].astype(str)
        frame.loc[row, column] = value
        frame.to_parquet(path, index=False)

    return corrupt


# ----------------------------------------------------------------------------------- corpus
@dataclass(frozen=True)
class Fault:
    """One malformed input and what its error must say."""

    id: str
    format: str
    file: str
    corrupt: Corruption
    field: str | None
    says: str

    def path(self, folder: Path) -> Path:
        """The corrupted file inside the folder a format was written to."""
        return folder / self.file


TAB, BAR, COLONS = "\t", "|", "::"

FAULTS: tuple[Fault, ...] = (
    # MovieLens 100K
    Fault("rating-text", "ml-100k", "u.data", cell(5, 2, "abc", TAB), "rating", "line 5"),
    Fault("user-id-text", "ml-100k", "u.data", cell(5, 0, "x1", TAB), "user_id", "line 5"),
    Fault("field-missing", "ml-100k", "u.data", cell(5, 3, "", TAB), "timestamp", "line 5"),
    Fault(
        "wrong-separator", "ml-100k", "u.data", replace_in_line(5, TAB, ","), "item_id", "line 5"
    ),
    Fault("unknown-item", "ml-100k", "u.data", cell(5, 1, "999", TAB), "item_id", "absent from"),
    Fault("gender", "ml-100k", "u.user", cell(5, 2, "X", BAR), "gender", "line 5"),
    Fault("age-text", "ml-100k", "u.user", cell(5, 1, "old", BAR), "age", "line 5"),
    Fault("user-duplicated", "ml-100k", "u.user", cell(5, 0, "1", BAR), "user_id", "[1]"),
    Fault("occupation", "ml-100k", "u.user", cell(5, 3, "pirate", BAR), "occupation", "line 5"),
    Fault("genre-flag", "ml-100k", "u.item", cell(5, 7, "y", BAR), "Adventure", "line 5"),
    Fault("item-file-missing", "ml-100k", "u.item", delete, None, "missing file 'u.item'"),
    Fault("utf16", "ml-100k", "u.user", utf16, None, "NUL bytes"),
    # MovieLens 1M
    Fault("timestamp-text", "ml-1m", "ratings.dat", cell(5, 3, "x", COLONS), "timestamp", "line 5"),
    Fault("age-code", "ml-1m", "users.dat", cell(5, 2, "7", COLONS), "age", "line 5"),
    Fault(
        "occupation-code", "ml-1m", "users.dat", cell(5, 3, "25", COLONS), "occupation", "line 5"
    ),
    Fault("gender", "ml-1m", "users.dat", cell(5, 1, "X", COLONS), "gender", "line 5"),
    Fault(
        "separator-missing",
        "ml-1m",
        "movies.dat",
        replace_in_line(5, COLONS, " ", 1),
        "genres",
        "line 5",
    ),
    # CSV tables
    Fault("rating-text", "csv", "interactions.csv", cell(5, 2, "five", ","), "rating", "line 5"),
    Fault(
        "timestamp-text",
        "csv",
        "interactions.csv",
        cell(5, 3, "yesterday", ","),
        "timestamp",
        "line 5",
    ),
    Fault("user-empty", "csv", "interactions.csv", cell(5, 0, "", ","), "user", "line 5"),
    Fault(
        "item-column-missing",
        "csv",
        "interactions.csv",
        cell(1, 1, "itm", ","),
        "item",
        "column not found",
    ),
    Fault(
        "timestamp-column-missing",
        "csv",
        "interactions.csv",
        drop_last_field(","),
        "timestamp",
        "--allow-missing-timestamp",
    ),
    Fault("age-text", "csv", "users.csv", cell(5, 2, "old", ","), "age", "line 5"),
    Fault("user-duplicated", "csv", "users.csv", cell(5, 0, "1", ","), "user", "[1]"),
    # Parquet tables
    Fault(
        "rating-text",
        "parquet",
        "interactions.parquet",
        parquet_cell(3, "rating", "five"),
        "rating",
        "data row 4",
    ),
    Fault(
        "age-text", "parquet", "users.parquet", parquet_cell(7, "age", "old"), "age", "data row 8"
    ),
    Fault("not-parquet", "parquet", "interactions.parquet", garbage, None, "cannot read"),
    # RecBole atomic files
    Fault("rating-text", "recbole", "syn/syn.inter", cell(5, 2, "abc", TAB), "rating", "line 5"),
    Fault(
        "timestamp-text",
        "recbole",
        "syn/syn.inter",
        cell(5, 3, "soon", TAB),
        "timestamp",
        "line 5",
    ),
    Fault("user-empty", "recbole", "syn/syn.inter", cell(5, 0, "", TAB), "user_id", "line 5"),
    Fault(
        "header-untyped",
        "recbole",
        "syn/syn.inter",
        cell(1, 0, "user_id", TAB),
        "user_id",
        "name:type",
    ),
    Fault(
        "timestamp-field-missing",
        "recbole",
        "syn/syn.inter",
        drop_last_field(TAB),
        "timestamp",
        "--allow-missing-timestamp",
    ),
    Fault("float-text", "recbole", "syn/syn.user", cell(5, 1, "abc", TAB), "age", "line 5"),
    Fault("user-duplicated", "recbole", "syn/syn.user", cell(5, 0, "1", TAB), "user_id", "[1]"),
    # Coat
    Fault("not-integer", "coat", "train.ascii", cell(5, 3, "x", " "), "rating", "line 5, column 4"),
    Fault("out-of-scale", "coat", "test.ascii", cell(5, 3, "7", " "), "rating", "line 5, column 4"),
    Fault("row-too-wide", "coat", "test.ascii", cell(5, 3, "3 3", " "), "matrix", "line 5"),
    Fault("file-missing", "coat", "test.ascii", delete, None, "file not found"),
    # Yahoo! R3
    Fault("rating-text", "yahoo", YAHOO_TRAIN, cell(5, 2, "abc", TAB), "rating", "line 5"),
    Fault("rating-empty", "yahoo", YAHOO_TRAIN, cell(5, 2, "", TAB), "rating", "line 5"),
    Fault("rating-out-of-scale", "yahoo", YAHOO_TRAIN, cell(5, 2, "9", TAB), "rating", "line 5"),
    Fault("user-zero", "yahoo", YAHOO_TRAIN, cell(5, 0, "0", TAB), "user", "line 5"),
    Fault("item-text", "yahoo", YAHOO_TEST, cell(5, 1, "x", TAB), "item", "line 5"),
    # KuaiRec
    Fault("ratio-text", "kuairec", "user.txt", cell(5, 2, "abc", ","), "watch_ratio", "line 5"),
    Fault("ratio-negative", "kuairec", "user.txt", cell(5, 2, "-1", ","), "watch_ratio", "line 5"),
    Fault("user-empty", "kuairec", "random.txt", cell(5, 0, "", ","), "user", "line 5"),
    Fault(
        "column-missing",
        "kuairec",
        "user.txt",
        drop_last_field(","),
        "watch_ratio",
        "expected 3 columns",
    ),
)
