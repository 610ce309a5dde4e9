"""List re-encoding: each output row is decoded from its own top-K list by a decoder fitted on
the other users (its own target never reaches it), identical lists in a fold decode to the same
row, and as a post-step of the split eraser it keeps a planted attribute removed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recunlearn.core.errors import ConfigError
from recunlearn.protect.posthoc.list_reencoding import list_bags, reencode, top_lists
from recunlearn.protect.posthoc.split_eraser import SplitEraser
from recunlearn.testing.data import LinearScorer
from tests.protect.posthoc.test_split_eraser import TOLERANCE, _attributes, planted  # noqa: F401


def test_top_lists_are_ranked_and_bags_weighted_by_rank():
    items = torch.eye(4)
    table = torch.tensor([[0.1, 0.9, 0.5, 0.0], [1.0, 0.2, 0.0, 2.0]])
    lists, n_items = top_lists(lambda users, t: t[users] @ items.T, table, top=3, chunk=1)
    np.testing.assert_array_equal(lists, [[1, 2, 0], [3, 0, 1]])
    assert n_items == 4
    bags = list_bags(lists, 4).toarray()
    np.testing.assert_allclose(bags[0], [0.5, 1.0, 1 / np.log2(3), 0.0])


def test_a_users_own_target_never_reaches_its_row():
    rng = np.random.default_rng(0)
    lists = np.stack([rng.permutation(30)[:5] for _ in range(60)])
    bags = list_bags(lists, 30)
    target = rng.normal(size=(60, 4))
    before = reencode(bags, target, alpha=0.1, folds=5, seed=1)
    changed = target.copy()
    changed[7] += 100.0
    after = reencode(bags, changed, alpha=0.1, folds=5, seed=1)
    np.testing.assert_allclose(after[7], before[7])  # cross-fitted: row 7 is not its own teacher
    assert np.abs(after - before).max() > 1.0  # ... but it does teach the other folds


def test_identical_lists_in_a_fold_decode_to_the_same_row():
    rng = np.random.default_rng(0)
    lists = np.stack([rng.permutation(30)[:5] for _ in range(40)])
    lists[1::2] = lists[::2]  # pairs of users with the same list, different targets
    target = rng.normal(size=(40, 3))
    out = reencode(list_bags(lists, 30), target, alpha=0.1, folds=1 + 1, seed=0)
    fold = np.random.default_rng(0).permutation(40) % 2
    for a in range(0, 40, 2):
        if fold[a] == fold[a + 1]:
            np.testing.assert_allclose(out[a], out[a + 1])


def test_as_a_post_step_it_keeps_the_attribute_removed(planted):  # noqa: F811
    from recunlearn.audit import audit

    matrix, labels = planted
    scorer = LinearScorer(matrix, n_items=200, per_user=5)
    eraser = SplitEraser(reencode_top=20).fit(matrix, labels, scorer=scorer)
    protected = eraser.transform("gender").numpy()
    assert protected.shape == matrix.shape and np.isfinite(protected).all()
    report = audit(
        protected, _attributes(labels), select=["gender"], attackers=("logreg", "knn"),
        n_folds=3, progress=False,
    )  # fmt: skip
    worst = report.worst_case().iloc[0]
    assert abs(worst["bacc_mean"] - 0.5) * 100 <= TOLERANCE
    with pytest.raises(ConfigError, match="scorer"):
        SplitEraser(reencode_top=20).fit(matrix, labels)


@pytest.mark.parametrize("n_items", [25, 400])
def test_item_and_user_forms_of_the_ridge_agree(n_items):
    rng = np.random.default_rng(3)
    lists = np.stack([rng.permutation(n_items)[:6] for _ in range(90)])
    bags = list_bags(lists, n_items)
    target = rng.normal(size=(90, 5))
    by_items = reencode(bags, target, alpha=0.3, folds=4, seed=2, form="items")
    by_users = reencode(bags, target, alpha=0.3, folds=4, seed=2, form="users")
    np.testing.assert_allclose(by_items, by_users, atol=1e-10)
    np.testing.assert_allclose(reencode(bags, target, 0.3, 4, 2), by_items, atol=1e-10)
    assert np.abs(by_items).max() > 0.1  # not a trivial zero decoding
