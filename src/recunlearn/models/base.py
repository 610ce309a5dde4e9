"""The :class:`Recommender` interface and the training loop every base model shares.

A model implements four things:

* ``_build(split, generator)``: create its ``torch.nn.Module`` (``self.module``) and any
  training-side structures from ``split.train``;
* ``_batches(generator)``: yield mini-batches for one epoch (vectorised: whole index tensors);
* ``_step(batch) -> StepOutput``: the batch loss plus the batch users' *differentiable* user
  representation (the same representation ``user_embeddings()`` returns), so in-training
  unlearning (adversary heads) can hook into any model;
* ``_user_embeddings()`` and ``_score_from(user_vectors)`` for inference.

The shared loop handles seeding, Adam, progress bars, the loss log, validation every
``eval_every`` epochs, early stopping with patience and restoring the best weights.
"""

from __future__ import annotations

import copy
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from recunlearn.core.progress import EpochBar
from recunlearn.data.split_types import Split
from recunlearn.evaluation.evaluator import evaluate_scores

logger = logging.getLogger(__name__)


class TrainConfig(BaseModel):
    """Options of the shared training loop (every model config embeds these)."""

    model_config = ConfigDict(extra="forbid")

    epochs: int = Field(200, ge=1, description="maximum number of epochs")
    batch_size: int = Field(2048, ge=1)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    decoupled_weight_decay: bool = Field(
        False,
        description="decay the weights directly, scaled by lr (AdamW), instead of adding an L2 "
        "term to the gradient (Adam); the decay of a table row then does not depend on "
        "whether the row is in the batch",
    )
    eval_every: int = Field(1, ge=1, description="validate every N epochs")
    patience: int = Field(30, ge=1, description="stop after N validations without improvement")
    lr_plateau_factor: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="multiply the model's lr by this factor after lr_plateau_patience + 1 "
        "validations without a better validation metric (torch's ReduceLROnPlateau; the AdvX "
        "code uses 0.1); None = constant lr. Adversary heads keep their own lr",
    )
    lr_plateau_patience: int = Field(5, ge=0, description="validations the schedule waits")
    min_lr: float = Field(1e-6, ge=0, description="the schedule never goes below this lr")
    early_stopping_metric: str = "NDCG@10"
    seed: int = 0
    threads: int | None = Field(
        1,
        ge=1,
        description="torch CPU threads while training (None = leave the process setting). A "
        "seed fixes the model for a given thread count; another count sums in another order, "
        "and over many epochs that can change the best epoch, so the count is part of the "
        "configuration (and of every record's hash)",
    )


def make_adam(
    params: list[torch.nn.Parameter] | list[dict[str, Any]],
    lr: float,
    weight_decay: float = 0.0,
    decoupled: bool = False,
) -> torch.optim.Adam | torch.optim.AdamW:
    """Adam (AdamW when ``decoupled``) with the fused CPU kernel when this torch has it.

    ``params`` is a list of parameters or of torch parameter groups (dicts with ``params`` and
    optionally their own ``lr`` / ``weight_decay``; ``lr`` and ``weight_decay`` are the defaults).

    The fused kernel updates every tensor in one call; on small models (embedding tables) the
    per-tensor element-wise ops of the default implementation are a large part of a step.
    """
    # torch fills defaults into group dicts in place: give it copies, keep the caller's clean
    params = [dict(p) if isinstance(p, dict) else p for p in params]
    kind = torch.optim.AdamW if decoupled else torch.optim.Adam
    try:
        return kind(params, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch (< 2.4): no fused CPU Adam
        return kind(params, lr=lr, weight_decay=weight_decay)


def _plateau_schedule(
    optimizer: torch.optim.Optimizer, cfg: TrainConfig
) -> torch.optim.lr_scheduler.ReduceLROnPlateau | None:
    """ReduceLROnPlateau on the (maximised) validation metric, or None without a factor."""
    if cfg.lr_plateau_factor is None:
        return None
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer,
        mode="max",
        factor=cfg.lr_plateau_factor,
        patience=cfg.lr_plateau_patience,
        min_lr=cfg.min_lr,
    )


HookFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(user_repr of the batch, user indices of the batch) -> extra loss added before backward."""

SelectionFn = Callable[[int, float], float]
"""(epoch, validation value so far) -> the value early stopping maximises instead. Hooks run in
order after each validation, each receiving the previous one's output; the validation metric
itself is still what ``valid_log_`` records."""


@dataclass
class StepOutput:
    """What one training step computed.

    Attributes:
        loss: the recommendation loss of the batch (scalar).
        users: user indices of the batch (1-D long tensor).
        user_repr: their differentiable user representation (rows of ``user_embeddings()``).
    """

    loss: torch.Tensor
    users: torch.Tensor
    user_repr: torch.Tensor


class Recommender(ABC):
    """Base class of every recommender.

    Subclasses define ``name`` and ``Config`` (a pydantic model deriving from
    :class:`TrainConfig`), and document in their docstring which representation
    ``user_embeddings()`` returns.
    """

    name: ClassVar[str] = "base"
    Config: ClassVar[type[TrainConfig]] = TrainConfig

    def __init__(self, config: TrainConfig | None = None, **overrides: Any) -> None:
        if config is None:
            config = self.Config(**overrides)
        elif overrides:
            config = config.model_copy(update=overrides)
            config = self.Config.model_validate(config.model_dump())
        if not isinstance(config, self.Config):
            config = self.Config.model_validate(config.model_dump())
        self.config = config
        self.module: torch.nn.Module | None = None
        self.split_: Split | None = None
        self.loss_log_: list[dict[str, float]] = []
        self.valid_log_: list[dict[str, float]] = []
        self.best_epoch_: int | None = None
        self.train_seconds_: float = 0.0
        self.epoch_seconds_: list[float] = []
        self.hooks: list[HookFn] = []
        self.selection_hooks: list[SelectionFn] = []
        # parameter groups trained beside the model by a second Adam (adversary heads): each a
        # torch param-group dict, {"params": [...], "lr": ..., "weight_decay": ...}
        self.extra_parameters: list[dict[str, Any]] = []
        self._cache: torch.Tensor | None = None

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def _build(self, split: Split, generator: torch.Generator) -> None:
        """Create ``self.module`` and training structures from ``split``."""

    @abstractmethod
    def _batches(self, generator: torch.Generator) -> Iterator[Any]:
        """Yield the mini-batches of one epoch."""

    @abstractmethod
    def _step(self, batch: Any) -> StepOutput:
        """Loss and user representation of one batch (module in train mode)."""

    @abstractmethod
    def _user_embeddings(self) -> torch.Tensor:
        """All users' representation (module in eval mode, no grad)."""

    @abstractmethod
    def _score_from(self, users: torch.Tensor, user_vectors: torch.Tensor) -> torch.Tensor:
        """Scores of all items for ``users`` given their representation rows."""

    def _item_embeddings(self) -> torch.Tensor:
        raise NotImplementedError(f"{self.name} has no item embedding table")

    def embedding_rows(self, users: torch.Tensor, user_repr: torch.Tensor) -> torch.Tensor:
        """The batch users' rows of ``user_embeddings()``, differentiable, during training.

        ``user_repr`` is the step's ``StepOutput.user_repr``; models whose training
        representation already is those rows (MF, NCF, LightGCN) return it unchanged. A model
        that trains on something else (MultVAE: a sample ``z`` of a dropped-out history)
        overrides this, so that in-training adversaries protect what an attacker reads.
        """
        return user_repr

    def _parameter_groups(self) -> list[torch.nn.Parameter] | list[dict[str, Any]]:
        """What the model's Adam trains: its parameters, or torch parameter groups when some
        tensors need their own ``lr`` / ``weight_decay`` (see :func:`make_adam`)."""
        assert self.module is not None
        return [p for p in self.module.parameters() if p.requires_grad]

    def _score_table(self, users: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        """Scores of all items for ``users`` given the *full* representation table.

        Defaults to ``_score_from`` on the users' own rows; override it when a user's scores
        depend on other users' rows (LightGCN re-propagating a replaced ego table).
        """
        return self._score_from(users, table[users].to(torch.float32))

    def _score_pairs_from(
        self,
        users: torch.Tensor,
        user_vectors: torch.Tensor,
        rows: torch.Tensor,
        items: torch.Tensor,
    ) -> torch.Tensor:
        """Scores of the pairs (``users[rows[k]]``, ``items[k]``) given the users' rows.

        The same values as ``_score_from(users, user_vectors)[rows, items]``, which is the
        default; a model that can score a pair without scoring every item overrides it (training
        through a frozen model by BPR needs two pairs per row, not every item).
        """
        return self._score_from(users, user_vectors)[rows, items]

    def _score_table_pairs(
        self, users: torch.Tensor, table: torch.Tensor, rows: torch.Tensor, items: torch.Tensor
    ) -> torch.Tensor:
        """``_score_table(users, table)[rows, items]``, through :meth:`_score_pairs_from`."""
        return self._score_pairs_from(users, table[users].to(torch.float32), rows, items)

    # ------------------------------------------------------------------ public API
    def fit(self, split: Split, *, progress: bool = True, log_every: int = 0) -> Recommender:
        """Train on ``split.train``, validating on ``split.valid`` when present.

        Args:
            split: the split to learn from.
            progress: show a progress bar (rich) over epochs.
            log_every: also log losses every N epochs through ``logging`` (0 = never).
        """
        cfg = self.config
        torch.manual_seed(cfg.seed)
        generator = torch.Generator().manual_seed(cfg.seed)
        self.split_ = split
        self._build(split, generator)
        assert self.module is not None
        optimizer = make_adam(
            self._parameter_groups(),
            lr=cfg.lr,
            weight_decay=cfg.weight_decay,
            decoupled=cfg.decoupled_weight_decay,
        )
        schedule = _plateau_schedule(optimizer, cfg)
        # groups without their own lr / weight_decay step at the model's lr, without decay
        extra_opt = make_adam(self.extra_parameters, lr=cfg.lr) if self.extra_parameters else None
        previous_threads = torch.get_num_threads()
        # with >1 thread some CPU kernels (the embedding tables' index_put backward) add in a
        # thread-dependent order: two fits with the same seed drifted apart by ~5e-3 in three
        # NCF epochs. The deterministic kernels cost no measurable time here.
        previous_deterministic = (
            torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(),
        )
        torch.use_deterministic_algorithms(True, warn_only=True)
        if cfg.threads is not None:
            torch.set_num_threads(cfg.threads)
        best_value, best_state, waited = -np.inf, None, 0
        self.loss_log_, self.valid_log_, self.epoch_seconds_ = [], [], []
        started = time.perf_counter()
        bar = EpochBar(progress, cfg.epochs, self.name)
        try:
            for epoch in range(1, cfg.epochs + 1):
                t0 = time.perf_counter()
                self.module.train()
                total, n_batches = 0.0, 0
                for batch in self._batches(generator):
                    out = self._step(batch)
                    loss = out.loss
                    for hook in self.hooks:
                        loss = loss + hook(out.user_repr, out.users)
                    optimizer.zero_grad(set_to_none=True)
                    if extra_opt is not None:
                        extra_opt.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    if extra_opt is not None:
                        extra_opt.step()
                    total += float(out.loss.detach())
                    n_batches += 1
                self._cache = None
                seconds = time.perf_counter() - t0
                self.epoch_seconds_.append(seconds)
                record = {"epoch": epoch, "loss": total / max(1, n_batches), "seconds": seconds}
                self.loss_log_.append(record)
                if log_every and epoch % log_every == 0:
                    logger.info("%s epoch %d loss %.5f", self.name, epoch, record["loss"])
                stop = False
                if split.valid is not None and epoch % cfg.eval_every == 0:
                    metric = self.validate()
                    value = metric
                    for select in self.selection_hooks:
                        value = select(epoch, value)
                    self.valid_log_.append({"epoch": epoch, cfg.early_stopping_metric: metric})
                    if schedule is not None:
                        # on the model's own metric, not on a selection hook's value
                        schedule.step(metric)
                        self.valid_log_[-1]["lr"] = optimizer.param_groups[0]["lr"]
                    if value > best_value:
                        best_value, waited, self.best_epoch_ = value, 0, epoch
                        best_state = copy.deepcopy(self.module.state_dict())
                    else:
                        waited += 1
                        stop = waited >= cfg.patience
                best = f"  best val {best_value:.4f}" if np.isfinite(best_value) else ""
                bar.update(epoch + 1, f"loss {record['loss']:.4f}{best}")
                if stop:
                    break
        finally:
            bar.close()
            torch.set_num_threads(previous_threads)
            torch.use_deterministic_algorithms(
                previous_deterministic[0], warn_only=previous_deterministic[1]
            )
        if best_state is not None:
            self.module.load_state_dict(best_state)
        elif split.valid is None:
            self.best_epoch_ = len(self.loss_log_)
        self.module.eval()
        self._cache = None
        self.train_seconds_ = time.perf_counter() - started
        return self

    def validate(self) -> float:
        """The early-stopping metric on the validation set."""
        assert self.split_ is not None and self.split_.valid is not None
        self._cache = None
        result = evaluate_scores(
            lambda users: self.score(users),
            self.split_.valid,
            ks=(int(self.config.early_stopping_metric.split("@")[1]),),
            metrics=(self.config.early_stopping_metric.split("@")[0],),
        )
        self._cache = None
        return result.summary[self.config.early_stopping_metric]

    def user_embeddings(self) -> torch.Tensor:
        """The user representation an attacker sees and an unlearner edits (n_users x d)."""
        self._require_fitted()
        if self._cache is None:
            assert self.module is not None
            self.module.eval()
            with torch.no_grad():
                self._cache = self._user_embeddings().detach()
        return self._cache

    def item_embeddings(self) -> torch.Tensor:
        """The item representation used for scoring (n_items x d)."""
        self._require_fitted()
        with torch.no_grad():
            return self._item_embeddings().detach()

    def score(
        self, users: np.ndarray | torch.Tensor, user_embeddings: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Scores of every item for ``users`` (len(users) x n_items).

        Args:
            users: user indices.
            user_embeddings: optional replacement of the full ``user_embeddings()`` matrix
                (n_users x d), e.g. the output of a post-hoc unlearner; no retraining needed.
        """
        self._require_fitted()
        users_t = torch.as_tensor(np.asarray(users), dtype=torch.long)
        table = self.user_embeddings() if user_embeddings is None else user_embeddings
        expected = self.user_embeddings().shape
        if tuple(table.shape) != tuple(expected):
            raise ValueError(
                f"user_embeddings has shape {tuple(table.shape)}, expected {tuple(expected)}"
            )
        assert self.module is not None
        self.module.eval()
        with torch.no_grad():
            return self._score_table(users_t, table)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Weights to save (``safetensors``)."""
        self._require_fitted()
        assert self.module is not None
        return {k: v.detach().contiguous() for k, v in self.module.state_dict().items()}

    def load_state(self, split: Split, tensors: dict[str, torch.Tensor]) -> Recommender:
        """Rebuild the module for ``split`` and load saved weights (no training)."""
        self.split_ = split
        self._build(split, torch.Generator().manual_seed(self.config.seed))
        assert self.module is not None
        self.module.load_state_dict(tensors)
        self.module.eval()
        self._cache = None
        return self

    def _require_fitted(self) -> None:
        if self.module is None:
            raise RuntimeError(f"{self.name}: call fit() (or load_state()) first")
