"""Closed-form linear concept erasure (LEACE, Belrose et al. 2023) as a cheap inductive baseline.

Fitted on the users with labels, the eraser is an affine map applied to *every* user, so users
whose attributes are unknown are protected too. With ``X`` the embeddings and ``Z`` the targets
(one-hot columns for a categorical attribute, the standardised value for a continuous one; the
columns of all attributes of a requirement side by side), the eraser

    x' = x - S^{1/2} P S^{-1/2} (x - mean)

with ``S`` the covariance of ``X`` and ``P`` the orthogonal projection onto the column space of
``S^{-1/2} Cov(X, Z)`` makes ``Cov(X', Z) = 0`` -- no *linear* classifier does better than a
constant -- with the least change in the whitened metric. Non-linear attackers may still
succeed: the audit shows how far that goes.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from pydantic import Field

from recunlearn.protect.posthoc.base import AttributeLabels, Unlearner, UnlearnerConfig
from recunlearn.protect.requirement import Requirement


class LinearErasureConfig(UnlearnerConfig):
    """Options of :class:`LinearErasure`."""

    ridge: float = Field(1e-6, ge=0, description="added to the covariance diagonal (x trace/d)")
    rank_tol: float = Field(1e-6, gt=0, description="relative singular-value cut-off")


def _target_columns(labels: AttributeLabels) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a label and their target columns."""
    rows = np.flatnonzero(labels.known)
    if labels.attribute.kind == "categorical":
        z = np.eye(labels.attribute.n_classes)[labels.values[rows]]
    else:
        v = labels.values[rows].astype(np.float64)
        z = ((v - v.mean()) / max(v.std(), 1e-12))[:, None]
    return rows, z


class LinearErasure(Unlearner):
    """LEACE on the user matrix (see the module docstring)."""

    name: ClassVar[str] = "linear-erasure"
    Config: ClassVar[type[UnlearnerConfig]] = LinearErasureConfig
    config: LinearErasureConfig

    def eraser(self, requirement: Requirement) -> tuple[np.ndarray, np.ndarray]:
        """``(A, mean)`` such that ``x' = x - (x - mean) @ A.T``."""
        x_all = self.embeddings_.numpy().astype(np.float64)
        known = np.zeros(len(x_all), dtype=bool)
        for name in requirement.attributes:
            known |= self.labels_[name].known
        x = x_all[known]
        mean = x.mean(0)
        xc = x - mean
        d = x.shape[1]
        cov = xc.T @ xc / len(x)
        cov += np.eye(d) * self.config.ridge * np.trace(cov) / d
        vals, vecs = np.linalg.eigh(cov)
        vals = np.clip(vals, 1e-12, None)
        whiten = vecs @ np.diag(vals**-0.5) @ vecs.T
        unwhiten = vecs @ np.diag(vals**0.5) @ vecs.T
        blocks = []
        for name in requirement.attributes:
            rows, z = _target_columns(self.labels_[name])
            xr = x_all[rows] - x_all[rows].mean(0)
            blocks.append(xr.T @ (z - z.mean(0)) / len(rows))
        cross = np.concatenate(blocks, axis=1)  # d x (total target columns)
        u, s, _ = np.linalg.svd(whiten @ cross, full_matrices=False)
        u = u[:, s > self.config.rank_tol * max(s.max(initial=0.0), 1e-300)]
        projection = u @ u.T
        return unwhiten @ projection @ whiten, mean

    def _transform(self, requirement: Requirement) -> torch.Tensor:
        a, mean = self.eraser(requirement)
        x = self.embeddings_.numpy().astype(np.float64)
        return torch.as_tensor(x - (x - mean) @ a.T, dtype=torch.float32)
