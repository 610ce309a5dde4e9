"""Tests of the shared vectorised negative sampler."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from recunlearn.models.sampling import NegativeSampler, TrainingPairs, positive_pairs


def _matrix() -> sp.csr_matrix:
    """6 users x 10 items: sparse rows, a nearly full row (user 3), an empty row (user 4)."""
    dense = np.zeros((6, 10), dtype=np.float32)
    dense[0, [1, 2, 3]] = 1
    dense[1, [0, 9]] = 1
    dense[2, [5]] = 1
    dense[3, [0, 1, 2, 3, 4, 5, 6, 8, 9]] = 1  # only item 7 left
    dense[5, np.arange(0, 10, 2)] = 1
    return sp.csr_matrix(dense)


def test_negatives_are_never_training_items() -> None:
    train = _matrix()
    sampler = NegativeSampler(train)
    users = torch.tensor([0, 1, 2, 3, 4, 5] * 50)
    negatives = sampler.sample(users, 7, torch.Generator().manual_seed(0))
    assert negatives.shape == (300, 7)
    assert negatives.dtype == torch.int64
    dense = train.toarray()
    hit = dense[users.numpy()[:, None], negatives.numpy()]
    assert not hit.any()
    assert negatives.min() >= 0 and negatives.max() < 10
    # the nearly full row goes through the exact fallback: always item 7
    assert (negatives[users == 3] == 7).all()


def test_same_seed_same_draws_and_different_seed_differs() -> None:
    sampler = NegativeSampler(_matrix())
    users = np.repeat(np.arange(6), 20)
    a = sampler.sample(users, 3, torch.Generator().manual_seed(5))
    b = sampler.sample(users, 3, torch.Generator().manual_seed(5))
    c = sampler.sample(users, 3, torch.Generator().manual_seed(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_draws_are_uniform_over_the_complement() -> None:
    sampler = NegativeSampler(_matrix())
    draws = sampler.sample(
        torch.zeros(14_000, dtype=torch.long), 5, torch.Generator().manual_seed(1)
    )
    counts = np.bincount(draws.reshape(-1).numpy(), minlength=10)
    assert counts[[1, 2, 3]].sum() == 0
    allowed = counts[[0, 4, 5, 6, 7, 8, 9]]
    expected = draws.numel() / 7
    chi2 = float(((allowed - expected) ** 2 / expected).sum())
    assert chi2 < 30.0  # 6 degrees of freedom: p < 1e-4 for a uniform sampler


def test_full_row_raises() -> None:
    train = sp.csr_matrix(np.ones((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="every item"):
        NegativeSampler(train).sample(torch.tensor([1]), 1, torch.Generator())


def test_is_positive_and_positive_pairs() -> None:
    train = _matrix()
    users, items = positive_pairs(train)
    coo = train.tocoo()
    assert sorted(zip(users.tolist(), items.tolist(), strict=True)) == sorted(
        zip(coo.row.tolist(), coo.col.tolist(), strict=True)
    )
    sampler = NegativeSampler(train)
    all_u = torch.arange(6).repeat_interleave(10)
    all_i = torch.arange(10).repeat(6)
    expected = torch.from_numpy(train.toarray().reshape(-1) > 0)
    assert torch.equal(sampler.is_positive(all_u, all_i), expected)


def test_empty_matrix_and_empty_request() -> None:
    sampler = NegativeSampler(sp.csr_matrix((3, 5), dtype=np.float32))
    out = sampler.sample(torch.tensor([0, 2]), 4, torch.Generator().manual_seed(0))
    assert out.shape == (2, 4)
    empty = NegativeSampler(_matrix()).sample(
        torch.tensor([], dtype=torch.long), 2, torch.Generator()
    )
    assert empty.shape == (0, 2)


def test_training_pairs_epoch_visits_every_positive_once() -> None:
    train = _matrix()
    pairs = TrainingPairs(train)
    assert len(pairs) == train.nnz
    batches = list(pairs.epoch(3, 4, torch.Generator().manual_seed(0)))
    assert [len(users) for users, _, _ in batches] == [4, 4, 4, 4, 4]  # 20 positives
    users = torch.cat([b[0] for b in batches]).numpy()
    items = torch.cat([b[1] for b in batches]).numpy()
    negatives = torch.cat([b[2] for b in batches]).numpy()
    assert sorted(zip(users, items, strict=True)) == sorted(zip(*train.nonzero(), strict=True))
    assert negatives.shape == (train.nnz, 3)
    dense = train.toarray()
    assert not dense[users[:, None], negatives].any()  # never a training item of its user
    again = list(pairs.epoch(3, 4, torch.Generator().manual_seed(0)))
    assert all(
        torch.equal(a, b)
        for x, y in zip(batches, again, strict=True)
        for a, b in zip(x, y, strict=True)
    )
