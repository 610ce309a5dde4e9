"""FFVAE (Creager et al., ICML'19, "Flexibly Fair Representation Learning by
Disentanglement"): a VAE whose latent has one block per attribute; a requirement zeroes its
attributes' blocks.

Post hoc on a frozen base model's user representation ``u`` (standardised per dimension):

* encoder ``u -> h -> (mu, log var)`` of the latent ``[z, b_1, ..., b_M]`` (``z``: ``latent``
  dims, default ``d``; ``b_j``: 1 dim for a binary attribute, one per class otherwise);
  decoder ``[z, b] -> h -> u``; ``h`` = ``hidden`` (default ``2d``) ReLU units;
* loss per batch of users: ``-ELBO`` (squared error summed over dimensions + KL to N(0, I))
  ``+ alpha * sum_j CE(C_j(b_j), a_j)`` (``C_j`` linear, class-weighted, labelled users only)
  ``+ gamma * TC``, the total correlation between ``z`` and the ``b_j`` estimated by the
  density-ratio trick: a discriminator (MLP) tells samples of ``q(z, b)`` from samples whose
  blocks were permuted across the batch independently, and trains on both;
* serving: posterior means, ``b_j = 0`` (the prior mean) for the attributes of the user's
  requirement, decoded and de-standardised. The empty requirement is the decoded ``u`` too
  (FFVAE has no identity path), which is why its rankings cost.

The AFRL paper (its FFVAE baseline) does not say how the decoded rows meet the recommender;
here the frozen scorer ranks them as they are (``bpr_weight=0``, the default). ``bpr_weight >
0`` adds a BPR term through the frozen scorer on the decoded rows (one sampled positive and
negative per user), an option beyond both papers. With a scorer that has a validation set,
the kept epoch is the one with the best mean validation NDCG@10 of the masks 0...0 and
1...1 (as AFRL's code); otherwise the last.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from recunlearn.protect.personal.base import PersonalConfig, PersonalUnlearner
from recunlearn.protect.personal.epochs import eval_mode
from recunlearn.protect.personal.nets import (
    LabelTarget,
    init_default,
    mlp,
    weighted_nll,
)
from recunlearn.protect.personal.training import (
    FrozenBPR,
    ValidationSchedule,
    require_bpr_scorer,
    sample_pairs,
)
from recunlearn.protect.posthoc.base import AttributeLabels, Scorer, UnlearnerConfig


class FFVAEConfig(PersonalConfig):
    """Options of :class:`FFVAE` (see the module docstring)."""

    latent: int | None = Field(None, ge=1, description="dims of z (default: d)")
    hidden: int | None = Field(None, ge=1, description="hidden units (default: 2d)")
    alpha: float = Field(1.0, ge=0, description="weight of the attribute classifiers")
    gamma: float = Field(1.0, ge=0, description="weight of the total correlation")
    bpr_weight: float = Field(0.0, ge=0, description="BPR through the frozen scorer (0: off)")
    batch_size: int = Field(128, ge=2, description="users per batch")
    lr: float = Field(1e-3, gt=0)
    critic_lr: float | None = Field(None, gt=0, description="the critic's (default: lr)")
    critic_steps: int = Field(1, ge=1, description="critic steps per batch")
    weight_decay: float = Field(0.0, ge=0)
    validate_every: int = Field(5, ge=1, description="period of validation='every'")


def _block_sizes(targets: list[LabelTarget]) -> list[int]:
    return [1 if t.n_classes == 2 else t.n_classes for t in targets]


class _FFVAENets(nn.Module):
    """Encoder, decoder, attribute classifiers and the total-correlation discriminator."""

    def __init__(self, d: int, latent: int, hidden: int, targets: list[LabelTarget]) -> None:
        super().__init__()
        self.blocks = [latent, *_block_sizes(targets)]
        width = sum(self.blocks)
        self.encoder = mlp([d, hidden, hidden], final_activation=True)
        self.mu = nn.Linear(hidden, width)
        self.log_var = nn.Linear(hidden, width)
        self.decoder = mlp([width, hidden, hidden, d])
        self.classifiers = nn.ModuleList(
            nn.Linear(size, t.n_classes) for size, t in zip(self.blocks[1:], targets, strict=True)
        )
        self.critic = mlp([width, hidden, hidden, 2])

    def encode(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(u)
        return self.mu(h), self.log_var(h).clamp(-10.0, 10.0)

    def split(self, code: torch.Tensor) -> list[torch.Tensor]:
        """``[z, b_1, ..., b_M]`` of a latent batch."""
        return list(torch.split(code, self.blocks, dim=1))

    def zero_blocks(self, code: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``code`` with ``b_j`` zeroed where ``mask[:, j]`` is 1."""
        parts = self.split(code)
        keep = 1.0 - mask.to(code.dtype)
        kept = [parts[0], *(b * keep[:, j : j + 1] for j, b in enumerate(parts[1:]))]
        return torch.cat(kept, dim=1)


def _permute_blocks(
    code: torch.Tensor, nets: _FFVAENets, generator: torch.Generator
) -> torch.Tensor:
    """Each block of ``code`` shuffled across the batch independently (samples of the
    product of the marginals)."""
    parts = nets.split(code)
    n = len(code)
    return torch.cat([p[torch.randperm(n, generator=generator)] for p in parts], dim=1)


class FFVAE(PersonalUnlearner):
    """FFVAE, post hoc (see the module docstring). After ``fit``: ``attributes_``, ``logs_``
    and ``timings_``."""

    name: ClassVar[str] = "ffvae"
    Config: ClassVar[type[UnlearnerConfig]] = FFVAEConfig
    config: FFVAEConfig

    def fit(
        self,
        embeddings: torch.Tensor | np.ndarray,
        labels: Mapping[str, AttributeLabels],
        *,
        scorer: Scorer | None = None,
        store: Any = None,
    ) -> FFVAE:
        """Train the VAE on the frozen matrix ``U0`` (a scorer is optional: validation, and
        needed for ``bpr_weight > 0``).

        Raises:
            ConfigError: ``bpr_weight > 0`` without a scorer with the training interactions,
                an unknown or continuous attribute in ``attributes``, or nothing to protect.
        """
        super().fit(embeddings, labels, scorer=scorer, store=store)
        cfg = self.config
        bpr = None
        if cfg.bpr_weight > 0:
            bpr = FrozenBPR(require_bpr_scorer(scorer, self.name), self.embeddings_)
        self._serve_targets(labels)
        matrix = self.embeddings_
        self.mean_ = matrix.mean(dim=0)
        self.scale_ = matrix.std(dim=0).clamp_min(1e-6)
        d = matrix.shape[1]

        def train(generator: torch.Generator) -> dict[str, Any]:
            self.nets_ = _FFVAENets(d, cfg.latent or d, cfg.hidden or 2 * d, self.targets_)
            init_default(self.nets_, generator)
            return self._train(scorer, bpr, generator)

        self._seeded_training(train)
        return self

    # ------------------------------------------------------------------------- training
    def _vae_loss(
        self, x: torch.Tensor, users: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
        """The VAE's loss on standardised rows ``x`` and the latent sample (for the critic)."""
        cfg, nets = self.config, self.nets_
        mu, log_var = nets.encode(x)
        noise = torch.randn(mu.shape, generator=generator)
        code = mu + noise * torch.exp(0.5 * log_var)
        recon = (nets.decoder(code) - x).pow(2).sum(dim=1).mean()
        kl = (0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var)).sum(dim=1).mean()
        parts = nets.split(code)
        supervised = x.new_zeros(())
        for b, classifier, target in zip(parts[1:], nets.classifiers, self.targets_, strict=True):
            supervised = supervised + weighted_nll(classifier(b), target, users)
        logits = nets.critic(code)
        tc = (logits[:, 0] - logits[:, 1]).mean()
        loss = recon + kl + cfg.alpha * supervised + cfg.gamma * tc
        terms = {"recon": recon, "kl": kl, "ce": supervised, "tc": tc}
        log = {k: float(v.detach()) for k, v in terms.items()}
        return loss, code, log

    def _train(
        self, scorer: Any, bpr: FrozenBPR | None, generator: torch.Generator
    ) -> dict[str, Any]:
        cfg, nets = self.config, self.nets_
        vae = [*nets.encoder, nets.mu, nets.log_var, *nets.decoder, *nets.classifiers]
        params = [p for m in vae for p in m.parameters()]
        opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        opt_critic = torch.optim.Adam(nets.critic.parameters(), lr=cfg.critic_lr or cfg.lr)
        x_all = (self.embeddings_ - self.mean_) / self.scale_
        n = len(x_all)
        has_valid = scorer is not None and getattr(scorer, "valid", None) is not None
        best = self._best_epoch(
            lambda: self._extreme_masks_ndcg(scorer),
            (opt, opt_critic),
            generator,
            None if has_valid else ValidationSchedule("none"),
        )
        for epoch in best.epochs(cfg.epochs):
            nets.train()
            sums: dict[str, float] = {}
            steps = 0
            order = torch.randperm(n, generator=generator)
            for start in range(0, n, cfg.batch_size):
                users = order[start : start + cfg.batch_size]
                if len(users) < 2:
                    continue
                loss, code, log = self._vae_loss(x_all[users], users, generator)
                if bpr is not None:
                    rows = nets.decoder(code) * self.scale_ + self.mean_
                    loss_bpr = self._bpr(bpr, users, rows, generator)
                    loss = loss + cfg.bpr_weight * loss_bpr
                    log["bpr"] = float(loss_bpr.detach())
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                joint = code.detach()
                labels = torch.cat([torch.zeros(len(joint)), torch.ones(len(joint))]).long()
                for _ in range(cfg.critic_steps):
                    shuffled = _permute_blocks(joint, nets, generator)
                    logits = nets.critic(torch.cat([joint, shuffled]))
                    critic_loss = F.cross_entropy(logits, labels)
                    opt_critic.zero_grad(set_to_none=True)
                    critic_loss.backward()
                    opt_critic.step()
                log["critic"] = float(critic_loss.detach())
                for key, value in log.items():
                    sums[key] = sums.get(key, 0.0) + value
                steps += 1
            record: dict[str, Any] = {k: v / max(1, steps) for k, v in sums.items()}
            record["epoch"] = epoch
            if best.after_epoch(epoch, record):
                break
        kept = best.restore("mean validation NDCG@10 of the masks 0...0 and 1...1")
        return {"epochs": best.records, **kept}

    def _bpr(
        self, bpr: FrozenBPR, users: torch.Tensor, rows: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """BPR of the decoded ``rows`` of ``users`` (one positive, one negative each)."""
        keep, positives, negatives = sample_pairs(bpr.scorer.train, users, generator)
        if not bool(keep.any()):
            return rows.sum() * 0.0
        distinct = users[keep]
        inverse = torch.arange(len(distinct))
        return bpr.loss(distinct, inverse, rows[keep], positives, negatives)

    # ------------------------------------------------------------------------ serving
    def _serve(self, mask: torch.Tensor) -> torch.Tensor:
        x = (self.embeddings_ - self.mean_) / self.scale_
        with eval_mode(self.nets_) as nets:
            mu, _ = nets.encode(x)
            return nets.decoder(nets.zero_blocks(mu, mask)) * self.scale_ + self.mean_
