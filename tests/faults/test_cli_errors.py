"""The command line's answers to a hostile user (issue 25): errors on stderr with exit code 2,
results on stdout; every error says what to do; nothing is overwritten that is not ours."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from recunlearn.cli.main import app
from recunlearn.testing.files import small_synthetic, write_table


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def said(result) -> str:
    """stderr with line breaks folded (rich wraps long messages)."""
    return " ".join(result.stderr.split())


def train_args(out: Path, *extra: str) -> list[str]:
    return ["train", "--model", "mf", "--epochs", "1", "--quiet", "--out", str(out), *extra]


# ------------------------------------------------------------------ case 8: errors on stderr
FAILING = {
    "train": ["train", "--model", "nope", "--out", "{tmp}/r"],
    "evaluate": ["evaluate", "{tmp}/no-run"],
    "audit": ["audit", "{tmp}/no-run"],
    "unlearn": ["unlearn", "{tmp}/no-run", "--forget", "gender", "--out", "{tmp}/u"],
    "debias": ["debias", "--dataset", "netflix", "--out", "{tmp}/d"],
    "bench": ["bench", "{tmp}/no-grid.yaml", "--out", "{tmp}/b"],
    "report": ["report", "{tmp}/no-bench"],
    "data describe": ["data", "describe", "netflix"],
    "data fetch": ["data", "fetch", "netflix", "--dest", "{tmp}/f"],
}


@pytest.mark.parametrize("command", FAILING)
def test_every_command_reports_errors_on_stderr(tmp_path: Path, command: str) -> None:
    result = invoke(*(a.format(tmp=tmp_path) for a in FAILING[command]))
    assert result.exit_code == 2, result.stdout
    assert result.stdout == "" and said(result).startswith("error:")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# ------------------------------------------------------------------- cases 1-2: our folders
def test_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "important.txt").write_text("keep me")
    result = invoke(*train_args(folder, "--overwrite"))
    assert result.exit_code == 2 and "not a directory recunlearn wrote" in said(result)
    assert sorted(p.name for p in folder.iterdir()) == ["important.txt"]
    assert (folder / "important.txt").read_text() == "keep me"


def test_overwrite_replaces_a_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert invoke(*train_args(run)).exit_code == 0
    again = invoke(*train_args(run, "--seed", "1"))
    assert again.exit_code == 2 and "--overwrite" in said(again)
    assert invoke(*train_args(run, "--seed", "1", "--overwrite")).exit_code == 0
    assert json.loads((run / "config.json").read_text())["spec"]["model_options"]["seed"] == 1


# --------------------------------------------------------------- case 6: errors one can act on
def test_unknown_model_option_lists_the_valid_ones(tmp_path: Path) -> None:
    result = invoke(*train_args(tmp_path / "r", "--set", "embedding_size=8"))
    text = said(result)
    assert result.exit_code == 2 and "Extra inputs are not permitted" not in text
    assert "option 'embedding_size'" in text and "did you mean 'embedding_dim'" in text
    assert "valid options:" in text and "n_negatives" in text
    assert not (tmp_path / "r").exists()


def test_an_unwritable_out_is_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    result = invoke(*train_args(tmp_path / "a-file" / "run"))
    assert result.exit_code == 2
    assert "a-file is a file, not a folder" in said(result) and "Errno" not in said(result)


def test_missing_timestamp_points_to_an_option_that_exists(tmp_path: Path) -> None:
    inter, users = write_table(tmp_path / "data")
    frame = pd.read_csv(inter).drop(columns="timestamp")
    frame.to_csv(inter, index=False)
    base = ["data", "describe", "csv", "--data-dir", inter, "--min-user", "1"]
    refused = invoke(*base)
    assert refused.exit_code == 2 and "--allow-missing-timestamp" in said(refused)
    accepted = invoke(*base, "--allow-missing-timestamp", "--attributes", users)
    assert accepted.exit_code == 0, accepted.stderr
    assert "interactions" in accepted.stdout


def test_a_declared_kind_takes_text_in_a_numeric_column(tmp_path: Path) -> None:
    inter, users = write_table(tmp_path / "data")
    table = pd.read_csv(users, dtype=str)
    table.loc[3, "age"] = "old"
    table.to_csv(users, index=False)
    base = ["data", "describe", "csv", "--data-dir", inter, "--attributes", users]
    refused = invoke(*base, "--min-user", "1")
    assert refused.exit_code == 2 and "line 5 (data row 4): 'old'" in said(refused)
    assert "--kind age=categorical" in said(refused)
    accepted = invoke(*base, "--min-user", "1", "--kind", "age=categorical")
    assert accepted.exit_code == 0, accepted.stderr


def test_a_run_whose_data_moved_can_still_be_used(tmp_path: Path, monkeypatch) -> None:
    """Relative paths are recorded absolute; --data-dir points unlearn / audit / evaluate at
    the new place (and the data must still be the same)."""
    home, other = tmp_path / "home", tmp_path / "other"
    other.mkdir()
    write_table(home / "data", small_synthetic())
    monkeypatch.chdir(home)
    data = ["--dataset", "csv", "--data-dir", "data/interactions.csv"]
    data += ["--attributes", "data/users.csv", "--min-user", "1"]
    assert invoke(*train_args(Path("run"), *data)).exit_code == 0
    recorded = json.loads((home / "run" / "config.json").read_text())["spec"]["data"]
    assert recorded["data_dir"] == str(home / "data" / "interactions.csv")
    assert recorded["attributes_path"] == str(home / "data" / "users.csv")

    monkeypatch.chdir(other)  # another working directory: the absolute path still works
    assert invoke("evaluate", home / "run").exit_code == 0
    shutil.move(home / "data", other / "moved")
    lost = invoke("unlearn", home / "run", "--forget", "gender", "--method", "dp", "--no-guard",
                  "--out", "u")  # fmt: skip
    assert lost.exit_code == 2 and "--data-dir" in said(lost) and not Path("u").exists()
    moved = ["--data-dir", "moved/interactions.csv", "--data-attributes", "moved/users.csv"]
    found = invoke("unlearn", home / "run", "--forget", "gender", "--method", "dp", "--no-guard",
                   "--out", "u", *moved)  # fmt: skip
    assert found.exit_code == 0, found.stderr
    audited = invoke("audit", home / "run", "--quick", "--attributes-only", "gender",
                     "--folds", "2", "--no-tsne", "--quiet", "--out", "a", *moved)  # fmt: skip
    assert audited.exit_code == 0, audited.stderr
    assert invoke("evaluate", home / "run", *moved).exit_code == 0


def test_other_data_at_the_new_place_is_refused(tmp_path: Path) -> None:
    write_table(tmp_path / "data", small_synthetic(seed=0))
    write_table(tmp_path / "impostor", small_synthetic(seed=1))
    data = ["--dataset", "csv", "--data-dir", tmp_path / "data" / "interactions.csv"]
    assert invoke(*train_args(tmp_path / "run", *map(str, data), "--min-user", "1")).exit_code == 0
    result = invoke("evaluate", tmp_path / "run", "--data-dir", tmp_path / "impostor" /
                    "interactions.csv")  # fmt: skip
    assert result.exit_code == 2 and "the data changed since this run was trained" in said(result)


# ------------------------------------------------------------- case 7: bench options, early
def test_bench_with_an_invalid_option_fails_before_any_cell(tmp_path: Path) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(
        "name: t\n"
        "datasets: [{name: synthetic, options: {n_users: 60, n_items: 80}}]\n"
        "models: [mf]\n"
        "requirements: [gender]\n"
        "methods: [original, dp, linear-erasure,\n"
        "          {label: bad, method: lego, options: {calibration_steps: -5}}]\n"
    )
    result = invoke("bench", grid, "--out", tmp_path / "bench")
    text = said(result)
    assert result.exit_code == 2 and str(grid) in text
    assert "field 'methods[3].options.calibration_steps'" in text and "(got -5)" in text
    assert not (tmp_path / "bench").exists()


def test_a_run_named_by_its_data_file_can_be_relocated(tmp_path: Path) -> None:
    inter, _ = write_table(tmp_path / "data", small_synthetic())
    trained = invoke(*train_args(tmp_path / "run", "--dataset", str(inter), "--min-user", "1"))
    assert trained.exit_code == 0, trained.stderr
    moved = shutil.move(tmp_path / "data", tmp_path / "moved")
    lost = invoke("evaluate", tmp_path / "run")
    assert lost.exit_code == 2 and "--data-dir" in said(lost)
    found = invoke("evaluate", tmp_path / "run", "--data-dir", Path(moved) / "interactions.csv")
    assert found.exit_code == 0, found.stderr
