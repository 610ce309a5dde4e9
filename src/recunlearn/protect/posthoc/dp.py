"""DP baseline: random noise added to the user embeddings (LEGO §5.1 baseline)."""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from pydantic import Field

from recunlearn.protect.posthoc.base import Unlearner, UnlearnerConfig
from recunlearn.protect.requirement import Requirement


class DPConfig(UnlearnerConfig):
    """Noise mechanism and scale.

    The paper gives neither; ``scale`` is relative to the standard deviation of the original
    matrix's entries, so one value means the same on every model.
    """

    mechanism: Literal["laplace", "gaussian"] = "laplace"
    scale: float = Field(1.0, ge=0, description="noise scale / std of the matrix entries")


class DP(Unlearner):
    """Adds i.i.d. Laplace or Gaussian noise to every entry of the user matrix.

    The noise does not depend on the requirement: every attribute is blurred alike.
    """

    name: ClassVar[str] = "dp"
    Config: ClassVar[type[UnlearnerConfig]] = DPConfig
    config: DPConfig

    def _transform(self, requirement: Requirement) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.config.seed)
        matrix = self.embeddings_
        scale = self.config.scale * float(matrix.std())
        if self.config.mechanism == "gaussian":
            noise = torch.randn(matrix.shape, generator=generator) * scale
        else:
            uniform = torch.rand(matrix.shape, generator=generator) - 0.5
            noise = -scale * torch.sign(uniform) * torch.log1p(-2 * uniform.abs())
        return matrix + noise
