"""Every post-hoc unlearner obeys the same contract."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recunlearn.core.errors import ConfigError, DataError
from recunlearn.protect.posthoc.d2dfr import D2DFR
from recunlearn.protect.posthoc.dp import DP
from recunlearn.protect.posthoc.inductive import InductiveMap
from recunlearn.protect.posthoc.lego import LEGO
from recunlearn.protect.posthoc.linear_erasure import LinearErasure

FAST = {
    "lego": lambda **kw: LEGO(calibration_steps=30, combination_steps=10, **kw),
    "dp": lambda **kw: DP(**kw),
    "inductive-map": lambda **kw: InductiveMap(steps=10, **kw),
    "linear-erasure": lambda **kw: LinearErasure(**kw),
    "d2dfr": lambda **kw: D2DFR(steps=10, reg=0.0, batch_users=128, **kw),
}


@pytest.fixture(params=sorted(FAST))
def make(request):
    return FAST[request.param]


def test_shape_and_determinism(make, planted_data):
    matrix, labels = planted_data
    a = make(seed=3).fit(matrix, labels).transform("gender,age")
    b = make(seed=3).fit(matrix, labels).transform(["age", "gender"])
    assert a.shape == matrix.shape and a.dtype == torch.float32
    torch.testing.assert_close(a, b)
    assert torch.isfinite(a).all()


def test_unknown_attribute_is_a_config_error(make, planted_data):
    matrix, labels = planted_data
    with pytest.raises(ConfigError, match="unknown attribute"):
        make().fit(matrix, labels).transform("religion")


def test_bad_embeddings_are_refused(make, planted_data):
    matrix, labels = planted_data
    broken = matrix.copy()
    broken[3, 2] = np.nan
    with pytest.raises(DataError, match="NaN"):
        make().fit(broken, labels)
    with pytest.raises(DataError, match="labels"):
        make().fit(matrix[:-1], labels)


def test_unknown_option_is_refused(make):
    with pytest.raises(ConfigError):
        make(bogus=1)


def test_transform_before_fit(make):
    with pytest.raises(RuntimeError, match="fit"):
        make().transform("gender")
