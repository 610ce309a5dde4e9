"""The wall-time kinds on tiny tables: each records what it timed, in the shape the speed
report reads."""

from __future__ import annotations

import pytest

from recunlearn.bench import parse_config, read_records, run_bench

from ..conftest import shared_data

TINY_DATASET = {
    "n_users": 150,
    "n_items": 60,
    "interactions": [8, 15],
    "model": "mf",
    "model_options": {"epochs": 1, "embedding_dim": 8},
    "attributes": ["gender", "age"],
    "tables": 2,
}
CONFIG = {
    "name": "speed-smoke",
    "jobs": 1,
    "threads": 1,
    "extra": [
        {
            "kind": "removal_speed",
            "params": {
                "method": "split-eraser",
                "options": {"permutations": 5},
                "n_users": 300,
                "dim": 8,
                "sequence": [["gender"], ["gender"], ["age", "gender"]],
            },
        },
        *(
            {"kind": "personal_speed", "params": {**TINY_DATASET, **method}}
            for method in (
                {"method": "afrl", "options": {"epochs": 1, "validation": "none"}},
                {"method": "split-eraser", "options": {"permutations": 5}},
            )
        ),
    ],
}


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("speed")
    config = parse_config(CONFIG)
    result = run_bench(config, out, progress=False)
    assert result.ok, [p.read_text() for p in (out / "failures").glob("*.txt")]
    return read_records(out)


def test_removal_speed_times_every_request(records: list[dict]):
    (record,) = [r for r in records if r["kind"] == "removal_speed"]
    requests = record["metrics"]["requests"]
    assert [r["new_attributes"] for r in requests] == [["gender"], [], ["age"]]
    assert all(r["seconds"] > 0 for r in requests)


def test_personal_speed_answers_fresh_tables_for_every_user(records: list[dict]):
    cells = {r["metrics"]["method"]: r for r in records if r["kind"] == "personal_speed"}
    assert set(cells) == {"afrl", "split-eraser"}
    for record in cells.values():
        metrics = record["metrics"]
        assert metrics["users"] == 150 and metrics["dim"] == 8
        assert [r["table_seed"] for r in metrics["requests"]] == [0, 1]
        assert all(r["seconds"] > 0 for r in metrics["requests"]) and metrics["fit_seconds"] > 0
    # the split eraser answers one transform per distinct requirement (3 over two attributes)
    assert cells["split-eraser"]["metrics"]["requests"][0]["groups"] == 3
    cached = cells["split-eraser"]["metrics"]["requests"][1]["requirement_seconds"]
    assert len(cached) == 3 and all(t > 0 for t in cached.values())


@pytest.mark.realdata
def test_personal_speed_runs_on_a_named_real_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("RECUNLEARN_DATA", str(shared_data("ml-100k").parent))
    params = {
        **TINY_DATASET,
        "dataset": "ml-100k",
        "method": "split-eraser",
        "setting": "re-encoding",
        "options": {"permutations": 5, "reencode_top": 5},
        "tables": 1,
    }
    config = parse_config(
        {
            "name": "real",
            "jobs": 1,
            "threads": 1,
            "extra": [{"kind": "personal_speed", "params": params}],
        }
    )
    assert run_bench(config, tmp_path, progress=False).ok
    (record,) = read_records(tmp_path)
    assert record["metrics"]["users"] == 943 and record["metrics"]["setting"] == "re-encoding"
    assert record["metrics"]["data"] != "synthetic"
