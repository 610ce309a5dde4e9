"""Loading a grid: every message names the file and the field; names and options are checked
before any cell runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recunlearn.bench import expand, load_config, parse_config
from recunlearn.bench.runner import plan
from recunlearn.core.errors import ConfigError
from tests.bench.conftest import BASE, CONFIGS, write_grid


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_configs_are_valid(path: Path):
    config = load_config(path)
    assert config.name and expand(config, path.parent)


def test_unknown_key_names_file_field_and_suggestion(tmp_path: Path):
    path = write_grid(tmp_path, "name: t\ndatasets: [{name: synthetic}]\nmodles: [mf]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert str(path) in text and "'modles'" in text and "did you mean 'models'" in text


def test_nested_unknown_key_and_bad_value(tmp_path: Path):
    path = write_grid(tmp_path, "name: t\njobs: 0\ndatasets: [{name: synthetic, min_users: 3}]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "2 problems" in text
    assert "field 'jobs'" in text and "greater than or equal to 1" in text
    assert "field 'datasets[0].min_users'" in text and "min_user_interactions" in text


def test_yaml_syntax_error_has_line(tmp_path: Path):
    path = write_grid(tmp_path, "name: t\ndatasets: [\n  - {name: x\n")
    with pytest.raises(ConfigError, match=r"YAML syntax error at line \d+"):
        load_config(path)


def test_missing_file():
    with pytest.raises(ConfigError, match="file not found"):
        load_config("no/such/grid.yaml")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"methods": ["original", "leg"]}, "methods[1].method", "did you mean 'lego'"),
        ({"models": ["ncf", "lightgnc"]}, "models[1].name", "unknown model 'lightgnc'"),
        ({"audit": {"attackers": ["logreg", "svm"]}}, "audit.attackers[1]", "unknown attacker"),
        ({"extra": [{"kind": "nope"}]}, "extra[0].kind", "unknown cell kind 'nope'"),
        ({"methods": ["lego", "lego"]}, "methods", "labels must be unique"),
        (
            {"methods": [{"label": "original", "options": {"a": 1}}]},
            "methods[0].options",
            "no options",
        ),
        (
            {"methods": ["original", {"label": "dp", "models": ["ncf"]}]},
            "methods[1].models",
            "unknown model of the grid 'ncf'",
        ),
    ],
)
def test_unknown_names(change: dict, field: str, message: str):
    with pytest.raises(ConfigError) as info:
        parse_config({**BASE, **change}, "grid.yaml")
    text = str(info.value)
    assert "grid.yaml" in text and f"field '{field}'" in text and message in text


def test_unknown_attribute_is_checked_against_the_data(tmp_path: Path):
    config = parse_config({**BASE, "requirements": [["gender"], ["gendr", "age"]]}, "grid.yaml")
    with pytest.raises(ConfigError) as info:
        plan(config, tmp_path, "grid.yaml")
    text = str(info.value)
    assert "field 'requirements[1]'" in text and "'gendr'" in text and "occupation" in text


def test_unloadable_dataset_names_the_field(tmp_path: Path):
    config = parse_config({**BASE, "datasets": [{"name": "synthetic", "options": {"n_items": 5}}]})
    with pytest.raises(ConfigError, match=r"field 'datasets\[0\]': cannot load 'synthetic'"):
        plan(config, tmp_path, "grid.yaml")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {
                "methods": [
                    *BASE["methods"],
                    {"label": "x", "method": "lego", "options": {"calibration_steps": -5}},
                ]
            },
            "methods[3].options.calibration_steps",
            "greater than or equal to 1 (got -5)",
        ),
        (
            {"models": [{"name": "mf", "options": {"embedding_size": 8}}]},
            "models[0].options.embedding_size",
            "did you mean 'embedding_dim'",
        ),
        (
            {"timing": {"lego": {"eps_per_user": "big"}}},
            "timing.lego.eps_per_user",
            "got 'big'",
        ),
        (
            {
                "adversarial": {
                    "model": "mf",
                    "lambdas": {"gender": [1]},
                    "model_options": {"lr": 0},
                }
            },
            "adversarial.model_options.lr",
            "greater than 0",
        ),
        (
            {"adversarial": {"lambdas": {"gender": [1]}, "adversary_options": {"lr_head": 1}}},
            "adversarial.adversary_options",
            "lr_head",
        ),
    ],
)
def test_invalid_option_values_name_the_file_and_field(change: dict, field: str, message: str):
    with pytest.raises(ConfigError) as info:
        parse_config({**BASE, **change}, "grid.yaml")
    text = " ".join(str(info.value).split())
    assert "grid.yaml" in text and f"field '{field}'" in text and message in text


def test_an_invalid_option_fails_before_the_first_cell(tmp_path: Path):
    """Issue 25, case 7: ``calibration_steps: -5`` used to run 15 cells before failing."""
    from recunlearn.bench.runner import run_bench

    methods = [
        *BASE["methods"],
        {"label": "bad", "method": "lego", "options": {"calibration_steps": -5}},
    ]
    path = write_grid(tmp_path, json.dumps({**BASE, "methods": methods}))
    out = tmp_path / "bench"
    with pytest.raises(ConfigError, match=r"methods\[3\]\.options\.calibration_steps"):
        run_bench(path, out, progress=False)
    assert not (out / "records").exists() or not any((out / "records").iterdir())
