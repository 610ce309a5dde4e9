"""Config validation: messages name the file and the field; hashes and dependencies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recunlearn.bench import expand, load_config, parse_config
from recunlearn.bench.runner import plan
from recunlearn.core.errors import ConfigError
from tests.bench.conftest import CONFIGS

BASE = {
    "name": "t",
    "datasets": [{"name": "synthetic", "options": {"n_users": 60, "n_items": 80}}],
    "models": ["mf"],
    "requirements": [["gender"], "gender, age"],
    "methods": [
        "original",
        "lego",
        {"label": "lego-avg", "method": "lego", "options": {"combination": "average"}},
    ],
}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_configs_are_valid(path: Path):
    config = load_config(path)
    assert config.name and expand(config, path.parent)


def test_unknown_key_names_file_field_and_suggestion(tmp_path: Path):
    path = _write(tmp_path, "name: t\ndatasets: [{name: synthetic}]\nmodles: [mf]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert str(path) in text and "'modles'" in text and "did you mean 'models'" in text


def test_nested_unknown_key_and_bad_value(tmp_path: Path):
    path = _write(tmp_path, "name: t\njobs: 0\ndatasets: [{name: synthetic, min_users: 3}]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "2 problems" in text
    assert "field 'jobs'" in text and "greater than or equal to 1" in text
    assert "field 'datasets[0].min_users'" in text and "min_user_interactions" in text


def test_yaml_syntax_error_has_line(tmp_path: Path):
    path = _write(tmp_path, "name: t\ndatasets: [\n  - {name: x\n")
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


def test_hashes_are_stable_and_ignore_locations():
    cells = expand(parse_config(BASE))
    again = expand(
        parse_config({**BASE, "jobs": 1, "datasets": [{**BASE["datasets"][0], "data_dir": "/x"}]})
    )
    assert [c.hash for c in cells] == [c.hash for c in again]
    assert len({c.hash for c in cells}) == len(cells) == 1 + 2 * 3
    changed = expand(
        parse_config(
            {**BASE, "methods": ["original", {"label": "lego", "options": {"hidden": 50}}]}
        )
    )
    assert {c.hash for c in changed if c.params.get("method") == "lego"}.isdisjoint(
        {c.hash for c in cells if c.params.get("method") == "lego"}
    )


def test_heldout_repeats_enter_the_hash_only_when_set():
    cells = expand(parse_config(BASE))
    one = expand(parse_config({**BASE, "audit": {"heldout_repeats": 1}}))
    five = expand(parse_config({**BASE, "audit": {"heldout_repeats": 5}}))
    assert [c.hash for c in one] == [c.hash for c in cells]
    pooled = [c for c in five if c.kind == "unlearn"]
    assert pooled and all(c.params["audit"]["heldout_repeats"] == 5 for c in pooled)
    assert {c.hash for c in pooled}.isdisjoint(c.hash for c in cells)
    with pytest.raises(ConfigError, match="disjoint"):
        parse_config({**BASE, "audit": {"heldout_repeats": 6}}, "grid.yaml")


def test_a_method_can_be_limited_to_some_models_without_changing_other_hashes():
    grid = {**BASE, "models": ["mf", "lightgcn"]}
    cells = expand(parse_config(grid))
    limited = expand(
        parse_config(
            {
                **grid,
                "methods": [
                    *BASE["methods"][:2],
                    {**BASE["methods"][2], "models": ["LightGCN"]},
                ],
            }
        )
    )
    gone = {c.hash for c in cells} - {c.hash for c in limited}
    assert {c.hash for c in limited} < {c.hash for c in cells}
    removed = [c for c in cells if c.hash in gone]
    assert len(removed) == 2  # lego-avg on MF, both requirements
    assert {(c.params["model"], c.params["method"]) for c in removed} == {("mf", "lego-avg")}


def test_dependencies_train_first_and_lego_subsets():
    cells = expand(parse_config(BASE))
    order = [c.hash for c in cells]
    train = next(c for c in cells if c.kind == "train")
    assert order[0] == train.hash
    unlearn = [c for c in cells if c.kind == "unlearn"]
    assert all(train.hash in c.deps for c in unlearn)
    lego = {len(c.params["requirement"]): c for c in unlearn if c.params["method"] == "lego"}
    assert lego[1].hash in lego[2].deps
    assert all(order.index(d) < order.index(c.hash) for c in cells for d in c.deps)
    avg = [c for c in unlearn if c.params["method"] == "lego-avg"]
    assert all(lego[1].hash not in c.deps for c in avg)  # only the same label's cells


def test_several_adversarial_grids_expand_and_name_their_index(tmp_path: Path):
    grid = "{model: %s, protocol: loo, lambdas: {gender: [1]}, include_base: false}"
    text = "name: t\ndatasets: [{name: synthetic}]\nadversarial:\n  - %s\n  - %s\n"
    config = load_config(_write(tmp_path, text % (grid % "ncf", grid % "mf")))
    cells = [c for c in expand(config, tmp_path) if c.kind == "adversarial"]
    assert sorted(c.params["model"] for c in cells) == ["mf", "ncf"]
    with pytest.raises(ConfigError, match=r"adversarial\[1\]\.model"):
        load_config(_write(tmp_path, text % (grid % "ncf", grid % "nfc")))


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
    path = _write(tmp_path, json.dumps({**BASE, "methods": methods}))
    out = tmp_path / "bench"
    with pytest.raises(ConfigError, match=r"methods\[3\]\.options\.calibration_steps"):
        run_bench(path, out, progress=False)
    assert not (out / "records").exists() or not any((out / "records").iterdir())


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
    path = _write(
        tmp_path,
        "name: t\nmodels: [mf]\ndatasets:\n"
        "  - {name: synthetic, preset: afrl_loo_sampled99, binarize_threshold: 3}\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and "datasets[0]" in str(info.value)
    assert "binarize_threshold" in str(info.value)
    path = _write(tmp_path, "name: t\nmodels: [mf]\ndatasets: [{name: synthetic, preset: afrl}]\n")
    with pytest.raises(ConfigError, match="unknown protocol preset 'afrl'"):
        load_config(path)
