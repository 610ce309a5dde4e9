"""The batched evaluator on tiny evaluation sets with fixed score matrices."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from recunlearn.data.split_types import EvalSet
from recunlearn.evaluation import evaluate, evaluate_scores

N_USERS, N_ITEMS = 4, 8

# user 1 is not evaluated; its row must never be asked for
SCORES = torch.tensor(
    [
        [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2],
        [9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0],
        [-1.0, -2.0, 0.1, -0.5, -3.0, 0.2, -0.1, -0.2],
        [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
    ]
)
KNOWN = {0: [0], 2: [2, 5], 3: []}
TARGET = {0: [2], 2: [0, 3], 3: [7]}
D = 1 / np.log2(np.arange(2, 12))  # discount of rank r is D[r]


def _csr(rows: dict[int, list[int]]) -> sp.csr_matrix:
    dense = np.zeros((N_USERS, N_ITEMS), dtype=np.float32)
    for user, items in rows.items():
        dense[user, items] = 1.0
    return sp.csr_matrix(dense)


@pytest.fixture()
def evalset() -> EvalSet:
    return EvalSet(users=np.array([0, 2, 3]), known=_csr(KNOWN), target=_csr(TARGET))


def score_fn(batch: np.ndarray) -> torch.Tensor:
    assert 1 not in batch.tolist()
    return SCORES[torch.from_numpy(batch)]


def test_full_ranking_by_hand(evalset):
    result = evaluate_scores(
        score_fn, evalset, ks=(1, 2, 4), metrics=("HR", "NDCG", "Recall", "RecallCapped")
    )
    frame = result.per_user.set_index("user")
    assert result.mode == "full"
    assert frame.index.tolist() == [0, 2, 3]
    assert frame["n_targets"].tolist() == [1, 2, 1]
    # user 0: item 0 masked -> ranking 1, 2, ... -> target 2 at rank 1
    # user 2: items 2 and 5 masked -> ranking 6, 7, 3, 0, 1, 4 -> targets at ranks 2 and 3
    # user 3: ranking 7, 6, ... -> target at rank 0
    np.testing.assert_allclose(frame["HR@1"], [0, 0, 1])
    np.testing.assert_allclose(frame["HR@2"], [1, 0, 1])
    np.testing.assert_allclose(frame["HR@4"], [1, 1, 1])
    np.testing.assert_allclose(frame["NDCG@2"], [D[1], 0, 1])
    np.testing.assert_allclose(frame["NDCG@4"], [D[1], (D[2] + D[3]) / (D[0] + D[1]), 1])
    np.testing.assert_allclose(frame["Recall@4"], [1, 1, 1])
    np.testing.assert_allclose(frame["Recall@2"], [1, 0, 1])
    np.testing.assert_allclose(frame["RecallCapped@1"], [0, 0, 1])
    assert result.summary["HR@2"] == pytest.approx(2 / 3)
    assert result.summary["NDCG@4"] == pytest.approx(
        np.mean([D[1], (D[2] + D[3]) / (D[0] + D[1]), 1])
    )
    assert result.details["n_users"] == 3


def test_mask_value_zero_ranks_known_items_above_negative_scores(evalset):
    result = evaluate_scores(score_fn, evalset, ks=(4, 10), mask_value=0.0)
    frame = result.per_user.set_index("user")
    # user 2: known items 2 and 5 now score 0 > every other (negative) score ->
    # ranking {2, 5}, 6, 7, 3, 0 -> targets at ranks 4 and 5
    assert frame.loc[2, "HR@4"] == 0
    assert frame.loc[2, "NDCG@10"] == pytest.approx((D[4] + D[5]) / (D[0] + D[1]))
    # users whose scores are all above 0 are unaffected
    assert frame.loc[0, "NDCG@10"] == pytest.approx(D[1])
    assert frame.loc[3, "NDCG@10"] == pytest.approx(1.0)


def test_return_topk(evalset):
    result = evaluate_scores(score_fn, evalset, ks=(2,), return_topk=3)
    np.testing.assert_array_equal(result.details["topk_items"], [[1, 2, 3], [6, 7, 3], [7, 6, 5]])
    np.testing.assert_allclose(
        result.details["topk_scores"], [[0.8, 0.7, 0.6], [-0.1, -0.2, -0.5], [0.7, 0.6, 0.5]]
    )
    # known items (0 for user 0; 2 and 5 for user 2) are not in the lists above
    assert "topk_items" not in evaluate_scores(score_fn, evalset, ks=(2,)).details


def test_return_topk_longer_than_kmax_and_catalogue(evalset):
    result = evaluate_scores(score_fn, evalset, ks=(2,), return_topk=N_ITEMS + 5)
    assert result.details["topk_items"].shape == (3, N_ITEMS)
    assert np.isneginf(result.details["topk_scores"][1, -2:]).all()  # user 2's masked items


def test_batch_size_does_not_change_results(evalset):
    one = evaluate_scores(score_fn, evalset, ks=(1, 4), batch_size=1)
    big = evaluate_scores(score_fn, evalset, ks=(1, 4), batch_size=1024)
    assert one.summary == big.summary
    sampled_one = evaluate_scores(score_fn, evalset, ks=(2,), mode="sampled", batch_size=1)
    sampled_big = evaluate_scores(score_fn, evalset, ks=(2,), mode="sampled", batch_size=2)
    assert sampled_one.summary == sampled_big.summary


def test_evaluate_wraps_a_model(evalset):
    class Model:
        def score(self, users, user_embeddings=None):
            assert user_embeddings is None
            return SCORES[torch.from_numpy(users)]

    assert (
        evaluate(Model(), evalset, ks=(2,)).summary
        == evaluate_scores(score_fn, evalset, ks=(2,)).summary
    )


def test_bad_arguments(evalset):
    with pytest.raises(ValueError, match="unknown metrics"):
        evaluate_scores(score_fn, evalset, metrics=("MRR",))
    with pytest.raises(ValueError, match="unknown evaluation mode"):
        evaluate_scores(score_fn, evalset, mode="partial")
    with pytest.raises(ValueError, match="positive cut-offs"):
        evaluate_scores(score_fn, evalset, ks=(0,))
    with pytest.raises(ValueError, match="expected"):
        evaluate_scores(lambda batch: torch.zeros(len(batch), N_ITEMS + 1), evalset)


# --------------------------------------------------------------------------- sampled mode

BIG_USERS, BIG_ITEMS = 12, 300


def _sampled_setup() -> tuple[EvalSet, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    known = np.zeros((BIG_USERS, BIG_ITEMS), dtype=np.float32)
    target = np.zeros((BIG_USERS, BIG_ITEMS), dtype=np.float32)
    for user in range(BIG_USERS):
        items = rng.choice(BIG_ITEMS, 42, replace=False)
        known[user, items[:40]] = 1.0
        target[user, items[40 : 40 + 1 + user % 2]] = 1.0  # 1 or 2 targets
    users = np.arange(BIG_USERS)
    return EvalSet(users, sp.csr_matrix(known), sp.csr_matrix(target)), known, target


def test_sampled_candidates_are_targets_plus_99_fresh_negatives():
    evalset, known, target = _sampled_setup()
    n_targets = target.sum(axis=1)

    # all scores equal: ties go against the targets, so they rank after every negative ->
    # a single target sits exactly at rank 99 (0-based): HR@99 = 0, HR@100 = 1
    def flat(batch):
        return torch.zeros(len(batch), BIG_ITEMS)

    frame = evaluate_scores(
        flat, evalset, ks=(99, 100, 101), metrics=("HR", "Recall"), mode="sampled"
    ).per_user.set_index("user")
    single = n_targets == 1
    np.testing.assert_array_equal(frame["HR@99"], 0)
    np.testing.assert_array_equal(frame.loc[single, "HR@100"], 1)
    # two targets: 101 candidates, the targets at ranks 99 and 100
    np.testing.assert_array_equal(frame.loc[~single, "Recall@100"], 0.5)
    np.testing.assert_array_equal(frame.loc[~single, "Recall@101"], 1)

    # known items score 10 and targets 1: a sampled known item would beat the targets;
    # a target sampled again as a negative would tie with it and rank first (pessimistic)
    def planted(batch):
        scores = torch.zeros(len(batch), BIG_ITEMS)
        scores += 10 * torch.from_numpy(known[batch]) + torch.from_numpy(target[batch])
        return scores

    result = evaluate_scores(planted, evalset, ks=(1, 2), metrics=("Recall", "HR"), mode="sampled")
    frame = result.per_user.set_index("user")
    np.testing.assert_array_equal(frame["HR@1"], 1)
    np.testing.assert_array_equal(frame["Recall@2"], 1)


def test_sampled_mode_is_seeded():
    evalset, _, _ = _sampled_setup()
    scores = torch.from_numpy(np.random.default_rng(0).normal(size=(BIG_USERS, BIG_ITEMS)))

    def random_scores(batch):
        return scores[torch.from_numpy(batch)]

    def run(seed):
        return evaluate_scores(
            random_scores, evalset, ks=(5, 10), mode="sampled", seed=seed
        ).per_user

    first, again, other = run(7), run(7), run(8)
    assert first.equals(again)
    assert not first.equals(other)


def test_sampled_mode_with_fewer_candidates_than_k(evalset):
    # 8 items: the pools hold fewer than 99 negatives and fewer candidates than k=10
    result = evaluate_scores(score_fn, evalset, ks=(10,), mode="sampled")
    frame = result.per_user.set_index("user")
    np.testing.assert_array_equal(frame["HR@10"], [1, 1, 1])
    # user 0's candidates are every item but the known item 0: target 2 ranks behind item 1 only
    assert frame.loc[0, "NDCG@10"] == pytest.approx(D[1])
    assert frame.loc[3, "NDCG@10"] == pytest.approx(1.0)


def test_sampled_mode_defaults_to_seed_zero():
    # EvalSpec's seed is 0 too: a run directory evaluated without one is reproducible
    evalset, _, _ = _sampled_setup()
    scores = torch.from_numpy(np.random.default_rng(0).normal(size=(BIG_USERS, BIG_ITEMS)))

    def random_scores(batch):
        return scores[torch.from_numpy(batch)]

    default = evaluate_scores(random_scores, evalset, ks=(5, 10), mode="sampled").per_user
    assert default.equals(
        evaluate_scores(random_scores, evalset, ks=(5, 10), mode="sampled", seed=0).per_user
    )
    assert not default.equals(
        evaluate_scores(random_scores, evalset, ks=(5, 10), mode="sampled", seed=1).per_user
    )


def test_no_user_to_evaluate(evalset):
    empty = EvalSet(users=np.zeros(0, dtype=np.int64), known=evalset.known, target=evalset.target)
    result = evaluate_scores(score_fn, empty, ks=(2,), metrics=("HR", "NDCG"))
    assert len(result.per_user) == 0 and list(result.per_user.columns[-2:]) == ["HR@2", "NDCG@2"]
    assert result.details["n_users"] == 0
    assert all(np.isnan(v) for v in result.summary.values())
