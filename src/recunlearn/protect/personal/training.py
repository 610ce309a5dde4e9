"""Training through a frozen recommender: BPR batches over the training interactions, scores of
replacement user rows, validation NDCG@10, and the AFRL code's validation schedule.

The scorer is a :class:`~recunlearn.protect.posthoc.base.ModelScorer` (or anything with its
``raw(users, table)``, ``train`` and ``valid``): the base model stays frozen, only the networks
that produce the replacement rows learn.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from recunlearn.core.errors import ConfigError
from recunlearn.evaluation.evaluator import evaluate_scores
from recunlearn.models.sampling import TrainingPairs

Schedule = Literal["code", "every", "none"]
"""When validation runs: ``code`` = AFRL's official code (after epochs 0, 10, 20, 30, 40, then
after every epoch from 50); ``every`` = every ``validate_every`` epochs; ``none`` = never (the
last epoch is kept)."""


def require_bpr_scorer(scorer: Any, method: str) -> Any:
    """``scorer`` when it can train by BPR through the frozen model.

    Raises:
        ConfigError: no scorer, or one without its training interactions.
    """
    if scorer is None or getattr(scorer, "train", None) is None or not hasattr(scorer, "raw"):
        raise ConfigError(
            f"{method} trains through the frozen recommender by BPR: fit(..., scorer="
            "model_scorer(model, known, train=split.train, valid=split.valid))"
        )
    return scorer


class FrozenBPR:
    """BPR (softplus of negative minus positive scores, one uniform negative per positive)
    of replacement user rows through a frozen scorer.

    Args:
        scorer: see the module docstring.
        base: the original matrix; rows of users outside a batch keep their original values
            (only models whose scores depend on other users' rows, e.g. LightGCN, see them).
    """

    def __init__(self, scorer: Any, base: torch.Tensor) -> None:
        self.scorer = scorer
        self.base = base.detach()
        self.pairs = TrainingPairs(scorer.train)

    def __len__(self) -> int:
        return len(self.pairs)

    def epoch(
        self, batch_size: int, generator: torch.Generator
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """(users, positive items, one negative per row) mini-batches of one epoch."""
        for users, items, negatives in self.pairs.epoch(1, batch_size, generator):
            yield users, items, negatives[:, 0]

    def loss(
        self,
        distinct: torch.Tensor,
        inverse: torch.Tensor,
        rows: torch.Tensor,
        items: torch.Tensor,
        negatives: torch.Tensor,
    ) -> torch.Tensor:
        """Mean BPR loss of the batch rows, ``rows[k]`` replacing user ``distinct[k]``'s row
        and ``inverse`` mapping each batch row to its user's position in ``distinct``."""
        table = self.base.index_copy(0, distinct, rows.to(self.base.dtype))
        if hasattr(self.scorer, "pairs"):
            both = self.scorer.pairs(
                distinct, table, torch.cat([inverse, inverse]), torch.cat([items, negatives])
            )
            positive, negative = both[: len(items)], both[len(items) :]
        else:  # a scorer of whole rows only
            scores = self.scorer.raw(distinct, table)
            positive, negative = scores[inverse, items], scores[inverse, negatives]
        return F.softplus(negative - positive).mean()


def sample_pairs(
    train: Any, users: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One training item and one uniform negative per user of ``users`` (a CSR ``train``).

    Returns:
        ``keep`` (users with a training item), and the positives and negatives of those users.
        A negative may hit another training item of the user (uniform sampling, as BPR).
    """
    indptr = torch.from_numpy(np.asarray(train.indptr, dtype=np.int64))
    indices = torch.from_numpy(np.asarray(train.indices, dtype=np.int64))
    starts, counts = indptr[users], indptr[users + 1] - indptr[users]
    keep = counts > 0
    offsets = (torch.rand(int(keep.sum()), generator=generator) * counts[keep]).long()
    positives = indices[starts[keep] + offsets]
    negatives = torch.randint(0, train.shape[1], (int(keep.sum()),), generator=generator)
    return keep, positives, negatives


def validation_ndcg(scorer: Any, table: torch.Tensor) -> float:
    """NDCG@10 of the validation set (full ranking, training items masked) with ``table``
    as the user matrix; NaN without a validation set."""
    valid = getattr(scorer, "valid", None)
    if valid is None:
        return float("nan")

    def score(users: np.ndarray) -> torch.Tensor:
        return scorer.raw(torch.as_tensor(users, dtype=torch.long), table)

    result = evaluate_scores(score, valid, ks=(10,), metrics=("NDCG",))
    return float(result.summary["NDCG@10"])


class ValidationSchedule:
    """When to validate and when to stop.

    Args:
        mode: see :data:`Schedule`.
        every: the period of ``every``.
        patience: stop after more than this many validations without a new best (code: 10).
        decreasing: also stop when the last ``decreasing`` values fell strictly in a row (code:
            5); 0 disables.
    """

    def __init__(self, mode: Schedule, every: int = 1, patience: int = 10, decreasing: int = 5):
        self.mode = mode
        self.every = every
        self.patience = patience
        self.decreasing = decreasing
        self.values: list[float] = []
        self.best = -np.inf
        self.since_best = 0

    def due(self, epoch: int) -> bool:
        """Validate after 0-based ``epoch``?"""
        if self.mode == "none":
            return False
        if self.mode == "every":
            return (epoch + 1) % self.every == 0
        return epoch >= 50 or epoch in (0, 10, 20, 30, 40)

    def update(self, value: float) -> tuple[bool, bool]:
        """Record a validation value: (is it the best so far, stop now)."""
        self.values.append(value)
        improved = value > self.best
        if improved:
            self.best, self.since_best = value, 0
        else:
            self.since_best += 1
        tail = self.values[-(self.decreasing + 1) :]
        falling = (
            self.decreasing > 0
            and len(tail) == self.decreasing + 1
            and all(b < a for a, b in zip(tail[:-1], tail[1:], strict=True))
        )
        return improved, self.since_best > self.patience or falling
