"""Per-user requirement tables: parsing, groups, random draws, and errors that name the file,
the row and the field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recunlearn.core.errors import ConfigError, DataError
from recunlearn.protect.personal import PersonalRequirement, combinations

ATTRIBUTES = ("gender", "age", "occupation")
IDS = np.array([11, 12, 13, 14, 15])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reqs.csv"
    path.write_text(text)
    return path


def test_the_seven_requirements_of_table_2():
    assert combinations(["g", "a", "o"]) == [
        ("g",), ("a",), ("o",), ("g", "a"), ("g", "o"), ("a", "o"), ("g", "a", "o"),
    ]  # fmt: skip
    assert combinations(["g"], include_empty=True) == [(), ("g",)]


def test_csv_rows_become_masks_and_absent_users_ask_for_nothing(tmp_path):
    path = write(
        tmp_path, 'user_id,requirement\n12,gender+age\n11,\n14,occupation\n15,"age , gender"\n'
    )
    table = PersonalRequirement.read_csv(path, IDS, ATTRIBUTES)
    assert table.labels().tolist() == ["", "gender+age", "", "occupation", "gender+age"]
    groups = {"+".join(names): rows.tolist() for names, rows in table.groups()}
    assert groups == {"": [0, 2], "occupation": [3], "gender+age": [1, 4]}
    assert list(groups) == ["", "occupation", "gender+age"]  # empty first, then by size
    assert table.asking("gender").tolist() == [False, True, False, False, True]


def test_unknown_user_names_the_file_line_and_field(tmp_path):
    path = write(tmp_path, "user_id,requirement\n12,gender\n99,age\n")
    with pytest.raises(DataError) as info:
        PersonalRequirement.read_csv(path, IDS, ATTRIBUTES)
    text = str(info.value)
    assert str(path) in text and "line 3" in text and "'user_id'" in text and "'99'" in text


def test_unknown_attribute_names_the_row_and_the_known_ones(tmp_path):
    path = write(tmp_path, "user_id,requirement\n12,gender\n13,gender+religion\n")
    with pytest.raises(DataError) as info:
        PersonalRequirement.read_csv(path, IDS, ATTRIBUTES)
    text = str(info.value)
    assert "line 3" in text and "religion" in text and "'requirement'" in text
    assert "gender, age, occupation" in text


def test_repeated_user_and_missing_column_are_refused(tmp_path):
    path = write(tmp_path, "user_id,requirement\n12,gender\n12,age\n")
    with pytest.raises(DataError, match=r"line 3.*already has a requirement at line 2"):
        PersonalRequirement.read_csv(path, IDS, ATTRIBUTES)
    path = write(tmp_path, "user,requirement\n12,gender\n")
    with pytest.raises(DataError, match="'user_id'.*column not found"):
        PersonalRequirement.read_csv(path, IDS, ATTRIBUTES)
    with pytest.raises(DataError, match="file not found"):
        PersonalRequirement.read_csv(tmp_path / "none.csv", IDS, ATTRIBUTES)


def test_frame_without_a_file_names_the_row():
    frame = pd.DataFrame({"user_id": [11, 77], "requirement": ["age", "age"]})
    with pytest.raises(DataError, match="row 2"):
        PersonalRequirement.from_frame(frame, IDS, ATTRIBUTES)


def test_uniform_and_random_draws():
    uniform = PersonalRequirement.uniform(4, ATTRIBUTES, "age,gender")
    assert uniform.labels().tolist() == ["gender+age"] * 4
    assert PersonalRequirement.uniform(2, ATTRIBUTES, None).labels().tolist() == ["", ""]
    with pytest.raises(ConfigError, match="religion"):
        PersonalRequirement.uniform(2, ATTRIBUTES, "religion")
    drawn = PersonalRequirement.random(2000, ATTRIBUTES, seed=1)
    labels, counts = np.unique(drawn.labels(), return_counts=True)
    assert len(labels) == 7 and "" not in labels and counts.min() > 200
    again = PersonalRequirement.random(2000, ATTRIBUTES, seed=1)
    np.testing.assert_array_equal(drawn.mask, again.mask)
    with_empty = PersonalRequirement.random(2000, ATTRIBUTES, seed=1, include_empty=True)
    assert "" in set(with_empty.labels())


def test_select_reorders_and_refuses_to_drop_asked_columns():
    table = PersonalRequirement.uniform(3, ATTRIBUTES, "age")
    assert table.select(["age", "gender"]).labels().tolist() == ["age"] * 3
    assert table.select(["age", "noise"]).asking("noise").sum() == 0
    with pytest.raises(ConfigError, match="age"):
        table.select(["gender"])
    with pytest.raises(ConfigError, match="mask"):
        PersonalRequirement(("a",), np.zeros((3, 2), bool))
