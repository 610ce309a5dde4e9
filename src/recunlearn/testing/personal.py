"""The contract of a per-user method (one that answers a requirement per user), as a test
mixin, on top of :class:`~recunlearn.testing.unlearner.UnlearnerContract`::

    class TestAFRLPersonal(PersonalContract):
        name = "afrl"
        fast_options = {"epochs": 2}
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
import torch

from recunlearn.core.errors import ConfigError
from recunlearn.protect.personal import PersonalProtector, PersonalRequirement, assemble
from recunlearn.protect.posthoc.base import Unlearner
from recunlearn.protect.posthoc.registry import make_unlearner
from recunlearn.testing.data import LinearScorer, planted_matrix

ATTRIBUTES = ("gender", "age", "noise")


class PersonalContract:
    """Checks of a per-user method: one requirement for everyone equals ``transform``; in a
    mixed table each row is its user's requirement's row (rows do not depend on the other
    users' requirements); the requirement changes the rows; refusals."""

    name: ClassVar[str] = ""
    fast_options: ClassVar[dict[str, Any]] = {}

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls) -> tuple[np.ndarray, Unlearner]:
        """The method fitted on 400 planted users with a :class:`LinearScorer`."""
        matrix, labels = planted_matrix()
        method = make_unlearner(cls.name, **{**cls.fast_options, "seed": 1})
        method.fit(matrix, labels, scorer=LinearScorer(matrix))
        return matrix, method

    def test_is_a_personal_protector(self, fitted) -> None:
        assert isinstance(fitted[1], PersonalProtector)

    def test_uniform_table_equals_transform(self, fitted) -> None:
        matrix, method = fitted
        table = PersonalRequirement.uniform(len(matrix), ATTRIBUTES, "gender,age")
        torch.testing.assert_close(
            method.transform_personal(table), method.transform(["gender", "age"])
        )

    def test_each_row_follows_its_own_requirement(self, fitted) -> None:
        matrix, method = fitted
        table = PersonalRequirement.random(len(matrix), ATTRIBUTES, seed=4, include_empty=True)
        out = assemble(method, matrix, table)
        empty = method.transform_personal(
            PersonalRequirement.uniform(len(matrix), ATTRIBUTES, None)
        )
        for names, rows in table.groups():
            expected = method.transform(list(names)) if names else empty
            torch.testing.assert_close(out[rows], expected[rows], atol=1e-5, rtol=1e-5)

    def test_the_requirement_changes_the_rows(self, fitted) -> None:
        matrix, method = fitted
        n = len(matrix)
        nothing = method.transform_personal(PersonalRequirement.uniform(n, ATTRIBUTES, None))
        gender = method.transform("gender")
        assert torch.isfinite(nothing).all() and nothing.shape == matrix.shape
        assert not torch.allclose(nothing, gender)

    def test_refusals(self, fitted) -> None:
        matrix, method = fitted
        with pytest.raises(ConfigError, match="users"):
            method.transform_personal(PersonalRequirement.uniform(3, ATTRIBUTES, "gender"))
        table = PersonalRequirement(("religion",), np.ones((len(matrix), 1), bool))
        with pytest.raises(ConfigError, match="unknown attribute"):
            method.transform_personal(table)
        unfitted = make_unlearner(self.name, **self.fast_options)
        with pytest.raises(RuntimeError, match="fit"):
            unfitted.transform_personal(PersonalRequirement.uniform(3, ATTRIBUTES, "gender"))
