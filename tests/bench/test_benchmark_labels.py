"""The benchmark scripts never pool records of superseded NCFs (dead GMF coordinates) with today's."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def scripts():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import base_models
        import unlearning_table1

        yield base_models, unlearning_table1
    finally:
        sys.path.remove(str(BENCHMARKS))


CURRENT = {"gmf_weight_decay": None, "decoupled_weight_decay": True, "decay_reference_steps": 48}
PER_STEP = {"gmf_weight_decay": None, "decoupled_weight_decay": True}
ADAM_L2 = {"gmf_weight_decay": 1e-5, "decoupled_weight_decay": False}


def test_ncf_versions_are_told_apart_by_the_stored_config(scripts) -> None:
    base_models, _ = scripts
    assert base_models.ncf_version("ncf", None) == "collapsed"
    assert base_models.ncf_version("ncf", {"weight_decay": 1e-4}) == "collapsed"
    assert base_models.ncf_version("ncf", {"gmf_weight_decay": 1e-5}) == "adam-l2"
    assert base_models.ncf_version("ncf", ADAM_L2) == "adam-l2"
    assert base_models.ncf_version("ncf", CURRENT) is None
    assert base_models.ncf_version("lightgcn", None) is None
    # AdamW before the per-epoch scaling: superseded only where it differs from today's
    assert base_models.ncf_version("ncf", PER_STEP, "ML-100K") is None
    assert base_models.ncf_version("ncf", PER_STEP, "ML-1M, users 1-2999") == "adamw-per-step"
    assert base_models.ncf_version("ncf", CURRENT, "ML-1M, users 1-2999") is None
    assert base_models.is_superseded({"model": "ncf", "model_config": ADAM_L2})
    assert not base_models.is_superseded({"model": "ncf", "model_config": CURRENT})
    per_step = {"model": "ncf", "model_config": PER_STEP, "dataset": "ML-1M, users 1-2999"}
    assert base_models.is_superseded(per_step)
    assert not base_models.is_superseded({**per_step, "dataset": "ML-100K"})
    old = {"model": "ncf", "variant": "default"}
    assert base_models.record_variant(old) == base_models.COLLAPSED_NCF
    assert base_models.record_variant({**old, "model_config": ADAM_L2}) == base_models.L2_NCF
    assert base_models.record_variant({**old, "model_config": CURRENT}) == "default"
    assert base_models.record_variant({**old, "variant": "n_negatives=2"}) == "n_negatives=2"
    ml1m = {**old, "dataset": "ML-1M, users 1-2999", "model_config": PER_STEP}
    assert base_models.record_variant(ml1m) == base_models.PER_STEP_NCF


def test_table1_cells_of_the_three_ncfs_stay_apart(scripts, tmp_path: Path) -> None:
    base_models, table1 = scripts
    cell = {"dataset": "ML-100K", "seed": 0, "requirement": ["gender"], "method": "lego"}
    lines = [
        {**cell, "model": "ncf", "note": "collapsed"},
        {**cell, "model": "ncf", "note": "l2", "base_config": ADAM_L2},
        {**cell, "model": "ncf", "note": "new", "base_config": CURRENT},
        {**cell, "model": "lightgcn", "note": "lightgcn"},
    ]
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    by_model = {r["model"]: r["note"] for r in table1.latest_records(path)}
    assert by_model == {
        base_models.COLLAPSED_NCF_MODEL: "collapsed",
        base_models.L2_NCF_MODEL: "l2",
        "ncf": "new",
        "lightgcn": "lightgcn",
    }
