"""Readers of rating data with a biased and an unbiased part: Coat, Yahoo! R3, KuaiRec, and the
synthetic MNAR generator, behind :func:`load_debias_data`.

Every reader checks its input and raises :class:`recunlearn.core.errors.DataError` naming the file
and the field: a matrix of the wrong shape, ratings outside the scale, an unbiased set sharing no
user with the biased one, a binarisation threshold that leaves one class empty.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from recunlearn.core.errors import DataError
from recunlearn.data.feedback.mnar import make_mnar
from recunlearn.data.feedback.types import DebiasData, make_debias_data
from recunlearn.data.tabular import row_label

COAT_SHAPE = (290, 300)
YAHOO_FILES = (
    "ydata-ymusic-rating-study-v1_0-train.txt",
    "ydata-ymusic-rating-study-v1_0-test.txt",
)
KUAIREC_FILES = ("user.txt", "random.txt")
DEFAULT_THRESHOLDS = {"coat": 3.0, "yahoo": 3.0, "kuairec": 2.0, "synthetic": 3.0}


# ----------------------------------------------------------------------------------------- coat
def _read_matrix(path: Path, shape: tuple[int, int]) -> tuple[np.ndarray, list[int]]:
    """The integer matrix of a Coat file and the file line of each of its rows."""
    if not path.is_file():
        raise DataError("file not found", path=path)
    rows, lines = [], []
    with open(path, encoding="ascii", newline="") as handle:
        for number, line in enumerate(handle.read().splitlines(), start=1):
            if not line.strip():
                continue
            cells = line.split()
            for column, cell in enumerate(cells, start=1):
                if not cell.lstrip("-").isdigit():
                    raise DataError(
                        f"line {number}, column {column}: {cell[:20]!r} is not an integer",
                        path=path,
                        field="rating",
                    )
            rows.append([int(x) for x in cells])
            lines.append(number)
    widths = {len(r) for r in rows}
    if len(rows) != shape[0] or widths != {shape[1]}:
        got = f"{len(rows)} rows x {sorted(widths)} columns"
        odd = next((n for n, r in zip(lines, rows, strict=True) if len(r) != shape[1]), None)
        where = f" (line {odd} has a different width)" if odd is not None else ""
        raise DataError(
            f"expected a {shape[0]} x {shape[1]} matrix, got {got}{where}",
            path=path,
            field="matrix",
        )
    return np.asarray(rows, dtype=np.int64), lines


def read_coat(
    data_dir: str | Path, *, threshold: float = 3.0, shape: tuple[int, int] = COAT_SHAPE
) -> DebiasData:
    """Coat (Schnabel et al. 2016): ``train.ascii`` (biased) and ``test.ascii`` (unbiased).

    Each file is a users x items matrix of integers 0-5 (0 = missing), space separated, with
    LF or CRLF line ends. Rows are users, columns items.

    Args:
        data_dir: folder holding the two files.
        threshold: ``rating >= threshold`` is a positive (ULTD: 3).
        shape: expected matrix shape (290 x 300 for the real data).
    """
    folder = Path(data_dir)
    arrays, paths = [], []
    for name in ("train.ascii", "test.ascii"):
        path = folder / name
        matrix, lines = _read_matrix(path, shape)
        if matrix.min() < 0 or matrix.max() > 5:
            row, column = np.argwhere((matrix < 0) | (matrix > 5))[0]
            raise DataError(
                f"line {lines[row]}, column {column + 1}: value {matrix[row, column]} outside "
                "the scale 0 (missing), 1..5",
                path=path,
                field="rating",
            )
        user, item = np.nonzero(matrix)
        arrays.append((user, item, matrix[user, item].astype(np.float64)))
        paths.append(path)
    return make_debias_data(
        "coat",
        arrays[0],
        arrays[1],
        n_users=shape[0],
        n_items=shape[1],
        rating_scale=(1.0, 5.0),
        threshold=threshold,
        source=str(folder),
        paths=(paths[0], paths[1]),
    )


# ---------------------------------------------------------------------------------------- yahoo
def _numbers(
    frame: pd.DataFrame, name: str, path: Path, *, header: bool, integer: bool = False
) -> np.ndarray:
    """Column ``name`` as numbers; an empty cell, text (or a fraction where an integer is
    due) names the file, the field and the line."""
    series = frame[name]
    if ptypes.is_numeric_dtype(series) and not ptypes.is_bool_dtype(series):
        values = series.to_numpy(dtype=float)
        if not np.isnan(values).any() and not (integer and np.mod(values, 1).any()):
            return values  # the common case: pandas parsed clean numbers
    text = series.astype("string").str.strip()
    values = pd.to_numeric(text, errors="coerce").astype(float)
    bad = values.isna().to_numpy()
    if integer:
        bad = bad | (np.mod(values.fillna(0).to_numpy(), 1) != 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        where = row_label(path, row, len(frame), header=header)
        value = series.iloc[row]
        kind = "an integer" if integer else "a number"
        problem = "missing value" if pd.isna(value) else f"{value!r} is not {kind}"
        raise DataError(f"{where}: {problem}", path=path, field=name)
    return values.to_numpy()


def _check_range(
    values: np.ndarray, low: float, high: float, path: Path, name: str, *, header: bool
) -> None:
    """Refuse a value outside ``[low, high]``, naming the file, the field and the line."""
    bad = (values < low) | (values > high)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        where = row_label(path, row, len(values), header=header)
        scale = f"(>= {low:g})" if np.isinf(high) else f"{low:g}..{high:g}"
        raise DataError(
            f"{where}: {values[row]:g} outside the scale {scale}", path=path, field=name
        )


def _read_table(path: Path, names: list[str], sep: str) -> pd.DataFrame:
    """A header-less text table with the columns ``names``."""
    if not path.is_file():
        raise DataError("file not found", path=path)
    try:
        frame = pd.read_csv(path, sep=sep, header=None, names=names, comment=None)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot parse ({exc})", path=path) from exc
    if frame.empty:
        raise DataError("no rows", path=path)
    return frame


def read_yahoo(data_dir: str | Path, *, threshold: float = 3.0) -> DebiasData:
    """Yahoo! R3: ``ydata-ymusic-rating-study-v1_0-{train,test}.txt``.

    One ``user<TAB>item<TAB>rating`` per line, 1-indexed ids, ratings 1-5. Users and items are
    shifted to 0-based indices; ``n_users`` / ``n_items`` are the largest ids over both files.
    """
    folder = Path(data_dir)
    frames, paths = [], []
    for name in YAHOO_FILES:
        path = folder / name
        text = _read_table(path, ["user", "item", "rating"], sep="\t")
        frame = pd.DataFrame(
            {
                "user": _numbers(text, "user", path, header=False, integer=True),
                "item": _numbers(text, "item", path, header=False, integer=True),
                "rating": _numbers(text, "rating", path, header=False),
            }
        ).astype({"user": np.int64, "item": np.int64})
        for field in ("user", "item"):
            if frame[field].min() < 1:
                row = int(np.flatnonzero(frame[field].to_numpy() < 1)[0])
                where = row_label(path, row, len(frame), header=False)
                raise DataError(
                    f"{where}: ids must be integers >= 1 (1-indexed)", path=path, field=field
                )
        _check_range(frame["rating"].to_numpy(), 1, 5, path, "rating", header=False)
        frames.append(frame)
        paths.append(path)
    n_users = int(max(f["user"].max() for f in frames))
    n_items = int(max(f["item"].max() for f in frames))
    arrays = [
        (f["user"].to_numpy() - 1, f["item"].to_numpy() - 1, f["rating"].to_numpy(dtype=float))
        for f in frames
    ]
    return make_debias_data(
        "yahoo",
        arrays[0],
        arrays[1],
        n_users=n_users,
        n_items=n_items,
        rating_scale=(1.0, 5.0),
        threshold=threshold,
        source=str(folder),
        paths=(paths[0], paths[1]),
    )


# -------------------------------------------------------------------------------------- kuairec
def _read_kuai_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError("file not found (KuaiRec needs user.txt and random.txt)", path=path)
    with open(path, encoding="utf-8") as handle:
        first = handle.readline()
    has_header = any(c.isalpha() for c in first)
    frame = pd.read_csv(path, header=0 if has_header else None)
    names = ["user", "item", "watch_ratio"]
    if frame.shape[1] < 3:
        raise DataError(
            f"expected 3 columns user,item,watch_ratio, got {frame.shape[1]}",
            path=path,
            field=names[frame.shape[1]],
        )
    frame = frame.iloc[:, :3]
    frame.columns = names
    for name in ("user", "item"):
        if frame[name].isna().any():
            row = int(np.flatnonzero(frame[name].isna().to_numpy())[0])
            where = row_label(path, row, len(frame), header=has_header)
            raise DataError(f"{where}: missing value", path=path, field=name)
    frame["watch_ratio"] = _numbers(frame, "watch_ratio", path, header=has_header)
    ratios = frame["watch_ratio"].to_numpy()
    _check_range(ratios, 0, np.inf, path, "watch_ratio", header=has_header)
    return frame


def read_kuairec(
    data_dir: str | Path, *, threshold: float = 2.0, max_ratio: float = 1e6
) -> DebiasData:
    """KuaiRec in the ICML23-Propensity layout: ``user.txt`` (biased), ``random.txt`` (unbiased).

    Both are CSV ``user,item,watch_ratio`` (a header line is optional); original ids are
    re-indexed jointly over the two files. A positive is ``watch_ratio >= threshold`` (2).
    """
    folder = Path(data_dir)
    paths = [folder / name for name in KUAIREC_FILES]
    frames = [_read_kuai_csv(p) for p in paths]
    users = np.unique(np.concatenate([f["user"].to_numpy() for f in frames]))
    items = np.unique(np.concatenate([f["item"].to_numpy() for f in frames]))
    arrays = [
        (
            np.searchsorted(users, f["user"].to_numpy()),
            np.searchsorted(items, f["item"].to_numpy()),
            f["watch_ratio"].to_numpy(dtype=float),
        )
        for f in frames
    ]
    return make_debias_data(
        "kuairec",
        arrays[0],
        arrays[1],
        n_users=len(users),
        n_items=len(items),
        rating_scale=(0.0, max_ratio),
        threshold=threshold,
        source=str(folder),
        paths=(paths[0], paths[1]),
    )


def load_debias_data(
    name: str, data_dir: str | Path | None = None, *, threshold: float | None = None, **options
) -> DebiasData:
    """Load a dataset by name: ``coat``, ``yahoo``, ``kuairec`` or ``synthetic``.

    Args:
        name: dataset name.
        data_dir: the folder with the publisher's files (not used by ``synthetic``).
        threshold: binarisation threshold (default: 3 for Coat/Yahoo/synthetic, 2 for KuaiRec).
        **options: passed to :func:`recunlearn.data.feedback.mnar.make_mnar` for ``synthetic``.
    """
    key = name.lower().replace("!", "").replace("-r3", "").replace("_r3", "")
    if key not in DEFAULT_THRESHOLDS:
        raise DataError(f"unknown dataset '{name}' (coat, yahoo, kuairec, synthetic)", field="name")
    thr = DEFAULT_THRESHOLDS[key] if threshold is None else float(threshold)
    if key == "synthetic":
        return make_mnar(threshold=thr, **options)
    if data_dir is None:
        raise DataError(
            f"dataset '{name}' needs --data-dir (the publisher's files)", field="data_dir"
        )
    reader = {"coat": read_coat, "yahoo": read_yahoo, "kuairec": read_kuairec}[key]
    return reader(data_dir, threshold=thr)
