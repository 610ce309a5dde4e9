"""The base-model headline aggregates only records at today's defaults and compares with the
peer by a test, not by the means."""

from __future__ import annotations

import json

import pandas as pd

from recunlearn.models.registry import make_model
from recunlearn.report.base_models import base_model_tables, welch


def _record(path, seed: int, hr: float, **changed) -> dict:
    config = make_model("mf", seed=seed).config.model_dump(mode="json")
    config.update(changed)
    return {
        "kind": "train",
        "params": {"dataset": "ml-100k", "spec": {"model": "mf", "model_options": config}},
        "dataset": {"label": "ML-100K"},
        "metrics": {
            "test": {"HR@10": hr, "NDCG@10": hr / 2},
            "best_epoch": 10,
            "train_seconds": 1.0,
            "model_config": config,
        },
        "_path": str(path / f"r{seed}{len(changed)}.json"),
    }


def _peer(folder, seed: int, hr: float) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"BPR_{seed}.json").write_text(
        json.dumps(
            {
                "tool": "recbole",
                "model": "BPR",
                "dataset_format": "ml-100k",
                "seed": seed,
                "test": {"hit@10": hr, "ndcg@10": hr / 2},
            }
        )
    )


def test_headline_leaves_out_records_at_other_configurations(tmp_path):
    records = [_record(tmp_path, s, 0.13 + 0.001 * s) for s in range(5)]
    records.append(_record(tmp_path, 9, 0.30, lr=0.5))  # an old default: must not count
    for s in range(5):
        _peer(tmp_path / "recbole", s, 0.10 + 0.001 * s)
    headline, stale = base_model_tables(records, [tmp_path / "recbole"])
    row = [cell.text for cell in headline.rows[0]]
    assert row[2] == "5"  # five seeds at the default, the lr=0.5 record left out
    assert row[3].startswith("13.20")
    assert row[5] == "5" and row[6].startswith("10.20")
    assert row[10] == "better / better"
    assert [c.text for c in stale.rows[0]][2] == "1" and "lr" in stale.rows[0][-1].text


def test_verdict_comes_from_the_test_not_the_means():
    ours = pd.Series([0.130, 0.120, 0.140])
    theirs = pd.Series([0.125, 0.115, 0.135])
    p, verdict = welch(ours, theirs)
    assert p > 0.05 and verdict == "on par"  # higher mean, not significant
    assert welch(pd.Series([0.1]), theirs)[1] == "too few seeds"
    p, verdict = welch(pd.Series([0.10, 0.101, 0.099]), pd.Series([0.20, 0.201, 0.199]))
    assert p < 0.05 and verdict == "worse"
