"""MovieLens readers: real ML-100K / ML-1M half when present, miniature folders otherwise."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from recunlearn.core.errors import DataError
from recunlearn.data.loading import load_dataset
from recunlearn.data.movielens import (
    ML1M_OCCUPATIONS,
    load_movielens_1m,
    load_movielens_100k,
    ml1m_age_bin,
    ml1m_label,
    ml100k_age_bin,
)
from recunlearn.data.types import Dataset
from tests.conftest import shared_data

# ----------------------------------------------------------------------- miniature folders
ML100K_USERS = [
    "1|24|M|technician|85711",
    "2|53|F|other|94043",
    "3|28|M|writer|T8H1N",
    "4|41|F|student|01002",
    "5|30|M|other|00000",  # no ratings -> dropped
]
ML100K_OCCUPATIONS = ["other", "student", "technician", "writer"]
ML100K_RATINGS = [
    "1\t10\t5\t881250949",
    "1\t20\t3\t881250950",
    "2\t10\t4\t881250951",
    "3\t30\t1\t881250952",
    "4\t20\t2\t881250953",
    "4\t30\t5\t881250954",
]


def _item_line(item: int, title: str, genre: int) -> str:
    flags = ["0"] * 19
    flags[genre] = "1"
    return "|".join([str(item), title, "01-Jan-1995", "", "http://x", *flags])


ML100K_ITEMS = [
    _item_line(10, "Toy Story (1995)", 3),
    _item_line(20, "Café au Lait (1993)", 5),
    _item_line(30, "Star Wars (1977)", 1),
    _item_line(40, "Never Rated (1990)", 8),  # no ratings -> dropped
]


def write_lines(path: Path, lines: list[str], encoding: str = "ascii") -> Path:
    """Write LF-terminated lines."""
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def write_ml100k(folder: Path, **override: list[str]) -> Path:
    """A miniature ML-100K folder; ``override`` replaces a file's lines (keys: data, user...)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "data": ML100K_RATINGS,
        "user": ML100K_USERS,
        "item": ML100K_ITEMS,
        "occupation": ML100K_OCCUPATIONS,
    }
    files.update(override)
    for key, lines in files.items():
        encoding = "latin-1" if key == "item" else "ascii"
        write_lines(folder / f"u.{key}", lines, encoding)
    return folder


ML1M_USERS = [
    "1::F::1::10::48067",
    "2::M::56::16::70072",
    "3::M::25::15::55117",
    "4::F::35::0::02460-1234",
    "5::M::45::20::55455",  # no ratings -> dropped
]
ML1M_MOVIES = [
    "1::Toy Story (1995)::Animation|Children's|Comedy",
    "2::Métisse (Café au Lait) (1993)::Comedy",
    "3::Star Wars: Episode IV - A New Hope (1977)::Action|Sci-Fi",
    "4::Odd: Title Ending In Colon:::Drama",
    "5::Never Rated (2000)::Drama",
]
ML1M_RATINGS = [
    "1::1::5::978300760",
    "1::3::3::978302109",
    "2::2::4::978301968",
    "3::4::2::978300275",
    "4::1::1::978824291",
    "4::3::4::978824292",
]


def write_ml1m(folder: Path, **override: list[str]) -> Path:
    """A miniature ML-1M folder (``::`` separator, latin-1 movies)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"ratings": ML1M_RATINGS, "users": ML1M_USERS, "movies": ML1M_MOVIES}
    files.update(override)
    for key, lines in files.items():
        write_lines(folder / f"{key}.dat", lines, "latin-1" if key == "movies" else "ascii")
    return folder


def _error(func, *args, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        func(*args, **kwargs)
    return info.value


# ------------------------------------------------------------------------- real ML-100K
@pytest.fixture(scope="module")
def ml100k() -> Dataset:
    """The real ML-100K (skipped when absent)."""
    return load_movielens_100k(shared_data("ml-100k"))


@pytest.mark.realdata
def test_real_ml100k_counts(ml100k: Dataset) -> None:
    assert (ml100k.n_users, ml100k.n_items, len(ml100k.interactions)) == (943, 1682, 100_000)
    info = ml100k.describe()["attributes"]
    assert info["gender"]["counts"] == {"F": 273, "M": 670}
    assert ml100k.attribute("occupation").n_classes == 21
    assert sum(info["occupation"]["counts"].values()) == 943
    assert sum(info["age"]["counts"].values()) == 943
    assert ml100k.attribute("age").classes == ("<28", "28-40", ">40")
    assert ml100k.user_ids.dtype == np.int64 and ml100k.user_ids[0] == 1
    assert ml100k.meta["repairs"]["duplicate_ratings_dropped"] == 0
    assert "Misérables" in " ".join(ml100k.items["title"])
    assert len(ml100k.items.columns) == 3 + 19


@pytest.mark.realdata
def test_real_ml100k_age_bins_follow_years(ml100k: Dataset) -> None:
    age, bins = ml100k.labels("age_raw"), ml100k.labels("age")
    assert (bins[age < 28] == 0).all() and (bins[(age >= 28) & (age <= 40)] == 1).all()
    assert (bins[age > 40] == 2).all()


@pytest.mark.realdata
def test_real_ml1m_half() -> None:
    data = load_dataset("ml-1m", shared_data("ml-1m-users1-2999"))
    assert data.n_users == 2999 and len(data.interactions) == 487_650
    assert "users 1-2999" in data.label and data.label == "ML-1M, users 1-2999"
    assert data.meta["users_without_ratings_dropped"] == 6040 - 2999
    assert data.meta["items_without_ratings_dropped"] == 3883 - 3615
    assert sum(data.describe()["attributes"]["age"]["counts"].values()) == 2999


# ------------------------------------------------------------------------ miniature ML-100K
def test_ml100k_miniature(tmp_path: Path) -> None:
    data = load_movielens_100k(write_ml100k(tmp_path / "ml-100k"))
    assert data.user_ids.tolist() == [1, 2, 3, 4] and data.item_ids.tolist() == [10, 20, 30]
    assert data.meta["users_without_ratings_dropped"] == 1
    assert data.meta["items_without_ratings_dropped"] == 1
    assert data.attribute("occupation").classes == tuple(ML100K_OCCUPATIONS)
    assert data.user_table()["gender"].tolist() == ["M", "F", "M", "F"]
    assert data.labels("age").tolist() == [0, 2, 1, 2]
    assert data.labels("age_raw").tolist() == [24, 53, 28, 41]
    assert data.items["title"].tolist()[1] == "Café au Lait (1993)"
    assert data.items.loc[0, "Animation"] == 1
    assert len(data.interactions) == 6 and data.interactions.rating.tolist()[0] == 5


def test_ml100k_age_bin_boundaries() -> None:
    assert ml100k_age_bin(np.array([7, 27, 28, 40, 41, 73])).tolist() == [0, 0, 1, 1, 2, 2]


def test_ml100k_occupations_sorted_without_file(tmp_path: Path) -> None:
    folder = write_ml100k(tmp_path)
    (folder / "u.occupation").unlink()
    data = load_movielens_100k(folder)
    assert data.attribute("occupation").classes == ("other", "student", "technician", "writer")


def test_missing_file_names_file_folder_and_fetch(tmp_path: Path) -> None:
    folder = write_ml100k(tmp_path / "ml-100k")
    (folder / "u.user").unlink()
    err = _error(load_movielens_100k, folder)
    assert "u.user" in str(err) and str(folder) in str(err)
    assert "recunlearn data fetch ml-100k" in str(err)
    err = _error(load_dataset, "ml-100k", tmp_path / "nowhere")
    assert "does not exist" in str(err) and "u.data" in str(err)


def test_wrong_separator_names_file_line_and_field(tmp_path: Path) -> None:
    folder = write_ml100k(tmp_path, data=[r.replace("\t", ",") for r in ML100K_RATINGS])
    err = _error(load_movielens_100k, folder)
    assert err.path == folder / "u.data" and err.field == "item_id"
    assert "line 1" in str(err) and "u.data" in str(err)


def test_wrong_field_count_mid_file(tmp_path: Path) -> None:
    users = list(ML100K_USERS)
    users[2] = "3|28|M|writer"
    err = _error(load_movielens_100k, write_ml100k(tmp_path, user=users))
    assert err.path.name == "u.user" and err.field == "zip_code" and "line 3" in str(err)
    ratings = [*ML100K_RATINGS[:3], "3\t30\t1\t881250952\t9", *ML100K_RATINGS[4:]]
    err = _error(load_movielens_100k, write_ml100k(tmp_path / "b", data=ratings))
    assert err.path.name == "u.data" and "line 4" in str(err)


def test_encoding_problem_names_file_and_field(tmp_path: Path) -> None:
    folder = write_ml100k(tmp_path)
    lines = list(ML100K_USERS)
    lines[1] = "2|53|F|othér|94043"
    write_lines(folder / "u.user", lines, "latin-1")
    err = _error(load_movielens_100k, folder)
    assert err.path.name == "u.user" and err.field == "occupation"
    assert "line 2" in str(err) and "0xe9" in str(err)
    (folder / "u.user").write_bytes("\n".join(ML100K_USERS).encode("utf-16"))
    err = _error(load_movielens_100k, folder)
    assert err.path.name == "u.user" and "UTF-16" in str(err)


def test_unknown_gender_and_occupation(tmp_path: Path) -> None:
    users = list(ML100K_USERS)
    users[0] = "1|24|X|technician|85711"
    err = _error(load_movielens_100k, write_ml100k(tmp_path / "a", user=users))
    assert err.path.name == "u.user" and err.field == "gender" and "'X'" in str(err)
    users[0] = "1|24|M|astronaut|85711"
    err = _error(load_movielens_100k, write_ml100k(tmp_path / "b", user=users))
    assert err.path.name == "u.user" and err.field == "occupation" and "astronaut" in str(err)


def test_non_numeric_ids(tmp_path: Path) -> None:
    ratings = ["abc\t10\t5\t881250949", *ML100K_RATINGS[1:]]
    err = _error(load_movielens_100k, write_ml100k(tmp_path / "a", data=ratings))
    assert err.path.name == "u.data" and err.field == "user_id" and "line 1" in str(err)
    users = ["x1|24|M|technician|85711", *ML100K_USERS[1:]]
    err = _error(load_movielens_100k, write_ml100k(tmp_path / "b", user=users))
    assert err.path.name == "u.user" and err.field == "user_id"
    items = [ML100K_ITEMS[0].replace("10|", "ten|", 1), *ML100K_ITEMS[1:]]
    err = _error(load_movielens_100k, write_ml100k(tmp_path / "c", item=items))
    assert err.path.name == "u.item" and err.field == "item_id"


def test_ratings_of_unknown_users(tmp_path: Path) -> None:
    ratings = [*ML100K_RATINGS, "99\t10\t3\t881250960"]
    err = _error(load_movielens_100k, write_ml100k(tmp_path, data=ratings))
    assert err.path.name == "u.data" and err.field == "user_id"
    assert "u.user" in str(err) and "99" in str(err)


def test_duplicate_ratings_keep_latest(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ratings = [*ML100K_RATINGS, "1\t10\t2\t881250999", "1\t10\t4\t881250001"]
    with caplog.at_level(logging.WARNING):
        data = load_movielens_100k(write_ml100k(tmp_path, data=ratings))
    assert data.meta["repairs"]["duplicate_ratings_dropped"] == 2
    assert "duplicated" in caplog.text
    frame = data.interactions.to_frame()
    kept = frame[(frame.user == 0) & (frame.item == 0)]
    assert kept.rating.tolist() == [2.0] and kept.timestamp.tolist() == [881250999]
    assert len(data.interactions) == 6


# ------------------------------------------------------------------------- miniature ML-1M
def test_ml1m_miniature(tmp_path: Path) -> None:
    data = load_movielens_1m(write_ml1m(tmp_path / "ml-1m"))
    assert data.name == "ml-1m" and data.label == "ML-1M (partial ratings: 4 users)"
    assert data.user_ids.tolist() == [1, 2, 3, 4] and data.item_ids.tolist() == [1, 2, 3, 4]
    assert data.items["title"].tolist() == [
        "Toy Story (1995)",
        "Métisse (Café au Lait) (1993)",
        "Star Wars: Episode IV - A New Hope (1977)",
        "Odd: Title Ending In Colon:",
    ]
    assert data.items["genres"].tolist()[3] == "Drama"
    assert data.labels("age").tolist() == [0, 2, 1, 1]
    assert data.labels("age_raw").tolist() == [1.0, 56.0, 25.0, 35.0]
    assert data.attribute("occupation").classes == ML1M_OCCUPATIONS
    assert data.user_table()["occupation"].tolist() == [
        "K-12 student",
        "self-employed",
        "scientist",
        "other or not specified",
    ]
    assert "35-44" in data.attribute("age").description
    assert data.meta["users_without_ratings_dropped"] == 1
    assert data.meta["items_without_ratings_dropped"] == 1
    assert data.interactions.timestamp.tolist()[0] == 978300760


def test_ml1m_ratings_file_option_and_alias(tmp_path: Path) -> None:
    folder = write_ml1m(tmp_path / "ml-1m")
    (folder / "ratings.dat").rename(folder / "half.dat")
    assert len(load_dataset("ml-1m", tmp_path, ratings_file="half.dat").interactions) == 6
    err = _error(load_movielens_1m, folder)
    assert "ratings.dat" in str(err) and "recunlearn data fetch ml-1m" in str(err)


def test_ml1m_age_bins_and_labels() -> None:
    codes = np.array([1, 18, 25, 35, 45, 50, 56])
    assert ml1m_age_bin(codes).tolist() == [0, 0, 1, 1, 2, 2, 2]
    assert ml1m_label(np.arange(1, 3000), 487_650) == "ML-1M, users 1-2999"
    assert ml1m_label(np.arange(1, 6041), 1_000_209) == "ML-1M"
    assert ml1m_label(np.arange(1, 6041), 999_000) == "ML-1M (partial ratings: 6040 users)"
    assert ml1m_label(np.arange(2, 3001), 10) == "ML-1M (partial ratings: 2999 users)"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("1::F::30::10::48067", "age"),
        ("1::F::1::21::48067", "occupation"),
        ("1::W::1::10::48067", "gender"),
        ("1::F::1::ten::48067", "occupation"),
        ("1:F:1:10:48067", "gender"),
    ],
)
def test_ml1m_bad_user_values(tmp_path: Path, line: str, field: str) -> None:
    err = _error(load_movielens_1m, write_ml1m(tmp_path, users=[line, *ML1M_USERS[1:]]))
    assert err.path.name == "users.dat" and err.field == field and "line 1" in str(err)


def test_ml1m_bad_ratings(tmp_path: Path) -> None:
    ratings = [*ML1M_RATINGS[:2], "2::2::4", *ML1M_RATINGS[3:]]
    err = _error(load_movielens_1m, write_ml1m(tmp_path / "a", ratings=ratings))
    assert err.path.name == "ratings.dat" and err.field == "timestamp" and "line 3" in str(err)
    ratings = [*ML1M_RATINGS, "9::1::5::978300760"]
    err = _error(load_movielens_1m, write_ml1m(tmp_path / "b", ratings=ratings))
    assert err.path.name == "ratings.dat" and err.field == "user_id" and "users.dat" in str(err)
    ratings = [*ML1M_RATINGS, "1::77::5::978300760"]
    err = _error(load_movielens_1m, write_ml1m(tmp_path / "c", ratings=ratings))
    assert err.field == "item_id" and "movies.dat" in str(err)
    ratings = [*ML1M_RATINGS, "1::2::five::978300760"]
    err = _error(load_movielens_1m, write_ml1m(tmp_path / "d", ratings=ratings))
    assert err.field == "rating" and "line 7" in str(err)


def test_ml1m_bad_movie_line(tmp_path: Path) -> None:
    err = _error(
        load_movielens_1m, write_ml1m(tmp_path, movies=["1::Toy Story (1995)", *ML1M_MOVIES[1:]])
    )
    assert err.path.name == "movies.dat" and err.field == "genres" and "line 1" in str(err)


def test_ml1m_movies_reencoded_as_utf8(tmp_path: Path) -> None:
    folder = write_ml1m(tmp_path)
    write_lines(folder / "movies.dat", ML1M_MOVIES, "utf-8")
    data = load_movielens_1m(folder)
    assert data.items["title"].tolist()[1] == "Métisse (Café au Lait) (1993)"


# ------------------------------------------------------------ truncated last line (issue 25)
def _cut_last_line(folder: Path, keep: int) -> None:
    """Drop the final newline and all but ``keep`` characters of the last timestamp."""
    path = folder / "u.data"
    lines = path.read_text().rstrip("\n").split("\n")
    head, stamp = lines[-1].rsplit("\t", 1)
    lines[-1] = f"{head}\t{stamp[:keep]}"
    path.write_text("\n".join(lines))


def test_a_truncated_last_line_is_loaded_with_a_warning(tmp_path, caplog):
    folder = write_ml100k(tmp_path / "ml")
    _cut_last_line(folder, keep=2)
    with caplog.at_level(logging.WARNING, logger="recunlearn.data.movielens"):
        data = load_movielens_100k(folder)
    assert len(data.interactions) == len(ML100K_RATINGS)
    (record,) = [r for r in caplog.records if "truncated" in r.getMessage()]
    text = record.getMessage()
    assert str(folder / "u.data") in text and f"line {len(ML100K_RATINGS)}" in text
    assert "'timestamp' has 2 digit(s) ('88')" in text and "earlier than every other" in text


def test_a_missing_final_newline_alone_is_no_warning(tmp_path, caplog):
    folder = write_ml100k(tmp_path / "ml")
    _cut_last_line(folder, keep=9)  # the whole timestamp kept
    with caplog.at_level(logging.WARNING, logger="recunlearn.data.movielens"):
        load_movielens_100k(folder)
    assert "truncated" not in caplog.text
