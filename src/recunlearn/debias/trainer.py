"""The one trainer interface every debiasing method implements.

``trainer = SomeMethod(config).fit(split)``; ``trainer.predict(users, items) -> np.ndarray``.
Training runs epochs of *user batches* (a random block of users with all their observed
ratings; losses averaged per user, then over the batch, as ULTD's ``L_f``), evaluates the
validation AUC on ``V`` after every epoch and keeps the best parameters (early stopping with
``patience``). The test set ``T`` is never looked at during training.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from recunlearn.core.errors import ConfigError
from recunlearn.data.feedback.types import DebiasSplit, Triples
from recunlearn.debias.metrics import auc
from recunlearn.debias.models import (
    Params,
    clone_params,
    init_mf,
    load_params,
    mf_predict,
    predict_numpy,
)

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Options shared by every method.

    Attributes:
        dim: embedding size (debias.md [asm]: Coat 16, Yahoo 32, KuaiRec 64).
        lr: Adam learning rate of the prediction model.
        weight_decay: Adam weight decay (L2) of the prediction model.
        epochs: maximum epochs.
        patience: epochs without a better validation AUC before stopping (Coat 20, others 10).
        user_batch: users per batch (Coat 32, Yahoo 512, KuaiRec 64 [asm]).
        init_std: standard deviation of the initial embeddings.
        seed: seeds the initialisation and the batch order (same seed, same predictions).
    """

    dim: int = 16
    lr: float = 0.01
    weight_decay: float = 1e-4
    epochs: int = 300
    patience: int = 20
    user_batch: int = 32
    init_std: float = 0.1
    seed: int = 0

    @classmethod
    def from_options(cls, **options: Any) -> TrainConfig:
        """Build from keyword options, rejecting unknown keys (a clear ConfigError)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise ConfigError(
                f"{cls.__name__}: unknown option(s) {unknown}; known: {sorted(names)}"
            )
        return cls(**options)

    def to_dict(self) -> dict[str, Any]:
        """All fields as a JSON-able dict."""
        return dataclasses.asdict(self)


class UserBatcher:
    """Random blocks of users with all their ratings in a triple set (vectorised)."""

    def __init__(self, triples: Triples, n_users: int, batch_users: int):
        self.triples = triples
        self.batch_users = max(1, int(batch_users))
        counts = np.bincount(triples.user, minlength=n_users)
        self.users = np.flatnonzero(counts)
        self.per_user = counts
        self.weight = torch.as_tensor(1.0 / counts[triples.user], dtype=torch.float32)
        self.user_t = torch.tensor(triples.user)
        self.item_t = torch.tensor(triples.item)
        self.label_t = torch.tensor(triples.label)

    def batches(self, rng: np.random.Generator) -> Iterator[tuple[np.ndarray, int]]:
        """Yield ``(row indices, number of users)`` per batch, users in a random order."""
        perm = rng.permutation(self.users)
        block = np.empty(self.per_user.shape[0], dtype=np.int64)
        block[perm] = np.arange(len(perm)) // self.batch_users
        row_block = block[self.triples.user]
        order = np.argsort(row_block, kind="stable")
        bounds = np.searchsorted(row_block[order], np.arange(1, -(-len(perm) // self.batch_users)))
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(order)]])
        n_blocks = len(starts)
        for b in range(n_blocks):
            n_users = min(self.batch_users, len(perm) - b * self.batch_users)
            yield order[starts[b] : ends[b]], n_users


def user_mean_loss(errors: torch.Tensor, weights: torch.Tensor, n_users: int) -> torch.Tensor:
    """``(1/|B|) Σ_u (1/|O_u|) Σ_i errors``: per-user mean, then mean over the batch users."""
    return (weights * errors).sum() / n_users


class DebiasTrainer:
    """Base class: one prediction model ``f`` (MF), epochs of user batches, early stopping on V.

    Subclasses set :attr:`config_class` and implement :meth:`_setup` and :meth:`_epoch` (or
    override :meth:`fit` for multi-phase schedules).

    Attributes after ``fit``:
        f: the prediction model's parameters (best validation epoch).
        history: one dict per epoch (losses, validation AUC, seconds).
        best_epoch, best_valid_auc, epochs_run, train_seconds.
    """

    name: ClassVar[str] = "base"
    config_class: ClassVar[type[TrainConfig]] = TrainConfig

    def __init__(self, config: TrainConfig | None = None, **options: Any):
        if config is None:
            config = self.config_class.from_options(**options)
        elif options:
            config = dataclasses.replace(config, **options)
        if not isinstance(config, self.config_class):
            raise ConfigError(f"{self.name} expects a {self.config_class.__name__}")
        self.config = config
        self.history: list[dict[str, float]] = []
        self.diagnostics: dict[str, Any] = {}

    # ------------------------------------------------------------------ building blocks
    def _init_common(self, split: DebiasSplit) -> None:
        cfg = self.config
        self.split = split
        self.n_users, self.n_items = split.n_users, split.n_items
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        self.valid_u = split.valid.user
        self.valid_i = split.valid.item
        self.valid_y = split.valid.label

    def _new_f(self, n_items: int | None = None) -> Params:
        cfg = self.config
        return init_mf(self.n_users, n_items or self.n_items, cfg.dim, self.generator, cfg.init_std)

    def _adam(self, params: Params, lr: float, weight_decay: float) -> torch.optim.Adam:
        return torch.optim.Adam(list(params.values()), lr=lr, weight_decay=weight_decay)

    def valid_auc(self) -> float:
        """AUC of the current model on the validation ratings ``V``."""
        return auc(self.valid_y, self.predict(self.valid_u, self.valid_i))

    def _train_loop(self, epoch_fn, *, epochs: int, patience: int, phase: str = "train") -> float:
        """Run ``epoch_fn(epoch) -> dict`` with early stopping on validation AUC; restore the
        best ``self.f``; return the best validation AUC."""
        best, best_state, best_epoch, waited = -np.inf, clone_params(self.f), -1, 0
        start = time.perf_counter()
        for epoch in range(epochs):
            stats = epoch_fn(epoch) or {}
            score = self.valid_auc()
            if not np.isfinite(score):
                score = -np.inf
            stats.update(epoch=epoch, phase=phase, valid_auc=score)
            self.history.append(stats)
            if score > best:
                best, best_state, best_epoch, waited = score, clone_params(self.f), epoch, 0
            else:
                waited += 1
                if waited >= patience:
                    break
        load_params(self.f, best_state)
        self.best_epoch = best_epoch
        self.best_valid_auc = float(best)
        self.epochs_run = len(self.history)
        self.train_seconds = getattr(self, "train_seconds", 0.0) + time.perf_counter() - start
        log.info("%s %s: best valid AUC %.4f at epoch %d", self.name, phase, best, best_epoch)
        return float(best)

    # ------------------------------------------------------------------ public interface
    def fit(self, split: DebiasSplit) -> DebiasTrainer:
        """Train on ``split.train`` (and ``split.uniform`` where the method uses it)."""
        self._init_common(split)
        self._setup(split)
        self._train_loop(self._epoch, epochs=self.config.epochs, patience=self.config.patience)
        return self

    def _setup(self, split: DebiasSplit) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _epoch(self, epoch: int) -> dict[str, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predicted probability of a positive rating for aligned user/item index arrays."""
        return predict_numpy(self.f, users, items)

    def summary(self) -> dict[str, Any]:
        """Training facts for records: best epoch, epochs run, seconds, diagnostics."""
        return {
            "best_epoch": getattr(self, "best_epoch", None),
            "best_valid_auc": getattr(self, "best_valid_auc", None),
            "epochs_run": getattr(self, "epochs_run", None),
            "train_seconds": getattr(self, "train_seconds", None),
            "diagnostics": self.diagnostics,
        }


def f_errors(params: Params, batcher: UserBatcher, rows: np.ndarray, target=None):
    """Squared errors of ``f`` on ``rows`` of a batcher's triples (target defaults to labels)."""
    idx = torch.as_tensor(rows)
    u, i = batcher.user_t[idx], batcher.item_t[idx]
    pred = mf_predict(params, u, i)
    y = batcher.label_t[idx] if target is None else target
    return (pred - y) ** 2, u, i, pred
