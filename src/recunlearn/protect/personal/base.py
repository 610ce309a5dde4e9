"""The base class of the per-user methods (AFRL, SM, FFVAE): post-hoc unlearners whose fitted
state serves a requirement per user (:class:`PersonalUnlearner`); their shared epoch loop is
:mod:`recunlearn.protect.personal.epochs`.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import Field

from recunlearn.core.errors import ConfigError
from recunlearn.core.threads import torch_threads
from recunlearn.protect.personal.checkpoint import FitCheckpoint, fit_fingerprint
from recunlearn.protect.personal.epochs import BestEpoch
from recunlearn.protect.personal.nets import label_targets
from recunlearn.protect.personal.requirement import PersonalRequirement
from recunlearn.protect.personal.training import Schedule, ValidationSchedule, validation_ndcg
from recunlearn.protect.posthoc.base import AttributeLabels, Unlearner, UnlearnerConfig
from recunlearn.protect.requirement import Requirement


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
