"""The per-user methods' shared parts: the eval-mode block, the best-epoch keeper and the
extreme-masks validation."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from recunlearn.protect.personal.base import BestEpoch, eval_mode
from recunlearn.protect.personal.ffvae import FFVAE
from recunlearn.protect.personal.training import ValidationSchedule, validation_ndcg
from recunlearn.testing.data import LinearScorer, planted_matrix


@pytest.mark.parametrize("training", [True, False])
def test_eval_mode_restores_the_flag_even_on_error(training: bool):
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    net.train(training)
    with eval_mode(net) as inside:
        assert inside is net and not net.training and not net[1].training
    assert net.training is training
    with pytest.raises(RuntimeError), eval_mode(net):
        raise RuntimeError("boom")
    assert net.training is training


def test_best_epoch_validates_in_eval_mode_and_restores_the_best_state():
    net = nn.Linear(1, 1, bias=False)
    values = iter([0.1, 0.5, 0.2, 0.3])
    seen_training = []

    def validate() -> float:
        seen_training.append(net.training)
        return next(values)

    best = BestEpoch(net, ValidationSchedule("every", 1, 10, 0), validate)
    states = []
    for epoch in range(4):
        with torch.no_grad():
            net.weight.fill_(float(epoch))
        states.append(float(net.weight))
        net.train()
        assert best.after_epoch(epoch, {}) is False
    assert seen_training == [False] * 4 and net.training  # validated in eval, flag restored
    kept = best.restore("test value")
    assert best.epoch == 1 and float(net.weight) == states[1]
    assert kept["kept_epoch"] == 1


def test_extreme_masks_ndcg_is_the_mean_of_nothing_and_everything_removed():
    matrix, labels = planted_matrix(n=200)
    scorer = LinearScorer(matrix)
    method = FFVAE(epochs=2, attributes=["gender", "age"]).fit(matrix, labels, scorer=scorer)
    n = len(matrix)
    with torch.no_grad():
        nothing = validation_ndcg(scorer, method._serve(torch.zeros(n, 2)))
        everything = validation_ndcg(scorer, method._serve(torch.ones(n, 2)))
    assert math.isclose(method._extreme_masks_ndcg(scorer), (nothing + everything) / 2)


def test_a_shown_progress_bar_is_closed_when_the_fit_ends(monkeypatch: pytest.MonkeyPatch):
    from recunlearn.core.progress import EpochBar

    shown: list[bool] = []
    close = EpochBar.close

    def record_then_close(bar: EpochBar) -> None:
        shown.append(bar._progress is not None)
        close(bar)

    monkeypatch.setattr(EpochBar, "close", record_then_close)
    matrix, labels = planted_matrix(n=200)
    method = FFVAE(epochs=2, attributes=["gender"])
    method.progress = True
    method.fit(matrix, labels, scorer=LinearScorer(matrix))
    assert True in shown  # an enabled bar was shown, then closed
    assert FFVAE.progress is False  # the instance's flag, not the class's


def test_epoch_bars_turns_the_bars_on_inside_its_block_only():
    from recunlearn.cli.unlearn import epoch_bars
    from recunlearn.protect.personal.base import PersonalUnlearner

    with epoch_bars():
        assert FFVAE().progress is True
    assert PersonalUnlearner.progress is False and FFVAE().progress is False
