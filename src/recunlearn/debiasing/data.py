"""Rating data with a biased (self-selected) part and an unbiased (randomly sampled) part.

Readers for Coat, Yahoo! R3 and KuaiRec return one immutable :class:`DebiasData`;
:func:`split_unbiased` splits its unbiased part by seed into the few unbiased training ratings
``A``, a validation set ``V`` and a test set ``T`` (family-A handling of
``../shared/reference/debias.md``: 5 % / 5 % / 90 %).

Every reader checks its input and raises :class:`recunlearn.errors.DataError` naming the file
and the field: a matrix of the wrong shape, ratings outside the scale, an unbiased set sharing no
user with the biased one, a binarisation threshold that leaves one class empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recunlearn.errors import DataError

COAT_SHAPE = (290, 300)
YAHOO_FILES = (
    "ydata-ymusic-rating-study-v1_0-train.txt",
    "ydata-ymusic-rating-study-v1_0-test.txt",
)
KUAIREC_FILES = ("user.txt", "random.txt")
DEFAULT_THRESHOLDS = {"coat": 3.0, "yahoo": 3.0, "kuairec": 2.0, "synthetic": 3.0}


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


# ----------------------------------------------------------------------------------------- coat
def _read_matrix(path: Path, shape: tuple[int, int]) -> np.ndarray:
    if not path.is_file():
        raise DataError("file not found", path=path)
    rows = []
    with open(path, encoding="ascii", newline="") as handle:
        for number, line in enumerate(handle.read().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append([int(x) for x in line.split()])
            except ValueError as exc:
                raise DataError(f"line {number}: not an integer ({exc})", path=path) from exc
    widths = {len(r) for r in rows}
    if len(rows) != shape[0] or widths != {shape[1]}:
        got = f"{len(rows)} rows x {sorted(widths)} columns"
        raise DataError(
            f"expected a {shape[0]} x {shape[1]} matrix, got {got}", path=path, field="matrix"
        )
    return np.asarray(rows, dtype=np.int64)


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
        matrix = _read_matrix(path, shape)
        if matrix.min() < 0 or matrix.max() > 5:
            bad = matrix[(matrix < 0) | (matrix > 5)][0]
            raise DataError(
                f"value {bad} outside the scale 0 (missing), 1..5", path=path, field="rating"
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
def _read_table(path: Path, names: list[str], sep: str) -> pd.DataFrame:
    if not path.is_file():
        raise DataError("file not found", path=path)
    try:
        frame = pd.read_csv(path, sep=sep, header=None, names=names, comment=None)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot parse ({exc})", path=path) from exc
    if frame.empty:
        raise DataError("no rows", path=path)
    for name in names:
        if frame[name].isna().any():
            raise DataError(
                f"{int(frame[name].isna().sum())} missing values", path=path, field=name
            )
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
        frame = _read_table(path, ["user", "item", "rating"], sep="\t")
        for field in ("user", "item"):
            if not np.issubdtype(frame[field].dtype, np.integer) or frame[field].min() < 1:
                raise DataError("ids must be integers >= 1 (1-indexed)", path=path, field=field)
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
    if frame.shape[1] < 3:
        raise DataError(
            f"expected 3 columns user,item,watch_ratio, got {frame.shape[1]}", path=path
        )
    frame = frame.iloc[:, :3]
    frame.columns = ["user", "item", "watch_ratio"]
    for name in frame.columns:
        if frame[name].isna().any():
            raise DataError("missing values", path=path, field=name)
    frame["watch_ratio"] = pd.to_numeric(frame["watch_ratio"], errors="coerce")
    if frame["watch_ratio"].isna().any():
        raise DataError("not a number", path=path, field="watch_ratio")
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
        **options: passed to :func:`recunlearn.debiasing.synthetic.make_mnar` for ``synthetic``.
    """
    key = name.lower().replace("!", "").replace("-r3", "").replace("_r3", "")
    if key not in DEFAULT_THRESHOLDS:
        raise DataError(f"unknown dataset '{name}' (coat, yahoo, kuairec, synthetic)", field="name")
    thr = DEFAULT_THRESHOLDS[key] if threshold is None else float(threshold)
    if key == "synthetic":
        from recunlearn.debiasing.synthetic import make_mnar

        return make_mnar(threshold=thr, **options)
    if data_dir is None:
        raise DataError(
            f"dataset '{name}' needs --data-dir (the publisher's files)", field="data_dir"
        )
    reader = {"coat": read_coat, "yahoo": read_yahoo, "kuairec": read_kuairec}[key]
    return reader(data_dir, threshold=thr)


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
