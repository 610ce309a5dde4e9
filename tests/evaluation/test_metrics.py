"""Ranking metrics against values computed by hand on small hit matrices."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from recunlearn.evaluation.metrics import METRICS, hit_ratio, ndcg, recall, recall_capped

# rank:          0      1      2      3
HITS = np.array(
    [
        [True, False, True, False],  # 2 targets, found at ranks 0 and 2
        [False, False, False, False],  # 1 target, missed
        [False, True, False, False],  # 3 targets, one found at rank 1
    ]
)
N_TARGETS = np.array([2, 1, 3])

D1, D2, D3, D4 = 1.0, 1 / np.log2(3), 1 / np.log2(4), 1 / np.log2(5)  # discounts of ranks 0..3


def test_hit_ratio_by_hand():
    np.testing.assert_array_equal(hit_ratio(HITS, 1), [1, 0, 0])
    np.testing.assert_array_equal(hit_ratio(HITS, 2), [1, 0, 1])
    np.testing.assert_array_equal(hit_ratio(HITS, 4), [1, 0, 1])
    assert hit_ratio(HITS, 1).dtype == np.float64


def test_ndcg_by_hand():
    # k=1: user 0 ideal = 1 target at rank 0 -> 1; user 2 misses rank 0 -> 0
    np.testing.assert_allclose(ndcg(HITS, N_TARGETS, 1), [1.0, 0.0, 0.0])
    # k=2: ideal DCG places min(2, |T|) targets first
    expected_2 = [D1 / (D1 + D2), 0.0, D2 / (D1 + D2)]
    np.testing.assert_allclose(ndcg(HITS, N_TARGETS, 2), expected_2)
    # k=4: user 0 gets ranks 0 and 2 of an ideal 2; user 2 rank 1 of an ideal 3
    expected_4 = [(D1 + D3) / (D1 + D2), 0.0, D2 / (D1 + D2 + D3)]
    np.testing.assert_allclose(ndcg(HITS, N_TARGETS, 4), expected_4)


def test_recall_divides_by_all_targets():
    np.testing.assert_allclose(recall(HITS, N_TARGETS, 1), [1 / 2, 0, 0])
    np.testing.assert_allclose(recall(HITS, N_TARGETS, 2), [1 / 2, 0, 1 / 3])
    np.testing.assert_allclose(recall(HITS, N_TARGETS, 4), [2 / 2, 0, 1 / 3])


def test_recall_capped_divides_by_min_k_targets():
    np.testing.assert_allclose(recall_capped(HITS, N_TARGETS, 1), [1 / 1, 0, 0 / 1])
    np.testing.assert_allclose(recall_capped(HITS, N_TARGETS, 2), [1 / 2, 0, 1 / 2])
    np.testing.assert_allclose(recall_capped(HITS, N_TARGETS, 4), [2 / 2, 0, 1 / 3])


def test_users_without_targets_score_zero_not_nan():
    hits = np.zeros((2, 3), dtype=bool)
    n_targets = np.array([0, 0])
    for name, function in METRICS.items():
        values = function(hits, n_targets, 3)
        np.testing.assert_array_equal(values, [0.0, 0.0], err_msg=name)


def test_single_target_ndcg_is_inverse_log_rank():
    hits = np.eye(4, dtype=bool)  # user r finds its only target at rank r
    np.testing.assert_allclose(ndcg(hits, np.ones(4), 4), [D1, D2, D3, D4])
    np.testing.assert_allclose(hit_ratio(hits, 3), [1, 1, 1, 0])


def test_cutoff_larger_than_the_list():
    # a list shorter than k counts the missing positions as misses
    hits = np.array([[False, True]])
    assert ndcg(hits, np.array([1]), 5)[0] == pytest.approx(D2)
    assert recall(hits, np.array([2]), 5)[0] == pytest.approx(0.5)
    assert recall_capped(hits, np.array([2]), 5)[0] == pytest.approx(0.5)


def test_metric_table():
    assert set(METRICS) == {"HR", "NDCG", "Recall", "RecallCapped"}
    np.testing.assert_allclose(METRICS["HR"](HITS, N_TARGETS, 2), hit_ratio(HITS, 2))
    np.testing.assert_allclose(METRICS["NDCG"](HITS, N_TARGETS, 2), ndcg(HITS, N_TARGETS, 2))


def test_users_without_targets_are_exactly_zero_whatever_the_memory_holds():
    # the zero comes from an initialised output, not from whatever a fresh buffer holds
    hits = np.array([[True, False], [False, False], [False, True], [False, False]])
    n_targets = np.array([1, 0, 2, 0])
    for name, function in METRICS.items():
        dirty = np.full(len(n_targets), 7.0)
        del dirty
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy warns when an output is left uninitialised
            values = function(hits, n_targets, 2)
        assert values[1] == 0.0 and values[3] == 0.0, name
