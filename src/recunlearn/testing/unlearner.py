"""The contract every post-hoc unlearner honours, as a test mixin.

A method is tested by one line (plus its fast options) in the test suite::

    class TestDP(UnlearnerContract):
        name = "dp"

``name`` is the method's name in :data:`recunlearn.protect.posthoc.registry.UNLEARNERS`;
``fast_options`` keep the checks quick (few steps); ``needs_scorer`` marks methods trained
through the frozen recommender (they get a :class:`~recunlearn.testing.data.LinearScorer` and
must refuse to fit without one).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
import torch

from recunlearn.core.errors import ConfigError, DataError
from recunlearn.protect.posthoc.base import AttributeLabels, Unlearner
from recunlearn.protect.posthoc.registry import UNLEARNERS, make_unlearner
from recunlearn.testing.data import LinearScorer, planted_matrix


class UnlearnerContract:
    """Checks of :class:`~recunlearn.protect.posthoc.base.Unlearner`: registration, shape and
    determinism of ``transform``, refusal of unknown attributes, bad matrices, unknown options,
    a transform before fit, and a store given to a method without one."""

    name: ClassVar[str] = ""
    fast_options: ClassVar[dict[str, Any]] = {}
    """Options that keep the checks fast (e.g. few optimisation steps)."""
    needs_scorer: ClassVar[bool] = False
    """The method trains through the frozen recommender (``fit(..., scorer=...)``)."""
    planted_gender: ClassVar[tuple[float, float] | None] = None
    """Where the planted gender must land after ``transform("gender")`` at :attr:`fast_options`:
    the worst signed ``BAcc - chance`` (points) of a logistic regression and a 20-NN, audited by
    :func:`~recunlearn.audit.audit`. ``None``: the method is not expected to remove it at these
    settings, only never to push it below chance (a mirror) nor above the original."""

    @pytest.fixture(scope="class")
    @classmethod
    def planted(cls) -> tuple[np.ndarray, dict[str, AttributeLabels]]:
        """400 users x 16 dims: gender readable, age weakly, noise not at all."""
        return planted_matrix()

    def make(self, **options: Any) -> Unlearner:
        """The method with :attr:`fast_options` and ``options``."""
        return make_unlearner(self.name, **{**self.fast_options, **options})

    def fit(self, unlearner: Unlearner, matrix: np.ndarray, labels: Any, **kwargs: Any) -> Any:
        """``unlearner.fit`` with a scorer when the method needs one."""
        if self.needs_scorer:
            kwargs.setdefault("scorer", LinearScorer(matrix))
        return unlearner.fit(matrix, labels, **kwargs)

    def test_audited_planted_gender_and_untouched_noise(self, planted) -> None:
        """The project's own audit on the method's output: planted gender where the method's
        documentation puts it, on both sides of chance, and the independent ``noise`` label
        still at chance (no method may write a label into an attribute it was not asked to
        remove)."""
        matrix, labels = planted
        protected = self.fit(self.make(), matrix, labels).transform("gender").numpy()
        after = _audit_planted(protected, labels)
        before = _original_gaps(matrix, labels)
        low, high = self.planted_gender or (-5.0, before["gender"][0] + 3.0)
        assert low <= after["gender"][0] <= high, (self.name, after["gender"], (low, high))
        gap, z = after["noise"]
        assert abs(z) < 4.0, (self.name, "noise", gap, z)

    def test_registered(self) -> None:
        assert self.name in UNLEARNERS and UNLEARNERS.get(self.name).name == self.name

    def test_shape_and_determinism(self, planted) -> None:
        matrix, labels = planted
        a = self.fit(self.make(seed=3), matrix, labels).transform("gender,age")
        b = self.fit(self.make(seed=3), matrix, labels).transform(["age", "gender"])
        assert a.shape == matrix.shape and a.dtype == torch.float32
        torch.testing.assert_close(a, b)
        assert torch.isfinite(a).all()

    def test_unknown_attribute_is_a_config_error(self, planted) -> None:
        matrix, labels = planted
        with pytest.raises(ConfigError, match="unknown attribute"):
            self.fit(self.make(), matrix, labels).transform("religion")

    def test_bad_embeddings_are_refused(self, planted) -> None:
        matrix, labels = planted
        broken = matrix.copy()
        broken[3, 2] = np.nan
        with pytest.raises(DataError, match="NaN"):
            self.fit(self.make(), broken, labels)
        with pytest.raises(DataError, match="labels"):
            self.fit(self.make(), matrix[:-1], labels, scorer=None)

    def test_unknown_option_is_refused(self) -> None:
        with pytest.raises(ConfigError):
            self.make(bogus=1)

    def test_transform_before_fit(self) -> None:
        with pytest.raises(RuntimeError, match="fit"):
            self.make().transform("gender")

    def test_store_only_for_methods_that_keep_bricks(self, planted, tmp_path) -> None:
        matrix, labels = planted
        unlearner = self.make()
        if unlearner.uses_store:
            self.fit(unlearner, matrix, labels, store=tmp_path / "store")
        else:
            with pytest.raises(ConfigError, match="store is not used"):
                self.fit(unlearner, matrix, labels, store=tmp_path / "store")

    def test_a_method_trained_through_the_recommender_needs_a_scorer(self, planted) -> None:
        matrix, labels = planted
        if not self.needs_scorer:
            pytest.skip("the method does not train through the recommender")
        with pytest.raises(ConfigError, match="scorer"):
            self.make().fit(matrix, labels)


_ORIGINAL_GAPS: dict[bytes, dict[str, tuple[float, float]]] = {}


def _original_gaps(
    matrix: np.ndarray, labels: dict[str, AttributeLabels]
) -> dict[str, tuple[float, float]]:
    """:func:`_audit_planted` of the original matrix, once per process (every contract class
    audits the same planted matrix)."""
    key = np.ascontiguousarray(matrix).tobytes() + b"".join(
        np.ascontiguousarray(labels[name].values).tobytes() for name in ("gender", "noise")
    )
    if key not in _ORIGINAL_GAPS:
        _ORIGINAL_GAPS[key] = _audit_planted(matrix, labels)
    return _ORIGINAL_GAPS[key]


def _audit_planted(
    matrix: np.ndarray, labels: dict[str, AttributeLabels]
) -> dict[str, tuple[float, float]]:
    """Per attribute (gender, noise): the signed ``BAcc - chance`` in points of the worst of a
    logistic regression and a 20-NN (3-fold, seed 0) and its null z-score."""
    from recunlearn.audit import audit

    attributes = {
        name: (labels[name].attribute, labels[name].values) for name in ("gender", "noise")
    }
    worst = audit(
        matrix,
        attributes,
        attackers=["logreg", "knn"],
        n_folds=3,
        seeds=(0,),
        n_jobs=1,
        progress=False,
    ).worst_case()
    return {
        str(row.attribute): (100.0 * (row.bacc_mean - row.chance_bacc_mean), float(row.bacc_z))
        for row in worst.itertuples()
    }
