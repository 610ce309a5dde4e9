"""Inductive unlearning: a learned map from original to protected embeddings.

LEGO's calibration edits the rows of users whose labels it sees; a platform rarely knows every
user's attributes. Here a residual MLP ``f(u) = u + g(u)`` (``g``'s last layer starts at zero,
so ``f`` starts as the identity) is trained on the labelled users to minimise, per attribute of the
requirement, a dependence measure between the mapped rows and the attribute (default: MMD
between classes; or LEGO's vCLUB estimate, alternating with maximum-likelihood steps on the
variational nets) plus a fidelity penalty
``fidelity * mean ||f(u) - u||^2 / mean ||u||^2`` that plays the role of LEGO's ball. The map
is then applied to every user, labelled or not. ``fidelity_space="scores"`` measures the
penalty on the recommender's scores instead (the change of the batch users' scores over every
item, through the scorer given to ``fit``), so moves the ranking does not see are free;
``fit_share`` trains on a seeded share of the labelled users only.

Measured on the first half of ML-1M (MF, gender; benchmarks/notes/removal.md): the map reads
close to chance in the transductive view but ~10 points on users whose labels it never saw --
it matches the labelled users' sampling noise -- so it is not the default.

``objective="mmd"`` (the default) uses, for categorical attributes, the multi-kernel MMD
between each class's mapped rows and the largest class's (a critic-free objective, as in D2D);
continuous attributes always use the Gaussian vCLUB bound. Measured on planted data
(tests/protect/posthoc/test_inductive.py): against a map, the vCLUB game does not remove linearly decodable information from held-out users -- the map learns to fool
the current variational net rather than to merge the classes -- whereas the MMD objective does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar, Literal

import numpy as np
import torch
from pydantic import Field

from recunlearn.core.errors import ConfigError
from recunlearn.core.options import LATE_OPTION
from recunlearn.protect.posthoc.base import Unlearner, UnlearnerConfig
from recunlearn.protect.posthoc.lego import _batch, _targets
from recunlearn.protect.posthoc.mmd import mmd2
from recunlearn.protect.posthoc.vclub import VariationalNet
from recunlearn.protect.requirement import Requirement


class InductiveConfig(UnlearnerConfig):
    """Options of :class:`InductiveMap`."""

    steps: int = Field(1000, ge=1)
    batch_size: int = Field(512, ge=2)
    hidden: int = Field(256, ge=1, description="hidden width of the residual map")
    lr_map: float = Field(3e-3, gt=0)
    lr_variational: float = Field(1e-3, gt=0)
    variational_hidden: int = Field(100, ge=1)
    fidelity: float = Field(0.1, ge=0, description="weight of the relative displacement penalty")
    objective: Literal["vclub", "mmd"] = Field(
        "mmd",
        description="'vclub' = LEGO's bound against variational nets; 'mmd' = multi-kernel MMD "
        "between each class's mapped rows and the largest class's (categorical attributes; "
        "continuous ones always use vCLUB)",
    )
    variational_steps: int = Field(
        1, ge=1, description="maximum-likelihood steps on each q(a | u) per step of the map"
    )
    fit_share: float = Field(
        1.0,
        gt=0,
        le=1,
        description="share of each attribute's labelled users the map is trained on (a random "
        "subset, seeded); the others are treated as unlabelled, so the map cannot match their "
        "sampling noise in-sample",
        json_schema_extra=LATE_OPTION,
    )
    fidelity_space: Literal["embedding", "scores"] = Field(
        "embedding",
        description="'embedding' = the displacement of the rows; 'scores' = the change of the "
        "batch users' scores over every item (needs the scorer), relative to their mean square",
    )


def _class_mmd(mapped: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """Sum over classes of MMD^2(class rows, largest class rows) within the batch."""
    counts = torch.bincount(classes)
    anchor = int(counts.argmax())
    total = torch.zeros(())
    for c in torch.nonzero(counts > 1).flatten().tolist():
        if c != anchor:
            total = total + mmd2(mapped[classes == c], mapped[classes == anchor])
    return total


def _subset(
    prepared: tuple[np.ndarray, torch.Tensor, int], share: float, seed: int
) -> tuple[np.ndarray, torch.Tensor, int]:
    """A seeded random ``share`` of the labelled rows (all of them at 1)."""
    rows, targets, n_classes = prepared
    if share >= 1.0:
        return prepared
    keep = np.sort(
        np.random.default_rng(seed).permutation(len(rows))[: max(2, round(share * len(rows)))]
    )
    return rows[keep], targets[torch.as_tensor(keep)], n_classes


class _ResidualMap(torch.nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, dim)
        )
        torch.nn.init.zeros_(self.body[2].weight)
        torch.nn.init.zeros_(self.body[2].bias)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return u + self.body(u)


class InductiveMap(Unlearner):
    """A residual map trained on labelled users (MMD or vCLUB objective), applied to all users.

    After ``transform``: ``map_`` (the trained module) and ``log_`` (objective and displacement
    at the start and end, the users trained on per attribute, seconds).
    """

    name: ClassVar[str] = "inductive-map"
    Config: ClassVar[type[UnlearnerConfig]] = InductiveConfig
    config: InductiveConfig

    def _transform(self, requirement: Requirement) -> torch.Tensor:
        cfg = self.config
        started = time.perf_counter()
        torch.manual_seed(cfg.seed)
        generator = torch.Generator().manual_seed(cfg.seed)
        original = self.embeddings_
        prepared = [
            _subset(_targets(self.labels_[a]), cfg.fit_share, cfg.seed)
            for a in requirement.attributes
        ]
        nets = [
            VariationalNet(original.shape[1], c, cfg.variational_hidden) for _, _, c in prepared
        ]
        mapping = _ResidualMap(original.shape[1], cfg.hidden)
        displace = self._displacement(original)
        opt_map = torch.optim.Adam(mapping.parameters(), lr=cfg.lr_map)
        opt_q = [torch.optim.Adam(n.parameters(), lr=cfg.lr_variational) for n in nets]
        trace = []
        for _ in range(cfg.steps):
            total = torch.zeros(())
            displacement = torch.zeros(())
            for net, opt, (rows, targets, _) in zip(nets, opt_q, prepared, strict=True):
                pick = _batch(len(rows), cfg.batch_size, generator)
                users = torch.as_tensor(rows)[pick]
                u = original[users]
                mapped = mapping(u)
                for _ in range(cfg.variational_steps):
                    opt.zero_grad(set_to_none=True)
                    (-net.log_likelihood(mapped.detach(), targets[pick])).backward()
                    opt.step()
                if cfg.objective == "mmd" and not net.continuous:
                    total = total + _class_mmd(mapped, targets[pick])
                else:
                    total = total + net.vclub(mapped, targets[pick])
                displacement = displacement + displace(mapping, users, u, mapped)
            loss = total + cfg.fidelity * displacement
            opt_map.zero_grad(set_to_none=True)
            loss.backward()
            opt_map.step()
            trace.append((float(total.detach()), float(displacement.detach())))
        self.map_ = mapping.eval()
        with torch.no_grad():
            protected = mapping(original)
        self.log_ = {
            "objective_first": trace[0][0],
            "objective_last": trace[-1][0],
            "displacement_last": trace[-1][1],
            "trained_users": {
                a: int(len(rows))
                for a, (rows, _, _) in zip(requirement.attributes, prepared, strict=True)
            },
            "seconds": time.perf_counter() - started,
        }
        return protected

    def _displacement(
        self, original: torch.Tensor
    ) -> Callable[[torch.nn.Module, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
        """``(mapping, user indices, their rows, their mapped rows) -> relative displacement`` in
        the configured space (the batch's mapped rows are reused, not recomputed)."""
        if self.config.fidelity_space == "embedding":
            scale = float(original.pow(2).sum(1).mean())

            def rows(
                mapping: torch.nn.Module, users: torch.Tensor, u: torch.Tensor, mapped: torch.Tensor
            ) -> torch.Tensor:
                return (mapped - u).pow(2).sum(1).mean() / scale

            return rows
        raw = getattr(self.scorer_, "raw", None)
        if raw is None:
            raise ConfigError(
                "inductive-map: fidelity_space='scores' needs the recommender's scorer "
                "(fit(..., scorer=model_scorer(model)))"
            )
        with torch.no_grad():
            sample = torch.arange(min(len(original), 1024))
            scale = float(raw(sample, original).pow(2).mean())

        def scores(
            mapping: torch.nn.Module, users: torch.Tensor, u: torch.Tensor, mapped: torch.Tensor
        ) -> torch.Tensor:
            # the whole mapped table: models whose scores depend on every row (LightGCN)
            with torch.no_grad():
                before = raw(users, original)
            return (raw(users, mapping(original)) - before).pow(2).mean() / scale

        return scores
