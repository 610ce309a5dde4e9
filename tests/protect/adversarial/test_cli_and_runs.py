"""``recunlearn train --adversary``: the run records the adversary and loads without heads."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from recunlearn.cli.main import app
from recunlearn.data.spec import DataSpec
from recunlearn.experiments import rundir
from recunlearn.experiments.spec import RunSpec
from recunlearn.experiments.train import load_trained, train_run
from recunlearn.protect.adversarial.config import AdversaryConfig

runner = CliRunner()
SMALL = ["--dataset", "synthetic", "--epochs", "2", "--quiet"]


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_train_with_adversaries_round_trip(tmp_path):
    out = tmp_path / "run"
    result = invoke(
        "train",
        *SMALL,
        "--model",
        "multvae",
        "--adversary",
        "gender=400,age_raw=200:continuous",
        "--adversary-set",
        "age_raw.scale=60",
        "--adversary-set",
        "gender.n_heads=3",
        "--attackers",
        "logreg",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    # the guard audited the representation before it was written, and says so
    assert "leakage guard" in " ".join(result.output.split())
    guard = json.loads((out / rundir.LEAKAGE_JSON).read_text())
    assert sorted(row["attribute"] for row in guard["table"]) == ["age_raw", "gender"]
    assert (out / rundir.LEAKAGE_MD).read_text().startswith("# Leakage guard")
    config = json.loads((out / rundir.CONFIG).read_text())
    adversary = config["spec"]["adversary"]
    assert adversary["attributes"]["gender"]["lam"] == 400
    assert adversary["attributes"]["gender"]["n_heads"] == 3
    assert adversary["attributes"]["age_raw"]["scale"] == 60
    assert adversary["attributes"]["age_raw"]["kind"] == "continuous"
    metrics = json.loads((out / rundir.METRICS).read_text())
    assert metrics["adversary"]["attributes"]["age_raw"]["scale"] == 60
    assert len(metrics["adversary"]["epochs"]) == 2
    assert "gender/valid_bacc" in metrics["valid_log"][-1]
    trained = load_trained(out)
    assert trained.spec.adversary is not None
    assert trained.spec.adversary.lambdas == {"gender": 400.0, "age_raw": 200.0}
    ids, matrix = rundir.read_embeddings(out / rundir.USER_EMBEDDINGS)
    np.testing.assert_array_equal(ids, trained.dataset.user_ids)
    assert torch.allclose(trained.model.user_embeddings(), torch.from_numpy(matrix.copy()))


def test_train_with_adversaries_enforces_max_leakage(tmp_path):
    out = tmp_path / "run"
    result = invoke(
        "train",
        *SMALL,
        "--model",
        "mf",
        "--adversary",
        "gender=1",
        "--attackers",
        "logreg",
        "--max-leakage",
        "0",
        "--out",
        str(out),
    )
    assert result.exit_code == 3, result.output
    assert "exceeds --max-leakage" in " ".join(result.output.split())
    assert (out / rundir.LEAKAGE_JSON).exists()  # written, with its audit


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nope=1", "no such attribute"),
        ("gender=-1", ">= 0"),
        ("age=5:continuous", "'age' is categorical"),
        ("age_raw=5:categorical", "'age_raw' is continuous"),
    ],
)
def test_bad_adversary_requests_are_clear_errors(tmp_path, value, message):
    out = tmp_path / "r"
    result = invoke("train", *SMALL, "--model", "mf", "--adversary", value, "--out", str(out))
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not out.exists()


def test_spec_hash_without_adversary_is_unchanged():
    spec = RunSpec(model="mf", model_options={"epochs": 3})
    payload = spec.model_dump(mode="json")
    payload.pop("adversary")
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    assert spec.fingerprint() == hashlib.sha256(text.encode()).hexdigest()[:16]
    with_adversary = spec.model_copy(update={"adversary": AdversaryConfig.from_lambdas({"g": 1})})
    assert with_adversary.fingerprint() != spec.fingerprint()
    assert RunSpec.model_validate_json(with_adversary.model_dump_json()) == with_adversary


def test_train_run_python_api(tmp_path):
    spec = RunSpec(
        data=DataSpec(name="synthetic", options={"n_users": 120, "n_items": 80}),
        model="ncf",
        model_options={"epochs": 2, "seed": 0},
        adversary=AdversaryConfig.from_lambdas({"gender": 1.0}),
    )
    run = train_run(spec, tmp_path / "ncf", progress=False)
    assert run.model.hooks == []
    assert run.metrics["adversary"]["attributes"]["gender"]["n_labelled"] == 120
    reloaded = load_trained(tmp_path / "ncf")
    assert torch.equal(reloaded.model.user_embeddings(), run.model.user_embeddings())
