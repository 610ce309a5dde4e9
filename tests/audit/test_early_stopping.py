"""The attackers' shared training loop: the stopping rules and which weights it keeps."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from recunlearn.audit.early_stopping import train_early_stopped, validation_split


def _run(scores: list[float], **rules):
    """Train a 1-weight net for which epoch e's validation score is ``scores[e]``; returns the
    loop's answer, the kept weight and the weight after each epoch."""
    torch.manual_seed(0)
    net = nn.Linear(1, 1, bias=False)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    x = torch.ones(4, 1)
    after: list[float] = []
    feed = iter(scores)

    def score() -> float:
        after.append(net.weight.item())
        return next(feed)

    answer = train_early_stopped(
        net, optimizer, lambda batch: net(x[batch]).sum(), score,
        np.arange(4), np.arange(2), np.random.default_rng(0),
        batch_size=4, max_epochs=len(scores), **rules,
    )  # fmt: skip
    return answer, net.weight.item(), after


def test_it_keeps_the_best_epoch_and_stops_after_patience():
    (epochs, best), kept, after = _run([0.1, 0.5, 0.3, 0.2, 0.4, 0.9], patience=2)
    assert (epochs, best) == (4, 2) and kept == after[1]


def test_no_stop_before_min_epochs():
    (epochs, best), _, _ = _run([0.5, 0.1, 0.1, 0.1, 0.6, 0.1], patience=1, min_epochs=5)
    assert (epochs, best) == (6, 5)


def test_an_improvement_must_exceed_min_delta():
    (_, best), _, _ = _run([0.5, 0.55, 0.7], patience=5, min_delta=0.1)
    assert best == 3


def test_when_nothing_scores_the_initial_or_the_last_weights_are_kept():
    torch.manual_seed(0)
    initial = nn.Linear(1, 1, bias=False).weight.item()
    (epochs, best), kept, after = _run([math.nan] * 4, patience=2, initial_is_candidate=True)
    assert (epochs, best) == (3, 1) and kept == initial != after[-1]
    (epochs, best), kept, after = _run([math.nan] * 4, patience=2)
    assert (epochs, best) == (2, 2) and kept == after[-1]


def test_validation_split_is_stratified_and_disjoint():
    y = np.array([0] * 30 + [1] * 10)
    train, valid = validation_split(y, 0.2, np.random.default_rng(0), stratify=True)
    assert not set(train) & set(valid) and len(train) + len(valid) == 40
    assert np.bincount(y[valid]).tolist() == [6, 2]
