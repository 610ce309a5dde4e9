"""Train a run, write its directory, read it back; errors leave nothing behind."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from recunlearn.core.errors import ConfigError, DataError
from recunlearn.data.fingerprint import dataset_fingerprint
from recunlearn.data.loading import load_data
from recunlearn.data.spec import DataSpec
from recunlearn.experiments import rundir
from recunlearn.experiments.spec import RunSpec
from recunlearn.experiments.train import load_trained, train_run

SMALL = DataSpec(name="synthetic", options={"n_users": 120, "n_items": 80})


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "mf"
    spec = RunSpec(data=SMALL, model="mf", model_options={"epochs": 3, "seed": 1})
    trained = train_run(spec, out, progress=False)
    return out, trained


def test_run_directory_has_every_file(run_dir):
    out, trained = run_dir
    for name in (
        rundir.CONFIG,
        rundir.WEIGHTS,
        rundir.USER_EMBEDDINGS,
        rundir.ITEM_EMBEDDINGS,
        rundir.METRICS,
        rundir.PER_USER,
        rundir.RECOMMENDATIONS,
    ):
        assert (out / name).exists(), name
    config = json.loads((out / rundir.CONFIG).read_text())
    assert config["config_hash"] == trained.spec.fingerprint()
    assert config["dataset"]["fingerprint"] == dataset_fingerprint(trained.dataset)
    metrics = json.loads((out / rundir.METRICS).read_text())
    assert metrics["epochs_run"] == 3 and 0 <= metrics["test"]["HR@10"] <= 1
    assert metrics["user_dims"] == trained.model.user_embeddings().shape[1]
    assert 0 <= metrics["dead_user_dims"] <= metrics["user_dims"]


def test_tables_use_raw_ids(run_dir):
    out, trained = run_dir
    ids, matrix = rundir.read_embeddings(out / rundir.USER_EMBEDDINGS)
    np.testing.assert_array_equal(ids, trained.dataset.user_ids)
    np.testing.assert_allclose(matrix, trained.model.user_embeddings().numpy(), rtol=1e-6)
    recs = pd.read_parquet(out / rundir.RECOMMENDATIONS)
    assert list(recs.columns) == ["user_id", "rank", "item_id", "score"]
    assert set(recs["item_id"]) <= set(trained.dataset.item_ids)
    assert recs.groupby("user_id")["rank"].max().eq(trained.spec.evaluation.topk).all()
    # ranks are by decreasing score and never recommend a training item
    first = recs[recs["user_id"] == recs["user_id"].iloc[0]]
    assert first["score"].is_monotonic_decreasing
    per_user = pd.read_parquet(out / rundir.PER_USER)
    assert "user_id" in per_user and "NDCG@10" in per_user


def test_load_trained_reproduces_scores(run_dir):
    out, trained = run_dir
    loaded = load_trained(out)
    users = np.arange(10)
    torch.testing.assert_close(loaded.model.score(users), trained.model.score(users))


def test_config_pins_the_resolved_model_config(run_dir, tmp_path):
    """config.json keeps every model option, defaults included, and loading uses it: a default
    changed after training must not change what an old run directory means."""
    out, trained = run_dir
    config = json.loads((out / rundir.CONFIG).read_text())
    assert config["model_config"] == trained.model.config.model_dump(mode="json")
    assert "lr" not in trained.spec.model_options  # a default, pinned only by model_config
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    config["model_config"]["lr"] = 0.123  # as if trained under another default
    (copy / rundir.CONFIG).write_text(json.dumps(config))
    assert load_trained(copy).model.config.lr == 0.123
    del config["model_config"]  # a run written before model_config existed
    (copy / rundir.CONFIG).write_text(json.dumps(config))
    assert load_trained(copy).model.config.lr == trained.model.config.lr


def test_invalid_pinned_model_config_names_the_field(run_dir, tmp_path):
    out, _ = run_dir
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    config = json.loads((copy / rundir.CONFIG).read_text())
    config["model_config"]["epochs"] = -3
    (copy / rundir.CONFIG).write_text(json.dumps(config))
    with pytest.raises(DataError, match="model_config"):
        load_trained(copy)


def test_changed_data_is_refused(run_dir):
    out, _ = run_dir
    other = load_data(
        DataSpec(name="synthetic", options={"n_users": 120, "n_items": 80, "seed": 5})
    )
    with pytest.raises(DataError, match="fingerprint"):
        load_trained(out, dataset=other)


def test_corrupt_config_names_the_file(tmp_path):
    (tmp_path / rundir.CONFIG).write_text("{not json")
    with pytest.raises(DataError, match="config.json"):
        load_trained(tmp_path)


def test_bad_option_fails_before_any_write(tmp_path):
    spec = RunSpec(data=SMALL, model="mf", model_options={"epochs": 0})
    with pytest.raises(ConfigError):
        train_run(spec, tmp_path / "r", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_k_core_is_applied_by_default():
    dataset = load_data(DataSpec(name="synthetic", options={"n_users": 120, "n_items": 80}))
    counts = np.bincount(dataset.interactions.user, minlength=dataset.n_users)
    assert counts.min() >= 5
