"""Run specifications validate their fields and hash canonically."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from recunlearn.experiments.spec import (
    HASH_NEUTRAL_DEFAULTS,
    DataSpec,
    EvalSpec,
    RunSpec,
    SplitSpec,
)
from recunlearn.models.base import TrainConfig
from recunlearn.models.multvae import MultVAE


def test_unknown_keys_are_rejected():
    with pytest.raises(ValidationError, match="bogus"):
        DataSpec(name="synthetic", bogus=1)
    with pytest.raises(ValidationError):
        EvalSpec(mode="approximate")


def test_fingerprint_is_stable_and_sensitive():
    a = RunSpec(model="mf", model_options={"seed": 1, "epochs": 3})
    b = RunSpec(model="mf", model_options={"epochs": 3, "seed": 1})
    c = RunSpec(model="mf", model_options={"epochs": 3, "seed": 2})
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != c.fingerprint()
    assert (
        RunSpec(split=SplitSpec(params={"ties": "item_id"})).fingerprint()
        != RunSpec().fingerprint()
    )


def test_round_trip_through_json():
    spec = RunSpec(data=DataSpec(name="ml-100k", data_dir="/x"), model="ncf")
    assert RunSpec.model_validate_json(spec.model_dump_json()) == spec


def test_later_training_options_at_their_defaults_keep_old_hashes():
    full = MultVAE.advx_config().model_dump(mode="json")
    older = {k: v for k, v in full.items() if k not in HASH_NEUTRAL_DEFAULTS}
    assert set(HASH_NEUTRAL_DEFAULTS) <= set(full)
    same = RunSpec(model="multvae", model_options=full).fingerprint()
    assert same == RunSpec(model="multvae", model_options=older).fingerprint()
    scheduled = RunSpec(model="multvae", model_options=full | {"lr_plateau_factor": 0.1})
    assert scheduled.fingerprint() != same


def test_hash_neutral_values_are_the_training_defaults():
    fields = TrainConfig.model_fields
    assert {name: fields[name].default for name in HASH_NEUTRAL_DEFAULTS} == HASH_NEUTRAL_DEFAULTS
