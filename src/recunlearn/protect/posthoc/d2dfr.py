"""D2DFR: distribution-to-distribution unlearning with a function-space ranking regulariser.

Li et al. (MM 2023) and Chen et al. (TOIS 2024). Only the user matrix is optimised. Per
attribute, the loss is the sum over groups ``g`` other than an anchor group of
``MMD^2(U[g], U[anchor])`` plus ``reg`` times a hinge ranking regulariser that keeps each
user's original top-``top_k`` list in order under the current matrix:
``sum_n max(0, s(u, i_{n+1}) - s(u, i_n) + margin)``. The anchor is the largest group (the
official code takes the first in Python set order, which is not reproducible).

Full-batch MMD materialises an N x N kernel per step; ``batch_users`` samples a stratified
mini-batch instead so ML-1M is practical. Several attributes are unlearned **sequentially**
(the matrix after attribute 1 is the start of attribute 2), as LEGO §5.1 applies it.
"""

from __future__ import annotations

import time
from typing import ClassVar

import numpy as np
import torch
from pydantic import Field

from recunlearn.core.errors import ConfigError
from recunlearn.protect.posthoc.base import AttributeLabels, Unlearner, UnlearnerConfig
from recunlearn.protect.posthoc.mmd import mmd2
from recunlearn.protect.requirement import Requirement


class D2DFRConfig(UnlearnerConfig):
    """Options of :class:`D2DFR` (defaults: the official code's)."""

    steps: int = Field(500, ge=1)
    lr: float = Field(1e-3, gt=0)
    reg: float = Field(1e-6, ge=0, description="weight of the ranking regulariser")
    top_k: int = Field(20, ge=2)
    margin: float = Field(0.05, ge=0)
    n_kernels: int = Field(5, ge=1)
    batch_users: int | None = Field(
        2048, ge=4, description="users sampled per step (stratified); None = all (full batch)"
    )
    reg_users: int | None = Field(
        256,
        ge=1,
        description="users of the step's batch whose rankings enter the regulariser (scoring "
        "every item for every user each step dominates the cost on NCF); None = all",
    )


class D2DFR(Unlearner):
    """Post-training MMD alignment of attribute groups (see the module docstring).

    After ``transform``, ``logs_`` holds per attribute the loss trace and wall seconds.
    """

    name: ClassVar[str] = "d2dfr"
    Config: ClassVar[type[UnlearnerConfig]] = D2DFRConfig
    config: D2DFRConfig

    def _top_lists(self, matrix: torch.Tensor) -> torch.Tensor:
        """Each user's original top-k items (n_users x k) under the scorer."""
        assert self.scorer_ is not None
        lists = []
        with torch.no_grad():
            for users in torch.split(torch.arange(matrix.shape[0]), 1024):
                lists.append(torch.topk(self.scorer_(users, matrix), self.config.top_k).indices)
        return torch.cat(lists)

    def unlearn_one(
        self, start: torch.Tensor, labels: AttributeLabels, generator: torch.Generator
    ) -> tuple[torch.Tensor, dict]:
        """Align the groups of one attribute, starting from ``start``."""
        cfg = self.config
        if labels.attribute.kind != "categorical":
            raise ConfigError(
                f"D2DFR aligns groups: attribute '{labels.attribute.name}' is continuous"
            )
        if cfg.reg > 0 and self.scorer_ is None:
            raise ConfigError("D2DFR with reg > 0 needs fit(..., scorer=model_scorer(model))")
        started = time.perf_counter()
        groups = [
            torch.as_tensor(np.flatnonzero(labels.values == c))
            for c in range(labels.attribute.n_classes)
        ]
        groups = [g for g in groups if len(g) > 1]
        anchor = max(range(len(groups)), key=lambda g: len(groups[g]))
        total = sum(len(g) for g in groups)
        top = self._top_lists(start) if cfg.reg > 0 else None
        matrix = start.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([matrix], lr=cfg.lr)
        trace = []
        for _ in range(cfg.steps):
            picked = []
            for group in groups:
                if cfg.batch_users is None or total <= cfg.batch_users:
                    picked.append(group)
                else:
                    size = max(2, round(cfg.batch_users * len(group) / total))
                    picked.append(group[torch.randperm(len(group), generator=generator)[:size]])
            loss = sum(
                mmd2(matrix[picked[g]], matrix[picked[anchor]], cfg.n_kernels)
                for g in range(len(groups))
                if g != anchor
            )
            if top is not None:
                users = torch.cat(picked)
                if cfg.reg_users is not None and len(users) > cfg.reg_users:
                    users = users[torch.randperm(len(users), generator=generator)[: cfg.reg_users]]
                scores = self.scorer_(users, matrix)
                ranked = scores.gather(1, top[users])
                hinge = torch.relu(ranked[:, 1:] - ranked[:, :-1] + cfg.margin).sum()
                loss = loss + cfg.reg * hinge * (matrix.shape[0] / len(users))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            trace.append(float(loss.detach()))
        log = {
            "loss_first": trace[0],
            "loss_last": trace[-1],
            "seconds": time.perf_counter() - started,
        }
        return matrix.detach(), log

    def _transform(self, requirement: Requirement) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.config.seed)
        matrix = self.embeddings_
        self.logs_: dict[str, dict] = {}
        for name in requirement.attributes:
            matrix, self.logs_[name] = self.unlearn_one(matrix, self.labels_[name], generator)
        return matrix
