"""Shared fixture: the shipped smoke config, run once end to end through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from recunlearn.cli.main import app

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "benchmarks" / "configs"
SMOKE = CONFIGS / "smoke.yaml"


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
