"""The post-hoc :class:`Unlearner` interface (scikit-learn conventions).

``__init__`` only stores a typed config; ``fit(U, labels)`` stores the original matrix and the
labels (fitted state ends in ``_``); ``transform(requirement)`` returns the protected matrix
``U*`` of the same shape, which a model consumes through ``score(users, user_embeddings=U*)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict

from recunlearn.core.errors import ConfigError, DataError
from recunlearn.core.options import validate_options
from recunlearn.data.types import Attribute, Dataset
from recunlearn.protect.requirement import Requirement


@dataclass(frozen=True)
class AttributeLabels:
    """One attribute's per-user values aligned with the rows of the embedding matrix.

    Categorical values are class codes with -1 for unknown; continuous values are floats with
    NaN for unknown.
    """

    attribute: Attribute
    values: np.ndarray

    @property
    def known(self) -> np.ndarray:
        """Boolean mask of rows with a label."""
        if self.attribute.kind == "categorical":
            return self.values >= 0
        return ~np.isnan(self.values)


def hide_labels(
    labels: Mapping[str, AttributeLabels], hidden: np.ndarray
) -> dict[str, AttributeLabels]:
    """``labels`` with the values of the users in the boolean mask ``hidden`` set to unknown
    (what a protection fitted for the held-out view sees)."""
    out = {}
    for name, entry in labels.items():
        values = entry.values.copy()
        values[hidden] = -1 if entry.attribute.kind == "categorical" else np.nan
        out[name] = replace(entry, values=values)
    return out


def heldout_users(n_users: int, fraction: float, seed: int) -> np.ndarray:
    """The boolean mask of the held-out view: ``int(fraction * n_users)`` users drawn with
    ``numpy.random.default_rng(1000 + seed)`` (the draw of the earlier Table 1 records)."""
    hidden = np.zeros(n_users, dtype=bool)
    hidden[_heldout_order(n_users, seed)[: int(fraction * n_users)]] = True
    return hidden


def _heldout_order(n_users: int, seed: int) -> np.ndarray:
    """The seeded permutation every held-out mask is cut from."""
    return np.random.default_rng(1000 + seed).permutation(n_users)


def heldout_masks(n_users: int, fraction: float, seed: int, repeats: int = 1) -> list[np.ndarray]:
    """``repeats`` disjoint held-out masks of ``int(fraction * n_users)`` users each, cut in
    order from the permutation :func:`heldout_users` draws: the first is its mask, so one
    repeat is the held-out view as it always was; five of 20 % test every user once.

    Raises:
        ConfigError: ``repeats`` masks do not fit in the users (``repeats * fraction > 1``) or
            a mask would be empty.
    """
    size = int(fraction * n_users)
    if repeats < 1 or size < 1 or repeats * size > n_users:
        raise ConfigError(
            f"heldout_repeats = {repeats} disjoint masks of {fraction:g} of {n_users} users "
            "do not fit: need 1 <= repeats x fraction <= 1 and at least one user per mask"
        )
    order = _heldout_order(n_users, seed)
    masks = []
    for repeat in range(repeats):
        hidden = np.zeros(n_users, dtype=bool)
        hidden[order[repeat * size : (repeat + 1) * size]] = True
        masks.append(hidden)
    return masks


def labels_from_dataset(dataset: Dataset) -> dict[str, AttributeLabels]:
    """Every attribute of ``dataset`` as :class:`AttributeLabels` (rows = user indices)."""
    return {a.name: AttributeLabels(a, dataset.labels(a.name)) for a in dataset.attributes}


Scorer = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(user indices, full user table) -> differentiable scores (len(users) x n_items)."""


class ModelScorer:
    """A differentiable scorer of a fitted recommender for a replacement user table.

    Calling it gives ``(users, table) -> scores`` with the ``known`` items at -inf (a
    :data:`Scorer`); :meth:`raw` gives the unmasked scores. ``train`` (the training
    interactions) and ``valid`` (the validation set) are there for methods that train through
    the frozen model by BPR and select on validation NDCG (AFRL, SM, FFVAE).

    Args:
        model: a fitted :class:`~recunlearn.models.base.Recommender`.
        known: optional users x items CSR matrix of items to exclude (set to -inf), e.g.
            ``split.test.known``.
        train: optional users x items CSR matrix of training interactions.
        valid: optional :class:`~recunlearn.data.split_types.EvalSet` for model selection.
    """

    def __init__(
        self, model: Any, known: Any | None = None, train: Any | None = None, valid: Any = None
    ) -> None:
        self.model = model
        self.known = known
        self.train = train
        self.valid = valid

    def raw(self, users: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        """Scores of every item for ``users`` under ``table`` (no mask, differentiable)."""
        self.model.module.eval()
        return self.model._score_table(users, table)

    def pairs(
        self, users: torch.Tensor, table: torch.Tensor, rows: torch.Tensor, items: torch.Tensor
    ) -> torch.Tensor:
        """``raw(users, table)[rows, items]`` (differentiable) without scoring every item when
        the model can score single pairs (MF, NCF)."""
        self.model.module.eval()
        return self.model._score_table_pairs(users, table, rows, items)

    def __call__(self, users: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        scores = self.raw(users, table)
        if self.known is not None:
            rows = self.known[users.numpy()].tocoo()
            mask = torch.zeros(scores.shape, dtype=torch.bool)
            mask[torch.from_numpy(rows.row).long(), torch.from_numpy(rows.col).long()] = True
            scores = scores.masked_fill(mask, float("-inf"))
        return scores


def model_scorer(
    model: Any, known: Any | None = None, *, train: Any | None = None, valid: Any = None
) -> ModelScorer:
    """A differentiable scorer of a fitted recommender for a replacement user table (see
    :class:`ModelScorer`)."""
    return ModelScorer(model, known, train, valid)


class UnlearnerConfig(BaseModel):
    """Options shared by every unlearner."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0


class Unlearner(ABC):
    """Base class of post-hoc unlearners."""

    name: ClassVar[str] = "base"
    Config: ClassVar[type[UnlearnerConfig]] = UnlearnerConfig
    uses_store: ClassVar[bool] = False
    """True when the method keeps per-attribute state (bricks) that a store folder can keep
    between requirements and processes; ``fit`` then accepts ``store=``."""

    def __init__(self, config: UnlearnerConfig | None = None, **overrides: Any) -> None:
        if config is None:
            config = validate_options(self.Config, overrides, what=f"unlearner '{self.name}'")
        elif overrides:
            config = self.Config.model_validate({**config.model_dump(), **overrides})
        self.config = config

    def fit(
        self,
        embeddings: torch.Tensor | np.ndarray,
        labels: Mapping[str, AttributeLabels],
        *,
        scorer: Scorer | None = None,
        store: Any = None,
    ) -> Unlearner:
        """Store the original matrix and the labels; subclasses may precompute here.

        Args:
            embeddings: the original user matrix ``U0`` (n_users x d).
            labels: per attribute, values aligned with the rows of ``U0``.
            scorer: optional differentiable ``(users, table) -> scores`` of the recommender
                (with known items already at -inf), for methods that regularise rankings
                (D2DFR); see :func:`model_scorer`.
            store: a brick store (or its folder) for methods with :attr:`uses_store`.

        Raises:
            ConfigError: a store given to a method that keeps no per-attribute state.
        """
        if store is not None and not self.uses_store:
            raise ConfigError(f"'{self.name}' keeps no per-attribute state: a store is not used")
        matrix = torch.as_tensor(np.asarray(embeddings), dtype=torch.float32)
        if matrix.ndim != 2:
            raise DataError(f"embeddings must be a 2-D matrix, got shape {tuple(matrix.shape)}")
        if not torch.isfinite(matrix).all():
            raise DataError("embeddings contain NaN or infinite values", field="embeddings")
        for name, entry in labels.items():
            if len(entry.values) != matrix.shape[0]:
                raise DataError(
                    f"{len(entry.values)} labels for {matrix.shape[0]} embedding rows", field=name
                )
        self.embeddings_ = matrix
        self.labels_ = dict(labels)
        self.scorer_ = scorer
        return self

    def transform(self, requirement: Requirement | str | list[str]) -> torch.Tensor:
        """The protected matrix for ``requirement`` (same shape as the fitted matrix)."""
        if not hasattr(self, "embeddings_"):
            raise RuntimeError(f"{self.name}: call fit() first")
        requirement = Requirement.parse(requirement)
        missing = [a for a in requirement.attributes if a not in self.labels_]
        if missing:
            raise ConfigError(
                f"requirement names unknown attribute(s) {missing}; known: {sorted(self.labels_)}"
            )
        return self._transform(requirement)

    @abstractmethod
    def _transform(self, requirement: Requirement) -> torch.Tensor:
        """Compute the protected matrix."""
