"""DR-JL (Wang et al. 2019), in the ICDE24-MNAR code's form.

An imputation MF ``m`` predicts a pseudo-label; the imputed error is ``ê = (f − m)²``.
Prediction step on a user batch of O plus an equal-size uniform sample S of all pairs:
``L = [Σ_O (e/p̂ − ê) + Σ_S ê] / |S|``. Imputation step on the same O batch:
``Σ_O (e − ê)² / p̂ / |O_batch|`` (f fixed). The two steps alternate per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from recunlearn.data.feedback.types import DebiasSplit
from recunlearn.debias.models import init_mf, mf_predict
from recunlearn.debias.propensity import train_inverse_propensities
from recunlearn.debias.trainer import DebiasTrainer, TrainConfig, UserBatcher, f_errors


@dataclass
class DRJLConfig(TrainConfig):
    """DR-JL.

    Attributes:
        propensity: ``naive_bayes`` or ``learned`` (see :mod:`.propensity`).
        clip: lower clip γ of the propensity (ICDE24: 0.05).
        imputation_lr: Adam learning rate of the imputation model.
        imputation_weight_decay: its weight decay.
        sample_ratio: |S| / |O batch| (G).
    """

    propensity: str = "naive_bayes"
    clip: float = 0.05
    imputation_lr: float = 0.01
    imputation_weight_decay: float = 1e-4
    sample_ratio: float = 1.0


class DRJL(DebiasTrainer):
    """Doubly robust joint learning."""

    name = "dr-jl"
    config_class = DRJLConfig

    def _setup(self, split: DebiasSplit) -> None:
        cfg = self.config
        self.f = self._new_f()
        self.m = init_mf(self.n_users, self.n_items, cfg.dim, self.generator, cfg.init_std)
        self.opt = self._adam(self.f, cfg.lr, cfg.weight_decay)
        self.opt_m = self._adam(self.m, cfg.imputation_lr, cfg.imputation_weight_decay)
        self.batcher = UserBatcher(split.train, self.n_users, cfg.user_batch)
        self.inv_p = train_inverse_propensities(split, cfg.propensity, cfg.clip, cfg.seed)

    def _epoch(self, epoch: int) -> dict[str, float]:
        cfg = self.config
        losses = []
        for rows, _ in self.batcher.batches(self.rng):
            idx = torch.as_tensor(rows)
            w = self.inv_p[idx]
            n_s = max(1, int(cfg.sample_ratio * len(rows)))
            su = torch.as_tensor(self.rng.integers(0, self.n_users, n_s))
            si = torch.as_tensor(self.rng.integers(0, self.n_items, n_s))
            # prediction step
            e, u, i, pred = f_errors(self.f, self.batcher, rows)
            with torch.no_grad():
                m_obs = mf_predict(self.m, u, i)
                m_s = mf_predict(self.m, su, si)
            e_hat = (pred - m_obs) ** 2
            e_hat_s = (mf_predict(self.f, su, si) - m_s) ** 2
            loss = ((w * e - e_hat).sum() + e_hat_s.sum()) / n_s
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            # imputation step
            with torch.no_grad():
                pred = mf_predict(self.f, u, i)
                e = (pred - self.batcher.label_t[idx]) ** 2
            e_hat = (pred - mf_predict(self.m, u, i)) ** 2
            imp = (w * (e - e_hat) ** 2).sum() / len(rows)
            self.opt_m.zero_grad(set_to_none=True)
            imp.backward()
            self.opt_m.step()
            losses.append(float(loss.detach()))
        return {"loss": float(np.mean(losses))}
