"""Parallel heads: shapes, independence, losses averaged over heads."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from recunlearn.audit.nets import ParallelMLP
from recunlearn.protect.adversarial.config import AttributeAdversary
from recunlearn.protect.adversarial.heads import AttributeHead
from recunlearn.protect.adversarial.targets import make_targets


def _x(n: int = 6, d: int = 4) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(0))


def test_parallel_mlp_shapes_and_independent_heads():
    mlp = ParallelMLP(3, 4, (5,), 2, generator=torch.Generator().manual_seed(0))
    out = mlp(_x())
    assert out.shape == (3, 6, 2)
    assert not torch.allclose(out[0], out[1])


def test_dropout_only_with_a_generator():
    mlp = ParallelMLP(2, 4, (), 1, dropout=0.5, generator=torch.Generator().manual_seed(0))
    x = _x()
    assert torch.equal(mlp(x), mlp(x))
    dropped = mlp(x, generator=torch.Generator().manual_seed(1))
    assert not torch.allclose(dropped, mlp(x))


def test_categorical_loss_is_mean_of_per_head_weighted_cross_entropy(tiny_dataset):
    targets = make_targets(
        tiny_dataset, "gender", AttributeAdversary(lam=1, n_heads=3), np.arange(60)
    )
    head = AttributeHead(targets, 4, generator=torch.Generator().manual_seed(0))
    x, y = _x(), targets.values[:6]
    outputs = head(x)
    expected = torch.stack(
        [F.cross_entropy(outputs[h], y, weight=targets.class_weights) for h in range(3)]
    ).mean()
    assert head.loss(outputs, y).item() == pytest.approx(expected.item(), rel=1e-6)
    proba = head.predict(x)
    assert proba.shape == (6, 2) and torch.allclose(proba.sum(1), torch.ones(6))


def test_continuous_loss_is_mse_on_scaled_target_and_predictions_in_units(tiny_dataset):
    spec = AttributeAdversary(lam=1, n_heads=2, scale=60)
    targets = make_targets(tiny_dataset, "age_raw", spec, np.arange(60))
    head = AttributeHead(targets, 4, generator=torch.Generator().manual_seed(0))
    x, y = _x(), targets.values[:6]
    outputs = head(x)
    expected = ((outputs[..., 0] - y) ** 2).mean()
    assert head.loss(outputs, y).item() == pytest.approx(expected.item(), rel=1e-6)
    assert torch.allclose(head.predict(x), outputs[..., 0].mean(0) * 60)
    assert head.mlp.activation == "sigmoid"
