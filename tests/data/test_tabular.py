"""The user's own CSV/Parquet tables and RecBole atomic files."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recunlearn.core.errors import ConfigError, DataError
from recunlearn.data.loading import load_dataset
from recunlearn.data.recbole import load_recbole
from recunlearn.data.tabular import infer_kind, load_interactions_table

INTERACTIONS = pd.DataFrame(
    {
        "user": [1, 1, 2, 2, 3, 3, 4],
        "item": [10, 20, 10, 30, 20, 30, 10],
        "rating": [5.0, 3.0, 4.0, 2.0, 1.0, 5.0, 4.0],
        "timestamp": [100, 101, 102, 103, 104, 105, 106],
    }
)
ATTRIBUTES = pd.DataFrame(
    {
        "user": [1, 2, 3, 99],  # user 4 has no row, user 99 has no interactions
        "gender": ["F", "M", "M", "F"],
        "age": [21, 35, 47, 60],
        "income": np.linspace(10.0, 40.0, 4),
    }
)


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """Interaction and attribute CSV files."""
    return (
        write_csv(tmp_path / "inter.csv", INTERACTIONS),
        write_csv(tmp_path / "users.csv", ATTRIBUTES),
    )


def _error(func, *args, **kwargs) -> DataError:
    with pytest.raises(DataError) as info:
        func(*args, **kwargs)
    return info.value


# --------------------------------------------------------------------------------- CSV
def test_csv_with_attributes(files: tuple[Path, Path], caplog: pytest.LogCaptureFixture) -> None:
    inter, attrs = files
    with caplog.at_level(logging.INFO):
        data = load_interactions_table(inter, attrs, attribute_kinds={"income": "continuous"})
    assert data.user_ids.tolist() == [1, 2, 3, 4] and data.item_ids.tolist() == [10, 20, 30]
    assert len(data.interactions) == 7 and data.name == "inter"
    assert data.attribute("gender").classes == ("F", "M")
    assert data.labels("gender").tolist() == [0, 1, 1, -1]
    assert data.attribute("age").kind == "categorical"  # 4 distinct numbers <= 10
    assert data.attribute("age").classes == ("21", "35", "47")
    assert data.attribute("income").kind == "continuous"
    assert np.isnan(data.labels("income")[3])
    assert data.meta["users_without_attributes"] == 1
    assert data.meta["attribute_rows_ignored"] == 1
    assert "no attributes" in caplog.text and "ignored" in caplog.text


def test_kind_inference() -> None:
    assert infer_kind(pd.Series(np.arange(11.0))) == "continuous"
    assert infer_kind(pd.Series(np.arange(10))) == "categorical"
    assert infer_kind(pd.Series([f"c{i}" for i in range(30)])) == "categorical"


def test_string_ids_and_optional_rating(tmp_path: Path) -> None:
    frame = pd.DataFrame({"u": ["a", "b", "a"], "i": ["x", "x", "y"], "timestamp": [1, 2, 3]})
    data = load_interactions_table(write_csv(tmp_path / "t.csv", frame), user_col="u", item_col="i")
    assert data.user_ids.tolist() == ["a", "b"] and data.item_ids.tolist() == ["x", "y"]
    assert data.interactions.rating.tolist() == [1.0, 1.0, 1.0]


def test_parquet_and_date_timestamps(tmp_path: Path) -> None:
    frame = INTERACTIONS.assign(
        timestamp=pd.date_range("2020-01-01", periods=7, freq="D").astype(str)
    )
    path = tmp_path / "inter.parquet"
    frame.to_parquet(path)
    data = load_dataset("parquet", path)
    assert data.interactions.timestamp[0] == 1577836800
    assert np.diff(data.interactions.timestamp).tolist() == [86400] * 6


def test_timestamp_required_unless_allowed(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", INTERACTIONS.drop(columns="timestamp"))
    err = _error(load_interactions_table, path)
    assert err.path == path and err.field == "timestamp"
    data = load_interactions_table(path, allow_missing_timestamp=True)
    assert data.interactions.timestamp.tolist() == list(range(7))
    assert data.meta["time"] == "row order"


def test_missing_column_and_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", INTERACTIONS.rename(columns={"item": "movie"}))
    err = _error(load_interactions_table, path)
    assert err.path == path and err.field == "item" and "movie" in str(err)
    err = _error(load_interactions_table, tmp_path / "absent.csv")
    assert "absent.csv" in str(err)
    err = _error(load_interactions_table, write_csv(tmp_path / "t.json", INTERACTIONS))
    assert "unknown file type" in str(err)


def test_bad_values_name_file_and_field(tmp_path: Path) -> None:
    frame = INTERACTIONS.astype({"rating": object})
    frame.loc[2, "rating"] = "good"
    err = _error(load_interactions_table, write_csv(tmp_path / "r.csv", frame))
    assert err.field == "rating" and "r.csv" in str(err) and "'good'" in str(err)
    frame = INTERACTIONS.astype({"timestamp": object})
    frame.loc[0, "timestamp"] = "yesterday-ish"
    err = _error(load_interactions_table, write_csv(tmp_path / "s.csv", frame))
    assert err.field == "timestamp" and "s.csv" in str(err)
    frame = INTERACTIONS.astype({"user": float})
    frame.loc[1, "user"] = np.nan
    err = _error(load_interactions_table, write_csv(tmp_path / "u.csv", frame))
    assert err.field == "user" and "row 2" in str(err)


def test_continuous_attribute_with_text(files: tuple[Path, Path], tmp_path: Path) -> None:
    inter, _ = files
    attrs = write_csv(tmp_path / "a.csv", ATTRIBUTES.assign(age=["21", "35", "old", "60"]))
    err = _error(load_interactions_table, inter, attrs, attribute_kinds={"age": "continuous"})
    assert err.path == attrs and err.field == "age" and "'old'" in str(err)


def test_duplicated_attribute_users(files: tuple[Path, Path], tmp_path: Path) -> None:
    inter, _ = files
    attrs = write_csv(tmp_path / "a.csv", pd.concat([ATTRIBUTES, ATTRIBUTES.iloc[:1]]))
    err = _error(load_interactions_table, inter, attrs)
    assert err.path == attrs and err.field == "user" and "[1]" in str(err)


def test_attribute_kind_override_and_unknown_column(files: tuple[Path, Path]) -> None:
    inter, attrs = files
    data = load_interactions_table(inter, attrs, attribute_kinds={"age": "continuous"})
    assert data.attribute("age").kind == "continuous"
    assert data.labels("age")[:3].tolist() == [21.0, 35.0, 47.0]
    err = _error(load_interactions_table, inter, attrs, attribute_kinds={"height": "continuous"})
    assert err.field == "height"
    err = _error(load_interactions_table, inter, attrs, attribute_kinds={"age": "ordinal"})
    assert err.field == "age"


def test_duplicate_interactions_repaired(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    extra = pd.DataFrame({"user": [1], "item": [10], "rating": [1.0], "timestamp": [200]})
    path = write_csv(tmp_path / "d.csv", pd.concat([INTERACTIONS, extra]))
    with caplog.at_level(logging.WARNING):
        data = load_interactions_table(path)
    assert data.meta["repairs"]["duplicate_rows_dropped"] == 1 and "duplicated" in caplog.text
    frame = data.interactions.to_frame()
    assert frame[(frame.user == 0) & (frame.item == 0)].rating.tolist() == [1.0]


def test_load_dataset_csv_dispatch(files: tuple[Path, Path]) -> None:
    inter, attrs = files
    data = load_dataset("csv", inter, attributes_path=attrs)
    assert [a.name for a in data.attributes] == ["gender", "age", "income"]
    assert load_dataset(str(inter)).n_users == 4
    with pytest.raises(ConfigError, match="needs data_dir"):
        load_dataset("csv")
    with pytest.raises(ConfigError, match="unknown option"):
        load_dataset("csv", inter, atributes_path=attrs)
    with pytest.raises(ConfigError, match="unknown dataset"):
        load_dataset("netflix")


# ----------------------------------------------------------------------------- RecBole
def write_recbole(folder: Path, name: str = "mini", user_header: str | None = None) -> Path:
    """``<folder>/<name>.inter`` and ``.user`` in RecBole atomic format."""
    folder.mkdir(parents=True, exist_ok=True)
    inter = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    inter += [f"{u}\t{i}\t{r}\t{t}" for u, i, r, t in INTERACTIONS.itertuples(index=False)]
    (folder / f"{name}.inter").write_text("\n".join(inter) + "\n")
    header = (
        user_header or "user_id:token\tage:float\tgender:token\toccupation:token\tzip_code:token"
    )
    rows = [header]
    for user in range(1, 61):  # 60 users -> 60 distinct zip codes (> 50 classes)
        gender = "MF"[user % 2]
        rows.append(f"{user}\t{18 + user}\t{gender}\t{'abc'[user % 3]}job\t{10000 + user:05d}")
    (folder / f"{name}.user").write_text("\n".join(rows) + "\n")
    return folder


def test_recbole_folder(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = write_recbole(tmp_path / "mini")
    with caplog.at_level(logging.INFO):
        data = load_recbole(folder)
    assert data.name == "mini" and data.user_ids.tolist() == [1, 2, 3, 4]
    assert data.user_ids.dtype == np.int64 and len(data.interactions) == 7
    assert [a.name for a in data.attributes] == ["age", "gender", "occupation"]
    assert data.attribute("age").kind == "continuous"
    assert data.labels("age").tolist() == [19.0, 20.0, 21.0, 22.0]
    assert data.attribute("gender").classes == ("F", "M")
    assert data.attribute("occupation").classes == ("ajob", "bjob", "cjob")
    assert data.meta["skipped_attributes"] == ["zip_code"]
    assert "zip_code" in caplog.text and data.meta["attribute_rows_ignored"] == 56


def test_recbole_prefix_tokens_and_override(tmp_path: Path) -> None:
    header = "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token"
    folder = write_recbole(tmp_path / "data", name="ml", user_header=header)
    data = load_dataset("recbole", folder / "ml", attribute_kinds={"age": "continuous"})
    assert data.attribute("age").kind == "continuous"
    data = load_recbole(folder / "ml.inter")
    assert "age" not in [a.name for a in data.attributes]  # 60 token classes > 50


def test_recbole_errors(tmp_path: Path) -> None:
    folder = write_recbole(tmp_path / "mini")
    (folder / "mini.inter").write_text("user_id\titem_id\n1\t2\n")
    err = _error(load_recbole, folder)
    assert err.path == folder / "mini.inter" and err.field == "user_id"
    err = _error(load_recbole, tmp_path / "empty_prefix")
    assert "empty_prefix.inter" in str(err)
    (folder / "mini.inter").write_text("user_id:token\titem_id:token\n1\t2\n")
    err = _error(load_recbole, folder)
    assert err.field == "timestamp"
    assert len(load_recbole(folder, allow_missing_timestamp=True).interactions) == 1


# ------------------------------------------------------------- text among numbers (issue 25)
def _ages(tmp_path: Path, ages: list) -> Path:
    users = list(range(1, len(ages) + 1))
    return write_csv(tmp_path / "ages.csv", pd.DataFrame({"user": users, "age": ages}))


def _many_users(tmp_path: Path, n: int) -> Path:
    frame = pd.DataFrame(
        {"user": np.arange(1, n + 1), "item": 1, "rating": 1.0, "timestamp": np.arange(n)}
    )
    return write_csv(tmp_path / "many.csv", frame)


def test_one_text_value_in_a_numeric_column_is_refused_with_its_line(tmp_path: Path) -> None:
    inter = _many_users(tmp_path, 30)
    ages: list = [str(18 + k) for k in range(30)]
    ages[11] = "old"
    err = _error(load_interactions_table, inter, _ages(tmp_path, ages))
    text = str(err)
    assert err.path.name == "ages.csv" and err.field == "age"
    assert "line 13 (data row 12)" in text and "'old'" in text and "--kind age=categorical" in text


def test_a_declared_kind_decides(tmp_path: Path) -> None:
    inter = _many_users(tmp_path, 30)
    ages: list = [str(18 + k) for k in range(30)]
    ages[11] = "old"
    path = _ages(tmp_path, ages)
    data = load_interactions_table(inter, path, attribute_kinds={"age": "categorical"})
    assert data.attribute("age").kind == "categorical" and "old" in data.attribute("age").classes
    err = _error(load_interactions_table, inter, path, attribute_kinds={"age": "continuous"})
    assert err.field == "age" and "line 13" in str(err) and "'old'" in str(err)


def test_codes_mixed_with_labels_stay_categorical(tmp_path: Path) -> None:
    inter = _many_users(tmp_path, 30)
    path = _ages(tmp_path, ["0", "1", "unknown"] * 10)
    assert load_interactions_table(inter, path).attribute("age").classes == ("0", "1", "unknown")


def test_recbole_float_field_with_text_names_field_and_line(tmp_path: Path) -> None:
    folder = write_recbole(tmp_path / "mini")
    lines = (folder / "mini.user").read_text().splitlines()
    parts = lines[5].split("\t")
    parts[1] = "abc"
    lines[5] = "\t".join(parts)
    (folder / "mini.user").write_text("\n".join(lines) + "\n")
    err = _error(load_recbole, folder)
    assert err.path == folder / "mini.user" and err.field == "age"
    assert "line 6" in str(err) and "'abc'" in str(err)
