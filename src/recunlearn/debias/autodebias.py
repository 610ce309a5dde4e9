"""AutoDebias-lite (Chen et al. 2021): debiasing parameters learned by one-step lookahead on A.

Base loss on a user batch of O plus a uniform sample S of all pairs (|S| = |O batch|):
``Σ_O w1·e / |O_b| + λ_imp·Σ_S w2·(f − m)² / |S|`` with
``w1 = exp(φ_u + φ_i + φ_y)``, ``w2 = exp(ψ_u + ψ_i + ψ_o)`` (exponents clamped to ±``clamp``)
and the imputed label ``m = σ(μ[state])`` for state ∈ {unobserved, observed 0, observed 1}.
Each batch: (φ, ψ, μ) take one Adam step on the A-loss of the lookahead model
``θ' = θ − η∇θ L_base`` (:mod:`.lookahead`), then θ takes one Adam step on ``L_base`` with the
updated (detached) weights.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from recunlearn.data.feedback.types import DebiasSplit
from recunlearn.debias.lookahead import meta_step
from recunlearn.debias.models import mf_predict
from recunlearn.debias.trainer import DebiasTrainer, TrainConfig, UserBatcher


@dataclass
class AutoDebiasConfig(TrainConfig):
    """AutoDebias-lite.

    Attributes:
        meta_lr: Adam learning rate of (φ, ψ, μ).
        meta_weight_decay: weight decay of (φ, ψ, μ).
        lookahead_lr: η of the one-step lookahead.
        imputation_weight: λ_imp.
        clamp: bound on the weight exponents.
        warmup_epochs: epochs before the meta-parameters start to move.
    """

    meta_lr: float = 0.01
    meta_weight_decay: float = 1e-5
    lookahead_lr: float = 0.1
    imputation_weight: float = 0.1
    clamp: float = 5.0
    warmup_epochs: int = 0


class ObservedLookup:
    """Whether a (user, item) pair is in O and, if so, its label (vectorised)."""

    def __init__(self, split: DebiasSplit):
        keys = split.train.user * split.n_items + split.train.item
        order = np.argsort(keys)
        self.keys, self.labels, self.n_items = keys[order], split.train.label[order], split.n_items

    def state(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """0 = unobserved, 1 = observed negative, 2 = observed positive."""
        key = users * self.n_items + items
        pos = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
        hit = self.keys[pos] == key
        return np.where(hit, 1 + (self.labels[pos] > 0.5), 0).astype(np.int64)


class AutoDebias(DebiasTrainer):
    """AutoDebias-lite: learned sample weights and imputations, meta-learned on A."""

    name = "autodebias"
    config_class = AutoDebiasConfig

    def _setup(self, split: DebiasSplit) -> None:
        cfg = self.config
        self.f = self._new_f()
        self.opt = self._adam(self.f, cfg.lr, cfg.weight_decay)
        self.batcher = UserBatcher(split.train, self.n_users, cfg.user_batch)
        m, n = self.n_users, self.n_items
        self.meta = {
            "phi_u": torch.zeros(m),
            "phi_i": torch.zeros(n),
            "phi_y": torch.zeros(2),
            "psi_u": torch.zeros(m),
            "psi_i": torch.zeros(n),
            "psi_o": torch.zeros(3),
            "mu": torch.zeros(3),
        }
        for t in self.meta.values():
            t.requires_grad_(True)
        self.meta_opt = torch.optim.Adam(
            list(self.meta.values()), lr=cfg.meta_lr, weight_decay=cfg.meta_weight_decay
        )
        self.lookup = ObservedLookup(split)
        self.a_u = torch.tensor(split.uniform.user)
        self.a_i = torch.tensor(split.uniform.item)
        self.a_y = torch.tensor(split.uniform.label)

    def _base_loss(self, params, u, i, y, su, si, state) -> torch.Tensor:
        cfg, mp = self.config, self.meta
        yl = y.long()
        w1 = torch.exp(
            (mp["phi_u"][u] + mp["phi_i"][i] + mp["phi_y"][yl]).clamp(-cfg.clamp, cfg.clamp)
        )
        w2 = torch.exp(
            (mp["psi_u"][su] + mp["psi_i"][si] + mp["psi_o"][state]).clamp(-cfg.clamp, cfg.clamp)
        )
        imputed = torch.sigmoid(mp["mu"][state])
        e = (mf_predict(params, u, i) - y) ** 2
        e_s = (mf_predict(params, su, si) - imputed) ** 2
        return (w1 * e).mean() + cfg.imputation_weight * (w2 * e_s).mean()

    def _a_loss(self, params) -> torch.Tensor:
        return ((mf_predict(params, self.a_u, self.a_i) - self.a_y) ** 2).mean()

    def _epoch(self, epoch: int) -> dict[str, float]:
        cfg, losses, outer = self.config, [], []
        for rows, _ in self.batcher.batches(self.rng):
            idx = torch.as_tensor(rows)
            u, i, y = self.batcher.user_t[idx], self.batcher.item_t[idx], self.batcher.label_t[idx]
            su_np = self.rng.integers(0, self.n_users, len(rows))
            si_np = self.rng.integers(0, self.n_items, len(rows))
            state = torch.as_tensor(self.lookup.state(su_np, si_np))
            su, si = torch.as_tensor(su_np), torch.as_tensor(si_np)
            if epoch >= cfg.warmup_epochs and len(self.a_u):
                outer.append(
                    meta_step(
                        list(self.meta.values()),
                        self.meta_opt,
                        self.f,
                        functools.partial(
                            self._base_loss, u=u, i=i, y=y, su=su, si=si, state=state
                        ),
                        self._a_loss,
                        cfg.lookahead_lr,
                    )
                )
            with torch.no_grad():
                frozen = {k: v.detach() for k, v in self.meta.items()}
            saved, self.meta = self.meta, frozen
            loss = self._base_loss(self.f, u, i, y, su, si, state)
            self.meta = saved
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            losses.append(float(loss.detach()))
        return {"loss": float(np.mean(losses)), "outer": float(np.mean(outer)) if outer else np.nan}
