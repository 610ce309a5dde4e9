"""Fold plans and stratified samples."""

from __future__ import annotations

import numpy as np

from recunlearn.audit.splits import fixed_plan, kfold_plan, strata, stratified_sample


def test_kfold_partitions_every_user_once_per_seed_and_stratifies():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    plans = kfold_plan(y, "categorical", 5, (0, 1))
    assert len(plans) == 10
    for seed in (0, 1):
        tests = np.concatenate([p.test for p in plans if p.seed == seed])
        np.testing.assert_array_equal(np.sort(tests), np.arange(100))
    for plan in plans:
        assert not set(plan.train) & set(plan.test)
        assert len(plan.train) + len(plan.test) == 100
        np.testing.assert_array_equal(np.bincount(y[plan.test]), [10, 6, 4])  # 80/20 per class
    assert not np.array_equal(plans[0].test, plans[5].test)  # seeds reshuffle


def test_continuous_kfold_uses_quantile_bins():
    values = np.random.default_rng(0).normal(size=200)
    bins = strata(values, "continuous")
    assert set(bins) == {0, 1, 2, 3, 4}
    plans = kfold_plan(values, "continuous", 5, (0,))
    for plan in plans:
        assert np.bincount(bins[plan.test]).min() >= 7


def test_fixed_plan_trains_on_the_others():
    is_test = np.zeros(10, dtype=bool)
    is_test[[2, 5]] = True
    (p0, p1) = fixed_plan(is_test, (0, 1))
    np.testing.assert_array_equal(p0.test, [2, 5])
    np.testing.assert_array_equal(p0.train, [0, 1, 3, 4, 6, 7, 8, 9])
    assert p0.fold == p1.fold == 0 and (p0.seed, p1.seed) == (0, 1)


def test_stratified_sample_keeps_shares():
    y = np.repeat([0, 1], [800, 200])
    keep = stratified_sample(y, "categorical", 100, seed=0)
    assert len(keep) == 100 and np.all(np.diff(keep) > 0)
    np.testing.assert_array_equal(np.bincount(y[keep]), [80, 20])
    np.testing.assert_array_equal(stratified_sample(y, "categorical", 5000, 0), np.arange(1000))


def test_strata_by_hand():
    np.testing.assert_array_equal(strata([2, 0, 1], "categorical"), [2, 0, 1])
    assert strata(np.array([2.0, 0.0]), "categorical").dtype == np.int64
    # quintile edges of 0..9 are 1.8, 3.6, 5.4, 7.2
    np.testing.assert_array_equal(strata(np.arange(10.0), "continuous"), np.repeat(range(5), 2))
    # every quintile of these values is 1: one edge, a value on it goes to the upper bin
    np.testing.assert_array_equal(
        strata(np.array([0, 1, 1, 1, 1, 2.0]), "continuous"), [0] + [1] * 5
    )
    np.testing.assert_array_equal(strata(np.arange(4.0), "continuous", n_bins=2), [0, 0, 1, 1])


def test_continuous_bins_of_exactly_n_folds_users_are_stratified():
    values = np.random.default_rng(3).permutation(25).astype(np.float64)
    bins = strata(values, "continuous")
    for plan in kfold_plan(values, "continuous", 5, (0, 1)):
        np.testing.assert_array_equal(np.bincount(bins[plan.test], minlength=5), [1] * 5)
    # a bin smaller than the folds: plain k-fold, still a partition
    plans = kfold_plan(np.arange(12.0), "continuous", 5, (0,))
    np.testing.assert_array_equal(np.sort(np.concatenate([p.test for p in plans])), np.arange(12))


def test_stratified_sample_edges():
    y = np.repeat([0, 1, 2], [10, 10, 10])
    np.testing.assert_array_equal(stratified_sample(y, "categorical", 30, 0), np.arange(30))
    for seed in range(5):  # as many users as classes: one of each
        np.testing.assert_array_equal(
            np.bincount(y[stratified_sample(y, "categorical", 3, seed)]), [1, 1, 1]
        )
    two = np.repeat([0, 1], [98, 2])  # a class of two still keeps its share
    for seed in range(5):
        np.testing.assert_array_equal(
            np.bincount(two[stratified_sample(two, "categorical", 50, seed)]), [49, 1]
        )
