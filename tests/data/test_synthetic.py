"""Synthetic generator: determinism, structure, ties, speed and planted attribute signal."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score

from recunlearn.data.loading import load_dataset
from recunlearn.data.synthetic import make_synthetic
from recunlearn.data.types import Dataset


def _same(a: Dataset, b: Dataset) -> bool:
    inter_a, inter_b = a.interactions, b.interactions
    arrays = all(
        np.array_equal(getattr(inter_a, f), getattr(inter_b, f))
        for f in ("user", "item", "rating", "timestamp")
    )
    values = all(np.array_equal(a.user_values[k], b.user_values[k]) for k in a.user_values)
    return arrays and values and a.attributes == b.attributes and a.meta == b.meta


def _attack_bacc(data: Dataset, attribute: str) -> float:
    """Balanced accuracy of a logistic regression on interaction vectors (half/half split)."""
    x, y = data.matrix(), data.labels(attribute)
    half = data.n_users // 2
    model = LogisticRegression(C=0.5, max_iter=200).fit(x[:half], y[:half])
    return balanced_accuracy_score(y[half:], model.predict(x[half:]))


@pytest.fixture(scope="module")
def synth() -> Dataset:
    """The default synthetic dataset."""
    return make_synthetic()


def test_deterministic_for_a_seed() -> None:
    small = {"n_users": 80, "n_items": 60, "n_interactions_per_user": (5, 15)}
    assert _same(make_synthetic(seed=3, **small), make_synthetic(seed=3, **small))
    assert not _same(make_synthetic(seed=3, **small), make_synthetic(seed=4, **small))


def test_structure(synth: Dataset) -> None:
    assert synth.name == "synthetic" and (synth.n_users, synth.n_items) == (1000, 500)
    counts = np.bincount(synth.interactions.user, minlength=synth.n_users)
    assert counts.min() >= 20 and counts.max() <= 60
    pairs = synth.interactions.user * synth.n_items + synth.interactions.item
    assert len(np.unique(pairs)) == len(pairs), "sampled without replacement"
    ratings = synth.interactions.rating
    assert set(np.unique(ratings).tolist()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert len(np.unique(ratings)) == 5
    names = [a.name for a in synth.attributes]
    assert names == ["gender", "age", "occupation", "age_raw", "noise"]
    assert synth.attribute("occupation").n_classes == 6
    age, bins = synth.labels("age_raw"), synth.labels("age")
    assert (bins == np.where(age < 28, 0, np.where(age <= 40, 1, 2))).all()
    assert all(c > 100 for c in synth.describe()["attributes"]["age"]["counts"].values())


def test_label_names_the_user_count_only_when_it_is_not_the_default(synth: Dataset) -> None:
    assert synth.label == "Synthetic (seed 0, signal 0.5)"  # as the older records have it
    small = make_synthetic(n_users=120, n_items=60, n_interactions_per_user=(5, 15), signal=0.25)
    assert small.label == "Synthetic (120 users, seed 0, signal 0.25)"


def test_timestamps_increase_with_a_few_ties(synth: Dataset) -> None:
    inter = synth.interactions
    same_user = inter.user[1:] == inter.user[:-1]
    step = np.diff(inter.timestamp)[same_user]
    assert (step >= 0).all()
    tied_rows = np.flatnonzero(same_user)[step == 0]
    tied_users = synth.user_ids[inter.user[tied_rows]]
    assert sorted(tied_users.tolist()) == synth.meta["tied_users"]
    assert 1 <= len(tied_users) <= 40
    last = np.r_[inter.user[1:] != inter.user[:-1], True]
    assert last[tied_rows + 1].all(), "ties only on the last two events of a user"
    none = make_synthetic(n_users=50, n_items=40, n_interactions_per_user=(3, 5), tie_fraction=0)
    assert none.meta["tied_users"] == []


def test_attributes_shape_preferences_and_noise_is_chance(synth: Dataset) -> None:
    assert _attack_bacc(synth, "gender") > 0.75
    assert _attack_bacc(synth, "occupation") > 0.3
    assert 0.4 < _attack_bacc(synth, "noise") < 0.6
    flat = make_synthetic(signal=0.0, n_users=600, n_items=200, n_interactions_per_user=(10, 30))
    assert _attack_bacc(flat, "gender") < 0.62


def test_load_dataset_synthetic_with_json_options() -> None:
    data = load_dataset("synthetic", n_users=30, n_items=20, n_interactions_per_user=[2, 4], seed=5)
    assert data.n_users == 30 and data.meta["params"]["seed"] == 5


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="exceeds n_items"):
        make_synthetic(n_users=5, n_items=10, n_interactions_per_user=(2, 20))
    with pytest.raises(ValueError, match="n_occupations"):
        make_synthetic(n_users=5, n_items=10, n_interactions_per_user=(2, 3), n_occupations=1)
