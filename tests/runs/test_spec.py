"""Run specifications validate their fields and hash canonically."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from recunlearn.runs.spec import DataSpec, EvalSpec, RunSpec, SplitSpec


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
