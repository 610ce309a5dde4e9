"""The leakage guard's held-out view over several disjoint masks, pooled into one report."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recunlearn.audit.guard import check_leakage, pool_heldout
from recunlearn.protect.posthoc.base import heldout_masks

ATTACKERS = ("logreg", "knn")


def test_one_pair_and_a_list_of_one_pair_give_the_same_heldout_view(planted_data):
    X = planted_data["X"]
    hidden = heldout_masks(len(X), 0.2, 0)[0]
    common = dict(attackers=ATTACKERS, n_folds=3, seed=0)
    single = check_leakage(X, planted_data["attributes"], ["gender"], heldout=(X, hidden), **common)
    listed = check_leakage(
        X, planted_data["attributes"], ["gender"], heldout=[(X, hidden)], **common
    )
    columns = ["attribute", "attacker", "fold", "bacc"]
    assert single.heldout.records[columns].equals(listed.heldout.records[columns])


def test_pooled_masks_average_the_masks_and_shrink_the_null_spread(planted_data):
    X = planted_data["X"]
    masks = heldout_masks(len(X), 0.2, 0, repeats=5)
    check = check_leakage(
        X,
        planted_data["attributes"],
        ["gender", "noise"],
        heldout=[(X, m) for m in masks],
        attackers=ATTACKERS,
        n_folds=3,
        seed=0,
    )
    pooled = check.heldout
    assert pooled.meta["heldout_masks"] == 5
    assert sorted(pooled.records["fold"].unique()) == [0, 1, 2, 3, 4]
    summary = pooled.summary().set_index(["attribute", "attacker"])
    by_mask = pooled.records.groupby(["attribute", "attacker"])["bacc"].mean()
    for key, mean in by_mask.items():
        assert summary.loc[key, "bacc_mean"] == pytest.approx(mean)
        assert summary.loc[key, "n"] == 5
    info = pooled.meta["per_attribute"]["noise"]
    assert info["n_test_users"] == 5 * 60
    # five disjoint tests: a guesser's spread about 1 / sqrt(5) of one mask's
    one = check_leakage(
        X, planted_data["attributes"], ["noise"], heldout=(X, masks[0]), attackers=ATTACKERS,
        n_folds=3, seed=0,
    ).heldout.meta["per_attribute"]["noise"]["bacc_null_sd"]  # fmt: skip
    assert info["bacc_null_sd"] == pytest.approx(one / math.sqrt(5), rel=0.25)
    # the planted attribute is read on every mask, the independent label on none
    table = check.table().set_index("attribute")
    assert table.loc["gender", "heldout"] > 20
    assert abs(table.loc["noise", "heldout"]) < 4 * 100 * info["bacc_null_sd"]


def test_pooling_nothing_is_refused_and_one_report_is_kept_as_is(planted_data):
    X = planted_data["X"]
    hidden = heldout_masks(len(X), 0.2, 0)[0]
    held = check_leakage(
        X, planted_data["attributes"], ["gender"], heldout=(X, hidden), attackers=("logreg",),
        n_folds=3,
    ).heldout  # fmt: skip
    assert pool_heldout([held]) is held
    with pytest.raises(ValueError, match="no held-out report"):
        pool_heldout([])
    assert np.isfinite(held.summary()["bacc_mean"]).all()
