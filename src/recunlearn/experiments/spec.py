"""Typed, validated specifications of a training run (what ``config.json`` holds)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from recunlearn.data.spec import DataSpec, SplitSpec
from recunlearn.data.splits import protocol_preset
from recunlearn.evaluation.spec import EvalSpec
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


class RunSpec(BaseModel):
    """Everything needed to reproduce a training run.

    ``adversary`` (optional) trains the model with adversary heads on protected attributes
    (:mod:`recunlearn.protect.adversarial`); the heads are not saved, the model loads without them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    data: DataSpec = Field(default_factory=DataSpec)
    split: SplitSpec = Field(default_factory=SplitSpec)
    model: str = "mf"
    model_options: dict[str, Any] = Field(default_factory=dict)
    evaluation: EvalSpec = Field(default_factory=EvalSpec)
    adversary: AdversaryConfig | None = None

    @classmethod
    def from_preset(
        cls,
        preset: str,
        data: DataSpec,
        model: str = "mf",
        model_options: dict[str, Any] | None = None,
    ) -> RunSpec:
        """A run under a named protocol preset (e.g. ``"afrl_loo_sampled99"``): the preset's
        data filters replace ``data``'s, and its split and evaluation are used.

        Raises:
            ConfigError: unknown preset.
        """
        found = protocol_preset(preset)
        return cls(
            data=data.model_copy(update=found.data_filters()),
            split=SplitSpec(protocol=found.split, params=dict(found.split_params)),
            model=model,
            model_options=dict(model_options or {}),
            evaluation=EvalSpec.from_preset(preset),
        )

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
