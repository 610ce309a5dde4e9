"""SM (Li, Chen, Xu, Ge, Zhang, SIGIR'21, "Towards Personalized Fairness based on Causal
Notion"): a filter per requirement, trained against attribute discriminators.

Post hoc on a frozen base model's user representation ``u``:

* ``filters="combination"`` (default): one filter per non-empty combination of the served
  attributes (7 for gender / age / occupation); ``filters="attribute"``: one filter per
  attribute, a requirement's row the mean of its attributes' filters. A filter is
  ``Linear d->2d, LeakyReLU, Linear 2d->d, LeakyReLU, BatchNorm``;
* one discriminator per attribute, shared by the filters: a 7-layer LeakyReLU MLP with
  dropout 0.3, trained ``d_steps`` (10) times per batch on the detached filtered rows;
* per batch of (user, item) training rows, one requirement drawn uniformly among the non-empty
  combinations; its filter steps on ``BPR - lam * sum_{i in S} NLL(D_i(filter(u)), a_i)``
  (``lam`` = 20; ``adversary_objective="confusion"`` replaces the unbounded reversal with the
  bounded cross entropy to the uniform prediction); Adam lr 1e-3, weight decay 1e-4;
* ``warm_start`` > 0 (not in the paper; default 0): before the adversarial training, every
  filter is fitted for that many full-batch Adam steps to reproduce the base rows (mean squared
  error to ``u``). Jointly trained, the paper's filters and embeddings adapt to each other from
  the start; post hoc, a randomly initialised filter must first relearn ``u`` through the
  frozen scorer, which BPR alone does slowly (ML-100K MF, ``lam`` = 0: 60 % of the base
  NDCG@10 after 20 epochs) -- about half of the post-hoc baseline's quality loss on ML-100K MF
  (row ``sm-warm``, ``benchmarks/notes/personal.md``);
* serving: each user's row is the filter of that user's requirement applied to ``u``; users who
  ask for nothing keep ``u`` unchanged.

**Difference from the paper** (stated in every report): Li et al. train the filters jointly
with the recommender (user and item embeddings keep learning); here, as for AFRL, the base
model is frozen and only the filters and the discriminators learn, by BPR through the frozen
scorer -- every per-user method then starts from the same representation. Model selection:
the mean validation NDCG@10 over every filter (full ranking).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from pydantic import Field
from torch import nn

from recunlearn.core.options import LATE_OPTION
from recunlearn.protect.personal.base import PersonalConfig, PersonalUnlearner
from recunlearn.protect.personal.epochs import eval_mode
from recunlearn.protect.personal.nets import (
    AdversaryObjective,
    LabelTarget,
    adversary_loss,
    init_default,
    mlp,
    weighted_nll,
)
from recunlearn.protect.personal.training import FrozenBPR, require_bpr_scorer, validation_ndcg
from recunlearn.protect.posthoc.base import AttributeLabels, Scorer, UnlearnerConfig


class SMConfig(PersonalConfig):
    """Options of :class:`SM` (see the module docstring)."""

    filters: Literal["combination", "attribute"] = "combination"
    lam: float = Field(20.0, ge=0, description="weight of the discriminators against a filter")
    d_steps: int = Field(10, ge=1, description="discriminator steps per batch")
    dropout: float = Field(0.3, ge=0, lt=1, description="dropout of the discriminators")
    batch_size: int = Field(1024, ge=2, description="(user, item) training rows per batch")
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    adversary_objective: AdversaryObjective = "reversal"
    warm_start: int = Field(
        0,
        ge=0,
        description="full-batch steps fitting every filter to reproduce the base rows before "
        "training (0 = none, the paper's random start)",
        json_schema_extra=LATE_OPTION,
    )


def _leaky() -> nn.Module:
    return nn.LeakyReLU(0.2)


def _requirements(m: int) -> list[tuple[int, ...]]:
    """Every non-empty combination of ``m`` attribute indices, by size then order."""
    return [c for size in range(1, m + 1) for c in itertools.combinations(range(m), size)]


def _filter(d: int) -> nn.Sequential:
    return mlp(
        [d, 2 * d, d],
        activation=_leaky,
        batch_norm=True,
        final_activation=True,
    )


def _discriminator(d: int, n_classes: int, dropout: float) -> nn.Sequential:
    widths = [d, 2 * d, 4 * d, 4 * d, 2 * d, d, max(2, d // 2), n_classes]
    return mlp(widths, activation=_leaky, dropout=dropout)


class _SMNets(nn.Module):
    """The filters (one per key of ``keys``) and one discriminator per attribute."""

    def __init__(
        self, d: int, targets: list[LabelTarget], keys: list[tuple[int, ...]], dropout: float
    ) -> None:
        super().__init__()
        self.keys = keys
        self.filters = nn.ModuleList(_filter(d) for _ in keys)
        self.discriminators = nn.ModuleList(
            _discriminator(d, t.n_classes, dropout) for t in targets
        )


class SM(PersonalUnlearner):
    """SM, post hoc (see the module docstring). After ``fit``: ``attributes_``, ``logs_`` (per
    epoch mean losses, the validation trace, the kept epoch) and ``timings_``."""

    name: ClassVar[str] = "sm"
    Config: ClassVar[type[UnlearnerConfig]] = SMConfig
    config: SMConfig

    def fit(
        self,
        embeddings: torch.Tensor | np.ndarray,
        labels: Mapping[str, AttributeLabels],
        *,
        scorer: Scorer | None = None,
        store: Any = None,
    ) -> SM:
        """Train the filters and the discriminators on the frozen matrix ``U0``.

        Raises:
            ConfigError: no scorer with the training interactions, an unknown or continuous
                attribute in ``attributes``, or nothing to protect.
        """
        super().fit(embeddings, labels, scorer=scorer, store=store)
        bpr_scorer = require_bpr_scorer(scorer, self.name)
        cfg = self.config
        self._serve_targets(labels)
        m = len(self.targets_)
        keys = _requirements(m) if cfg.filters == "combination" else [(i,) for i in range(m)]

        def train(generator: torch.Generator) -> dict[str, Any]:
            self.nets_ = _SMNets(self.embeddings_.shape[1], self.targets_, keys, cfg.dropout)
            init_default(self.nets_, generator)
            self._warm_start(cfg.warm_start)
            return self._train(FrozenBPR(bpr_scorer, self.embeddings_), generator)

        self._seeded_training(train)
        return self

    # ------------------------------------------------------------------------- training
    def _filtered(self, u: torch.Tensor, requirement: tuple[int, ...]) -> torch.Tensor:
        """``u`` through the filter(s) of ``requirement`` (attribute indices)."""
        nets = self.nets_
        if self.config.filters == "combination":
            return nets.filters[nets.keys.index(requirement)](u)
        return torch.stack([nets.filters[i](u) for i in requirement]).mean(dim=0)

    def _warm_start(self, steps: int) -> None:
        """Fit every filter to reproduce the base rows (``steps`` full-batch Adam steps on the
        mean squared error to ``u``); the discriminators are untouched."""
        if steps == 0:
            return
        filters = self.nets_.filters
        u = self.embeddings_.detach()
        opt = torch.optim.Adam(filters.parameters(), self.config.lr)
        filters.train()
        for _ in range(steps):
            loss = sum(((f(u) - u) ** 2).mean() for f in filters)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    def _train(self, bpr: FrozenBPR, generator: torch.Generator) -> dict[str, Any]:
        cfg, nets = self.config, self.nets_
        requirements = _requirements(len(self.targets_))
        opt_f = torch.optim.Adam(nets.filters.parameters(), cfg.lr, weight_decay=cfg.weight_decay)
        opt_d = torch.optim.Adam(
            nets.discriminators.parameters(), cfg.lr, weight_decay=cfg.weight_decay
        )
        best = self._best_epoch(lambda: self._validate(bpr.scorer), (opt_f, opt_d), generator)
        for epoch in best.epochs(cfg.epochs):
            nets.train()
            sums, steps = np.zeros(3), 0
            for users, items, negatives in bpr.epoch(cfg.batch_size, generator):
                distinct, inverse = torch.unique(users, return_inverse=True)
                if len(distinct) < 2:  # BatchNorm needs two rows
                    continue
                pick = int(torch.randint(len(requirements), (1,), generator=generator))
                requirement = requirements[pick]
                rows = self._filtered(self.embeddings_[distinct], requirement)
                loss_bpr = bpr.loss(distinct, inverse, rows, items, negatives)
                adversarial = rows.new_zeros(())
                for i in requirement:
                    logits = nets.discriminators[i](rows)[inverse]
                    target = self.targets_[i]
                    adversarial = adversarial + adversary_loss(
                        cfg.adversary_objective, logits, target, users
                    )
                loss_f = loss_bpr + cfg.lam * adversarial
                opt_f.zero_grad(set_to_none=True)
                loss_f.backward()
                opt_f.step()
                detached = rows.detach()
                loss_d = detached.new_zeros(())
                for _ in range(cfg.d_steps):
                    loss_d = detached.new_zeros(())
                    for i in requirement:
                        logits = nets.discriminators[i](detached)[inverse]
                        loss_d = loss_d + weighted_nll(logits, self.targets_[i], users)
                    opt_d.zero_grad(set_to_none=True)
                    loss_d.backward()
                    opt_d.step()
                sums += (float(loss_bpr.detach()), float(loss_f.detach()), float(loss_d.detach()))
                steps += 1
            record: dict[str, Any] = dict(
                zip(("bpr", "filter", "d"), (sums / max(1, steps)).tolist(), strict=True)
            )
            record["epoch"] = epoch
            if best.after_epoch(epoch, record):
                break
        kept = best.restore("mean validation NDCG@10 over the requirements")
        return {"epochs": best.records, **kept}

    def _validate(self, scorer: Any) -> float:
        """Mean validation NDCG@10 over every non-empty requirement."""
        n = self.embeddings_.shape[0]
        values = []
        with torch.no_grad():
            for requirement in _requirements(len(self.targets_)):
                mask = torch.zeros(n, len(self.targets_))
                mask[:, list(requirement)] = 1.0
                values.append(validation_ndcg(scorer, self._serve(mask)))
        return float(np.mean(values))

    # ------------------------------------------------------------------------ serving
    def _serve(self, mask: torch.Tensor) -> torch.Tensor:
        u = self.embeddings_
        out = u.clone()
        rows, inverse = torch.unique(mask > 0.5, dim=0, return_inverse=True)
        with eval_mode(self.nets_):
            for k, row in enumerate(rows):
                requirement = tuple(int(i) for i in torch.nonzero(row).flatten())
                if not requirement:
                    continue
                users = torch.nonzero(inverse == k).flatten()
                out[users] = self._filtered(u[users], requirement)
        return out
