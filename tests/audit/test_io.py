"""Reading embedding tables, id lists and attribute tables; errors name the file and field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

from recunlearn.audit.io import read_attributes, read_embeddings, read_ids
from recunlearn.core.errors import DataError

IDS = np.array([7, 3, 5])
MATRIX = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])


def _frame():
    frame = pd.DataFrame(MATRIX, columns=["e0", "e1"])
    frame.insert(0, "user_id", IDS)
    return frame


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_tables(tmp_path, suffix):
    path = tmp_path / f"emb{suffix}"
    _frame().to_parquet(path) if suffix == ".parquet" else _frame().to_csv(path, index=False)
    table = read_embeddings(path)
    np.testing.assert_array_equal(table.ids, IDS)
    np.testing.assert_array_equal(table.matrix, MATRIX)
    assert table.columns == ("e0", "e1") and table.path == path


def test_npy_with_sibling_or_explicit_ids(tmp_path):
    path = tmp_path / "emb.npy"
    np.save(path, MATRIX)
    with pytest.raises(DataError, match=r"emb.npy'.*field 'user_id': no user ids"):
        read_embeddings(path)
    (tmp_path / "emb.ids.txt").write_text("7\n3\n5\n")
    np.testing.assert_array_equal(read_embeddings(path).ids, IDS)
    other = tmp_path / "ids.csv"
    other.write_text("user_id\nu7\nu3\nu5\n")
    np.testing.assert_array_equal(read_embeddings(path, ids=other).ids, ["u7", "u3", "u5"])
    short = tmp_path / "short.txt"
    short.write_text("1\n2\n")
    with pytest.raises(DataError, match="2 ids for 3 embedding rows"):
        read_embeddings(path, ids=short)


def test_safetensors_with_embedded_ids(tmp_path):
    path = tmp_path / "emb.safetensors"
    save_file(
        {
            "user_embeddings": torch.tensor(MATRIX, dtype=torch.float32),
            "user_ids": torch.tensor(IDS),
        },
        str(path),
    )
    table = read_embeddings(path)
    np.testing.assert_array_equal(table.ids, IDS)
    np.testing.assert_allclose(table.matrix, MATRIX)
    lone = tmp_path / "lone.safetensors"
    save_file({"U": torch.tensor(MATRIX)}, str(lone))
    (tmp_path / "lone.ids.txt").write_text("7\n3\n5\n")
    np.testing.assert_array_equal(read_embeddings(lone).ids, IDS)


def test_read_ids_txt_and_single_column_csv(tmp_path):
    (tmp_path / "a.txt").write_text("user_id\n10\n20\n\n")
    np.testing.assert_array_equal(read_ids(tmp_path / "a.txt"), [10, 20])
    (tmp_path / "b.csv").write_text("x\ny\n")
    np.testing.assert_array_equal(read_ids(tmp_path / "b.csv"), ["x", "y"])


def test_embedding_file_errors(tmp_path):
    frame = _frame()
    frame["e1"] = frame["e1"].astype(object)
    frame.loc[1, "e1"] = "abc"
    bad = tmp_path / "text.csv"
    frame.to_csv(bad, index=False)
    with pytest.raises(DataError, match=r"text.csv'.*field 'e1': embedding column is not numeric"):
        read_embeddings(bad)
    nouser = tmp_path / "noid.csv"
    _frame().drop(columns="user_id").to_csv(nouser, index=False)
    with pytest.raises(DataError, match=r"noid.csv'.*field 'user_id'"):
        read_embeddings(nouser)
    with pytest.raises(DataError, match="unknown embedding format"):
        (tmp_path / "x.bin").write_bytes(b"0")
        read_embeddings(tmp_path / "x.bin")


def _attributes_csv(tmp_path, **extra):
    frame = pd.DataFrame(
        {
            "user_id": [1, 2, 3, 4, 5, 6],
            "gender": ["F", "M", "M", None, "F", "M"],
            "age": [21, 35, 47, 52, 33, 29],
            "level": [1, 2, 1, 2, 1, 3],
            **extra,
        }
    )
    path = tmp_path / "users.csv"
    frame.to_csv(path, index=False)
    return path


def test_attribute_kinds_inferred_and_overridden(tmp_path):
    path = _attributes_csv(tmp_path)
    table = read_attributes(path)
    kinds = {a.name: a.kind for a in table.attributes}
    # 6 distinct ages (<= 10) -> categorical unless declared
    assert kinds == {"gender": "categorical", "age": "categorical", "level": "categorical"}
    table = read_attributes(path, kinds={"age": "continuous"}, columns=["gender", "age"])
    assert [a.name for a in table.attributes] == ["gender", "age"]
    assert table.attribute("age").kind == "continuous"
    np.testing.assert_array_equal(table.values["gender"], [0, 1, 1, -1, 0, 1])
    np.testing.assert_array_equal(table.ids, [1, 2, 3, 4, 5, 6])


def test_attribute_file_errors_name_file_and_field(tmp_path):
    path = _attributes_csv(tmp_path, job=["a", "b", "c", "d", "e", "x"])
    with pytest.raises(DataError, match=r"users.csv'.*field 'job': continuous attribute"):
        read_attributes(path, kinds={"job": "continuous"})
    with pytest.raises(DataError, match=r"users.csv'.*field 'nope'"):
        read_attributes(path, columns=["nope"])
    single = _attributes_csv(tmp_path, country=["US"] * 6)
    with pytest.raises(DataError, match=r"users.csv'.*field 'country': a single class"):
        read_attributes(single)
    dup = tmp_path / "dup.csv"
    pd.DataFrame({"user_id": [1, 1], "gender": ["F", "M"]}).to_csv(dup, index=False)
    with pytest.raises(DataError, match=r"dup.csv'.*field 'user_id': 1 duplicated"):
        read_attributes(dup)
