"""The split eraser removes planted attributes to chance for the project's own attackers, on both
sides, in every view, keeps a control attribute at chance, protects unlabelled users, reuses its
bricks, and refuses what it cannot remove."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recunlearn.audit import audit
from recunlearn.audit.guard import check_leakage
from recunlearn.core.errors import ConfigError, DataError
from recunlearn.protect.posthoc.base import AttributeLabels, heldout_users, hide_labels
from recunlearn.protect.posthoc.split_eraser import SplitEraser
from recunlearn.testing.data import planted_matrix

TOLERANCE = 5.0
"""Points from chance allowed to the worst attacker in 5-fold views (2,000 users: the null
spread of one attacker's BAcc is ~1.1 points)."""

HELDOUT_TOLERANCE = 7.0
"""The same on 400 held-out users, where one attacker's null spread is ~2.5 points and the
worst of four lands ~4 points from chance with nothing to find."""

ATTACKERS = ("logreg", "svm_rbf", "gbt", "knn")
"""The audit's fast strong attackers (linear, kernel, trees, neighbours)."""


@pytest.fixture(scope="module")
def planted():
    """2,000 users x 16 dims, gender and age planted at the strength of real embeddings (an
    attacker reads gender at ~70 % BAcc), plus the independent control ``noise``."""
    rng = np.random.default_rng(0)
    n = 2000
    gender, age, noise = rng.integers(0, 2, n), rng.integers(0, 3, n), rng.integers(0, 2, n)
    matrix = rng.normal(size=(n, 16))
    matrix[:, 0] += 1.0 * (2 * gender - 1)
    matrix[:, 1] += 0.7 * (age - 1)
    matrix[:, 2] *= 1.0 + 0.5 * gender  # a covariance signal too
    _, template = planted_matrix(n=10)
    labels = {
        "gender": AttributeLabels(template["gender"].attribute, gender),
        "age": AttributeLabels(template["age"].attribute, age),
        "noise": AttributeLabels(template["noise"].attribute, noise),
    }
    return matrix.astype(np.float32), labels


def _attributes(labels: dict[str, AttributeLabels]) -> dict:
    return {name: (entry.attribute, entry.values) for name, entry in labels.items()}


def test_planted_attributes_reach_chance_in_every_view_and_noise_stays(planted):
    matrix, labels = planted
    hidden = heldout_users(len(matrix), 0.2, 0)
    protected = SplitEraser().fit(matrix, labels).transform("gender,age")
    second = SplitEraser().fit(matrix, hide_labels(labels, hidden)).transform("gender,age")
    check = check_leakage(
        protected.numpy(),
        _attributes(labels),
        ["gender", "age"],
        original=matrix,
        heldout=(second.numpy(), hidden),
        attackers=ATTACKERS,
        audit_original=False,
    )
    table = check.table().set_index("attribute")
    before = audit(
        matrix, _attributes(labels), select=["gender"], attackers=["logreg"], progress=False
    )
    assert before.worst_case().iloc[0]["bacc_mean"] > 0.65  # the signal was there
    for view, tolerance in (
        ("after", TOLERANCE),
        ("transfer", TOLERANCE),
        ("heldout", HELDOUT_TOLERANCE),
    ):
        assert table[view].abs().max() <= tolerance, (view, table)
    assert not table["flipped"].any()
    noise = audit(
        protected.numpy(), _attributes(labels), select=["noise"], n_folds=3, progress=False
    )
    gap = noise.worst_case().iloc[0]
    assert abs(gap["bacc_mean"] - gap["chance_bacc_mean"]) * 100 <= TOLERANCE


def test_users_without_labels_are_protected_by_the_same_map(planted):
    matrix, labels = planted
    unknown = np.zeros(len(matrix), dtype=bool)
    unknown[::3] = True
    eraser = SplitEraser().fit(matrix, hide_labels(labels, unknown))
    protected = eraser.transform("gender").numpy()
    assert eraser.bricks_["gender"].directions.shape[1] >= 1
    report = audit(
        protected,
        _attributes(labels),
        select=["gender"],
        test_users=unknown,
        attackers=ATTACKERS,
        progress=False,
    )
    worst = report.worst_case().iloc[0]
    assert abs(worst["bacc_mean"] - 0.5) * 100 <= HELDOUT_TOLERANCE


def test_bricks_are_cached_and_stored(planted, tmp_path):
    matrix, labels = planted
    first = SplitEraser().fit(matrix, labels, store=tmp_path / "store")
    a = first.transform("gender,age")
    second = SplitEraser().fit(matrix, labels, store=tmp_path / "store")
    second.brick("gender")
    assert second.bricks_["gender"].stats == first.bricks_["gender"].stats
    assert torch.equal(second.transform("age,gender"), a)
    assert len(list((tmp_path / "store" / "bricks").glob("*.safetensors"))) == 2
    # a requirement of cached attributes only combines: the gender brick is not rebuilt
    before = dict(first.bricks_)
    first.transform("gender")
    assert first.bricks_["gender"] is before["gender"]


def test_refuses_what_it_cannot_remove(planted):
    matrix, labels = planted
    _, with_continuous = planted_matrix(n=len(matrix))
    with pytest.raises(ConfigError, match="continuous"):
        SplitEraser().fit(matrix, with_continuous).transform("age_raw")
    gone = dict(labels)
    gone["gender"] = AttributeLabels(labels["gender"].attribute, np.full(len(matrix), -1))
    with pytest.raises(DataError, match="every label is missing"):
        SplitEraser().fit(matrix, gone).transform("gender")
    single = dict(labels)
    single["gender"] = AttributeLabels(labels["gender"].attribute, np.zeros(len(matrix), int))
    with pytest.raises(DataError, match="single class"):
        SplitEraser().fit(matrix, single).transform("gender")


def test_principal_rank_erases_inside_the_top_components(planted, tmp_path):
    matrix, labels = planted
    centred = matrix.astype(np.float64) - matrix.mean(0)
    top = np.linalg.svd(centred, full_matrices=False)[2][:6].T
    eraser = SplitEraser(principal_rank=6).fit(matrix, labels, store=tmp_path)
    out = eraser.transform("gender").numpy().astype(np.float64)
    rest = (out - matrix.mean(0)) - (out - matrix.mean(0)) @ top @ top.T
    assert np.abs(rest).max() < 1e-4  # every row lies in mean + the top-6 span
    assert eraser.frame_dims_ <= 6
    # 0 leaves the matrix whole, and the two keep separate bricks in one store
    plain = SplitEraser().fit(matrix, labels, store=tmp_path)
    assert plain.frame_dims_ == 16
    plain.transform("gender")
    assert len(list((tmp_path / "bricks").glob("*.safetensors"))) == 2
    np.testing.assert_array_equal(
        plain.transform("gender").numpy(), SplitEraser().fit(matrix, labels).transform("gender")
    )


def test_crossfit_edits_no_row_with_its_own_label_and_protects_unlabelled_users(planted, tmp_path):
    matrix, labels = planted
    eraser = SplitEraser(fitting="crossfit").fit(matrix, labels, store=tmp_path)
    protected = eraser.transform("gender,age").numpy()
    brick = eraser.bricks_["gender"]
    assert len(brick.fold_directions) == 5 and brick.half.all()
    # a labelled row's directions come from the other folds: flipping the labels of fold 0
    # changes the rows of the other folds only
    folds = eraser._folds()
    values = labels["gender"].values.copy()
    values[folds == 0] = 1 - values[folds == 0]
    flipped = {**labels, "gender": AttributeLabels(labels["gender"].attribute, values)}
    other = SplitEraser(fitting="crossfit").fit(matrix, flipped).transform("gender").numpy()
    mine = SplitEraser(fitting="crossfit").fit(matrix, labels).transform("gender").numpy()
    np.testing.assert_array_equal(other[folds == 0], mine[folds == 0])
    assert not np.allclose(other[folds == 1], mine[folds == 1])
    # users without labels get the directions fitted on every label
    unknown = np.zeros(len(matrix), dtype=bool)
    unknown[::5] = True
    hidden = SplitEraser(fitting="crossfit").fit(matrix, hide_labels(labels, unknown))
    report = audit(
        hidden.transform("gender").numpy(), _attributes(labels), select=["gender"],
        test_users=unknown, attackers=ATTACKERS, progress=False,
    )  # fmt: skip
    worst = report.worst_case().iloc[0]
    assert abs(worst["bacc_mean"] - 0.5) * 100 <= HELDOUT_TOLERANCE
    # the store keeps every fold's directions
    again = SplitEraser(fitting="crossfit").fit(matrix, labels, store=tmp_path)
    np.testing.assert_array_equal(again.transform("gender,age").numpy(), protected)
    with pytest.raises(ConfigError, match="fitting='half'"):
        SplitEraser(fitting="crossfit", tolerance=3.0)


def test_unlabelled_rows_can_take_directions_fitted_on_every_label(planted, tmp_path):
    matrix, labels = planted
    unknown = np.zeros(len(matrix), dtype=bool)
    unknown[::5] = True
    seen = hide_labels(labels, unknown)
    plain = SplitEraser().fit(matrix, seen).transform("gender,age").numpy()
    eraser = SplitEraser(unlabelled="all").fit(matrix, seen, store=tmp_path)
    both = eraser.transform("gender,age").numpy()
    np.testing.assert_array_equal(both[~unknown], plain[~unknown])  # labelled rows as before
    assert not np.allclose(both[unknown], plain[unknown])
    assert eraser.bricks_["gender"].unlabelled_directions is not None
    report = audit(
        both, _attributes(labels), select=["gender", "age"], test_users=unknown,
        attackers=ATTACKERS, progress=False,
    )  # fmt: skip
    for _, worst in report.worst_case().iterrows():
        assert abs(worst["bacc_mean"] - worst["chance_bacc_mean"]) * 100 <= HELDOUT_TOLERANCE
    again = SplitEraser(unlabelled="all").fit(matrix, seen, store=tmp_path)
    np.testing.assert_array_equal(again.transform("gender,age").numpy(), both)
