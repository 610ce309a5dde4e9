"""The command line end to end on small synthetic data, and its errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from recunlearn.cli.main import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_help_lists_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("data", "train", "evaluate", "demo"):
        assert command in result.output


def test_train_then_evaluate(tmp_path):
    out = tmp_path / "run"
    result = invoke(
        "train",
        "--dataset",
        "synthetic",
        "--model",
        "mf",
        "--epochs",
        "2",
        "--quiet",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "HR@10" in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2
    result = invoke("evaluate", str(out), "--mode", "sampled")
    assert result.exit_code == 0, result.output
    assert "NDCG@10" in result.output


def test_train_refuses_to_overwrite(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = invoke("train", "--model", "mf", "--epochs", "1", "--quiet", "--out", str(out))
    assert result.exit_code == 2
    assert "already exists" in result.output
    result = invoke(
        "train", "--model", "mf", "--epochs", "1", "--quiet", "--out", str(out), "--overwrite"
    )
    assert result.exit_code == 2
    assert "not a directory recunlearn wrote" in " ".join(result.output.split())
    assert (out / "notes.txt").read_text() == "mine"


def test_unknown_model_is_a_clear_error(tmp_path):
    result = invoke("train", "--model", "nope", "--epochs", "1", "--out", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert "unknown model" in result.output
    assert not (tmp_path / "r").exists()


def test_unknown_model_option_is_rejected(tmp_path):
    result = invoke(
        "train", "--model", "mf", "--set", "bogus=1", "--epochs", "1", "--out", str(tmp_path / "r")
    )
    assert result.exit_code == 2
    assert "bogus" in result.output


def test_missing_data_dir_names_the_file(tmp_path):
    result = invoke(
        "train", "--dataset", "ml-100k", "--data-dir", str(tmp_path), "--out", str(tmp_path / "r")
    )
    assert result.exit_code == 2
    assert "u.data" in result.output
    assert not (tmp_path / "r").exists()


def test_describe_synthetic():
    result = invoke("data", "describe", "synthetic")
    assert result.exit_code == 0, result.output
    assert "gender" in result.output and "noise" in result.output


@pytest.mark.slow
def test_demo_trains_unlearns_and_audits(tmp_path):
    result = invoke(
        "demo",
        "--out",
        str(tmp_path),
        "--epochs",
        "2",
        "--models",
        "mf,ncf",
        "--attackers",
        "logreg",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    for model in ("mf", "ncf"):
        assert (tmp_path / model / "metrics.json").exists()
    assert (tmp_path / "mf-unlearned" / "leakage.json").exists()
    text = " ".join(result.output.split())
    assert "leakage guard" in text and "noise" in text and "split-eraser" in text


def test_unlearn_prints_before_and_after(tmp_path):
    source = tmp_path / "run"
    result = invoke("train", "--model", "mf", "--epochs", "2", "--quiet", "--out", str(source))
    assert result.exit_code == 0, result.output
    out = tmp_path / "lego"
    result = invoke(
        "unlearn",
        str(source),
        "--forget",
        "gender,age",
        "--out",
        str(out),
        "--method",
        "lego-paper",
        "--set",
        "calibration_steps=20",
        "--set",
        "combination_steps=5",
        "--store",
        str(tmp_path / "store"),
        "--attackers",
        "logreg",
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "leakage guard" in text and "NDCG@10" in text and "| gender" not in text
    assert (out / "user_embeddings.parquet").exists() and (out / "leakage.md").exists()
    guard = json.loads((out / "leakage.json").read_text())
    assert sorted(row["attribute"] for row in guard["table"]) == ["age", "gender"]
    assert set(guard["reports"]) == {"before", "after", "transfer", "heldout"}
    assert any((tmp_path / "store" / "bricks").glob("*.safetensors"))
    strict = invoke(
        "unlearn",
        str(source),
        "--forget",
        "gender",
        "--out",
        str(tmp_path / "dp"),
        "--method",
        "dp",
        "--attackers",
        "logreg",
        "--no-heldout",
        "--max-leakage",
        "0",
    )
    assert strict.exit_code == 3, strict.output
    assert "exceeds --max-leakage" in " ".join(strict.output.split())
    assert (tmp_path / "dp" / "leakage.json").exists()
    assert "reencode_top" not in " ".join(strict.output.split())  # the hint is the eraser's
    hinted = invoke(
        "unlearn", str(source), "--forget", "gender", "--out", str(tmp_path / "hinted"),
        "--attackers", "logreg", "--no-heldout", "--max-leakage", "0",
    )  # fmt: skip
    assert hinted.exit_code == 3, hinted.output
    assert "hint: --set reencode_top=10" in " ".join(hinted.output.split())
    assert "--search tries each" in " ".join(hinted.output.split())
    # the default method runs with its default options; a named one with its own
    config = json.loads((tmp_path / "hinted" / "config.json").read_text())["unlearning"]
    assert config["method"] == "split-eraser" and config["options"]["unlabelled"] == "all"
    unguarded = invoke(
        "unlearn",
        str(source),
        "--forget",
        "gender",
        "--out",
        str(tmp_path / "dp2"),
        "--method",
        "dp",
        "--no-guard",
    )
    assert unguarded.exit_code == 0 and "without a leakage audit" in " ".join(
        unguarded.output.split()
    )
    assert not (tmp_path / "dp2" / "leakage.json").exists()
    pooled = invoke(
        "unlearn", str(source), "--forget", "gender", "--out", str(tmp_path / "pooled"),
        "--attackers", "logreg", "--heldout-masks", "5",
    )  # fmt: skip
    assert pooled.exit_code == 0, pooled.output
    held = json.loads((tmp_path / "pooled" / "leakage.json").read_text())["reports"]["heldout"]
    assert held["meta"]["heldout_masks"] == 5
    refused = invoke(
        "unlearn", str(source), "--forget", "gender", "--out", str(tmp_path / "refused"),
        "--no-heldout", "--heldout-masks", "5",
    )  # fmt: skip
    assert refused.exit_code == 2 and "--heldout-masks needs" in " ".join(refused.output.split())
    assert not (tmp_path / "refused").exists()


def test_unlearn_search_tries_every_setting_and_writes_the_chosen(tmp_path):
    source = tmp_path / "run"
    result = invoke("train", "--model", "mf", "--epochs", "2", "--quiet", "--out", str(source))
    assert result.exit_code == 0, result.output
    out = tmp_path / "searched"
    searched = invoke(
        "unlearn", str(source), "--forget", "gender", "--out", str(out), "--search",
        "--attackers", "logreg", "--no-heldout", "--max-leakage", "100",
    )  # fmt: skip
    assert searched.exit_code == 0, searched.output
    text = " ".join(searched.output.split())
    assert text.count("tried ") == 4 and "chosen: " in text and "hint:" not in text
    chosen = json.loads((out / "metrics.json").read_text())["search"]["chosen"]
    assert f"chosen: {chosen}" in text
    for refused_args in (["--method", "dp"], ["--no-guard"]):
        refused = invoke(
            "unlearn", str(source), "--forget", "gender", "--out", str(tmp_path / "no"),
            "--search", *refused_args,
        )  # fmt: skip
        assert refused.exit_code == 2 and "--search chooses" in " ".join(refused.output.split())
    assert not (tmp_path / "no").exists()


def test_unlearn_unknown_attribute_leaves_nothing(tmp_path):
    source = tmp_path / "run"
    invoke("train", "--model", "mf", "--epochs", "1", "--quiet", "--out", str(source))
    result = invoke("unlearn", str(source), "--forget", "religion", "--out", str(tmp_path / "u"))
    assert result.exit_code == 2
    assert "religion" in result.output
    assert not (tmp_path / "u").exists()


def test_errors_go_to_stderr_and_results_to_stdout(tmp_path):
    import subprocess
    import sys

    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "recunlearn",
            "train",
            "--model",
            "nope",
            "--out",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "unknown model 'nope'" in bad.stderr and bad.stdout == ""


def test_unlearn_with_a_per_user_requirements_table(tmp_path):
    source = tmp_path / "run"
    invoke("train", "--model", "mf", "--epochs", "1", "--quiet", "--out", str(source))
    ids = pd.read_parquet(source / "user_embeddings.parquet")["user_id"].tolist()
    table = tmp_path / "reqs.csv"
    # most users ask for gender, a third of them for age as well; occupation: one user only
    rows = [f"{u},gender+age" if k % 3 == 0 else f"{u},gender" for k, u in enumerate(ids[1:])]
    table.write_text("user_id,requirement\n" + f"{ids[0]},occupation\n" + "\n".join(rows) + "\n")
    out = tmp_path / "u"
    common = ["--method", "linear-erasure", "--attackers", "logreg", "--no-heldout"]
    result = invoke(
        "unlearn", str(source), "--requirements", str(table), "--out", str(out), *common
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "per-user requirements" in text and "occupation (1)" in text and "leakage guard" in text
    assert "occupation: NOT AUDITED (1 users asked for it" in text
    assert (out / "requirements.csv").exists() and "Not audited" in (out / "leakage.md").read_text()
    table.write_text("user_id,requirement\n1,gender\n2,religion\n")
    bad = invoke("unlearn", str(source), "--requirements", str(table), "--out", str(out) + "2")
    assert bad.exit_code == 2
    message = " ".join(bad.output.split())
    assert str(table) in message and "line 3" in message and "religion" in message
    assert not (tmp_path / "u2").exists()
    table.write_text("user_id,requirement\n1,gender\n2,age\n")
    few = invoke("unlearn", str(source), "--requirements", str(table), "--out", str(out) + "3")
    assert few.exit_code == 2 and "cannot attack any attribute" in " ".join(few.output.split())
    both = invoke(
        "unlearn", str(source), "--forget", "gender", "--requirements", str(table),
        "--out", str(tmp_path / "u4"),
    )  # fmt: skip
    assert both.exit_code != 0 and "exactly one" in " ".join(both.output.split())


def test_the_hint_suggests_only_the_split_eraser_settings_still_unset() -> None:
    from recunlearn.cli.unlearn import _stronger_setting

    both = _stronger_setting("split-eraser", {})
    assert both is not None and "reencode_top=10" in both and "principal_rank=K" in both
    one = _stronger_setting("split-eraser", {"reencode_top": 10})
    assert one is not None and "reencode_top" not in one and "principal_rank=K" in one
    assert _stronger_setting("split-eraser", {"reencode_top": 10, "principal_rank": 16}) is None
    assert _stronger_setting("dp", {}) is None


def test_a_killed_per_user_unlearn_resumes_when_run_again(tmp_path, monkeypatch):
    from recunlearn.protect.personal.checkpoint import FitCheckpoint

    source = tmp_path / "run"
    invoke("train", "--model", "mf", "--epochs", "1", "--quiet", "--out", str(source))
    out = tmp_path / "ffvae"
    args = ["unlearn", str(source), "--forget", "gender", "--out", str(out), "--method", "ffvae"]
    args += ["--set", "epochs=3", "--attackers", "logreg"]
    save = FitCheckpoint.save

    def save_then_die(checkpoint: FitCheckpoint, state: dict) -> None:
        save(checkpoint, state)
        raise RuntimeError("killed")

    monkeypatch.setattr(FitCheckpoint, "due", lambda checkpoint, final: True)
    with monkeypatch.context() as patch:
        patch.setattr(FitCheckpoint, "save", save_then_die)
        killed = invoke(*args)
    partial = tmp_path / ".ffvae.partial"
    assert killed.exit_code != 0 and not out.exists()
    assert len(list(partial.glob("fit-*.pt"))) == 1
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "resuming the saved training state" in " ".join(result.output.split())
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["training"]["resumed"]["epoch"] == 1
    assert not partial.exists()  # removed once the run is written
