"""Metrics against hand-computed values, for every convention."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recunlearn.debias.metrics import Convention, auc, evaluate_all, headline


def test_auc_with_ties():
    assert auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert auc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)
    assert math.isnan(auc([1, 1], [0.2, 0.3]))


@pytest.fixture
def toy():
    # user 0: items scored 0.9 (neg), 0.8 (pos), 0.1 (pos) -> ranks: neg, pos, pos
    # user 1: 0.7 (pos), 0.2 (neg)                        -> pos first
    # user 2: no positive
    users = np.array([0, 0, 0, 1, 1, 2, 2])
    labels = np.array([0, 1, 1, 1, 0, 0, 0])
    scores = np.array([0.9, 0.8, 0.1, 0.7, 0.2, 0.5, 0.4])
    return users, labels, scores


def test_ranking_conventions_k2(toy):
    metrics, frame = evaluate_all(*toy, k=2)
    log3 = math.log2(3)
    ndcg0 = (1 / log3) / (1 + 1 / log3)  # DCG: pos at rank 2; IDCG: two positives
    ndcg1 = 1.0
    assert frame.set_index("user").loc[0, "ndcg"] == pytest.approx(ndcg0)
    assert metrics["NDCG@2|positive_only"] == pytest.approx((ndcg0 + ndcg1) / 2)
    assert metrics["NDCG@2|all_users_nopos_ndcg1"] == pytest.approx((ndcg0 + ndcg1 + 1) / 3)
    # recall: user 0 hits 1 of 2 positives; user 1 hits 1 of 1
    assert metrics["Recall@2|positive_only|n_pos"] == pytest.approx((0.5 + 1) / 2)
    assert metrics["Recall@2|all_users_nopos_ndcg1|n_pos"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert metrics["Precision@2|positive_only"] == pytest.approx((0.5 + 0.5) / 2)
    assert metrics["n_users|positive_only"] == 2
    assert metrics["n_users|all_users_nopos_ndcg1"] == 3


def test_recall_min_k_denominator_differs(toy):
    metrics, _ = evaluate_all(*toy, k=1)
    # K=1: user 0 hits 0 (neg on top); user 1 hits 1; n_pos denominators 2 and 1, min(K,n) 1, 1
    assert metrics["Recall@1|positive_only|n_pos"] == pytest.approx(0.5)
    assert metrics["Recall@1|positive_only|min_k_npos"] == pytest.approx(0.5)
    users, labels, scores = toy
    scores = scores.copy()
    scores[1] = 0.95  # user 0 now ranks a positive first
    metrics, _ = evaluate_all(users, labels, scores, k=1)
    assert metrics["Recall@1|positive_only|n_pos"] == pytest.approx((0.5 + 1) / 2)
    assert metrics["Recall@1|positive_only|min_k_npos"] == pytest.approx(1.0)


def test_headline_names_convention(toy):
    metrics, _ = evaluate_all(*toy, k=2)
    row = headline(metrics, Convention("all_users_nopos_ndcg1", "min_k_npos"))
    assert row["convention"] == "all_users_nopos_ndcg1|min_k_npos"
    assert row["NDCG@2"] == metrics["NDCG@2|all_users_nopos_ndcg1"]
    with pytest.raises(ValueError):
        Convention("everyone", "n_pos")


def test_perfect_and_random_scores():
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(50), 10)
    labels = rng.random(500) < 0.3
    perfect, _ = evaluate_all(users, labels, labels + 0.0, k=5)
    assert perfect["AUC"] == 1.0 and perfect["NDCG@5|positive_only"] == pytest.approx(1.0)
    noisy, _ = evaluate_all(users, labels, rng.random(500), k=5)
    assert 0.35 < noisy["AUC"] < 0.65 and noisy["NDCG@5|positive_only"] < 0.9
