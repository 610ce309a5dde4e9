"""The held-out view's helpers: which users are hidden, and what a fit without their labels sees."""

from __future__ import annotations

import numpy as np

from recunlearn.data.types import Attribute
from recunlearn.protect.posthoc.base import AttributeLabels, heldout_users, hide_labels

GENDER = Attribute("gender", "categorical", ("F", "M"))
AGE = Attribute("age_raw", "continuous")


def test_hidden_users_lose_their_labels_and_the_input_is_untouched():
    gender = np.array([0, 1, 1, 0, 1])
    age = np.array([20.0, 31.0, 45.0, 52.0, 38.0])
    labels = {"gender": AttributeLabels(GENDER, gender), "age_raw": AttributeLabels(AGE, age)}
    hidden = np.array([False, True, False, True, False])
    seen = hide_labels(labels, hidden)
    np.testing.assert_array_equal(seen["gender"].values, [0, -1, 1, -1, 1])
    np.testing.assert_array_equal(seen["age_raw"].values, [20.0, np.nan, 45.0, np.nan, 38.0])
    np.testing.assert_array_equal(seen["gender"].known, ~hidden)
    np.testing.assert_array_equal(seen["age_raw"].known, ~hidden)
    np.testing.assert_array_equal(labels["gender"].values, [0, 1, 1, 0, 1])
    assert not np.isnan(labels["age_raw"].values).any()


def test_heldout_users_are_a_seeded_share_of_the_users():
    first = heldout_users(20, 0.25, 0)
    assert first.dtype == bool and first.sum() == 5
    np.testing.assert_array_equal(first, heldout_users(20, 0.25, 0))
    # the draw of every committed held-out record: numpy's default_rng(1000 + seed)
    assert np.flatnonzero(first).tolist() == [6, 7, 9, 12, 19]
    assert np.flatnonzero(heldout_users(20, 0.25, 1)).tolist() == [0, 5, 8, 14, 17]
    assert heldout_users(943, 0.2, 0).sum() == 188
