"""Requirements are canonical."""

from __future__ import annotations

import pytest

from recunlearn.core.errors import ConfigError
from recunlearn.protect.requirement import Requirement


def test_canonical_order():
    assert Requirement.parse("gender, age") == Requirement(("age", "gender", "age"))
    assert Requirement.parse(["occupation"]).label == "occupation"
    assert Requirement.parse("gender,age").label == "age+gender"


def test_empty_is_refused():
    with pytest.raises(ConfigError):
        Requirement.parse(" , ")
