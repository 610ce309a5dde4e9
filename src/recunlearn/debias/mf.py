"""Naive rating MF and the two AutoDebias data baselines: MF-uniform (A only), MF-combine (O ∪ A).

Loss: squared error of ``σ(p_uᵀq_i + b_u + b_i + b_0)`` against the 0/1 label, averaged per
user then over the users of a batch (the form of ULTD's ``L_f`` with ``α ≡ 0``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recunlearn.core.errors import ConfigError
from recunlearn.data.feedback.types import DebiasSplit, Triples
from recunlearn.debias.trainer import (
    DebiasTrainer,
    TrainConfig,
    UserBatcher,
    f_errors,
    user_mean_loss,
)

TRAIN_SETS = ("biased", "uniform", "combine")


@dataclass
class MFConfig(TrainConfig):
    """Rating MF.

    Attributes:
        train_on: ``biased`` (O: the naive MF baseline), ``uniform`` (A only: MF-uniform) or
            ``combine`` (O ∪ A with the naive loss: MF-combine).

    Defaults chosen on Coat validation AUC (``V``, seeds 0-2) from lr ∈ {0.005, 0.01, 0.05},
    weight_decay ∈ {1e-5, 1e-4, 1e-3}: see ``benchmarks/notes/issue7_debiasing.md``.
    """

    train_on: str = "biased"

    def __post_init__(self) -> None:
        if self.train_on not in TRAIN_SETS:
            raise ConfigError(f"train_on must be one of {TRAIN_SETS}, got '{self.train_on}'")


def training_triples(split: DebiasSplit, train_on: str) -> Triples:
    """The rating set a naive method trains on."""
    if train_on == "biased":
        return split.train
    if train_on == "uniform":
        return split.uniform
    return Triples.concat([split.train, split.uniform])


class MF(DebiasTrainer):
    """Matrix factorisation trained naively on one rating set (see :class:`MFConfig`)."""

    name = "mf"
    config_class = MFConfig

    def _setup(self, split: DebiasSplit) -> None:
        cfg = self.config
        self.f = self._new_f()
        self.opt = self._adam(self.f, cfg.lr, cfg.weight_decay)
        self.batcher = UserBatcher(
            training_triples(split, cfg.train_on), self.n_users, cfg.user_batch
        )

    def _step(self, rows: np.ndarray, n_users: int) -> float:
        errors, *_ = f_errors(self.f, self.batcher, rows)
        loss = user_mean_loss(errors, self.batcher.weight[rows], n_users)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss.detach())

    def _epoch(self, epoch: int) -> dict[str, float]:
        losses = [self._step(rows, n) for rows, n in self.batcher.batches(self.rng)]
        return {"loss": float(np.mean(losses))}
