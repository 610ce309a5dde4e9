"""The per-user methods' base class: the extreme-masks validation and the progress flag."""

from __future__ import annotations

import math

import torch

from recunlearn.protect.personal.ffvae import FFVAE
from recunlearn.protect.personal.training import validation_ndcg
from recunlearn.testing.data import LinearScorer, planted_matrix


def test_extreme_masks_ndcg_is_the_mean_of_nothing_and_everything_removed():
    matrix, labels = planted_matrix(n=200)
    scorer = LinearScorer(matrix)
    method = FFVAE(epochs=2, attributes=["gender", "age"]).fit(matrix, labels, scorer=scorer)
    n = len(matrix)
    with torch.no_grad():
        nothing = validation_ndcg(scorer, method._serve(torch.zeros(n, 2)))
        everything = validation_ndcg(scorer, method._serve(torch.ones(n, 2)))
    assert math.isclose(method._extreme_masks_ndcg(scorer), (nothing + everything) / 2)


def test_epoch_bars_turns_the_bars_on_inside_its_block_only():
    from recunlearn.cli.unlearn import epoch_bars
    from recunlearn.protect.personal.base import PersonalUnlearner

    with epoch_bars():
        assert FFVAE().progress is True
    assert PersonalUnlearner.progress is False and FFVAE().progress is False
