"""The epoch loop the per-user methods share: the per-epoch records, the networks of the best
validation epoch, a progress bar, and saving / resuming the training state through a
:class:`~recunlearn.protect.personal.checkpoint.FitCheckpoint`."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from recunlearn.core.progress import EpochBar
from recunlearn.protect.personal.checkpoint import FitCheckpoint
from recunlearn.protect.personal.training import ValidationSchedule


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode inside the block; its training flag is restored after."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


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
