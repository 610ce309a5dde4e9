"""Unlearning a trained run writes a complete run directory with protected embeddings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recunlearn.audit.guard import GuardSettings
from recunlearn.core.errors import ConfigError
from recunlearn.data.spec import DataSpec
from recunlearn.experiments import rundir
from recunlearn.experiments.spec import RunSpec
from recunlearn.experiments.train import train_run
from recunlearn.experiments.unlearn import unlearn_run


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    out = tmp_path_factory.mktemp("src") / "mf"
    spec = RunSpec(
        data=DataSpec(name="synthetic", options={"n_users": 150, "n_items": 80}),
        model="mf",
        model_options={"epochs": 3},
    )
    train_run(spec, out, progress=False)
    return out


def test_unlearned_run_directory(source, tmp_path):
    out = tmp_path / "lego"
    result = unlearn_run(
        source,
        "lego",
        "gender,age",
        out,
        options={"calibration_steps": 20, "combination_steps": 5},
        guard=GuardSettings(("logreg",), n_folds=3),
    )
    for name in (
        rundir.CONFIG,
        rundir.WEIGHTS,
        rundir.USER_EMBEDDINGS,
        rundir.METRICS,
        rundir.PER_USER,
        rundir.RECOMMENDATIONS,
    ):
        assert (out / name).exists(), name
    assert (out / rundir.WEIGHTS).read_bytes() == (source / rundir.WEIGHTS).read_bytes()
    config = json.loads((out / rundir.CONFIG).read_text())
    assert config["unlearning"]["requirement"] == ["age", "gender"]
    ids, protected = rundir.read_embeddings(out / rundir.USER_EMBEDDINGS)
    original_ids, original = rundir.read_embeddings(source / rundir.USER_EMBEDDINGS)
    np.testing.assert_array_equal(ids, original_ids)
    assert not np.allclose(protected, original)
    np.testing.assert_allclose(protected, result.protected.numpy(), rtol=1e-6)
    metrics = json.loads((out / rundir.METRICS).read_text())
    assert set(metrics["before"]) == set(metrics["after"])
    # before = the source run's own test evaluation, after = the protected matrix's
    trained = json.loads((source / rundir.METRICS).read_text())["test"]
    assert metrics["before"] == pytest.approx(trained)
    assert metrics["after"] == pytest.approx(result.after.summary)
    assert metrics["after"] != pytest.approx(metrics["before"])
    guard = json.loads((out / "leakage.json").read_text())
    assert set(guard["reports"]) == {"before", "after", "transfer", "heldout"}
    assert metrics["leakage"]["worst_distance"] == pytest.approx(guard["worst_distance"])
    assert (out / "leakage.md").read_text().startswith("# Leakage guard")
    assert set(metrics["calibration"]) == {"age", "gender"}
    assert len(metrics["combination_weights"]) == 2


def test_bad_method_writes_nothing(source, tmp_path):
    with pytest.raises(ConfigError, match="unknown unlearning method"):
        unlearn_run(source, "magic", "gender", tmp_path / "x")
    with pytest.raises(ConfigError, match="unknown attribute"):
        unlearn_run(source, "dp", "religion", tmp_path / "y")
    assert list(tmp_path.iterdir()) == []
