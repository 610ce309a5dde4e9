"""Matrix factorisation trained with Bayesian Personalised Ranking (Rendle et al., 2009)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from pydantic import Field

from recunlearn.data.split_types import Split
from recunlearn.models.base import Recommender, StepOutput, TrainConfig
from recunlearn.models.embedding_tables import UserItemTables
from recunlearn.models.sampling import TrainingPairs


class MFConfig(TrainConfig):
    """Options of :class:`MF` (plus the shared training options of :class:`TrainConfig`).

    Defaults differing from the shared ones were chosen by validation NDCG@10 on ML-100K
    leave-one-out (full ranking): ``lr`` 3e-3 and Xavier init beat lr 1e-3 and N(0, 0.1) / N(0,
    0.01); ``reg`` > 0 and 4 negatives did not help.
    """

    threads: int | None = Field(
        1,
        ge=1,
        description="torch threads while training: 1 by default, measured faster than 2 on "
        "the 2-core benchmark machine (benchmarks/configs/speed.yaml); None = the process setting",
    )

    lr: float = Field(3e-3, gt=0, description="Adam learning rate")
    embedding_dim: int = Field(32, ge=1, description="size of the user and item vectors")
    n_negatives: int = Field(1, ge=1, description="uniform negatives per positive and epoch")
    reg: float = Field(
        0.0,
        ge=0,
        description="L2 weight on the batch's user, positive and negative item vectors "
        "(sum of squares / batch size)",
    )
    init: Literal["normal", "xavier"] = Field(
        "xavier",
        description="'xavier' = Xavier-normal, std sqrt(2 / (n_rows + embedding_dim)) per table "
        "(about 0.045 for ML-100K users); 'normal' = N(0, init_std)",
    )
    init_std: float = Field(0.1, gt=0, description="standard deviation of the 'normal' init")


class MF(Recommender):
    """Matrix factorisation with the BPR pairwise loss.

    score(u, i) = <p_u, q_i> (plain dot product, no biases). Each epoch draws, for every training
    pair (u, i), ``n_negatives`` items j uniformly among the items u has not interacted with, and
    minimises ``-log sigmoid(s_ui - s_uj)`` (mean over triples) plus ``reg`` x the squared norm of
    the batch's vectors divided by the batch size.

    ``user_embeddings()`` returns the user table ``P`` (n_users x ``embedding_dim``); scores are
    ``P[users] @ Q.T``, so a replacement matrix of the same shape is used directly.
    ``item_embeddings()`` returns ``Q``. The training step's ``user_repr`` is the rows of ``P``
    of the distinct users of the batch.
    """

    name: ClassVar[str] = "mf"
    Config: ClassVar[type[TrainConfig]] = MFConfig
    config: MFConfig

    def _build(self, split: Split, generator: torch.Generator) -> None:
        cfg = self.config
        module = UserItemTables(split.n_users, split.n_items, cfg.embedding_dim)
        for table in (module.user.weight, module.item.weight):
            with torch.no_grad():
                if cfg.init == "normal":
                    torch.nn.init.normal_(table, 0.0, cfg.init_std, generator=generator)
                else:
                    torch.nn.init.xavier_normal_(table, generator=generator)
        self.module = module
        self._pairs = TrainingPairs(split.train)

    def _batches(
        self, generator: torch.Generator
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        return self._pairs.epoch(self.config.n_negatives, self.config.batch_size, generator)

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> StepOutput:
        users, items, negatives = batch
        assert self.module is not None
        distinct, inverse = torch.unique(users, return_inverse=True)
        user_repr = self.module.user(distinct)
        u = user_repr[inverse]  # (B, d)
        pos = self.module.item(items)  # (B, d)
        neg = self.module.item(negatives)  # (B, k, d)
        pos_score = (u * pos).sum(-1, keepdim=True)
        neg_score = torch.einsum("bd,bkd->bk", u, neg)
        loss = F.softplus(neg_score - pos_score).mean()
        if self.config.reg > 0:
            sq = u.pow(2).sum() + pos.pow(2).sum() + neg.pow(2).sum()
            loss = loss + self.config.reg * sq / len(users)
        return StepOutput(loss=loss, users=distinct, user_repr=user_repr)

    def _user_embeddings(self) -> torch.Tensor:
        assert self.module is not None
        return self.module.user.weight

    def _item_embeddings(self) -> torch.Tensor:
        assert self.module is not None
        return self.module.item.weight

    def _score_from(self, users: torch.Tensor, user_vectors: torch.Tensor) -> torch.Tensor:
        assert self.module is not None
        return user_vectors @ self.module.item.weight.T

    def _score_pairs_from(
        self,
        users: torch.Tensor,
        user_vectors: torch.Tensor,
        rows: torch.Tensor,
        items: torch.Tensor,
    ) -> torch.Tensor:
        assert self.module is not None
        return (user_vectors[rows] * self.module.item.weight[items]).sum(dim=1)
