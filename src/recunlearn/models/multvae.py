"""MultVAE (Liang et al., WWW 2018): a variational autoencoder over a user's item set.

The encoder reads a user's L2-normalised interaction row (with input dropout), the decoder maps
a latent code to logits over all items, and training maximises a multinomial log-likelihood
minus ``beta`` times the KL divergence to a standard normal prior, with ``beta`` linearly
annealed per update to ``anneal_cap`` (``total_anneal_steps=0`` keeps ``beta = anneal_cap``
constant, as the Adv-/AdvX-MultVAE code does).

The interaction rows stay sparse: the first encoder layer is an ``embedding_bag`` over the
user's items weighted by the normalised (dropped-out) values, so no dense user x item matrix is
ever built; only the decoder output (batch x n_items) is dense.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from pydantic import Field

from recunlearn.data.split_types import Split
from recunlearn.models.base import Recommender, StepOutput, TrainConfig


class MultVAEConfig(TrainConfig):
    """Options of :class:`MultVAE` (defaults: Liang et al. 2018 with a 200-d latent as in LEGO).

    ``hidden_dims`` are the encoder's hidden layer sizes (the decoder mirrors them); ``()`` gives
    the linear VAE of Adv-/AdvX-MultVAE. ``beta`` at update ``t`` (counted from 0 over the whole
    training run) is ``min(anneal_cap, t / total_anneal_steps)``, or ``anneal_cap`` when
    ``total_anneal_steps == 0``.

    ``total_anneal_steps`` defaults to 200, chosen on ML-100K leave-one-out validation NDCG@10
    (mean of 3 seeds 6.65 vs 6.33 with Liang's 200,000, which on a small dataset keeps
    ``beta`` close to 0 for the whole run); pass 200_000 for Liang's schedule. Being counted in
    updates, the schedule depends on the number of batches per epoch.

    ``lr`` defaults to 2e-3 (Liang et al. and LEGO: 1e-3), also chosen on ML-100K validation
    NDCG@10 (seeds 0-1: 8.03 vs 7.89 with 1e-3, 8.00 with 3e-3): with 1e-3 the best epoch
    often reaches the 200-epoch cap (197 for seed 1), with 2e-3 it is about 120.
    """

    lr: float = Field(2e-3, gt=0, description="Adam learning rate")
    batch_size: int = Field(512, ge=1, description="users per mini-batch")
    hidden_dims: tuple[int, ...] = Field((600,), description="encoder hidden sizes")
    latent_dim: int = Field(200, ge=1)
    dropout: float = Field(0.5, ge=0.0, lt=1.0, description="dropout on the normalised input")
    anneal_cap: float = Field(0.2, ge=0.0, description="maximum (or constant) KL weight beta")
    total_anneal_steps: int = Field(
        200, ge=0, description="updates to reach anneal_cap; 0 = constant beta"
    )


class _MultVAEModule(torch.nn.Module):
    """Encoder (sparse first layer + dense layers) and decoder of a MultVAE."""

    def __init__(
        self,
        n_items: int,
        hidden_dims: tuple[int, ...],
        latent_dim: int,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        enc_dims = [*hidden_dims, 2 * latent_dim]
        dec_dims = [latent_dim, *reversed(hidden_dims), n_items]
        # first encoder layer, stored item-major (n_items x d) for embedding_bag
        self.input_weight = torch.nn.Parameter(torch.empty(n_items, enc_dims[0]))
        self.input_bias = torch.nn.Parameter(torch.empty(enc_dims[0]))
        self.encoder = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(enc_dims[:-1], enc_dims[1:], strict=True)
        )
        self.decoder = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(dec_dims[:-1], dec_dims[1:], strict=True)
        )
        self.latent_dim = latent_dim
        # Liang et al.: Glorot-uniform weights, N(0, 0.001) biases
        torch.nn.init.xavier_uniform_(self.input_weight, generator=generator)
        torch.nn.init.normal_(self.input_bias, std=1e-3, generator=generator)
        for layer in [*self.encoder, *self.decoder]:
            torch.nn.init.xavier_uniform_(layer.weight, generator=generator)
            torch.nn.init.normal_(layer.bias, std=1e-3, generator=generator)

    def encode(
        self, items: torch.Tensor, offsets: torch.Tensor, weights: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar) of the bags ``items[offsets[b]:offsets[b+1]]`` weighted by ``weights``."""
        h = F.embedding_bag(
            items, self.input_weight, offsets, mode="sum", per_sample_weights=weights
        )
        h = h + self.input_bias
        for layer in self.encoder:
            h = layer(torch.tanh(h))
        return h[:, : self.latent_dim], h[:, self.latent_dim :]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Item logits (batch x n_items) of latent codes ``z``."""
        h = z
        last = len(self.decoder) - 1
        for index, layer in enumerate(self.decoder):
            if index:
                h = torch.tanh(h)
            h = _aligned_linear(h, layer) if index == last else layer(h)
        return h


_GEMM_ALIGN = 8
"""Output widths are padded to a multiple of this many floats for the decoder's item GEMM."""


def _aligned_linear(h: torch.Tensor, layer: torch.nn.Linear) -> torch.Tensor:
    """``layer(h)`` computed with the output width padded to a multiple of ``_GEMM_ALIGN``.

    The batch x n_items product is most of a MultVAE epoch, and the BLAS is shape-sensitive:
    on the 2-core AMD EPYC of our benchmarks, MKL ran it at ~40 GFLOP/s with ML-100K's 1,682
    items and ~70 GFLOP/s with 1,688 (3,706 vs 3,712 for ML-1M; see
    benchmarks/notes/issue2_base_models.md). The padding rows are zeros and are sliced off, so
    the values are those of ``layer(h)`` and the parameters keep their shapes; the result is a
    strided view (row stride = the padded width).
    """
    width = layer.out_features
    pad = -width % _GEMM_ALIGN
    if pad == 0:
        return layer(h)
    weight = F.pad(layer.weight, (0, 0, 0, pad))
    bias = F.pad(layer.bias, (0, pad))
    return F.linear(h, weight, bias)[:, :width]


class MultVAE(Recommender):
    """Multinomial variational autoencoder (Liang et al. 2018).

    Trains only on the rows of ``split.train_users`` (a user is one example); every other user
    is folded in through the encoder at inference.

    ``user_embeddings()`` returns the encoder mean ``mu(x_u)`` (n_users x ``latent_dim``) of
    every user's row of ``split.train`` (no sampling, no dropout) -- the matrix LEGO edits and an
    attacker sees. ``score(users, user_embeddings=U)`` decodes the rows of ``U``; scores are the
    decoder logits (the softmax does not change rankings). During training,
    ``StepOutput.user_repr`` is the *sampled* ``z = mu + sigma * eps`` of the batch users (where
    Adv-/AdvX-MultVAE attach their adversaries); its mean is the ``user_embeddings()`` row.

    Use :meth:`advx_config` for the linear variant of Adv-/AdvX-MultVAE.
    """

    name: ClassVar[str] = "multvae"
    Config: ClassVar[type[TrainConfig]] = MultVAEConfig
    config: MultVAEConfig

    def __init__(self, config: TrainConfig | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self._train: sp.csr_matrix | None = None
        self._train_users: torch.Tensor | None = None
        self._generator: torch.Generator | None = None
        self.anneal_step_: int = 0

    @classmethod
    def advx_config(cls, **overrides: Any) -> MultVAEConfig:
        """The linear MultVAE of the Adv-MultVAE / AdvX-MultVAE code (ML-1M settings).

        No hidden layer (encoder n_items -> 2x100, decoder 100 -> n_items), latent 100, input
        dropout 0.1, constant ``beta = 0.8``, Adam lr 1e-3 with weight decay 1e-4, batch 64,
        200 epochs. Not reproduced: their Xavier-normal initialisation and their
        ReduceLROnPlateau schedule on the validation VAE loss. The shared loop's schedule on
        the validation metric (``lr_plateau_factor=0.1``) is left off: on the ML-1M first half
        it kept earlier epochs and left more gender to the attacker (issue-5 notes).
        ``overrides`` replace any field.
        """
        settings: dict[str, Any] = {
            "hidden_dims": (),
            "latent_dim": 100,
            "dropout": 0.1,
            "anneal_cap": 0.8,
            "total_anneal_steps": 0,
            "lr": 1e-3,
            "weight_decay": 1e-4,
            "batch_size": 64,
            "epochs": 200,
        }
        settings.update(overrides)
        return MultVAEConfig(**settings)

    @property
    def beta(self) -> float:
        """The KL weight the next training update uses."""
        cfg = self.config
        if cfg.total_anneal_steps == 0:
            return cfg.anneal_cap
        return min(cfg.anneal_cap, self.anneal_step_ / cfg.total_anneal_steps)

    # ------------------------------------------------------------------ Recommender hooks
    def _build(self, split: Split, generator: torch.Generator) -> None:
        cfg = self.config
        train = sp.csr_matrix(split.train, dtype=np.float32, copy=True)
        train.sum_duplicates()
        self._train = train
        self._train_users = torch.as_tensor(np.asarray(split.train_users), dtype=torch.long)
        self._generator = generator
        self.anneal_step_ = 0
        self.module = _MultVAEModule(
            split.n_items, tuple(cfg.hidden_dims), cfg.latent_dim, generator
        )

    def _batches(self, generator: torch.Generator) -> Iterator[torch.Tensor]:
        assert self._train_users is not None
        users = self._train_users
        order = users[torch.randperm(len(users), generator=generator)]
        yield from torch.split(order, self.config.batch_size)

    def _bags(
        self, users: torch.Tensor, dropout: float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sparse input of ``users``: (items, offsets, encoder weights, raw values, batch rows).

        Encoder weights are the L2-normalised values, with dropout (rescaled by 1/(1-p)) when
        ``dropout > 0``; dropped entries keep weight 0. Raw values feed the likelihood; batch
        rows give the position in ``users`` of every entry.
        """
        assert self._train is not None
        rows = self._train[users.numpy()]
        values = torch.from_numpy(rows.data)
        items = torch.from_numpy(rows.indices.astype(np.int64))
        counts = torch.from_numpy(np.diff(rows.indptr).astype(np.int64))
        offsets = torch.from_numpy(rows.indptr[:-1].astype(np.int64))
        norms = torch.sqrt(torch.from_numpy(np.asarray(rows.multiply(rows).sum(axis=1)).ravel()))
        norms = torch.clamp(norms.to(torch.float32), min=1e-12)
        weights = values / torch.repeat_interleave(norms, counts)
        if dropout > 0:
            keep = torch.rand(len(weights), generator=self._generator) >= dropout
            weights = weights * keep / (1.0 - dropout)
        batch_rows = torch.repeat_interleave(torch.arange(len(users)), counts)
        return items, offsets, weights, values, batch_rows

    def _step(self, batch: torch.Tensor) -> StepOutput:
        assert self.module is not None and isinstance(self.module, _MultVAEModule)
        users = batch
        items, offsets, weights, values, rows = self._bags(users, self.config.dropout)
        mu, logvar = self.module.encode(items, offsets, weights)
        eps = torch.randn(mu.shape, generator=self._generator)
        z = mu + eps * torch.exp(0.5 * logvar)
        log_probs = F.log_softmax(self.module.decode(z), dim=1)
        neg_ll = -(log_probs[rows, items] * values).sum() / len(users)
        kl = 0.5 * torch.sum(torch.exp(logvar) + mu**2 - 1.0 - logvar, dim=1).mean()
        loss = neg_ll + self.beta * kl
        self.anneal_step_ += 1
        return StepOutput(loss=loss, users=users, user_repr=z)

    def embedding_rows(self, users: torch.Tensor, user_repr: torch.Tensor) -> torch.Tensor:
        """``mu`` of the users' whole (undropped) history, with gradient: their rows of
        ``user_embeddings()``. Training steps on ``z`` of a history with ``dropout`` of its
        items removed, which is not what an attacker reads. Draws no random number."""
        assert self.module is not None and isinstance(self.module, _MultVAEModule)
        items, offsets, weights, _, _ = self._bags(users, 0.0)
        return self.module.encode(items, offsets, weights)[0]

    def _user_embeddings(self) -> torch.Tensor:
        assert self.module is not None and isinstance(self.module, _MultVAEModule)
        assert self._train is not None
        n_users = self._train.shape[0]
        chunks = []
        for users in torch.split(torch.arange(n_users), 4096):
            items, offsets, weights, _, _ = self._bags(users, 0.0)
            chunks.append(self.module.encode(items, offsets, weights)[0])
        return torch.cat(chunks)

    def _score_from(self, users: torch.Tensor, user_vectors: torch.Tensor) -> torch.Tensor:
        assert self.module is not None and isinstance(self.module, _MultVAEModule)
        return self.module.decode(user_vectors)
