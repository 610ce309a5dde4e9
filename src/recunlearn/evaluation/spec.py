"""How a test split is evaluated (what ``config.json`` pins of the evaluation)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvalSpec(_Spec):
    """How the test split is evaluated.

    Attributes:
        mode: ``full`` ranking (training and validation items masked) or ``sampled`` (1+99).
        ks: cut-offs.
        metrics: metric names.
        n_negatives: negatives per user in sampled mode.
        seed: seed of the negative sampler.
        topk: length of the stored recommendation lists.
    """

    mode: Literal["full", "sampled"] = "full"
    ks: list[int] = Field(default_factory=lambda: [10, 20])
    metrics: list[str] = Field(default_factory=lambda: ["HR", "NDCG", "Recall"])
    n_negatives: int = Field(99, ge=1)
    seed: int = 0
    topk: int = Field(20, ge=0)
