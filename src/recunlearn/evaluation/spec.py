"""How a test split is evaluated (what ``config.json`` pins of the evaluation)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from recunlearn.data.splits import protocol_preset


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

    @classmethod
    def from_preset(cls, name: str) -> EvalSpec:
        """The evaluation of a protocol preset (:data:`recunlearn.data.splits.PROTOCOL_PRESETS`).

        Raises:
            ConfigError: unknown preset.
        """
        preset = protocol_preset(name)
        return cls(
            mode=preset.eval_mode,
            ks=list(preset.ks),
            n_negatives=preset.n_negatives,
            seed=preset.eval_seed,
        )
