"""DP noise has the requested scale and mechanism."""

from __future__ import annotations

import numpy as np
import torch

from recunlearn.protect.posthoc.dp import DP


def test_noise_scale(planted_data):
    matrix, labels = planted_data
    for mechanism, expected in (("gaussian", 1.0), ("laplace", np.sqrt(2.0))):
        out = DP(mechanism=mechanism, scale=0.5).fit(matrix, labels).transform("gender")
        noise = (out - torch.as_tensor(matrix)).numpy()
        assert abs(noise.std() / (0.5 * matrix.std()) - expected) < 0.08


def test_zero_scale_is_identity(planted_data):
    matrix, labels = planted_data
    out = DP(scale=0.0).fit(matrix, labels).transform("gender")
    torch.testing.assert_close(out, torch.as_tensor(matrix))
