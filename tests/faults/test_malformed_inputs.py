"""Every loader on every fault of the corpus (:mod:`tests.faults.corpus`): the error names the
file and the field (and the line, or the value), and nothing is written, in Python and through
the command line (exit code 2, the message on stderr, no output folder).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recunlearn.cli.main import app
from recunlearn.core.errors import DataError
from tests.faults.corpus import FAULTS, FORMATS, Fault

IDS = [f"{fault.format}:{fault.file.split('/')[-1]}:{fault.id}" for fault in FAULTS]


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def corrupted(tmp_path: Path, fault: Fault) -> Path:
    """The fault's format written to ``tmp_path/data``, then corrupted."""
    folder = tmp_path / "data"
    FORMATS[fault.format].write(folder)
    fault.corrupt(fault.path(folder))
    return folder


def test_the_uncorrupted_files_load(tmp_path: Path) -> None:
    """Without this the corpus would prove nothing: every format loads before it is corrupted."""
    for name, form in FORMATS.items():
        form.write(tmp_path / name)
        assert form.load(tmp_path / name) is not None


def test_the_corpus_covers_every_loader() -> None:
    assert {fault.format for fault in FAULTS} == set(FORMATS)


@pytest.mark.parametrize("fault", FAULTS, ids=IDS)
def test_loader_names_file_and_field(tmp_path: Path, fault: Fault) -> None:
    folder = corrupted(tmp_path, fault)
    before = snapshot(tmp_path)
    with pytest.raises(DataError) as info:
        FORMATS[fault.format].load(folder)
    error = info.value
    assert error.path is not None and error.path.name == Path(fault.file).name, str(error)
    assert error.field == fault.field, str(error)
    assert fault.says in str(error)
    assert snapshot(tmp_path) == before  # nothing written, nothing changed


@pytest.mark.parametrize("fault", FAULTS, ids=IDS)
def test_command_line_names_file_and_field_and_writes_nothing(tmp_path: Path, fault: Fault) -> None:
    folder = corrupted(tmp_path, fault)
    before = snapshot(tmp_path)
    out = tmp_path / "out" / "run"
    args = [*FORMATS[fault.format].cli(folder), "--out", str(out)]
    result = CliRunner().invoke(app, args)
    message = " ".join(result.stderr.split())
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert Path(fault.file).name in message
    if fault.field is not None:
        assert f"field '{fault.field}'" in message
    assert " ".join(fault.says.split()) in message
    assert snapshot(tmp_path) == before and not (tmp_path / "out").exists()


# ----------------------------------------------------------------------- truncated last line
def _truncate(path: Path, keep: int) -> int:
    """Cut the file inside its last timestamp (no final newline); returns that line's number."""
    lines = path.read_text().rstrip("\n").split("\n")
    lines[-1] = lines[-1][: len(lines[-1]) - keep]
    path.write_text("\n".join(lines))
    return len(lines)


@pytest.mark.parametrize(("name", "file"), [("ml-100k", "u.data"), ("ml-1m", "ratings.dat")])
def test_a_truncated_last_line_is_a_warning_naming_file_and_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str, file: str
) -> None:
    folder = tmp_path / "data"
    FORMATS[name].write(folder)
    line = _truncate(folder / file, keep=8)
    with caplog.at_level(logging.WARNING):
        FORMATS[name].load(folder)
    (warning,) = [r.getMessage() for r in caplog.records if "truncated" in r.getMessage()]
    assert f"{folder / file}, line {line}" in warning and "'timestamp'" in warning


def test_the_truncation_warning_reaches_stderr(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    FORMATS["ml-100k"].write(folder)
    line = _truncate(folder / "u.data", keep=8)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "recunlearn", "data", "describe", "ml-100k"]
    done = subprocess.run(
        [*command, "--data-dir", str(folder), "--min-user", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"u.data, line {line}: the last line has no end-of-line" in done.stderr
    assert "truncated" not in done.stdout
