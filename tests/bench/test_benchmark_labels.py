"""The benchmark scripts never pool records of the pre-fix NCF (dead GMF branch) with today's."""

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


def test_only_ncf_without_a_stored_gmf_decay_is_collapsed(scripts) -> None:
    base_models, _ = scripts
    assert base_models.is_collapsed_ncf("ncf", None)
    assert base_models.is_collapsed_ncf("ncf", {"weight_decay": 1e-4})
    assert not base_models.is_collapsed_ncf("ncf", {"gmf_weight_decay": 1e-5})
    assert not base_models.is_collapsed_ncf("ncf", {"gmf_weight_decay": None})
    assert not base_models.is_collapsed_ncf("lightgcn", None)
    old = {"model": "ncf", "variant": "default"}
    new = {**old, "model_config": {"gmf_weight_decay": 1e-5}}
    assert base_models.record_variant(old) == base_models.COLLAPSED_NCF
    assert base_models.record_variant(new) == "default"
    assert base_models.record_variant({**old, "variant": "n_negatives=2"}) == "n_negatives=2"


def test_table1_cells_of_the_two_ncfs_stay_apart(scripts, tmp_path: Path) -> None:
    _, table1 = scripts
    cell = {"dataset": "ML-100K", "seed": 0, "requirement": ["gender"], "method": "lego"}
    lines = [
        {**cell, "model": "ncf", "note": "old"},
        {**cell, "model": "ncf", "note": "new", "base_config": {"gmf_weight_decay": 1e-5}},
        {**cell, "model": "lightgcn", "note": "lightgcn"},
    ]
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    by_model = {r["model"]: r["note"] for r in table1.latest_records(path)}
    assert by_model == {table1.COLLAPSED_NCF: "old", "ncf": "new", "lightgcn": "lightgcn"}
