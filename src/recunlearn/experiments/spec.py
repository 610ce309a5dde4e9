"""Typed, validated specifications of a training run (what ``config.json`` holds)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from recunlearn.protect.adversarial.config import AdversaryConfig

HASH_NEUTRAL_DEFAULTS: dict[str, Any] = {
    "decoupled_weight_decay": False,
    "lr_plateau_factor": None,
    "lr_plateau_patience": 5,
    "min_lr": 1e-6,
}
"""Training options added after benchmark records were first keyed by :meth:`RunSpec.fingerprint`.
At these values they change nothing, so a ``model_options`` dump that spells them out (a
full config dump) hashes as one written before they existed, and old records keep their keys."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSpec(_Spec):
    """Which dataset to load and how to filter it.

    Attributes:
        name: a name accepted by :func:`recunlearn.data.loading.load_dataset`.
        data_dir: folder (MovieLens, RecBole) or interactions file (csv/parquet).
        attributes_path: user-attribute table for csv/parquet data.
        options: extra loader options (e.g. synthetic ``n_users``).
        min_user_interactions: k-core bound on users (papers: 5; 0 disables).
        min_item_interactions: k-core bound on items (0 disables).
        binarize_threshold: keep ratings >= this value as positives (None keeps all).
    """

    name: str = "synthetic"
    data_dir: str | None = None
    attributes_path: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    min_user_interactions: int = Field(5, ge=0)
    min_item_interactions: int = Field(0, ge=0)
    binarize_threshold: float | None = None


class SplitSpec(_Spec):
    """A named split protocol and its parameters (see :mod:`recunlearn.data.splits`)."""

    protocol: str = "loo"
    params: dict[str, Any] = Field(default_factory=dict)


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


class RunSpec(_Spec):
    """Everything needed to reproduce a training run.

    ``adversary`` (optional) trains the model with adversary heads on protected attributes
    (:mod:`recunlearn.protect.adversarial`); the heads are not saved, the model loads without them.
    """

    data: DataSpec = Field(default_factory=DataSpec)
    split: SplitSpec = Field(default_factory=SplitSpec)
    model: str = "mf"
    model_options: dict[str, Any] = Field(default_factory=dict)
    evaluation: EvalSpec = Field(default_factory=EvalSpec)
    adversary: AdversaryConfig | None = None

    def fingerprint(self) -> str:
        """A short hash of the canonical JSON of this spec (the config hash of a record).

        Without an adversary the hash is the one of a spec that has no ``adversary`` field, so
        hashes recorded before the field existed stay valid; the same holds for the model
        options in :data:`HASH_NEUTRAL_DEFAULTS` at their neutral values.
        """
        payload = self.model_dump(mode="json")
        if payload.get("adversary") is None:
            payload.pop("adversary", None)
        options = payload["model_options"]
        for name, neutral in HASH_NEUTRAL_DEFAULTS.items():
            if name in options and options[name] == neutral:
                del options[name]
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]
