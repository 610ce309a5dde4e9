"""The synthetic datasets written in every on-disk format recunlearn reads, for tests of the
loaders (the fault suite corrupts these files one way at a time).

Each writer takes a :class:`~recunlearn.data.types.Dataset` (by default a small
:func:`~recunlearn.data.synthetic.make_synthetic` one) or, for the readers with a biased and an
unbiased part, a :class:`~recunlearn.data.feedback.types.DebiasData` (by default
:func:`~recunlearn.data.feedback.mnar.make_mnar`), writes the files the matching loader expects
into a folder and returns the path the loader is given. Loading the written files gives back
the same interactions (ratings rounded to integers where the format demands it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recunlearn.data.feedback.mnar import make_mnar
from recunlearn.data.feedback.readers import KUAIREC_FILES, YAHOO_FILES
from recunlearn.data.feedback.types import DebiasData
from recunlearn.data.movielens import ML100K_GENRES
from recunlearn.data.synthetic import make_synthetic
from recunlearn.data.types import Dataset

ML1M_AGE_CODES = (1, 18, 25, 35, 45, 50, 56)
"""Lower bounds of the ML-1M age brackets (``users.dat`` age codes)."""


def small_synthetic(seed: int = 0) -> Dataset:
    """A 60-user, 40-item synthetic dataset (5-15 interactions per user): fast to write and
    read, with every attribute of :func:`~recunlearn.data.synthetic.make_synthetic`."""
    return make_synthetic(
        n_users=60, n_items=40, n_interactions_per_user=(5, 15), seed=seed, tie_fraction=0.0
    )


def small_feedback(seed: int = 0) -> DebiasData:
    """A 30-user, 25-item MNAR dataset with a biased and an unbiased part."""
    return make_mnar(n_users=30, n_items=25, n_biased=8, n_unbiased=6, seed=seed)


def _write_lines(path: Path, lines: list[str], encoding: str = "ascii") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _frame(dataset: Dataset) -> pd.DataFrame:
    """Interactions in raw ids with integer ratings."""
    inter = dataset.interactions
    return pd.DataFrame(
        {
            "user": dataset.user_ids[inter.user],
            "item": dataset.item_ids[inter.item],
            "rating": np.rint(inter.rating).astype(np.int64),
            "timestamp": inter.timestamp,
        }
    )


def _decoded(dataset: Dataset, name: str) -> list[str]:
    return [str(v) for v in dataset.user_table()[name].tolist()]


def _occupations(dataset: Dataset) -> tuple[str, ...]:
    return dataset.attribute("occupation").classes


def write_ml100k(folder: str | Path, dataset: Dataset | None = None) -> Path:
    """``u.data``, ``u.user``, ``u.item`` and ``u.occupation`` of ML-100K; returns the folder."""
    dataset = dataset or small_synthetic()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frame = _frame(dataset)
    _write_lines(
        folder / "u.data",
        [f"{u}\t{i}\t{r}\t{t}" for u, i, r, t in frame.itertuples(index=False)],
    )
    ages = dataset.labels("age_raw").astype(int)
    genders, occupations = _decoded(dataset, "gender"), _decoded(dataset, "occupation")
    _write_lines(
        folder / "u.user",
        [
            f"{uid}|{age}|{gender}|{occupation}|{10000 + uid:05d}"
            for uid, age, gender, occupation in zip(
                dataset.user_ids, ages, genders, occupations, strict=True
            )
        ],
    )
    _write_lines(folder / "u.occupation", list(_occupations(dataset)))
    items = []
    for item in dataset.item_ids:
        flags = ["0"] * len(ML100K_GENRES)
        flags[int(item) % len(ML100K_GENRES)] = "1"
        items.append("|".join([str(item), f"Item {item} (1995)", "01-Jan-1995", "", "", *flags]))
    _write_lines(folder / "u.item", items, "latin-1")
    return folder


def _ml1m_age_code(age: float) -> int:
    return max(code for code in ML1M_AGE_CODES if code <= max(age, 1))


def write_ml1m(folder: str | Path, dataset: Dataset | None = None) -> Path:
    """``ratings.dat``, ``users.dat`` and ``movies.dat`` of ML-1M (``::`` separated); the
    occupation is written as its class index (ML-1M codes 0-20); returns the folder."""
    dataset = dataset or small_synthetic()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frame = _frame(dataset)
    _write_lines(
        folder / "ratings.dat",
        [f"{u}::{i}::{r}::{t}" for u, i, r, t in frame.itertuples(index=False)],
    )
    genders = _decoded(dataset, "gender")
    codes = dataset.labels("occupation")
    ages = dataset.labels("age_raw")
    _write_lines(
        folder / "users.dat",
        [
            f"{uid}::{gender}::{_ml1m_age_code(age)}::{code}::{10000 + uid:05d}"
            for uid, gender, age, code in zip(dataset.user_ids, genders, ages, codes, strict=True)
        ],
    )
    _write_lines(
        folder / "movies.dat",
        [f"{item}::Item: {item} (1995)::Drama|Comedy" for item in dataset.item_ids],
        "latin-1",
    )
    return folder


def _attribute_frame(dataset: Dataset) -> pd.DataFrame:
    table = dataset.user_table().rename(columns={"user_id": "user"})
    return table[["user", "gender", "age_raw", "occupation"]].rename(columns={"age_raw": "age"})


def write_table(
    folder: str | Path, dataset: Dataset | None = None, suffix: str = ".csv"
) -> tuple[Path, Path]:
    """``interactions<suffix>`` (user, item, rating, timestamp) and ``users<suffix>`` (user,
    gender, age in years, occupation) as CSV (``.csv``) or Parquet (``.parquet``).

    Returns:
        The interactions file and the attribute file.
    """
    dataset = dataset or small_synthetic()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / f"interactions{suffix}", folder / f"users{suffix}")
    for path, frame in zip(paths, (_frame(dataset), _attribute_frame(dataset)), strict=True):
        if suffix == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
    return paths


def write_recbole(folder: str | Path, dataset: Dataset | None = None, name: str = "syn") -> Path:
    """``<name>.inter`` and ``<name>.user`` RecBole atomic files in ``folder/<name>``; returns
    that folder."""
    dataset = dataset or small_synthetic()
    folder = Path(folder) / name
    folder.mkdir(parents=True, exist_ok=True)
    inter = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    inter += [f"{u}\t{i}\t{r}\t{t}" for u, i, r, t in _frame(dataset).itertuples(index=False)]
    _write_lines(folder / f"{name}.inter", inter)
    users = ["user_id:token\tage:float\tgender:token\toccupation:token"]
    users += [
        f"{u}\t{a}\t{g}\t{o}" for u, g, a, o in _attribute_frame(dataset).itertuples(index=False)
    ]
    _write_lines(folder / f"{name}.user", users)
    return folder


def _matrix(n_users: int, n_items: int, part) -> np.ndarray:
    matrix = np.zeros((n_users, n_items), dtype=np.int64)
    matrix[part.user, part.item] = np.rint(part.rating).astype(np.int64)
    return matrix


def write_coat(folder: str | Path, data: DebiasData | None = None) -> Path:
    """``train.ascii`` (biased) and ``test.ascii`` (unbiased) users x items matrices of
    integers 0-5 (0 = missing), space separated; returns the folder. Read them with
    ``read_coat(folder, shape=(data.n_users, data.n_items))``."""
    data = data or small_feedback()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, part in (("train.ascii", data.biased), ("test.ascii", data.unbiased)):
        matrix = _matrix(data.n_users, data.n_items, part)
        _write_lines(folder / name, [" ".join(str(v) for v in row) for row in matrix])
    return folder


def write_yahoo(folder: str | Path, data: DebiasData | None = None) -> Path:
    """The Yahoo! R3 train (biased) and test (unbiased) files, ``user<TAB>item<TAB>rating``
    with 1-indexed ids; returns the folder."""
    data = data or small_feedback()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, part in zip(YAHOO_FILES, (data.biased, data.unbiased), strict=True):
        rows = zip(part.user + 1, part.item + 1, np.rint(part.rating).astype(int), strict=True)
        _write_lines(folder / name, [f"{u}\t{i}\t{r}" for u, i, r in rows])
    return folder


def write_kuairec(folder: str | Path, data: DebiasData | None = None) -> Path:
    """KuaiRec's ``user.txt`` (biased) and ``random.txt`` (unbiased) as CSV
    ``user,item,watch_ratio`` with a header (the rating / 2.5 as the watch ratio); returns the
    folder."""
    data = data or small_feedback()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, part in zip(KUAIREC_FILES, (data.biased, data.unbiased), strict=True):
        rows = zip(part.user, part.item, part.rating / 2.5, strict=True)
        _write_lines(
            folder / name, ["user,item,watch_ratio", *(f"{u},{i},{w:.3f}" for u, i, w in rows)]
        )
    return folder
