"""``recunlearn debias`` and ``run_debias`` on synthetic data."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from recunlearn.cli.main import app
from recunlearn.experiments.debias import run_debias


def test_run_debias_record_has_all_conventions():
    record = run_debias(
        {"dataset": "synthetic", "method": "mf", "seed": 0, "options": {"epochs": 5}}
    )
    assert record["test"]["K"] == 5
    for key in (
        "AUC",
        "NDCG@5|positive_only",
        "NDCG@5|all_users_nopos_ndcg1",
        "Recall@5|positive_only|n_pos",
        "Recall@5|all_users_nopos_ndcg1|min_k_npos",
    ):
        assert 0 <= record["test"][key] <= 1
    assert record["headline"]["convention"] == "positive_only|n_pos"
    assert record["config"]["options"]["epochs"] == 5
    json.dumps(record)


def test_cli_writes_run_directory(tmp_path):
    out = tmp_path / "run"
    runner = CliRunner()
    args = [
        "debias",
        "--dataset",
        "synthetic",
        "--method",
        "ultd-jl",
        "--out",
        str(out),
        "--seed",
        "0",
        "--seed",
        "1",
        "--set",
        "epochs=4",
        "--set",
        "warmup_epochs=1",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "positive_only" in result.output and "AUC" in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert [m["seed"] for m in metrics] == [0, 1]
    assert (out / "config.json").exists() and (out / "per_user_metrics.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already exists" in again.output


def test_cli_bad_option(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "debias",
            "--dataset",
            "synthetic",
            "--method",
            "mf",
            "--out",
            str(tmp_path / "r"),
            "--set",
            "nope=1",
        ],
    )
    assert result.exit_code == 2 and "unknown option" in result.output
