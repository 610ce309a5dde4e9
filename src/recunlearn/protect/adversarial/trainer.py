"""Adversarial training for any base recommender, through the shared training loop.

:class:`AdversarialTrainer` plugs one head group per protected attribute into a
:class:`~recunlearn.models.base.Recommender` without touching its code:

* a **hook** (``model.hooks``) receives each batch's differentiable user representation
  (``StepOutput.user_repr``: MultVAE's sampled ``z``, MF / NCF / LightGCN's user rows) and the
  batch's user indices, and returns a loss the loop adds to the recommendation loss before the
  single backward pass. With a bounded objective (the default, ``confusion``) it first swaps
  in the batch users' rows of ``user_embeddings()`` (``Recommender.embedding_rows``: what an
  attacker reads), stores them detached in a per-attribute memory bank, refits the heads
  ``head_steps`` Adam steps on the whole bank (their own optimiser), and returns lambda times
  the bounded objective of the refitted, frozen heads. With ``reversal`` (the papers') it
  passes the labelled rows through gradient reversal into the heads and returns the heads'
  loss;
* with ``head_steps == 0`` the heads' parameters go to ``model.extra_parameters`` as one Adam
  parameter group with the heads' own learning rate and weight decay, stepped by the loop's
  second Adam (the papers' joint step);
* when the split has validation users, a selection hook (``model.selection_hooks``) scores
  the jointly trained heads on the validation users after each validation (logged per
  validation) and either leaves the model's early-stopping value alone (selection ``ndcg``,
  the default) or replaces it by minus the heads' leakage (selection ``adversary``,
  Adv-MultVAE's choice).

After :meth:`AdversarialTrainer.fit` the hooks and parameters are removed: the model
is an ordinary recommender whose ``user_embeddings()`` is the protected representation, saved
and loaded like any other (the heads are not needed to use it).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from recunlearn.audit.scoring import (
    categorical_scores,
    continuous_scores,
    leakage,
    recall_counts_bacc,
)
from recunlearn.core.errors import ConfigError
from recunlearn.data.split_types import Split
from recunlearn.models.base import Recommender
from recunlearn.protect.adversarial.config import AdversaryConfig, validate_config
from recunlearn.protect.adversarial.grl import grad_reverse
from recunlearn.protect.adversarial.heads import AttributeHead
from recunlearn.protect.adversarial.objectives import fisher_spread
from recunlearn.protect.adversarial.targets import AttributeTargets, make_targets

logger = logging.getLogger(__name__)


def representation_dim(model: Recommender, split: Split) -> int:
    """Width of ``model``'s user representation on ``split``, without training it.

    Builds a throw-away instance with the same config (``_build``) and reads the width of its
    ``user_embeddings()``; the model passed in is not modified.
    """
    probe = type(model)(model.config)
    probe._build(split, torch.Generator().manual_seed(model.config.seed))
    assert probe.module is not None
    probe.module.eval()
    with torch.no_grad():
        return int(probe._user_embeddings().shape[1])


@dataclass
class _AttributeEpoch:
    """Running training statistics of one attribute's heads during one epoch."""

    n_classes: int
    loss_sum: float = 0.0
    n: int = 0
    batches: int = 0
    abs_error: float = 0.0
    correct: np.ndarray = field(default_factory=lambda: np.zeros(0))
    total: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        self.correct = np.zeros(self.n_classes)
        self.total = np.zeros(self.n_classes)

    def add(self, head: AttributeHead, outputs: torch.Tensor, target: torch.Tensor, loss: float):
        """Account one batch (``outputs`` detached)."""
        n = len(target)
        self.loss_sum += loss * n
        self.n += n
        self.batches += 1
        predicted = head.ensemble(outputs)
        if head.categorical:
            y = target.numpy()
            hit = predicted.argmax(1).numpy() == y
            self.total += np.bincount(y, minlength=self.n_classes)
            self.correct += np.bincount(y[hit], minlength=self.n_classes)
        else:
            self.abs_error += float((predicted - target * head.targets.scale).abs().sum())

    def record(self, name: str, scale: float) -> dict[str, float]:
        """Flat per-epoch entries ``<name>/loss``, ``<name>/train_bacc`` or ``/train_mae``."""
        out: dict[str, float] = {
            f"{name}/loss": self.loss_sum / self.n if self.n else math.nan,
            f"{name}/n": self.n,
        }
        if self.n_classes:
            out[f"{name}/train_bacc"] = recall_counts_bacc(self.correct, self.total)
        else:
            mae = self.abs_error / self.n if self.n else math.nan
            out[f"{name}/train_mae"] = mae
            out[f"{name}/train_mae_scaled"] = mae / scale
        return out


class AdversarialTrainer:
    """In-training removal of protected attributes (Adv-MultVAE / AdvX-MultVAE) for any model.

    Args:
        config: an :class:`AdversaryConfig` or a mapping of its fields.

    Attributes (after ``attach`` / ``fit``):
        model_: the model the heads are (or were) attached to.
        targets_: attribute -> resolved targets (kind, labelled users, class weights, scale).
        heads_: the head groups (``torch.nn.ModuleDict``), trained jointly with the model.
        valid_log_: one record per validation: the model's validation metric, the heads'
            BAcc / MAE on the validation users, the leakage and the selection value.

    Example::

        trainer = AdversarialTrainer(AdversaryConfig.from_lambdas({"gender": 400}))
        trainer.fit(model, split)          # model is now protected and detached again
        model.user_embeddings()            # the protected representation
    """

    def __init__(self, config: AdversaryConfig | Mapping[str, Any]) -> None:
        self.config = validate_config(config)
        self.model_: Recommender | None = None
        self.split_: Split | None = None
        self.targets_: dict[str, AttributeTargets] = {}
        self.heads_: torch.nn.ModuleDict | None = None
        self.valid_log_: list[dict[str, Any]] = []
        self.representation_dim_: int | None = None
        self._epochs: dict[int, dict[str, _AttributeEpoch]] = {}
        self._generator: torch.Generator | None = None
        self._parameters: list[torch.nn.Parameter] = []
        self._group: dict[str, Any] | None = None  # the heads' Adam group in the model's loop
        self._hook: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
        self._attached = False
        # bounded objectives: per attribute, the detached representation of the labelled users
        # seen so far, which of them are in it, and the heads' own optimiser
        self._bank: dict[str, torch.Tensor] = {}
        self._seen: dict[str, torch.Tensor] = {}
        self._optim: dict[str, torch.optim.Optimizer] = {}
        self._init_generator: torch.Generator | None = None

    # ------------------------------------------------------------------ attach / detach
    def attach(
        self, model: Recommender, split: Split, *, label_users: np.ndarray | None = None
    ) -> AdversarialTrainer:
        """Build the heads and plug them into ``model`` (call ``model.fit(split)`` next).

        Args:
            model: an unfitted (or to-be-refitted) recommender.
            split: the split it will be trained on.
            label_users: user indices whose labels the adversaries may use (default
                ``split.train_users``; on ``loo`` every user).

        Raises:
            ConfigError: attribute unknown to the dataset, kind mismatch, a single class among
                the labelled users, ``selection="adversary"`` without validation users or with
                a patience that would stop training before ``selection_min_epoch``, or this
                trainer already attached.
        """
        if self._attached:
            raise ConfigError("this AdversarialTrainer is already attached; detach() it first")
        cfg = self.config
        dataset = split.dataset
        users = split.train_users if label_users is None else np.asarray(label_users)
        self.targets_ = {
            name: make_targets(dataset, name, spec, users) for name, spec in cfg.attributes.items()
        }
        self._check_selection(model, split)
        seed = model.config.seed if cfg.seed is None else cfg.seed
        init = torch.Generator().manual_seed(seed)
        self._generator = torch.Generator().manual_seed(seed + 1)
        self.representation_dim_ = representation_dim(model, split)
        self.heads_ = torch.nn.ModuleDict(
            {
                name: AttributeHead(
                    targets,
                    self.representation_dim_,
                    generator=init,
                    hidden=cfg.hidden_of(name),
                )
                for name, targets in self.targets_.items()
            }
        )
        self.model_, self.split_ = model, split
        self.valid_log_, self._epochs = [], {}
        self._parameters = list(self.heads_.parameters())
        self._hook = self._loss
        model.hooks.append(self._hook)
        self._init_generator = torch.Generator().manual_seed(seed + 2)
        self._bank = {
            name: torch.zeros(dataset.n_users, self.representation_dim_) for name in self.heads_
        }
        self._seen = {name: torch.zeros(dataset.n_users, dtype=torch.bool) for name in self.heads_}
        self._group = {
            "params": self._parameters,
            "lr": cfg.lr,
            "weight_decay": cfg.weight_decay,
        }
        if cfg.resolved_head_steps == 0:
            model.extra_parameters.append(self._group)
            self._optim = {}
        else:
            self._optim = {name: self._make_optim(name) for name in self.heads_}
        if split.valid is not None:
            model.selection_hooks.append(self._select)
        self._attached = True
        logger.info(
            "adversaries on %s (%d-d representation): %s",
            model.name,
            self.representation_dim_,
            {name: t.describe() for name, t in self.targets_.items()},
        )
        return self

    def detach(self) -> None:
        """Remove the hook, the head parameters and the validation wrapper from the model."""
        if not self._attached or self.model_ is None:
            return
        model = self.model_
        model.hooks[:] = [h for h in model.hooks if h is not self._hook]
        model.extra_parameters[:] = [g for g in model.extra_parameters if g is not self._group]
        model.selection_hooks[:] = [h for h in model.selection_hooks if h != self._select]
        self._attached = False

    def fit(
        self,
        model: Recommender,
        split: Split,
        *,
        label_users: np.ndarray | None = None,
        progress: bool = True,
    ) -> AdversarialTrainer:
        """Attach, train ``model`` on ``split`` with the adversaries, detach.

        The model keeps the epoch chosen by ``config.selection``; its ``valid_log_`` entries
        gain the heads' validation scores (and, with ``selection="adversary"``, the model's
        real validation metric instead of the selection value the loop maximised).

        Returns:
            ``self`` (the protected model is ``model``, also ``self.model_``).
        """
        self.attach(model, split, label_users=label_users)
        try:
            model.fit(split, progress=progress)
        finally:
            self.detach()
        self._merge_valid_log()
        self._log_epoch(max(self._epochs, default=0))
        return self

    # ------------------------------------------------------------------ training
    def _make_optim(self, name: str) -> torch.optim.Optimizer:
        """The heads' own Adam (refit steps inside the hook)."""
        assert self.heads_ is not None
        return torch.optim.Adam(
            self.heads_[name].parameters(),
            lr=self.config.head_lr,
            weight_decay=self.config.weight_decay,
        )

    def _reset_heads(self) -> None:
        """Fresh heads: a new initialisation and a new Adam state (``reset_every``)."""
        assert self.heads_ is not None and self.representation_dim_ is not None
        for name in list(self.heads_):
            old = self._head(name)
            fresh = AttributeHead(
                old.targets,
                self.representation_dim_,
                generator=self._init_generator,
                hidden=self.config.hidden_of(name),
            )
            with torch.no_grad():
                for p_old, p_new in zip(old.parameters(), fresh.parameters(), strict=True):
                    p_old.copy_(p_new)
            if name in self._optim:
                self._optim[name] = self._make_optim(name)

    def _refit(self, name: str, head: AttributeHead) -> None:
        """``head_steps`` Adam steps of the heads on the detached bank of labelled users."""
        users = torch.nonzero(self._seen[name], as_tuple=False).squeeze(1)
        if len(users) < 2:
            return
        x_all, y_all = self._bank[name][users], head.targets.values[users]
        optim, batch = self._optim[name], self.config.head_batch
        for _ in range(self.config.resolved_head_steps):
            x, y = x_all, y_all
            if batch and len(users) > batch:
                pick = torch.randperm(len(users), generator=self._generator)[:batch]
                x, y = x_all[pick], y_all[pick]
            loss = head.loss(head(x, generator=self._generator), y)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()

    def _objective(
        self, name: str, head: AttributeHead, live: torch.Tensor, rows: torch.Tensor
    ) -> torch.Tensor:
        """The bounded objective of one attribute (before lambda), differentiable in ``live``."""
        objective = self.config.objective
        term = live.new_zeros(())
        if "confusion" in objective:
            term = term + head.confusion(live, generator=self._generator)
        if "fisher" in objective and head.categorical:
            term = term + fisher_spread(
                live,
                rows,
                self._bank[name],
                self._seen[name],
                head.targets.values,
                head.targets.attribute.n_classes,
                self.config.fisher_shrinkage,
            )
        return term

    def _loss(self, user_repr: torch.Tensor, users: torch.Tensor) -> torch.Tensor:
        """The hook: what the batch adds to the recommendation loss.

        Bounded objectives: refit the heads on the bank (``head_steps > 0``), then lambda x
        the objective of the frozen heads on the batch's labelled rows (``head_steps == 0``:
        plus the heads' own loss on detached rows, for the loop's joint step). Reversal: the
        heads' loss on the rows through gradient reversal (or, with ``head_steps > 0``,
        minus lambda x the refitted frozen heads' loss).
        """
        assert self.model_ is not None and self.heads_ is not None
        cfg = self.config
        epoch = len(self.model_.loss_log_) + 1
        stats = self._epochs.get(epoch)
        if stats is None:
            self._log_epoch(epoch - 1)
            stats = self._epochs[epoch] = {
                name: _AttributeEpoch(t.attribute.n_classes) for name, t in self.targets_.items()
            }
            if cfg.reset_every and epoch > 1 and (epoch - 1) % cfg.reset_every == 0:
                self._reset_heads()
        if cfg.resolved_representation == "embedding":
            user_repr = self.model_.embedding_rows(users, user_repr)
        steps = cfg.resolved_head_steps
        total = user_repr.new_zeros(())
        for name in self.heads_:
            head = self._head(name)
            targets = head.targets
            mask = targets.labelled[users]
            if not bool(mask.any()):
                continue
            rows = users[mask]
            live = user_repr[mask]
            target = targets.values[rows]
            self._bank[name][rows] = live.detach()
            self._seen[name][rows] = True
            if steps > 0:
                self._refit(name, head)
                with torch.no_grad():
                    outputs = head(live.detach(), generator=self._generator)
                    loss = head.loss(outputs, target)
            else:
                inputs = grad_reverse(live, head.lam) if not cfg.bounded else live.detach()
                outputs = head(inputs, generator=self._generator)
                loss = head.loss(outputs, target)
                total = total + cfg.loss_weight * loss
            if head.lam > 0 and cfg.bounded:
                term = self._objective(name, head, live, rows)
                total = total + cfg.loss_weight * head.lam * term
            elif head.lam > 0 and steps > 0:  # reversal against refitted heads
                frozen = head.mlp(live, generator=self._generator, frozen=True)
                total = total - cfg.loss_weight * head.lam * head.loss(frozen, target)
            stats[name].add(head, outputs.detach(), target, float(loss.detach()))
        return total

    def _log_epoch(self, epoch: int) -> None:
        if epoch in self._epochs and logger.isEnabledFor(logging.INFO):
            record = self._epoch_record(epoch)
            text = ", ".join(
                f"{k} {v:.4f}" for k, v in record.items() if k != "epoch" and not k.endswith("/n")
            )
            logger.info("adversaries epoch %d: %s", epoch, text)

    def _epoch_record(self, epoch: int) -> dict[str, float]:
        record: dict[str, float] = {"epoch": epoch}
        for name, stats in self._epochs[epoch].items():
            record.update(stats.record(name, self.targets_[name].scale))
        return record

    @property
    def log_(self) -> list[dict[str, float]]:
        """Per training epoch: each attribute's mean head loss, labelled users seen, and the
        heads' ensemble train BAcc (categorical) or MAE (continuous, units and scaled),
        measured on the batches as trained (dropout on, sampled ``z`` for MultVAE)."""
        return [self._epoch_record(epoch) for epoch in sorted(self._epochs)]

    # ------------------------------------------------------------------ validation
    def _check_selection(self, model: Recommender, split: Split) -> None:
        cfg = self.config
        if cfg.selection != "adversary":
            return
        if split.valid is None:
            raise ConfigError("selection='adversary' needs a split with validation users")
        waits = (cfg.selection_min_epoch - 1) // model.config.eval_every
        if waits >= model.config.patience:
            raise ConfigError(
                f"selection_min_epoch={cfg.selection_min_epoch} leaves {waits} validations "
                f"without a candidate, which exhausts the model's patience "
                f"({model.config.patience}); raise patience or lower selection_min_epoch"
            )

    def _select(self, epoch: int, value: float) -> float:
        """Selection hook of the model's fit (see the module docstring): logs the heads'
        validation scores beside ``value`` (the validation metric, unless an earlier hook
        replaced it) and returns the value early stopping maximises."""
        assert self.model_ is not None and self.split_ is not None
        assert self.split_.valid is not None
        metric = self.model_.config.early_stopping_metric
        scores = self.score(self.split_.valid.users)
        leak = leakage(scores)
        record: dict[str, Any] = {"epoch": epoch, metric: value, "adversary_leakage": leak}
        for name, entry in scores.items():
            for key, number in entry.items():
                record[f"{name}/valid_{key}"] = number
        if self.config.selection == "adversary":
            eligible = epoch >= self.config.selection_min_epoch and math.isfinite(leak)
            value = -leak if eligible else -math.inf
            record["selection_value"] = value
        self.valid_log_.append(record)
        logger.info(
            "epoch %d: valid %s %.4f, adversary leakage %.4f", epoch, metric, record[metric], leak
        )
        return value

    def _merge_valid_log(self) -> None:
        assert self.model_ is not None
        by_epoch = {r["epoch"]: r for r in self.valid_log_}
        merged = []
        for entry in self.model_.valid_log_:
            merged.append({**entry, **by_epoch.get(entry["epoch"], {})})
        self.model_.valid_log_ = merged

    # ------------------------------------------------------------------ inference
    def predict(self, embeddings: torch.Tensor) -> dict[str, np.ndarray]:
        """The heads' ensemble predictions for representation rows ``embeddings``: class
        probabilities (n x classes) or values in the attribute's units (n)."""
        if self.heads_ is None:
            raise RuntimeError("attach() or fit() first")
        x = torch.as_tensor(embeddings, dtype=torch.float32)
        return {name: self._head(name).predict(x).numpy() for name in self.heads_}

    def _head(self, name: str) -> AttributeHead:
        assert self.heads_ is not None
        head = self.heads_[name]
        assert isinstance(head, AttributeHead)
        return head

    def score(
        self, users: np.ndarray, embeddings: torch.Tensor | None = None
    ) -> dict[str, dict[str, float]]:
        """The heads' BAcc (categorical) or MAE (continuous) on ``users`` with known labels.

        Args:
            users: user indices to score (e.g. the validation or test users).
            embeddings: full representation table (default: the model's
                ``user_embeddings()``, the encoder mean for MultVAE).
        """
        if self.model_ is None or self.split_ is None:
            raise RuntimeError("attach() or fit() first")
        table = self.model_.user_embeddings() if embeddings is None else embeddings
        users = np.asarray(users, dtype=np.int64)
        dataset = self.split_.dataset
        out: dict[str, dict[str, float]] = {}
        for name, targets in self.targets_.items():
            rows = users[dataset.known(name)[users]]
            predicted = self._head(name).predict(table[torch.from_numpy(rows)]).numpy()
            truth = dataset.labels(name)[rows]
            if targets.kind == "categorical":
                out[name] = categorical_scores(truth, predicted.reshape(len(rows), -1))
            else:
                train_values = targets.values[targets.labelled].numpy() * targets.scale
                out[name] = continuous_scores(
                    truth, predicted, targets.scale, float(np.median(train_values))
                )
        return out

    def report(self) -> dict[str, Any]:
        """JSON-friendly account of the adversaries: config, resolved attributes, per-epoch
        training log, per-validation log, selection and the kept epoch."""
        best = None
        if self.model_ is not None and self.model_.best_epoch_ is not None:
            best = next((r for r in self.valid_log_ if r["epoch"] == self.model_.best_epoch_), None)
        return {
            "config": self.config.model_dump(mode="json"),
            "attributes": {name: t.describe() for name, t in self.targets_.items()},
            "representation_dim": self.representation_dim_,
            "n_head_parameters": int(sum(p.numel() for p in self._parameters)),
            "selection": self.config.selection,
            "best_epoch": None if self.model_ is None else self.model_.best_epoch_,
            "best_valid": best,
            "epochs": self.log_,
            "valid": self.valid_log_,
        }


def attach_adversaries(
    model: Recommender,
    split: Split,
    config: AdversaryConfig | Mapping[str, Any],
    *,
    label_users: np.ndarray | None = None,
) -> AdversarialTrainer:
    """Plug adversary heads into ``model`` for its next ``fit(split)``; returns the trainer.

    Lower-level than :meth:`AdversarialTrainer.fit`: the heads stay attached until
    ``trainer.detach()`` (a second ``model.fit`` would keep training the same heads).
    """
    return AdversarialTrainer(config).attach(model, split, label_users=label_users)
