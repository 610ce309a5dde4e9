"""The base class of the per-user methods (AFRL, SM, FFVAE): post-hoc unlearners whose fitted
state serves a requirement per user (:class:`PersonalUnlearner`), and the validation loop
they share (keep the networks of the best validation epoch).
"""

from __future__ import annotations

import copy
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import Field
from torch import nn

from recunlearn.core.errors import ConfigError
from recunlearn.core.progress import EpochBar
from recunlearn.core.threads import torch_threads
from recunlearn.protect.personal.checkpoint import FitCheckpoint, fit_fingerprint
from recunlearn.protect.personal.nets import label_targets
from recunlearn.protect.personal.requirement import PersonalRequirement
from recunlearn.protect.personal.training import Schedule, ValidationSchedule, validation_ndcg
from recunlearn.protect.posthoc.base import AttributeLabels, Unlearner, UnlearnerConfig
from recunlearn.protect.requirement import Requirement


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode inside the block; its training flag is restored after."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


class PersonalConfig(UnlearnerConfig):
    """Options shared by the per-user methods."""

    attributes: list[str] | None = Field(
        None, description="attributes served (default: every categorical attribute labelled)"
    )
    epochs: int = Field(100, ge=1, description="at most this many epochs")
    validation: Schedule = "every"
    validate_every: int = Field(1, ge=1, description="period of validation='every'")
    patience: int = Field(10, ge=0, description="stop after more validations without a best")
    decreasing: int = Field(0, ge=0, description="stop after this many falls in a row (0: off)")
    threads: int | None = Field(1, ge=1, description="torch threads while fitting")


class PersonalUnlearner(Unlearner):
    """A post-hoc method that serves each user's own requirement from one fitted state.

    Subclasses set ``targets_`` / ``attributes_`` (the served attributes, in mask order) in
    ``fit`` and implement :meth:`_serve`; ``transform(requirement)`` serves one requirement to
    every user, ``transform_personal(table)`` each user's own.
    """

    config: PersonalConfig
    checkpoint: FitCheckpoint | None = None
    progress: bool = False
    """Show a progress bar over the training epochs (the command line turns it on)."""

    def checkpoint_to(self, path: str | Path, every_seconds: float = 600.0) -> PersonalUnlearner:
        """Make ``fit`` resumable: save the training state to ``path`` between epochs (at most
        every ``every_seconds``, and after the last), and resume from it when it holds an
        unfinished fit of the same method, options, matrix and labels (a ``path`` not ending
        in ``.pt`` is a folder of such files, one per fit). Returns ``self``."""
        self.checkpoint = FitCheckpoint(path, every_seconds)
        return self

    @abstractmethod
    def _serve(self, mask: torch.Tensor) -> torch.Tensor:
        """The protected matrix for ``mask`` (n_users x M floats, 1 = remove), no grad."""

    def transform_personal(self, requirement: PersonalRequirement) -> torch.Tensor:
        """Each user's row under that user's own requirement.

        Raises:
            RuntimeError: before ``fit``.
            ConfigError: a requirement naming an attribute the method was not fitted on, or a
                table with another number of users.
        """
        if not hasattr(self, "attributes_"):
            raise RuntimeError(f"{self.name}: call fit() first")
        if requirement.n_users != self.embeddings_.shape[0]:
            raise ConfigError(
                f"the requirement table has {requirement.n_users} users for "
                f"{self.embeddings_.shape[0]} embedding rows"
            )
        mask = torch.from_numpy(requirement.select(self.attributes_).mask.astype(np.float32))
        with torch_threads(self.config.threads), torch.no_grad():
            return self._serve(mask).detach().to(torch.float32)

    def _transform(self, requirement: Requirement) -> torch.Tensor:
        n = self.embeddings_.shape[0]
        return self.transform_personal(
            PersonalRequirement.uniform(n, self.attributes_, requirement)
        )

    def _serve_targets(self, labels: Mapping[str, AttributeLabels]) -> None:
        """Set ``targets_`` and ``attributes_``: the served attributes (mask order)."""
        self.targets_ = label_targets(labels, self.config.attributes, self.name)
        self.attributes_ = tuple(t.name for t in self.targets_)

    def _seeded_training(self, train: Callable[[torch.Generator], dict[str, Any]]) -> None:
        """Run ``train(generator)`` -- which builds ``nets_`` and returns the logs -- on the
        configured threads with torch's global RNG and the generator seeded by the config (the
        caller's RNG state is restored); sets ``logs_`` and ``timings_`` and leaves ``nets_``
        in eval mode."""
        cfg = self.config
        started = time.perf_counter()
        if self.checkpoint is not None:
            codes = [t.codes for t in self.targets_]
            options = cfg.model_dump_json()
            self.checkpoint.bind(fit_fingerprint(self.name, options, self.embeddings_, codes))
        with torch_threads(cfg.threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.logs_ = train(torch.Generator().manual_seed(cfg.seed))
        self.nets_.eval()
        before = self.logs_.get("resumed", {}).get("seconds_before", 0.0)
        self.timings_ = {"fit": time.perf_counter() - started + before}

    def _best_epoch(
        self,
        validate: Callable[[], float],
        optimizers: Sequence[torch.optim.Optimizer],
        generator: torch.Generator,
        schedule: ValidationSchedule | None = None,
    ) -> BestEpoch:
        """The epoch bookkeeping of ``nets_`` (the configured schedule unless given), saving
        to and resuming from the method's checkpoint, if any."""
        return BestEpoch(
            self.nets_,
            self._schedule() if schedule is None else schedule,
            validate,
            checkpoint=self.checkpoint,
            optimizers=optimizers,
            generator=generator,
            progress=self.progress,
            label=self.name,
        )

    def _extreme_masks_ndcg(self, scorer: Any) -> float:
        """Mean validation NDCG@10 of the two extreme masks, nothing and everything removed
        (the validation value of the methods whose every mask goes through one network)."""
        n, m = self.embeddings_.shape[0], len(self.targets_)
        with torch.no_grad():
            values = [
                validation_ndcg(scorer, self._serve(torch.full((n, m), bit))) for bit in (0.0, 1.0)
            ]
        return float(np.mean(values))

    def _schedule(self) -> ValidationSchedule:
        cfg = self.config
        return ValidationSchedule(cfg.validation, cfg.validate_every, cfg.patience, cfg.decreasing)


class BestEpoch:
    """The epoch loop's bookkeeping: the per-epoch records, the state of ``module`` at its
    best validation value and, with a checkpoint, saving and resuming the training state.

    A loop runs ``for epoch in best.epochs(total)``, ends each epoch with
    ``best.after_epoch(epoch, record)`` (stop when it returns True) and finishes with
    ``best.restore(what)``; resumed from a checkpoint, ``epochs`` starts after the last saved
    epoch (nothing is left when the saved fit had finished).

    Args:
        module: the networks to snapshot.
        schedule: when to validate and when to stop.
        validate: () -> the validation value (higher is better; NaN = no validation set).
        checkpoint: where the training state is saved and resumed from (None: not resumable).
        optimizers: the optimisers whose state a checkpoint holds.
        generator: the batch generator whose state a checkpoint holds.
        progress: show a progress bar over the epochs, labelled ``label``.
        label: the bar's label.
    """

    def __init__(
        self,
        module: nn.Module,
        schedule: ValidationSchedule,
        validate: Callable[[], float],
        *,
        checkpoint: FitCheckpoint | None = None,
        optimizers: Sequence[torch.optim.Optimizer] = (),
        generator: torch.Generator | None = None,
        progress: bool = False,
        label: str = "fit",
    ) -> None:
        self.module = module
        self.schedule = schedule
        self.validate = validate
        self.checkpoint = checkpoint
        self.optimizers = list(optimizers)
        self.generator = generator
        self.state: dict[str, Any] | None = None
        self.epoch: int | None = None
        self.records: list[dict[str, Any]] = []
        self.total: int | None = None
        self._start, self._finished = 0, False
        self._resumed_from: int | None = None
        self._seconds_before = 0.0
        self._clock = time.perf_counter()
        self._bar = EpochBar(False, 0, label)
        self._progress, self._label = progress, label
        if checkpoint is not None:
            self._resume(checkpoint.load())

    def epochs(self, total: int) -> Iterator[int]:
        """The epochs left to train out of ``total`` (with the progress bar shown meanwhile)."""
        self.total = total
        self._bar = EpochBar(self._progress, total, self._label)
        try:
            self._bar.update(len(self.records), "resumed" if self.records else "")
            yield from range(total if self._finished else self._start, total)
        finally:
            self._bar.close()

    def after_epoch(self, epoch: int, record: dict[str, Any]) -> bool:
        """Validate when due (the value goes to ``record``), keep the record, save the
        training state when the checkpoint is due; True when training should stop."""
        stop = False
        if self.schedule.due(epoch):
            with eval_mode(self.module):
                value = self.validate()
            record["valid_ndcg"] = value
            if np.isfinite(value):
                improved, stop = self.schedule.update(float(value))
                if improved:
                    self.state, self.epoch = copy.deepcopy(self.module.state_dict()), epoch
        self.records.append(record)
        if np.isfinite(self.schedule.best):
            self._bar.update(epoch + 1, f"best valid NDCG@10 {self.schedule.best:.4f}")
        else:
            self._bar.update(epoch + 1)
        if self.checkpoint is not None:
            final = stop or (self.total is not None and epoch + 1 >= self.total)
            if self.checkpoint.due(final):
                self._save(epoch, final)
        return stop

    def restore(self, what: str) -> dict[str, Any]:
        """Reload the best state (if any); the log's ``kept_epoch`` and ``selection`` (and
        ``resumed``: the first epoch trained after a resume, the seconds spent before)."""
        if self.state is not None:
            self.module.load_state_dict(self.state)
        kept: dict[str, Any] = {
            "kept_epoch": self.epoch if self.epoch is not None else len(self.records) - 1,
            "selection": what if self.state is not None else "last epoch",
        }
        if self._resumed_from is not None:
            kept["resumed"] = {"epoch": self._resumed_from, "seconds_before": self._seconds_before}
        return kept

    def _save(self, epoch: int, finished: bool) -> None:
        assert self.checkpoint is not None
        schedule = self.schedule
        self.checkpoint.save(
            {
                "epoch": epoch,
                "finished": finished,
                "records": self.records,
                "module": self.module.state_dict(),
                "optimizers": [opt.state_dict() for opt in self.optimizers],
                "generator": None if self.generator is None else self.generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "best_state": self.state,
                "best_epoch": self.epoch,
                "schedule": {
                    "values": [float(v) for v in schedule.values],
                    "best": float(schedule.best),
                    "since_best": int(schedule.since_best),
                },
                "seconds": self._seconds_before + time.perf_counter() - self._clock,
            }
        )

    def _resume(self, saved: dict[str, Any] | None) -> None:
        if saved is None:
            return
        self.module.load_state_dict(saved["module"])
        for opt, state in zip(self.optimizers, saved["optimizers"], strict=True):
            opt.load_state_dict(state)
        if self.generator is not None:
            self.generator.set_state(saved["generator"])
        torch.set_rng_state(saved["torch_rng"])
        self.state, self.epoch = saved["best_state"], saved["best_epoch"]
        schedule = saved["schedule"]
        self.schedule.values = list(schedule["values"])
        self.schedule.best = schedule["best"]
        self.schedule.since_best = schedule["since_best"]
        self.records = list(saved["records"])
        self._start, self._finished = saved["epoch"] + 1, bool(saved["finished"])
        self._resumed_from = self._start
        self._seconds_before = float(saved["seconds"])
