"""LightGCN (He et al., SIGIR 2020): linear propagation of ID embeddings on the user-item graph.

Ego (layer-0) user and item embeddings are propagated ``n_layers`` times with the symmetric
normalised bipartite adjacency ``A = D^-1/2 [[0, R], [R^T, 0]] D^-1/2`` built once from
``split.train``; the final embedding of a node is the mean of its layers ``0..n_layers``, and
``score(u, i) = <final_u, final_i>``. Training uses BPR with one uniform non-interacted negative
per positive pair (resampled every epoch) and the paper's L2 term on the batch's ego vectors.
The whole graph is propagated once per mini-batch (a few sparse x dense products).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from pydantic import Field

from recunlearn.data.split_types import Split
from recunlearn.models.base import Recommender, StepOutput, TrainConfig
from recunlearn.models.embedding_tables import UserItemTables
from recunlearn.models.sampling import TrainingPairs


class LightGCNConfig(TrainConfig):
    """Options of :class:`LightGCN` (plus the shared training options of :class:`TrainConfig`).

    Defaults follow the paper (3 layers, reg 1e-4, N(0, 0.1) init) with the 32-d embeddings of
    LEGO and the RecBole anchor, except ``lr = 5e-3`` (paper and LEGO: 1e-3): chosen on ML-100K
    leave-one-out validation NDCG@10 -- with 1e-3 the model is still far from converged after
    200 epochs (5.06 vs 6.47; 1e-2 gives 6.43).
    """

    threads: int | None = Field(
        1,
        ge=1,
        description="torch threads while training: 1 by default, measured faster than 2 on "
        "the 2-core benchmark machine (benchmarks/configs/speed.yaml); None = the process setting",
    )

    lr: float = Field(5e-3, gt=0)
    embedding_dim: int = Field(32, ge=1, description="size of the ego user and item vectors")
    n_layers: int = Field(3, ge=0, description="propagation layers K (final = mean of 0..K)")
    reg: float = Field(
        1e-4,
        ge=0,
        description="L2 weight on the batch's ego vectors: reg * (|u|^2 + |i|^2 + |j|^2) / 2 / batch",
    )
    init: Literal["normal", "xavier"] = Field(
        "normal", description="'normal' = N(0, init_std); 'xavier' = Xavier-normal"
    )
    init_std: float = Field(0.1, gt=0, description="standard deviation of the 'normal' init")
    user_representation: Literal["propagated", "ego"] = Field(
        "propagated",
        description="what user_embeddings() returns and score() accepts: the final "
        "(layer-mean) user vectors, or the layer-0 user table (re-propagated when scoring)",
    )


class _SymmetricSpMM(torch.autograd.Function):
    """``A @ x`` for a constant *symmetric* sparse ``A``; the gradient is ``A @ grad``.

    Reusing ``A`` in the backward pass avoids the (slow) sparse transpose autograd would do.
    """

    @staticmethod
    def forward(ctx: Any, adjacency: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.adjacency = adjacency
        return torch.sparse.mm(adjacency, x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[None, torch.Tensor]:
        return None, torch.sparse.mm(ctx.adjacency, grad.contiguous())


def normalized_adjacency(train: sp.spmatrix) -> sp.csr_matrix:
    """``D^-1/2 [[0, R], [R^T, 0]] D^-1/2`` of the binarised ``train`` (users first, then items).

    Isolated nodes (no training interaction) get an all-zero row and column.
    """
    r = sp.csr_matrix(train, dtype=np.float32, copy=True)
    r.sum_duplicates()
    r.eliminate_zeros()
    r.data[:] = 1.0
    a = sp.bmat([[None, r], [r.T, None]], format="csr", dtype=np.float32)
    degree = np.asarray(a.sum(axis=1)).ravel()
    inv_sqrt = np.zeros_like(degree, dtype=np.float32)
    nonzero = degree > 0
    inv_sqrt[nonzero] = degree[nonzero] ** -0.5
    d = sp.diags(inv_sqrt)
    out = (d @ a @ d).tocsr().astype(np.float32)
    out.sort_indices()
    return out


def _to_torch_csr(matrix: sp.csr_matrix) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            torch.from_numpy(matrix.indptr.astype(np.int64)),
            torch.from_numpy(matrix.indices.astype(np.int64)),
            torch.from_numpy(matrix.data.astype(np.float32)),
            size=matrix.shape,
            check_invariants=False,
        )


class LightGCN(Recommender):
    """LightGCN trained with BPR (one uniform negative per positive, resampled every epoch).

    ``user_embeddings()`` depends on ``config.user_representation``:

    * ``"propagated"`` (default): the final user vectors (mean of layers 0..K, n_users x
      ``embedding_dim``) -- exactly what the scorer uses. ``score(users, user_embeddings=U)``
      is ``U[users] @ final_items.T`` with the trained final item vectors.
    * ``"ego"``: the layer-0 user table (what LEGO / D2D edit). ``score(users,
      user_embeddings=U)`` re-propagates the graph with ``U`` as the user ego table (so the
      final item vectors change too, as they aggregate the user ego vectors); the result is
      cached per replacement table.

    ``item_embeddings()`` returns the final (propagated) item vectors of the trained model. The
    training step's ``user_repr`` is the ``user_representation`` rows of the distinct users of
    the batch (differentiable through the propagation in the ``"propagated"`` case).
    """

    name: ClassVar[str] = "lightgcn"
    Config: ClassVar[type[TrainConfig]] = LightGCNConfig
    config: LightGCNConfig

    def __init__(self, config: TrainConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self._adjacency: torch.Tensor | None = None
        self._final: tuple[torch.Tensor, torch.Tensor] | None = None
        self._replacement: tuple[torch.Tensor, int, tuple[torch.Tensor, torch.Tensor]] | None = None

    # ------------------------------------------------------------------ propagation
    def propagate(
        self, user_ego: torch.Tensor, item_ego: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Final (layer-mean) user and item vectors for the given ego tables."""
        assert self._adjacency is not None
        n_users = user_ego.shape[0]
        layer = torch.cat([user_ego, item_ego])
        total = layer
        for _ in range(self.config.n_layers):
            layer = _SymmetricSpMM.apply(self._adjacency, layer)
            total = total + layer
        final = total / (self.config.n_layers + 1)
        return final[:n_users], final[n_users:]

    # ------------------------------------------------------------------ Recommender hooks
    def _build(self, split: Split, generator: torch.Generator) -> None:
        cfg = self.config
        module = UserItemTables(split.n_users, split.n_items, cfg.embedding_dim)
        with torch.no_grad():
            for table in (module.user.weight, module.item.weight):
                if cfg.init == "normal":
                    torch.nn.init.normal_(table, 0.0, cfg.init_std, generator=generator)
                else:
                    torch.nn.init.xavier_normal_(table, generator=generator)
        self.module = module
        self._adjacency = _to_torch_csr(normalized_adjacency(split.train))
        self._pairs = TrainingPairs(split.train)
        self._final = None
        self._replacement = None

    def _batches(
        self, generator: torch.Generator
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        for users, items, negatives in self._pairs.epoch(1, self.config.batch_size, generator):
            yield users, items, negatives[:, 0]

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> StepOutput:
        users, items, negatives = batch
        assert self.module is not None and isinstance(self.module, UserItemTables)
        user_ego, item_ego = self.module.user.weight, self.module.item.weight
        final_users, final_items = self.propagate(user_ego, item_ego)
        distinct = torch.unique(users)
        u, pos, neg = final_users[users], final_items[items], final_items[negatives]
        loss = F.softplus((u * neg).sum(1) - (u * pos).sum(1)).mean()
        if self.config.reg > 0:
            sq = (
                user_ego[users].pow(2).sum()
                + item_ego[items].pow(2).sum()
                + item_ego[negatives].pow(2).sum()
            )
            loss = loss + self.config.reg * 0.5 * sq / len(users)
        table = final_users if self.config.user_representation == "propagated" else user_ego
        return StepOutput(loss=loss, users=distinct, user_repr=table[distinct])

    def _user_embeddings(self) -> torch.Tensor:
        assert self.module is not None and isinstance(self.module, UserItemTables)
        self._final = self.propagate(self.module.user.weight, self.module.item.weight)
        self._replacement = None
        if self.config.user_representation == "propagated":
            return self._final[0]
        return self.module.user.weight

    def _item_embeddings(self) -> torch.Tensor:
        assert self.module is not None and isinstance(self.module, UserItemTables)
        return self.propagate(self.module.user.weight, self.module.item.weight)[1]

    def _final_for(self, table: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Final user and item vectors when ``table`` is the user ego table (cached)."""
        assert self.module is not None and isinstance(self.module, UserItemTables)
        if table is self._cache and self._final is not None:
            return self._final
        if (
            self._replacement is not None
            and self._replacement[0] is table
            and self._replacement[1] == table._version
        ):
            return self._replacement[2]
        final = self.propagate(table.to(torch.float32), self.module.item.weight)
        self._replacement = (table, table._version, final)
        return final

    def _score_table(self, users: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        if self.config.user_representation == "propagated":
            return super()._score_table(users, table)
        final_users, final_items = self._final_for(table)
        return final_users[users] @ final_items.T

    def _score_table_pairs(
        self, users: torch.Tensor, table: torch.Tensor, rows: torch.Tensor, items: torch.Tensor
    ) -> torch.Tensor:
        # a replaced ego row moves every user's propagated row: score through the table
        return self._score_table(users, table)[rows, items]

    def _score_from(self, users: torch.Tensor, user_vectors: torch.Tensor) -> torch.Tensor:
        assert self.module is not None and isinstance(self.module, UserItemTables)
        if self.config.user_representation == "propagated":
            if self._final is None:
                self._final = self.propagate(self.module.user.weight, self.module.item.weight)
            return user_vectors @ self._final[1].T
        # ego rows of ``users`` replace theirs in the trained ego table, then re-propagate
        ego = self.module.user.weight.detach().clone()
        ego[users] = user_vectors
        final_users, final_items = self.propagate(ego, self.module.item.weight)
        return final_users[users] @ final_items.T
