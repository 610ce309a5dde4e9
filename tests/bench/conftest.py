"""Shared grid helpers (a small synthetic grid, writing one to disk) and the shipped smoke config,
run once end to end through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from recunlearn.cli.main import app

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "benchmarks" / "configs"
SMOKE = CONFIGS / "smoke.yaml"

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


def write_grid(tmp_path: Path, text: str) -> Path:
    """Write ``text`` as ``grid.yaml`` under ``tmp_path``."""
    path = tmp_path / "grid.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def smoke_dir(tmp_path_factory) -> Path:
    """``recunlearn bench smoke.yaml`` (in-process, one job) then ``recunlearn report``."""
    out = tmp_path_factory.mktemp("bench") / "smoke"
    runner = CliRunner()
    result = runner.invoke(app, ["bench", str(SMOKE), "--out", str(out), "--jobs", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    return out
