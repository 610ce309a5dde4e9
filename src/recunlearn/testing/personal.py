"""The contract of a per-user method (one that answers a requirement per user), as a test
mixin, on top of :class:`~recunlearn.testing.unlearner.UnlearnerContract`::

    class TestAFRLPersonal(PersonalContract):
        name = "afrl"
        fast_options = {"epochs": 2}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch

from recunlearn.core.errors import ConfigError
from recunlearn.protect.personal import PersonalProtector, PersonalRequirement, assemble
from recunlearn.protect.personal.checkpoint import FitCheckpoint
from recunlearn.protect.posthoc.base import Unlearner
from recunlearn.protect.posthoc.registry import make_unlearner
from recunlearn.testing.data import LinearScorer, planted_matrix

ATTRIBUTES = ("gender", "age", "noise")


class PersonalContract:
    """Checks of a per-user method: one requirement for everyone equals ``transform``; in a
    mixed table each row is its user's requirement's row (rows do not depend on the other
    users' requirements); the requirement changes the rows; refusals; an interrupted fit
    resumes from its checkpoint to the very result of the uninterrupted one."""

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

    def test_an_interrupted_fit_resumes_to_the_same_result(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        matrix, labels = planted_matrix()
        scorer = LinearScorer(matrix)
        options = {**self.fast_options, "epochs": 3, "validation": "every", "seed": 2}

        def fitted(path: Path | None) -> Any:
            method = make_unlearner(self.name, **options)
            if path is not None:
                method.checkpoint_to(path, every_seconds=0)
            return method.fit(matrix, labels, scorer=scorer)

        whole = fitted(None)
        path = tmp_path / "fit.pt"
        save = FitCheckpoint.save

        def save_then_stop(checkpoint: FitCheckpoint, state: dict[str, Any]) -> None:
            save(checkpoint, state)
            if state["epoch"] == 0:
                raise KeyboardInterrupt  # killed right after the first epoch's save

        with monkeypatch.context() as patch:
            patch.setattr(FitCheckpoint, "save", save_then_stop)
            with pytest.raises(KeyboardInterrupt):
                fitted(path)
        resumed = fitted(path)
        assert resumed.logs_["resumed"]["epoch"] == 1 and "resumed" not in whole.logs_
        assert resumed.logs_["epochs"] == whole.logs_["epochs"]
        assert resumed.logs_["kept_epoch"] == whole.logs_["kept_epoch"]
        expected = whole.transform(["gender", "age"])
        torch.testing.assert_close(resumed.transform(["gender", "age"]), expected, rtol=0, atol=0)
        # the finished fit's checkpoint trains nothing more and serves the same rows
        again = fitted(path)
        assert again.logs_["resumed"]["epoch"] == 3
        torch.testing.assert_close(again.transform(["gender", "age"]), expected, rtol=0, atol=0)
        # a checkpoint of another fit (another seed) is ignored, not resumed
        options["seed"] = 3
        assert "resumed" not in fitted(path).logs_
