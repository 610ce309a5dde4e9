"""The built-in ``debias`` kind: ULTD-style cells from a config's ``extra`` section."""

from __future__ import annotations

from pathlib import Path

import pytest

from recunlearn.bench import parse_config, read_records, run_bench
from recunlearn.bench.kinds.debias import debias_data_dir
from recunlearn.core.errors import ConfigError
from recunlearn.report import build_report


def test_debias_cells_run_without_a_recommender_dataset(tmp_path: Path):
    config = parse_config(
        {
            "name": "ultd-smoke",
            "jobs": 1,
            "extra": [
                {
                    "kind": "debias",
                    "grid": {"method": ["mf", "ultd-jl"], "seed": [0]},
                    "params": {"dataset": "synthetic", "options": {"epochs": 3}},
                }
            ],
        }
    )
    result = run_bench(config, tmp_path, progress=False)
    assert result.ok and len(result.computed) == 2
    records = read_records(tmp_path)
    assert {r["params"]["method"] for r in records} == {"mf", "ultd-jl"}
    for record in records:
        assert 0.0 <= record["metrics"]["test"]["AUC"] <= 1.0
    files = build_report(tmp_path)
    text = Path(files.markdown).read_text()
    assert "ULTD Table 1 — synthetic" in text and "ultd-jl" in text


def test_models_without_datasets_are_refused():
    with pytest.raises(ConfigError, match="datasets"):
        parse_config({"name": "x", "models": [{"name": "mf"}]})


def test_real_dataset_folder_is_required(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("RECUNLEARN_DATA", str(tmp_path))
    with pytest.raises(ConfigError, match="coat"):
        debias_data_dir("coat", None)
    (tmp_path / "yahoo-r3").mkdir()
    assert debias_data_dir("yahoo", None) == str(tmp_path / "yahoo-r3")
    assert debias_data_dir("coat", "/given") == "/given"
