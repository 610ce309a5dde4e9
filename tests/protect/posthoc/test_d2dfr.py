"""D2DFR aligns groups, keeps rankings with its regulariser, and runs sequentially."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recunlearn.core.errors import ConfigError
from recunlearn.protect.posthoc.d2dfr import D2DFR
from recunlearn.protect.posthoc.mmd import mmd2

from .test_lego import bacc


def test_mmd_is_zero_for_equal_samples_and_grows_with_shift():
    torch.manual_seed(0)
    x = torch.randn(100, 4)
    assert float(mmd2(x, x)) == pytest.approx(0.0, abs=1e-6)
    near, far = float(mmd2(x, x + 0.1)), float(mmd2(x, x + 2.0))
    assert 0 < near < far


def fixed_scorer(n_items: int = 30, d: int = 16):
    items = torch.randn(n_items, d, generator=torch.Generator().manual_seed(1))

    def score(users: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        return table[users] @ items.T

    return score


def test_alignment_removes_gender(planted_data):
    matrix, labels = planted_data
    out = (
        D2DFR(steps=150, lr=2e-2, reg=0.0, batch_users=256).fit(matrix, labels).transform("gender")
    )
    assert abs(bacc(out, labels, "gender") - 0.5) < 0.2  # both sides of chance


def test_ranking_regulariser_preserves_top_lists(planted_data):
    matrix, labels = planted_data
    scorer = fixed_scorer()

    def overlap(table):
        users = torch.arange(len(matrix))
        a = torch.topk(scorer(users, torch.as_tensor(matrix)), 5).indices
        b = torch.topk(scorer(users, table), 5).indices
        return np.mean(
            [len(set(x.tolist()) & set(y.tolist())) / 5 for x, y in zip(a, b, strict=True)]
        )

    common = dict(steps=100, lr=2e-2, batch_users=256, top_k=10)
    plain = D2DFR(reg=0.0, **common).fit(matrix, labels).transform("gender")
    kept = D2DFR(reg=1e-2, **common).fit(matrix, labels, scorer=scorer).transform("gender")
    assert overlap(kept) > overlap(plain)


def test_sequential_and_logged(planted_data):
    matrix, labels = planted_data
    d2d = D2DFR(steps=5, reg=0.0, batch_users=None).fit(matrix, labels)
    d2d.transform("gender,age")
    assert list(d2d.logs_) == ["age", "gender"]


def test_continuous_and_missing_scorer_are_refused(planted_data):
    matrix, labels = planted_data
    with pytest.raises(ConfigError, match="continuous"):
        D2DFR(steps=2, reg=0.0).fit(matrix, labels).transform("age_raw")
    with pytest.raises(ConfigError, match="scorer"):
        D2DFR(steps=2).fit(matrix, labels).transform("gender")


def test_mmd_matches_a_hand_computed_multi_kernel_value():
    """Bandwidths base * 2**i (i < 5), base = mean off-diagonal squared distance / 2**2."""
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    y = torch.tensor([[0.0, 2.0], [1.0, 1.0]])
    pooled = torch.cat([x, y])
    d2 = torch.cdist(pooled, pooled).pow(2)
    base = d2.sum() / (4 * 3) / 4.0
    kernel = sum(torch.exp(-d2 / (base * 2.0**i)) for i in range(5))
    expected = kernel[:2, :2].mean() + kernel[2:, 2:].mean() - 2 * kernel[:2, 2:].mean()
    assert float(mmd2(x, y)) == pytest.approx(float(expected), rel=1e-6)
    assert float(mmd2(x, y, n_kernels=1, multiplier=3.0)) != pytest.approx(float(expected))
