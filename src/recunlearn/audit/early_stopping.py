"""The training loop the audit's torch attackers share: mini-batch epochs over the attacker's
training users, a validation share carved out of those same users, and the best epoch kept.

Two attackers use it with different stopping rules (:mod:`recunlearn.audit.torch_mlp`: lowest
validation loss, stop after ``patience`` epochs without an improvement of ``min_delta``, and
the untrained network counts as the first candidate; :mod:`recunlearn.audit.afrl_attacker`:
highest validation AUC, no stop before ``min_epochs``, and the last epoch kept when none
improved). Both are expressed by the arguments of :func:`train_early_stopped`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn


def validation_split(
    y: np.ndarray, fraction: float, rng: np.random.Generator, stratify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation); stratified per class when every class has >= 2 members."""
    n = len(y)
    n_valid = max(1, round(fraction * n))
    if n - n_valid < 1:
        return np.arange(n), np.arange(0)
    if stratify:
        classes, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2:
            valid = []
            for cls, count in zip(classes, counts, strict=True):
                members = rng.permutation(np.flatnonzero(y == cls))
                take = min(count - 1, max(1, round(fraction * count)))
                valid.append(members[:take])
            valid_idx = np.sort(np.concatenate(valid))
            train_idx = np.setdiff1d(np.arange(n), valid_idx)
            return train_idx, valid_idx
    order = rng.permutation(n)
    return np.sort(order[n_valid:]), np.sort(order[:n_valid])


def train_early_stopped(
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch_loss: Callable[[torch.Tensor], torch.Tensor],
    valid_score: Callable[[], float],
    train_idx: np.ndarray,
    valid_idx: np.ndarray,
    rng: np.random.Generator,
    *,
    batch_size: int,
    max_epochs: int,
    patience: int,
    min_epochs: int = 0,
    min_delta: float = 0.0,
    initial_is_candidate: bool = False,
) -> tuple[int, int]:
    """Train ``net`` in place and leave it in eval mode with its best epoch's weights.

    Args:
        net: the network (trained in place).
        optimizer: its optimiser.
        batch_loss: loss of a batch of training indices (a differentiable scalar).
        valid_score: the validation score to maximise, called in eval mode without gradients
            (NaN never counts as an improvement).
        train_idx: indices of the training users (shuffled with ``rng`` every epoch).
        valid_idx: indices of the validation users; empty = train ``max_epochs`` and keep them.
        rng: the shuffling generator.
        batch_size: users per step.
        max_epochs: at most this many epochs.
        patience: stop after this many epochs without improvement...
        min_epochs: ... but not before this many epochs.
        min_delta: an improvement must exceed this.
        initial_is_candidate: the untrained weights count as epoch 1's best until an epoch
            beats them (so they are reloaded when none does); otherwise the last weights are
            kept when no epoch ever scores.

    Returns:
        (epochs run, best epoch, 1-based).
    """
    best_score, best_epoch = -math.inf, (0 if initial_is_candidate else -1)
    best_state = {k: v.clone() for k, v in net.state_dict().items()}
    epochs = 0
    for epoch in range(max_epochs):
        net.train()
        order = rng.permutation(train_idx)
        for start in range(0, len(order), batch_size):
            loss = batch_loss(torch.from_numpy(order[start : start + batch_size]))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        epochs = epoch + 1
        if len(valid_idx) == 0:
            continue
        net.eval()
        with torch.no_grad():
            score = valid_score()
        if score > best_score + min_delta:
            best_score, best_epoch = score, epoch
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        elif epoch + 1 >= min_epochs and epoch - best_epoch >= patience:
            break
    net.eval()
    if len(valid_idx) and best_epoch >= 0:
        net.load_state_dict(best_state)
        return epochs, best_epoch + 1
    return epochs, epochs
