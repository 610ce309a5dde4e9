"""Grid expansion: stable cell hashes, what enters them, dependencies."""

from __future__ import annotations

from pathlib import Path

import pytest

from recunlearn.bench import expand, load_config, parse_config
from recunlearn.core.errors import ConfigError
from tests.bench.conftest import BASE, write_grid


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
    config = load_config(write_grid(tmp_path, text % (grid % "ncf", grid % "mf")))
    cells = [c for c in expand(config, tmp_path) if c.kind == "adversarial"]
    assert sorted(c.params["model"] for c in cells) == ["mf", "ncf"]
    with pytest.raises(ConfigError, match=r"adversarial\[1\]\.model"):
        load_config(write_grid(tmp_path, text % (grid % "ncf", grid % "nfc")))
