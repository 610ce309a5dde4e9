"""Unlearning a trained run writes a complete run directory with protected embeddings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recunlearn.audit.guard import GuardSettings
from recunlearn.core.errors import ConfigError
from recunlearn.experiments import rundir
from recunlearn.experiments.unlearn import unlearn_run


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


def test_per_user_requirements_run_directory_and_guard_over_the_askers(source, tmp_path):
    table = tmp_path / "reqs.csv"
    ids = rundir.read_embeddings(source / rundir.USER_EMBEDDINGS)[0]
    rows = ["user_id,requirement"]
    rows += [f"{u},gender" for u in ids[0::3]] + [f"{u},gender+age" for u in ids[1::3]]
    table.write_text("\n".join(rows) + "\n")  # the third of the users ask for nothing
    out = tmp_path / "personal"
    result = unlearn_run(
        source,
        "linear-erasure",
        None,
        out,
        requirements=table,
        guard=GuardSettings(("logreg",), n_folds=3),
    )
    original = rundir.read_embeddings(source / rundir.USER_EMBEDDINGS)[1]
    protected = result.protected.numpy()
    np.testing.assert_allclose(protected[2::3], original[2::3], rtol=1e-6)  # nobody asked
    assert not np.allclose(protected[0::3], original[0::3])
    config = json.loads((out / rundir.CONFIG).read_text())["unlearning"]
    assert config["requirement"] is None and config["requirements"] == "requirements.csv"
    assert config["groups"] == {"(none)": 50, "gender": 50, "gender+age": 50}
    written = (out / "requirements.csv").read_text().splitlines()
    assert written[0] == "user_id,requirement" and written[1] == f"{ids[0]},gender"
    guard = json.loads((out / "leakage.json").read_text())
    assert sorted(row["attribute"] for row in guard["table"]) == ["age", "gender"]
    used = guard["reports"]["after"]["meta"]["per_attribute"]
    # each attribute is attacked over the users who asked for it, and only those
    assert used["gender"]["n_labelled"] == 100 and used["age"]["n_labelled"] == 50


def test_a_per_user_method_answers_the_table_in_one_pass(source, tmp_path):
    table = tmp_path / "reqs.csv"
    ids = rundir.read_embeddings(source / rundir.USER_EMBEDDINGS)[0]
    rows = ["user_id,requirement"] + [f"{u},gender" for u in ids[0::2]]
    table.write_text("\n".join(rows) + "\n")
    result = unlearn_run(
        source,
        "afrl",
        None,
        tmp_path / "afrl",
        options={"epochs": 2, "validation": "every"},
        requirements=table,
        guard=GuardSettings(("logreg",), n_folds=3, heldout_fraction=0.0),
    )
    metrics = json.loads((tmp_path / "afrl" / rundir.METRICS).read_text())
    assert metrics["requirements"] == {"(none)": 75, "gender": 75}
    assert [e["epoch"] for e in metrics["training"]["epochs"]] == [0, 1]
    assert metrics["timings"]["fit"] > 0 and metrics["serve_seconds"] >= 0
    assert result.protected.shape == (150, 32)


def test_per_user_requirements_need_exactly_one_of_forget_and_a_table(source, tmp_path):
    with pytest.raises(ConfigError, match="either"):
        unlearn_run(source, "dp", None, tmp_path / "x")
    with pytest.raises(ConfigError, match="either"):
        unlearn_run(source, "dp", "gender", tmp_path / "x", requirements=tmp_path / "r.csv")
    assert list(tmp_path.iterdir()) == []


def test_the_held_out_side_needs_one_label_and_the_training_side_two_classes():
    from recunlearn.experiments.unlearn import _unauditable

    values = np.array([0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0])
    hidden = np.zeros(12, dtype=bool)
    hidden[-4:] = True  # held-out askers: one class only, which is enough to test on
    assert _unauditable(values, "categorical", 2, hidden) is None
    single = values.copy()
    single[:8] = 0  # the attacker's training askers: one class
    single[-2:] = 1
    assert "the other users" in _unauditable(single, "categorical", 2, hidden)


def test_recorded_identity_store_and_overwrite(source, tmp_path):
    """What the unlearned run records about itself and its source, the bricks it leaves in the
    store for the next requirement, and a second run over the first only with overwrite."""
    from recunlearn.protect.posthoc.store import BrickStore

    out, store = tmp_path / "erased", tmp_path / "store"
    kwargs = {"guard": GuardSettings(("logreg",), n_folds=3, heldout_fraction=0.0), "store": store}
    unlearn_run(source, "split-eraser", "gender", out, **kwargs)
    metrics = json.loads((out / rundir.METRICS).read_text())
    assert (metrics["model"], metrics["method"], metrics["requirement"]) == (
        "mf",
        "split-eraser",
        ["gender"],
    )
    assert metrics["leakage"]["guard"]["attackers"] == ["logreg"]
    config = json.loads((out / rundir.CONFIG).read_text())
    source_hash = json.loads((source / rundir.CONFIG).read_text())["config_hash"]
    assert config["unlearning"]["source_config_hash"] == source_hash
    assert len(BrickStore(store).keys()) == 1  # the gender brick, for tomorrow's requirement
    with pytest.raises(ConfigError, match="exists"):
        unlearn_run(source, "split-eraser", "gender,age", out, **kwargs)
    unlearn_run(source, "split-eraser", "gender,age", out, overwrite=True, **kwargs)
    assert json.loads((out / rundir.METRICS).read_text())["requirement"] == ["age", "gender"]
    assert len(BrickStore(store).keys()) == 2


def test_the_source_hash_is_the_one_the_source_recorded(source, tmp_path):
    """A run whose data moved (``data_dir=``) no longer hashes to what it recorded: the
    unlearned run points to the recorded hash, the one bench records and reports know."""
    import shutil

    moved = tmp_path / "source"
    shutil.copytree(source, moved)
    config = json.loads((moved / rundir.CONFIG).read_text())
    config["config_hash"] = "recorded-before-the-move"
    (moved / rundir.CONFIG).write_text(json.dumps(config))
    out = tmp_path / "dp"
    unlearn_run(moved, "dp", "gender", out)
    written = json.loads((out / rundir.CONFIG).read_text())
    assert written["unlearning"]["source_config_hash"] == "recorded-before-the-move"


def test_the_guard_pools_one_fit_per_disjoint_heldout_mask(source, tmp_path):
    guard = GuardSettings(("logreg",), n_folds=3, heldout_repeats=3)
    result = unlearn_run(source, "split-eraser", "gender", tmp_path / "out", guard=guard)
    held = result.leakage.heldout
    assert held.meta["heldout_masks"] == 3
    assert sorted(held.records["fold"].unique()) == [0, 1, 2]
    # 3 x 30 of the 150 users tested once each
    assert held.meta["per_attribute"]["gender"]["n_test_users"] == 90
