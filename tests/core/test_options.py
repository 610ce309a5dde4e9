"""Option validation: messages name the option, the value and, when unknown, the valid names."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field

from recunlearn.core.errors import ConfigError
from recunlearn.core.options import option_problems, validate_options
from recunlearn.models.registry import make_model


class Small(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epochs: int = Field(1, ge=1)
    embedding_dim: int = 64


def test_valid_options_give_the_config():
    assert validate_options(Small, {"epochs": 3}, what="x").epochs == 3


def test_unknown_option_lists_the_valid_ones_and_suggests():
    with pytest.raises(ConfigError) as info:
        validate_options(Small, {"embedding_size": 8}, what="model 'small'")
    text = str(info.value)
    assert "model 'small'" in text and "option 'embedding_size'" in text
    assert "did you mean 'embedding_dim'" in text and "valid options: embedding_dim, epochs" in text
    assert "Extra inputs" not in text


def test_every_problem_is_listed_with_its_location():
    problems = option_problems(Small, {"epochs": 0, "nope": 1}, "methods[3].options", "field")
    assert problems[0] == (
        "field 'methods[3].options.epochs': Input should be greater than or equal to 1 (got 0)"
    )
    assert problems[1].startswith("field 'methods[3].options.nope': unknown option")


def test_make_model_lists_the_valid_keys():
    """Issue 25, case 6: ``--set embedding_size=...`` answered "Extra inputs are not permitted"."""
    with pytest.raises(ConfigError) as info:
        make_model("mf", embedding_size=8)
    text = str(info.value)
    assert "did you mean 'embedding_dim'" in text and "valid options:" in text
    assert "n_negatives" in text and "Extra inputs" not in text
