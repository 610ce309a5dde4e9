"""In-memory inputs: coercion of attribute values and the join by id."""

from __future__ import annotations

import numpy as np
import pytest

from recunlearn.audit.inputs import AttributeTable, EmbeddingTable, coerce_values, join
from recunlearn.core.errors import DataError
from recunlearn.data.types import Attribute

G = Attribute("gender", "categorical", ("F", "M"))
AGE = Attribute("age", "continuous")


def test_coerce_labels_codes_and_missing():
    np.testing.assert_array_equal(coerce_values(G, ["M", "F", None, "M"]), [1, 0, -1, 1])
    np.testing.assert_array_equal(coerce_values(G, [1, 0, np.nan]), [1, 0, -1])
    with pytest.raises(DataError, match="field 'gender'.*unknown class 'X'"):
        coerce_values(G, ["M", "X"])
    with pytest.raises(DataError, match="out of range"):
        coerce_values(G, [0, 2])


def test_continuous_given_as_text_is_refused():
    with pytest.raises(DataError, match="field 'age': continuous attribute given as text"):
        coerce_values(AGE, ["31", "young", "40"])
    np.testing.assert_array_equal(coerce_values(AGE, ["31", None]), [31.0, np.nan])


def test_join_by_id_matches_users_and_counts_the_rest():
    emb = EmbeddingTable(np.arange(8.0).reshape(4, 2), ids=[10, 11, 12, 13])
    attrs = AttributeTable((G,), {"gender": np.array([1, 0, 1])}, ids=[13, 11, 99])
    joined = join(emb, attrs)
    np.testing.assert_array_equal(joined.ids, [11, 13])
    np.testing.assert_array_equal(joined.matrix, [[2.0, 3.0], [6.0, 7.0]])
    np.testing.assert_array_equal(joined.values["gender"], [0, 1])
    assert joined.info == {
        "n_embedding_rows": 4,
        "n_attribute_rows": 3,
        "join": "id",
        "n_matched": 2,
        "n_embedding_only": 2,
        "n_attribute_only": 1,
    }
    with pytest.raises(DataError, match="ids differ"):
        join(emb, attrs, strict=True)


def test_join_without_common_ids_or_with_duplicates_fails():
    emb = EmbeddingTable(np.zeros((2, 2)), ids=["a", "b"])
    attrs = AttributeTable((G,), {"gender": np.array([1, 0])}, ids=["c", "d"])
    with pytest.raises(DataError, match="field 'user_id': no user id is shared"):
        join(emb, attrs)
    dup = EmbeddingTable(np.zeros((2, 2)), ids=[1, 1])
    with pytest.raises(DataError, match="field 'user_id': 1 duplicated user ids"):
        join(dup, AttributeTable((G,), {"gender": np.array([1, 0])}, ids=[1, 2]))


def test_integer_and_text_ids_are_compared_as_text():
    emb = EmbeddingTable(np.zeros((2, 2)), ids=[1, 2])
    attrs = AttributeTable((G,), {"gender": np.array([1, 0])}, ids=["2", "1"])
    assert join(emb, attrs).info["n_matched"] == 2


def test_row_join_needs_equal_lengths_and_non_finite_values_fail():
    attrs = AttributeTable((G,), {"gender": np.array([1, 0, 1])})
    with pytest.raises(DataError, match="matched by position"):
        join(EmbeddingTable(np.zeros((2, 2))), attrs)
    bad = np.zeros((3, 2))
    bad[1, 1] = np.inf
    with pytest.raises(DataError, match="field 'e1': 1 NaN or infinite"):
        join(EmbeddingTable(bad), attrs)
