"""Adversary targets: class weights, label masking, kind checks, continuous scaling."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from recunlearn.audit.nets import inverse_frequency_weights
from recunlearn.core.errors import ConfigError
from recunlearn.data.types import Dataset
from recunlearn.protect.adversarial.config import AttributeAdversary
from recunlearn.protect.adversarial.targets import make_targets


def test_inverse_frequency_matches_the_advx_weights():
    codes = np.r_[np.zeros(28), np.ones(72)].astype(int)  # 28 % F, 72 % M (ML-1M)
    np.testing.assert_allclose(inverse_frequency_weights(codes, 2), [0.72, 0.28])


def test_inverse_frequency_ignores_unknown_and_zeroes_absent_classes():
    weights = inverse_frequency_weights(np.array([0, 0, 2, -1, -1]), 3)
    np.testing.assert_allclose(weights, [1 / 3, 0.0, 2 / 3])
    with pytest.raises(ValueError):
        inverse_frequency_weights(np.array([-1, -1]), 2)


def _with_missing(dataset: Dataset) -> Dataset:
    gender = dataset.labels("gender").copy()
    gender[:10] = -1
    age = dataset.labels("age_raw").copy()
    age[5:15] = np.nan
    return dataclasses.replace(dataset, user_values={"gender": gender, "age_raw": age})


def test_labelled_excludes_unknown_labels_and_users_outside_label_users(tiny_dataset):
    dataset = _with_missing(tiny_dataset)
    label_users = np.arange(0, 50)
    targets = make_targets(dataset, "gender", AttributeAdversary(lam=1), label_users)
    labelled = targets.labelled.numpy()
    assert not labelled[:10].any() and not labelled[50:].any() and labelled[10:50].all()
    assert (targets.values.numpy()[~labelled] == -1).all()
    codes = dataset.labels("gender")[10:50]
    np.testing.assert_allclose(
        targets.class_weights.numpy(), inverse_frequency_weights(codes, 2), rtol=1e-6
    )


def test_continuous_target_is_scaled(tiny_dataset):
    dataset = _with_missing(tiny_dataset)
    users = np.arange(dataset.n_users)
    default = make_targets(dataset, "age_raw", AttributeAdversary(lam=1), users)
    raw = dataset.labels("age_raw")
    known = ~np.isnan(raw)
    assert default.scale == pytest.approx(np.abs(raw[known]).max())
    fixed = make_targets(dataset, "age_raw", AttributeAdversary(lam=1, scale=60), users)
    np.testing.assert_allclose(fixed.values.numpy()[known], raw[known] / 60, rtol=1e-6)
    assert np.isnan(fixed.values.numpy()[~known]).all()
    assert fixed.describe()["scale"] == 60


def test_unknown_attribute_is_a_config_error(tiny_dataset):
    with pytest.raises(ConfigError, match="no such attribute.*known: gender, age_raw"):
        make_targets(tiny_dataset, "occupation", AttributeAdversary(lam=1), np.arange(5))


def test_kind_mismatch_is_a_config_error_both_ways(tiny_dataset):
    users = np.arange(tiny_dataset.n_users)
    with pytest.raises(ConfigError, match="requested as continuous.*categorical.*age_raw"):
        make_targets(tiny_dataset, "gender", AttributeAdversary(lam=1, kind="continuous"), users)
    with pytest.raises(ConfigError, match="requested as categorical.*continuous.*gender"):
        make_targets(tiny_dataset, "age_raw", AttributeAdversary(lam=1, kind="categorical"), users)


def test_degenerate_labels_are_config_errors(tiny_dataset):
    gender = tiny_dataset.labels("gender")
    one_class = np.flatnonzero(gender == 0)
    with pytest.raises(ConfigError, match="single class"):
        make_targets(tiny_dataset, "gender", AttributeAdversary(lam=1), one_class)
    with pytest.raises(ConfigError, match="none of the 0 training users"):
        make_targets(tiny_dataset, "gender", AttributeAdversary(lam=1), np.array([], int))
    with pytest.raises(ConfigError, match="2 non-negative class weights"):
        make_targets(
            tiny_dataset, "gender", AttributeAdversary(lam=1, class_weights=(1.0,)), np.arange(60)
        )


def test_explicit_and_no_class_weights(tiny_dataset):
    users = np.arange(tiny_dataset.n_users)
    explicit = make_targets(
        tiny_dataset, "gender", AttributeAdversary(lam=1, class_weights=(0.7, 0.3)), users
    )
    np.testing.assert_allclose(explicit.class_weights.numpy(), [0.7, 0.3], rtol=1e-6)
    none = make_targets(
        tiny_dataset, "gender", AttributeAdversary(lam=1, class_weights="none"), users
    )
    np.testing.assert_allclose(none.class_weights.numpy(), [1.0, 1.0])
