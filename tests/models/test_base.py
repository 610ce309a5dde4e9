"""The shared optimiser of :mod:`recunlearn.models.base`."""

from __future__ import annotations

import pytest
import torch

from recunlearn.data.split_types import Split
from recunlearn.models.base import make_adam
from recunlearn.models.mf import MF
from recunlearn.models.ncf import NCF


def _steps_without_gradient(decoupled: bool, steps: int = 10) -> float:
    """A weight whose gradient is always zero (a table row absent from every batch)."""
    weight = torch.nn.Parameter(torch.ones(1))
    optimizer = make_adam([weight], lr=1e-2, weight_decay=1e-4, decoupled=decoupled)
    for _ in range(steps):
        weight.grad = torch.zeros(1)
        optimizer.step()
    return float(weight.detach())


def test_coupled_decay_takes_full_steps_on_rows_without_gradient() -> None:
    """Adam normalises the L2 term alone into a step of about lr: the GMF collapse."""
    assert _steps_without_gradient(decoupled=False) == pytest.approx(0.9, abs=2e-3)


def test_decoupled_decay_shrinks_by_lr_times_decay() -> None:
    assert _steps_without_gradient(decoupled=True) == pytest.approx(
        1 - 10 * 1e-6, abs=5e-7
    )  # float32


def test_make_adam_kinds() -> None:
    weight = torch.nn.Parameter(torch.ones(2))
    assert type(make_adam([weight], lr=1e-3)) is torch.optim.Adam
    assert type(make_adam([weight], lr=1e-3, decoupled=True)) is torch.optim.AdamW


def test_models_train_with_decoupled_decay(tiny_split: Split) -> None:
    model = NCF(
        decoupled_weight_decay=True,
        weight_decay=1e-2,
        layers=(12, 5),
        epochs=2,
        patience=100,
        batch_size=128,
        gmf_dim=8,
        mlp_dim=6,
    ).fit(tiny_split, progress=False)
    assert model.config.model_dump()["decoupled_weight_decay"] is True
    assert torch.isfinite(model.user_embeddings()).all()


def _fit_with_flat_metric(split: Split, **options: object) -> MF:
    """An MF whose validation metric never improves after the first validation."""
    model = MF(epochs=6, patience=100, batch_size=128, lr=1e-2, seed=0, **options)
    model.validate = lambda: 0.5  # type: ignore[method-assign]
    return model.fit(split, progress=False)


def test_plateau_schedule_lowers_lr_when_the_metric_stalls(tiny_split: Split) -> None:
    model = _fit_with_flat_metric(tiny_split, lr_plateau_factor=0.1, lr_plateau_patience=1)
    lrs = [entry["lr"] for entry in model.valid_log_]
    # epoch 1 sets the best; epochs 2 and 3 do not improve -> cut after the 2nd bad one
    assert lrs[:2] == pytest.approx([1e-2, 1e-2])
    assert lrs[2:4] == pytest.approx([1e-3, 1e-3])
    assert lrs[4] == pytest.approx(1e-4)


def test_plateau_schedule_respects_min_lr(tiny_split: Split) -> None:
    model = _fit_with_flat_metric(
        tiny_split, lr_plateau_factor=0.1, lr_plateau_patience=0, min_lr=5e-4
    )
    assert min(entry["lr"] for entry in model.valid_log_) == pytest.approx(5e-4)


def test_constant_lr_without_a_plateau_factor(tiny_split: Split) -> None:
    model = _fit_with_flat_metric(tiny_split)
    assert all("lr" not in entry for entry in model.valid_log_)
