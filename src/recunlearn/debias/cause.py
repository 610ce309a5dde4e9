"""CausE (Bonner & Vasile 2018, WWW23 form).

One user table and two item tables: "biased" items ``i`` trained on O and "control" items
``i + n`` trained on A, with ``λ·‖q_i − q_{i+n}.detach()‖₁`` pulling each biased item vector
towards its control vector. The regulariser is applied to items that have a rating in A (the
control rows of other items never move from their random start). Predictions use the biased
item table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from recunlearn.data.feedback.types import DebiasSplit, Triples
from recunlearn.debias.trainer import (
    DebiasTrainer,
    TrainConfig,
    UserBatcher,
    f_errors,
    user_mean_loss,
)


@dataclass
class CausEConfig(TrainConfig):
    """CausE.

    Attributes:
        align: λ, weight of the L1 alignment between biased and control item vectors.
    """

    align: float = 0.01


class CausE(DebiasTrainer):
    """Causal embeddings with a control item table learned from A."""

    name = "cause"
    config_class = CausEConfig

    def _setup(self, split: DebiasSplit) -> None:
        cfg = self.config
        n = self.n_items
        self.f = self._new_f(2 * n)
        self.opt = self._adam(self.f, cfg.lr, cfg.weight_decay)
        a = split.uniform
        shifted = Triples(a.user, a.item + n, a.rating, a.label)
        self.batcher = UserBatcher(
            Triples.concat([split.train, shifted]), self.n_users, cfg.user_batch
        )
        self.control_items = torch.as_tensor(np.unique(a.item))

    def _epoch(self, epoch: int) -> dict[str, float]:
        n, losses = self.n_items, []
        for rows, n_users in self.batcher.batches(self.rng):
            errors, *_ = f_errors(self.f, self.batcher, rows)
            loss = user_mean_loss(errors, self.batcher.weight[rows], n_users)
            if len(self.control_items) and self.config.align > 0:
                q = self.f["Q"]
                gap = q[self.control_items] - q[self.control_items + n].detach()
                loss = loss + self.config.align * gap.abs().sum(-1).mean()
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            losses.append(float(loss.detach()))
        return {"loss": float(np.mean(losses))}
