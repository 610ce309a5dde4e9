"""LEACE's algebra on small planted data: what the eraser must keep and what it must remove."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from recunlearn.protect.posthoc.linear_erasure import LinearErasure
from recunlearn.protect.requirement import Requirement

OFFSET = np.array([3.0, -2.0, 1.0, 0.5] + [0.0] * 12, dtype=np.float32)


def _data(planted_data):
    """The planted matrix, shifted (a non-zero mean) and shrunk (variances below 1), with the
    age labels of a different set of users than gender's."""
    matrix, labels = planted_data
    matrix = 0.1 * matrix + OFFSET
    age = labels["age"].values.copy()
    age[-50:] = -1
    return matrix, {**labels, "age": dataclasses.replace(labels["age"], values=age)}


def _cross(out, labels, name):
    known = labels[name].known
    y = labels[name].values[known]
    if labels[name].attribute.kind == "categorical":
        z = np.eye(labels[name].attribute.n_classes)[y]
    else:
        z = y[:, None].astype(np.float64)
    x = out[known] - out[known].mean(0)
    return x.T @ (z - z.mean(0)) / len(x)


@pytest.mark.parametrize("requirement", ["age", "age_raw", "gender,age"])
def test_no_linear_trace_is_left(planted_data, requirement):
    matrix, labels = _data(planted_data)
    out = LinearErasure().fit(matrix, labels).transform(requirement).numpy().astype(np.float64)
    for name in requirement.split(","):
        assert np.abs(_cross(matrix.astype(np.float64), labels, name)).max() > 1e-3
        np.testing.assert_allclose(_cross(out, labels, name), 0, atol=1e-5)


@pytest.mark.parametrize("ridge", [1e-6, 1.0])
def test_the_eraser_is_the_covariance_orthogonal_projection(planted_data, ridge):
    """A = S^1/2 P S^-1/2 keeps the labelled users' mean, and A S is symmetric, with S the
    covariance of the users labelled for any attribute of the requirement (ridge included)."""
    matrix, labels = _data(planted_data)
    eraser = LinearErasure(ridge=ridge).fit(matrix, labels)
    requirement = Requirement.parse("gender,age")
    a, mean = eraser.eraser(requirement)
    labelled = labels["gender"].known | labels["age"].known
    x = matrix[labelled].astype(np.float64)
    np.testing.assert_allclose(mean, x.mean(0), rtol=1e-6, atol=1e-6)
    cov = np.cov(x.T, bias=True)
    cov += np.eye(len(cov)) * ridge * np.trace(cov) / len(cov)
    np.testing.assert_allclose(a @ cov, (a @ cov).T, atol=1e-9)
    np.testing.assert_allclose(a @ a, a, atol=1e-8)  # a projection
    out = eraser.transform(requirement).numpy().astype(np.float64)
    np.testing.assert_allclose(out[labelled].mean(0), x.mean(0), atol=1e-5)
