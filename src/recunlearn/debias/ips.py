"""IPS and SNIPS: the naive loss on O reweighted by inverse propensities.

IPS: ``Σ_batch e/p̂ / |batch|``; SNIPS: ``Σ_batch e/p̂ / Σ_batch 1/p̂`` (self-normalised).
Propensities: naive Bayes from A (default) or a learned logistic MF, clipped at ``clip``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from recunlearn.core.errors import ConfigError
from recunlearn.data.feedback.types import DebiasSplit
from recunlearn.debias.propensity import train_inverse_propensities
from recunlearn.debias.trainer import DebiasTrainer, TrainConfig, UserBatcher, f_errors


@dataclass
class IPSConfig(TrainConfig):
    """IPS / SNIPS.

    Attributes:
        propensity: ``naive_bayes`` (per label, P(y) from A) or ``learned`` (logistic MF on
            all pairs).
        clip: lower clip γ of the propensity.
        self_normalize: SNIPS when true.
    """

    propensity: str = "naive_bayes"
    clip: float = 0.02
    self_normalize: bool = False

    def __post_init__(self) -> None:
        if self.propensity not in ("naive_bayes", "learned"):
            raise ConfigError("propensity must be naive_bayes or learned")
        if not 0 < self.clip <= 1:
            raise ConfigError("clip must be in (0, 1]")


class IPS(DebiasTrainer):
    """Inverse-propensity-scored MF (SNIPS with ``self_normalize=True``)."""

    name = "ips"
    config_class = IPSConfig

    def _setup(self, split: DebiasSplit) -> None:
        cfg = self.config
        self.f = self._new_f()
        self.opt = self._adam(self.f, cfg.lr, cfg.weight_decay)
        self.batcher = UserBatcher(split.train, self.n_users, cfg.user_batch)
        self.inv_p = train_inverse_propensities(split, cfg.propensity, cfg.clip, cfg.seed)
        self.diagnostics["inverse_propensity_mean"] = float(self.inv_p.mean())

    def _epoch(self, epoch: int) -> dict[str, float]:
        losses = []
        for rows, _ in self.batcher.batches(self.rng):
            errors, *_ = f_errors(self.f, self.batcher, rows)
            w = self.inv_p[torch.as_tensor(rows)]
            denom = w.sum() if self.config.self_normalize else float(len(rows))
            loss = (w * errors).sum() / denom
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            losses.append(float(loss.detach()))
        return {"loss": float(np.mean(losses))}
