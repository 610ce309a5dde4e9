"""The per-user methods' epoch loop: the eval-mode block, the best-epoch keeper and its
progress bar."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from recunlearn.protect.personal.epochs import BestEpoch, eval_mode
from recunlearn.protect.personal.ffvae import FFVAE
from recunlearn.protect.personal.training import ValidationSchedule
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
