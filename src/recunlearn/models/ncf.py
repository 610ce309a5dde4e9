"""Neural collaborative filtering: NeuMF (He et al., 2017), a GMF branch fused with an MLP tower."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from pydantic import Field

from recunlearn.data.split_types import Split
from recunlearn.models.base import Recommender, StepOutput, TrainConfig
from recunlearn.models.sampling import TrainingPairs

_MAX_ELEMENTS = 1 << 21
"""Floats in one hidden activation when scoring all items (8 MB: bounded memory, cache-friendly)."""


class NCFConfig(TrainConfig):
    """Options of :class:`NCF` (plus the shared training options of :class:`TrainConfig`).

    ``batch_size`` counts positive pairs; each comes with its ``n_negatives`` negatives, so a
    batch holds ``batch_size * (1 + n_negatives)`` labelled pairs.

    Defaults differing from the shared ones were chosen by validation NDCG@10 on ML-100K
    leave-one-out (full ranking, mean of 2-3 seeds): ``lr`` 3e-3 beat 1e-3; dropout, 8
    negatives and a wider tower did not help.

    Weight decay is decoupled (AdamW, ``weight_decay`` 1.0, i.e. every weight shrinks by
    lr x 1.0 = 0.3 % per step). With Adam's coupled L2 term the GMF branch dies: a table row
    absent from a batch sees only the decay term as its gradient, Adam normalises it into a
    full-size step towards zero, and the product form gives a small GMF vector a small
    gradient, so it never recovers. NCF trained with L2 1e-4 on every table (up to
    2026-12-02) had all 32 GMF user coordinates at ~1e-37 and scored with its MLP tower
    alone; a smaller L2 on the GMF tables (``gmf_weight_decay`` 1e-5, the default for a few
    hours on 2026-12-02) kept the branch but still lost 9-13 of its 32 coordinates. AdamW at
    1.0 keeps 30-32 of 32 and has the best validation NDCG@10 (ML-100K, 3 seeds): 7.91 against
    7.45 for L2 1e-4 / GMF 1e-5 and 7.32 for the collapsed model; AdamW 0.1 and 3.0 gave 6.83
    and 6.47 on seed 0. A fixed decay per step is stronger per epoch on larger data (ML-1M's
    first half has 5x ML-100K's steps per epoch): there 1.0 per step killed the whole GMF branch
    again on both seeds tried, and the per-epoch equivalent, 0.2, kept it and lifted validation
    NDCG@10 from 3.71 to 4.62 (seed 0). So on data with more steps per epoch than
    ``decay_reference_steps`` (48 = ML-100K's) the decay is scaled by reference / steps. Smaller
    data keep the per-step decay: on the synthetic demo data (19 steps) scaling it *up* to the
    per-epoch equivalent lowered validation NDCG@10 from 8.2 to 7.2 (2 seeds). The older
    optimisers stay available (``decoupled_weight_decay=False``, ``weight_decay`` 1e-4,
    ``gmf_weight_decay`` 1e-5 or None; the per-step AdamW with ``decay_reference_steps=None``),
    so their runs retrain exactly.
    """

    threads: int | None = Field(
        1,
        ge=1,
        description="torch threads while training: 1 by default. On the 2-core benchmark "
        "machine it was as fast as 2 or faster on ML-100K (benchmarks/configs/speed.yaml) and does not "
        "stall when other jobs share the cores (2 threads then ran 15x slower); on an idle "
        "machine with OpenMP's default spin-waiting, 2 threads were ~25 % faster on the small "
        "synthetic data. None = the process setting",
    )

    lr: float = Field(3e-3, gt=0, description="Adam learning rate")
    weight_decay: float = Field(
        1.0, ge=0, description="weight decay of all parameters (see decoupled_weight_decay)"
    )
    decoupled_weight_decay: bool = Field(
        True, description="AdamW's decoupled decay (False: Adam's L2 term, which kills GMF rows)"
    )
    gmf_weight_decay: float | None = Field(
        None,
        ge=0,
        description="a separate decay for the GMF user and item tables (None = weight_decay)",
    )
    decay_reference_steps: int | None = Field(
        48,
        ge=1,
        description="decoupled decay only: on data with more steps per epoch than this, scale "
        "the decay by this / steps per epoch, so every weight shrinks by no more per epoch than "
        "at the reference (48 = ML-100K leave-one-out at batch 2048, where weight_decay 1.0 was "
        "chosen); smaller data keep the per-step decay; None = the same decay per step on any "
        "data",
    )

    gmf_dim: int = Field(32, ge=1, description="size of the GMF user and item vectors")
    mlp_dim: int = Field(32, ge=1, description="size of the MLP-tower user and item vectors")
    layers: tuple[int, ...] = Field(
        (64, 32, 16), min_length=1, description="hidden sizes of the MLP tower (ReLU)"
    )
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout before each tower layer")
    n_negatives: int = Field(4, ge=1, description="uniform negatives per positive and epoch")
    init_std: float = Field(0.01, gt=0, description="std of the N(0, std) embedding init")
    user_representation: Literal["all", "gmf"] = Field(
        "all",
        description="what user_embeddings() returns: 'all' = [GMF | MLP] user vectors, "
        "'gmf' = the GMF user table only",
    )


class _NeuMF(torch.nn.Module):
    def __init__(self, n_users: int, n_items: int, cfg: NCFConfig) -> None:
        super().__init__()
        self.gmf_user = torch.nn.Embedding(n_users, cfg.gmf_dim)
        self.gmf_item = torch.nn.Embedding(n_items, cfg.gmf_dim)
        self.mlp_user = torch.nn.Embedding(n_users, cfg.mlp_dim)
        self.mlp_item = torch.nn.Embedding(n_items, cfg.mlp_dim)
        sizes = (2 * cfg.mlp_dim, *cfg.layers)
        self.tower = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.dropout = torch.nn.Dropout(cfg.dropout)
        self.out = torch.nn.Linear(cfg.gmf_dim + cfg.layers[-1], 1)

    def reset(self, std: float, generator: torch.Generator) -> None:
        """N(0, std) embeddings, Xavier-uniform linear layers, zero biases."""
        with torch.no_grad():
            for table in (self.gmf_user, self.gmf_item, self.mlp_user, self.mlp_item):
                torch.nn.init.normal_(table.weight, 0.0, std, generator=generator)
            for layer in (*self.tower, self.out):
                torch.nn.init.xavier_uniform_(layer.weight, generator=generator)
                torch.nn.init.zeros_(layer.bias)

    def pair_logits(
        self, gmf_u: torch.Tensor, mlp_u: torch.Tensor, items: torch.Tensor
    ) -> torch.Tensor:
        """Logits of aligned (user vectors, item) pairs (training path, dropout active)."""
        gmf = gmf_u * self.gmf_item(items)
        hidden = torch.cat([mlp_u, self.mlp_item(items)], dim=-1)
        for layer in self.tower:
            hidden = F.relu(layer(self.dropout(hidden)))
        return self.out(torch.cat([gmf, hidden], dim=-1)).squeeze(-1)

    def indexed_pair_logits(
        self,
        gmf_u: torch.Tensor,
        mlp_u: torch.Tensor,
        pair_users: torch.Tensor,
        pair_items: torch.Tensor,
    ) -> torch.Tensor:
        """Logits of pairs (``gmf_u[pair_users]``, ``pair_items``), the first tower layer factored.

        ``W [m_u; m_i] + b = W_u m_u + (W_i m_i + b)``: the user part is computed once per row of
        ``mlp_u`` and the item part once per distinct item, then gathered per pair, instead of
        one (2m x h0) product per pair. The same function as :meth:`pair_logits` (up to float
        rounding); only valid without dropout, whose masks differ per pair.
        """
        first = self.tower[0]
        m = mlp_u.shape[1]
        items, item_index = torch.unique(pair_items, return_inverse=True)
        user_part = mlp_u @ first.weight[:, :m].T
        item_part = torch.addmm(first.bias, self.mlp_item(items), first.weight[:, m:].T)
        hidden = F.relu(user_part[pair_users] + item_part[item_index])
        for layer in self.tower[1:]:
            hidden = F.relu(layer(hidden))
        gmf = gmf_u[pair_users] * self.gmf_item(pair_items)
        return self.out(torch.cat([gmf, hidden], dim=-1)).squeeze(-1)

    def all_item_logits(self, gmf_u: torch.Tensor, mlp_u: torch.Tensor) -> torch.Tensor:
        """Logits of every item for each user row (eval path, no dropout), chunked over users.

        Uses two identities to avoid materialising per-pair inputs: the GMF term is
        ``(p_u * w_gmf) @ Q.T`` and the first tower layer splits into a user part and an item
        part, ``W [m_u; m_i] + b = W_u m_u + (W_i m_i + b)``, broadcast over users x items.
        """
        gmf_dim = gmf_u.shape[1]
        w_out = self.out.weight[0]
        gmf_scores = (gmf_u * w_out[:gmf_dim]) @ self.gmf_item.weight.T
        first = self.tower[0]
        m = mlp_u.shape[1]
        user_part = mlp_u @ first.weight[:, :m].T  # (B, h0)
        item_part = self.mlp_item.weight @ first.weight[:, m:].T + first.bias  # (I, h0)
        n_items = item_part.shape[0]
        widest = max(layer.out_features for layer in self.tower)
        chunk = max(1, _MAX_ELEMENTS // max(1, n_items * widest))
        w_mlp = w_out[gmf_dim:]
        parts = []
        for start in range(0, user_part.shape[0], chunk):
            hidden = F.relu(user_part[start : start + chunk, None, :] + item_part[None, :, :])
            for layer in self.tower[1:]:
                hidden = F.relu(layer(hidden))
            parts.append(hidden @ w_mlp)
        mlp_scores = torch.cat(parts) if parts else gmf_scores.new_zeros(gmf_scores.shape)
        return gmf_scores + mlp_scores + self.out.bias


class NCF(Recommender):
    """NeuMF: a GMF branch (element-wise product of ``gmf_dim`` user/item vectors) and an MLP
    tower (concatenated ``mlp_dim`` user/item vectors through ``layers``, ReLU), fused by a linear
    layer into one logit. Trained pointwise with binary cross-entropy on every training pair plus
    ``n_negatives`` uniform non-interacted items per pair, redrawn each epoch. No pre-training.

    ``user_embeddings()`` depends on ``user_representation``:

    * ``"all"`` (default): ``[GMF user vector | MLP user vector]``, n_users x
      (``gmf_dim`` + ``mlp_dim``). This is everything the model knows about a user. The D2D
      reference code edits and attacks only the GMF table, and gender stays recoverable from the
      untouched MLP table (shared/reference/anchors.md, section 2), so auditing or unlearning
      only the GMF part overstates removal.
    * ``"gmf"``: the GMF user table only (n_users x ``gmf_dim``), to reproduce D2D's setting; a
      replacement matrix then replaces the GMF part and the model's own MLP user table is used.

    ``score(users, user_embeddings=E)`` splits ``E``'s columns back into the two parts ("all") or
    uses ``E`` as the GMF part ("gmf"). ``item_embeddings()`` mirrors the choice: ``[GMF | MLP]``
    item vectors or the GMF item table. The training step's ``user_repr`` is the same
    representation for the distinct users of the batch.
    """

    name: ClassVar[str] = "ncf"
    Config: ClassVar[type[TrainConfig]] = NCFConfig
    config: NCFConfig

    def _build(self, split: Split, generator: torch.Generator) -> None:
        module = _NeuMF(split.n_users, split.n_items, self.config)
        module.reset(self.config.init_std, generator)
        self.module = module
        self._pairs = TrainingPairs(split.train)

    def steps_per_epoch(self) -> int:
        """Optimiser steps in one epoch (batches of ``batch_size`` training positives)."""
        return max(1, math.ceil(len(self._pairs) / self.config.batch_size))

    def decay_scale(self) -> float:
        """Factor applied to the decoupled weight decay (1.0 at the reference step count)."""
        cfg = self.config
        if not cfg.decoupled_weight_decay or cfg.decay_reference_steps is None:
            return 1.0
        steps = self.steps_per_epoch()
        return 1.0 if steps <= cfg.decay_reference_steps else cfg.decay_reference_steps / steps

    def _parameter_groups(self) -> list[torch.nn.Parameter] | list[dict[str, Any]]:
        cfg = self.config
        scale = self.decay_scale()
        if cfg.gmf_weight_decay is None:
            if scale == 1.0:
                return super()._parameter_groups()
            return [
                {"params": super()._parameter_groups(), "weight_decay": cfg.weight_decay * scale}
            ]
        net = self._net
        gmf = [net.gmf_user.weight, net.gmf_item.weight]
        rest = [p for p in super()._parameter_groups() if all(p is not q for q in gmf)]
        groups: list[dict[str, Any]] = [
            {"params": gmf, "weight_decay": cfg.gmf_weight_decay * scale},
            {"params": rest},
        ]
        if scale != 1.0:
            groups[1]["weight_decay"] = cfg.weight_decay * scale
        return groups

    @property
    def _net(self) -> _NeuMF:
        assert isinstance(self.module, _NeuMF)
        return self.module

    def _batches(
        self, generator: torch.Generator
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        return self._pairs.epoch(self.config.n_negatives, self.config.batch_size, generator)

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> StepOutput:
        users, items, negatives = batch
        net = self._net
        k = negatives.shape[1]
        distinct, inverse = torch.unique(users, return_inverse=True)
        gmf_d, mlp_d = net.gmf_user(distinct), net.mlp_user(distinct)
        pair_index = torch.cat([inverse, inverse.repeat_interleave(k)])
        pair_items = torch.cat([items, negatives.reshape(-1)])
        if self.config.dropout == 0:
            logits = net.indexed_pair_logits(gmf_d, mlp_d, pair_index, pair_items)
        else:
            logits = net.pair_logits(gmf_d[pair_index], mlp_d[pair_index], pair_items)
        labels = torch.zeros_like(logits)
        labels[: len(items)] = 1.0
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        if self.config.user_representation == "all":
            user_repr = torch.cat([gmf_d, mlp_d], dim=1)
        else:
            user_repr = gmf_d
        return StepOutput(loss=loss, users=distinct, user_repr=user_repr)

    def _user_embeddings(self) -> torch.Tensor:
        net = self._net
        if self.config.user_representation == "all":
            return torch.cat([net.gmf_user.weight, net.mlp_user.weight], dim=1)
        return net.gmf_user.weight

    def _item_embeddings(self) -> torch.Tensor:
        net = self._net
        if self.config.user_representation == "all":
            return torch.cat([net.gmf_item.weight, net.mlp_item.weight], dim=1)
        return net.gmf_item.weight

    def _user_parts(
        self, users: torch.Tensor, user_vectors: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The GMF and MLP user vectors behind ``user_vectors`` (the MLP rows are the model's
        own when only the GMF part is the user representation)."""
        if self.config.user_representation == "all":
            gmf_dim = self.config.gmf_dim
            return user_vectors[:, :gmf_dim], user_vectors[:, gmf_dim:]
        return user_vectors, self._net.mlp_user.weight[users]

    def _score_from(self, users: torch.Tensor, user_vectors: torch.Tensor) -> torch.Tensor:
        return self._net.all_item_logits(*self._user_parts(users, user_vectors))

    def _score_pairs_from(
        self,
        users: torch.Tensor,
        user_vectors: torch.Tensor,
        rows: torch.Tensor,
        items: torch.Tensor,
    ) -> torch.Tensor:
        # scoring is the eval path (no dropout), where the factored first layer is exact
        gmf_u, mlp_u = self._user_parts(users, user_vectors)
        return self._net.indexed_pair_logits(gmf_u, mlp_u, rows, items)
