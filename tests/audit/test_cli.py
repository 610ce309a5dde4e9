"""``recunlearn audit`` on a tiny run directory and on an embeddings + attributes file pair."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from recunlearn.cli.main import app
from recunlearn.data.spec import DataSpec
from recunlearn.experiments.spec import RunSpec
from recunlearn.experiments.train import train_run

runner = CliRunner()
OUTPUTS = {".recunlearn", "records.json", "summary.md", "leakage.png", "projection_pca.png"}


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "mf"
    spec = RunSpec(
        data=DataSpec(name="synthetic", options={"n_users": 200, "n_items": 100}),
        model="mf",
        model_options={"epochs": 2},
    )
    train_run(spec, out, progress=False)
    return out


def test_audit_a_run_directory(run_dir, tmp_path):
    out = tmp_path / "audit"
    result = invoke(
        "audit", run_dir, "--quick", "--folds", "3", "--no-tsne", "--quiet", "--out", out
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == OUTPUTS
    payload = json.loads((out / "records.json").read_text())
    # paper_mlp + logreg x gender, age, occupation, age_raw, noise x 3 folds
    assert len(payload["records"]) == 2 * 5 * 3
    assert payload["meta"]["join"]["n_matched"] == 200
    text = " ".join(result.output.split())
    assert "◀" in text and "200 users matched by id" in text
    assert "| noise | logreg |" in (out / "summary.md").read_text()
    again = invoke("audit", run_dir, "--quick", "--quiet", "--out", out)
    assert again.exit_code == 2 and "already exists" in " ".join(again.output.split())


def test_compare_and_attribute_selection(run_dir, tmp_path):
    out = tmp_path / "cmp"
    result = invoke(
        "audit",
        run_dir,
        "--attackers",
        "knn",
        "--attributes-only",
        "gender,noise",
        "--compare",
        run_dir,
        "--no-tsne",
        "--quiet",
        "--out",
        out,
        "--seeds",
        "0,1",
    )
    assert result.exit_code == 0, result.output
    records = json.loads((out / "records.json").read_text())["records"]
    assert {r["attribute"] for r in records} == {"gender", "noise"}
    assert len(records) == 2 * 5 * 2


def _file_pair(tmp_path, n=120):
    rng = np.random.default_rng(0)
    ids = np.arange(500, 500 + n)
    gender = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 4))
    X[:, 0] += 2 * gender
    np.save(tmp_path / "emb.npy", X[::-1])  # rows in another order than the attribute file
    (tmp_path / "emb.ids.txt").write_text("\n".join(map(str, ids[::-1])) + "\n")
    users = pd.DataFrame(
        {"user_id": ids, "gender": np.where(gender, "M", "F"), "age": rng.integers(18, 30, n)}
    )
    users.to_csv(tmp_path / "users.csv", index=False)
    return tmp_path / "emb.npy", tmp_path / "users.csv", ids


def test_audit_an_embedding_file_and_attribute_file(tmp_path):
    emb, users, ids = _file_pair(tmp_path)
    (tmp_path / "test_ids.txt").write_text("\n".join(map(str, ids[:30])))
    result = invoke(
        "audit",
        "--embeddings",
        emb,
        "--attributes",
        users,
        "--kind",
        "age=continuous",
        "--attackers",
        "logreg,knn",
        "--test-users",
        tmp_path / "test_ids.txt",
        "--no-tsne",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "emb.audit"  # default next to the embeddings
    payload = json.loads((out / "records.json").read_text())
    assert payload["meta"]["protocol"] == "fixed_test"
    assert {r["n_test"] for r in payload["records"]} == {30}
    gender = [r for r in payload["records"] if r["attribute"] == "gender"]
    assert min(r["bacc"] for r in gender) > 0.7


def test_bad_input_is_a_clear_error_and_leaves_no_folder(tmp_path):
    emb, users, _ = _file_pair(tmp_path)
    frame = pd.read_csv(users)
    frame.loc[1, "user_id"] = frame.loc[0, "user_id"]
    frame.to_csv(users, index=False)
    out = tmp_path / "out"
    result = invoke("audit", "--embeddings", emb, "--attributes", users, "--out", out, "--quiet")
    assert result.exit_code == 2
    text = "".join(result.output.split())  # rich wraps long paths
    assert "users.csv" in text and "field'user_id'" in text and "duplicated" in text
    assert not out.exists()
    result = invoke("audit", "--embeddings", emb, "--quiet")
    assert result.exit_code == 2 and "--attributes" in " ".join(result.output.split())


def test_output_folder_is_complete_or_absent(tmp_path, monkeypatch):
    emb, users, _ = _file_pair(tmp_path)
    import recunlearn.experiments.audit_folder as outputs

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(outputs, "plot_leakage", broken)
    out = tmp_path / "out"
    result = invoke(
        "audit",
        "--embeddings",
        emb,
        "--attributes",
        users,
        "--attackers",
        "knn",
        "--attributes-only",
        "gender",
        "--out",
        out,
        "--quiet",
    )
    assert result.exit_code == 2 and "disk full" in " ".join(result.output.split())
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
