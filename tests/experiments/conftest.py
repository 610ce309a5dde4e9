"""Shared fixtures of the experiment tests."""

from __future__ import annotations

import pytest

from recunlearn.data.spec import DataSpec
from recunlearn.experiments.spec import RunSpec
from recunlearn.experiments.train import train_run


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A small trained MF run on synthetic data (150 users, 80 items, 3 epochs)."""
    out = tmp_path_factory.mktemp("src") / "mf"
    spec = RunSpec(
        data=DataSpec(name="synthetic", options={"n_users": 150, "n_items": 80}),
        model="mf",
        model_options={"epochs": 3},
    )
    train_run(spec, out, progress=False)
    return out
