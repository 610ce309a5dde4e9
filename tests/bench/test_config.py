"""The grid schema: protocol presets set the base runs' filters, split and evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from recunlearn.bench import expand, load_config, parse_config
from recunlearn.core.errors import ConfigError
from tests.bench.conftest import write_grid


def test_a_preset_sets_filters_split_and_evaluation_of_the_base_runs(tmp_path: Path):
    payload = {
        "name": "t",
        "datasets": [{"name": "synthetic", "preset": "afrl_loo_sampled99"}],
        "models": ["mf"],
    }
    cells = expand(parse_config(payload))
    spec = cells[0].params["spec"]
    assert spec["data"]["binarize_threshold"] == 4.0
    assert spec["data"]["min_user_interactions"] == 10
    assert spec["split"] == {
        "protocol": "loo",
        "params": {"valid": True, "ties": "file_order", "min_train": 1},
    }
    assert spec["evaluation"]["mode"] == "sampled" and spec["evaluation"]["n_negatives"] == 99
    # without a preset the evaluation stays the full ranking (hashes of old grids unchanged)
    plain = expand(parse_config({**payload, "datasets": [{"name": "synthetic"}]}))
    assert plain[0].params["spec"]["evaluation"]["mode"] == "full"


def test_a_preset_refuses_fields_it_sets_and_unknown_names(tmp_path: Path):
    path = write_grid(
        tmp_path,
        "name: t\nmodels: [mf]\ndatasets:\n"
        "  - {name: synthetic, preset: afrl_loo_sampled99, binarize_threshold: 3}\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and "datasets[0]" in str(info.value)
    assert "binarize_threshold" in str(info.value)
    path = write_grid(
        tmp_path, "name: t\nmodels: [mf]\ndatasets: [{name: synthetic, preset: afrl}]\n"
    )
    with pytest.raises(ConfigError, match="unknown protocol preset 'afrl'"):
        load_config(path)
