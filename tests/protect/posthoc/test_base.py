"""The held-out view's helpers: which users are hidden, and what a fit without their labels sees."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recunlearn.core.errors import ConfigError
from recunlearn.data.types import Attribute
from recunlearn.protect.posthoc.base import (
    AttributeLabels,
    heldout_masks,
    heldout_users,
    hide_labels,
)

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


def test_heldout_masks_are_disjoint_and_the_first_is_the_single_mask():
    masks = heldout_masks(943, 0.2, 3, repeats=5)
    assert len(masks) == 5 and all(m.sum() == 188 for m in masks)
    np.testing.assert_array_equal(masks[0], heldout_users(943, 0.2, 3))
    assert np.stack(masks).sum(axis=0).max() == 1  # every user in at most one mask
    assert np.stack(masks).any(axis=0).sum() == 940
    np.testing.assert_array_equal(heldout_masks(943, 0.2, 3)[0], masks[0])


@pytest.mark.parametrize(("fraction", "repeats"), [(0.3, 4), (0.2, 0), (0.001, 1)])
def test_heldout_masks_that_do_not_fit_are_refused(fraction, repeats):
    with pytest.raises(ConfigError, match="heldout_repeats"):
        heldout_masks(100, fraction, 0, repeats)


def test_model_scorer_masks_known_items_and_scores_pairs_like_the_full_matrix():
    from recunlearn.models.registry import make_model
    from recunlearn.protect.posthoc.base import model_scorer
    from recunlearn.testing.data import make_tiny_dataset, make_tiny_split

    split = make_tiny_split(make_tiny_dataset())
    model = make_model("mf", epochs=1).fit(split, progress=False)
    scorer = model_scorer(model, split.test.known, train=split.train)
    users = torch.tensor([0, 3, 5])
    table = model.user_embeddings()
    raw, masked = scorer.raw(users, table), scorer(users, table)
    known = split.test.known[users.numpy()].toarray().astype(bool)
    assert known.any()
    assert torch.isneginf(masked[torch.from_numpy(known)]).all()
    assert torch.equal(masked[torch.from_numpy(~known)], raw[torch.from_numpy(~known)])
    rows, items = torch.tensor([0, 2, 2, 1]), torch.tensor([4, 0, 7, 4])
    torch.testing.assert_close(scorer.pairs(users, table, rows, items), raw[rows, items])


def test_fit_keeps_a_float32_copy_of_any_input():
    from recunlearn.protect.posthoc.registry import make_unlearner

    matrix = np.random.default_rng(0).normal(size=(6, 3))  # float64
    labels = {"gender": AttributeLabels(GENDER, np.array([0, 1, 0, 1, 0, 1]))}
    method = make_unlearner("dp").fit(matrix, labels)
    assert method.embeddings_.dtype == torch.float32
    matrix[0, 0] = 99.0
    assert float(method.embeddings_[0, 0]) != 99.0


def test_non_finite_embeddings_are_refused_by_name():
    from recunlearn.core.errors import DataError
    from recunlearn.protect.posthoc.registry import make_unlearner

    matrix = np.ones((4, 2))
    matrix[1, 1] = np.inf
    labels = {"gender": AttributeLabels(GENDER, np.array([0, 1, 0, 1]))}
    with pytest.raises(DataError, match="field 'embeddings': embeddings contain NaN or infinite"):
        make_unlearner("dp").fit(matrix, labels)
