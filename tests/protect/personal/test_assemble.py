"""Any post-hoc method served per user: each row comes from the protected matrix of its user's
requirement, users who asked for nothing keep their row, one transform per distinct requirement
(bricks reused), and a per-user method answers itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recunlearn.core.errors import ConfigError
from recunlearn.protect.personal import PersonalRequirement, assemble
from recunlearn.protect.posthoc.registry import make_unlearner
from recunlearn.testing.data import planted_matrix

ATTRIBUTES = ("gender", "age", "noise")


@pytest.fixture(scope="module")
def fitted():
    matrix, labels = planted_matrix(n=300)
    method = make_unlearner("linear-erasure").fit(matrix, labels)
    return matrix, method


def test_rows_follow_their_users_requirement(fitted):
    matrix, method = fitted
    table = PersonalRequirement.random(len(matrix), ATTRIBUTES, seed=0, include_empty=True)
    log: dict = {}
    out = assemble(method, matrix, table, log=log)
    assert out.shape == matrix.shape
    for names, rows in table.groups():
        expected = torch.as_tensor(matrix) if not names else method.transform(list(names))
        torch.testing.assert_close(out[rows], expected[rows].to(torch.float32))
    assert (
        len(log["groups"]) == 7
        and sum(g["users"] for g in log["groups"].values()) == (table.labels() != "").sum()
    )


def test_one_transform_per_distinct_requirement(fitted):
    matrix, method = fitted
    calls: list[tuple[str, ...]] = []

    class Counting:
        def transform(self, requirement):
            calls.append(tuple(requirement))
            return method.transform(requirement)

    table = PersonalRequirement.random(len(matrix), ("gender", "age"), seed=2)
    assemble(Counting(), matrix, table)
    assert sorted(calls) == sorted({("gender",), ("age",), ("gender", "age")})


def test_a_personal_protector_answers_in_one_pass(fitted):
    matrix, _ = fitted
    seen = []

    class Personal:
        def transform_personal(self, requirement):
            seen.append(requirement)
            return torch.zeros(matrix.shape)

    table = PersonalRequirement.uniform(len(matrix), ATTRIBUTES, "gender")
    assert float(assemble(Personal(), matrix, table).abs().sum()) == 0.0 and seen == [table]


def test_row_count_and_unknown_attributes_are_refused(fitted):
    matrix, method = fitted
    with pytest.raises(ConfigError, match="users for 300 embedding rows"):
        assemble(method, matrix, PersonalRequirement.uniform(10, ATTRIBUTES, "gender"))
    table = PersonalRequirement(("religion",), np.ones((len(matrix), 1), bool))
    with pytest.raises(ConfigError, match="unknown attribute"):
        assemble(method, matrix, table)
