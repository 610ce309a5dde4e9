"""Two processes writing the same output at the same moment (issue 25, cases 1 and 4).

Each test runs two processes that meet at a barrier before every attempt, so both reach the
critical moment together, and repeats the attempt many times on fresh paths.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from recunlearn.core.atomic import OWNER_MARK
from recunlearn.core.errors import ConfigError, DataError
from recunlearn.experiments.rundir import write_run_directory
from recunlearn.protect.posthoc.store import STORE_FORMAT, BrickStore
from tests.faults.procs import hidden_leftovers, run_in_pair

ATTEMPTS = 60


def _create_stores(root: Path, attempts: int, barrier, queue, tag: str) -> None:
    errors = []
    for i in range(attempts):
        barrier.wait()
        try:
            BrickStore(root / f"store{i}")
        except DataError as exc:
            errors.append(f"attempt {i}: {exc}")
    queue.put((tag, errors))


def test_two_processes_creating_one_new_store_both_succeed(tmp_path: Path) -> None:
    """Was: "folder is not empty and is not a brick store" about 3 times in 50."""
    errors = run_in_pair(_create_stores, (tmp_path, ATTEMPTS), ("a", "b"))
    assert errors == [[], []]
    for i in range(ATTEMPTS):
        root = tmp_path / f"store{i}"
        assert (root / "STORE").read_text().strip() == STORE_FORMAT
        assert sorted(p.name for p in root.iterdir()) == ["STORE", "bricks"]


def _write_runs(root: Path, attempts: int, barrier, queue, tag: str) -> None:
    outcomes = []
    payload = os.urandom(300_000)  # enough bytes that the two writes overlap
    for i in range(attempts):
        barrier.wait()
        try:
            write_run_directory(
                root / f"run{i}",
                {"config.json": {"writer": tag}, "weights.bin": payload, "writer.txt": tag},
            )
            outcomes.append("written")
        except ConfigError as exc:
            outcomes.append(str(exc))
    queue.put((tag, outcomes))


def test_two_processes_writing_one_run_directory(tmp_path: Path) -> None:
    """Exactly one writer succeeds each time; the other is told, and nothing is mixed."""
    a, b = run_in_pair(_write_runs, (tmp_path, ATTEMPTS // 2), ("a", "b"))
    for i, pair in enumerate(zip(a, b, strict=True)):
        assert sorted(pair).count("written") == 1, f"attempt {i}: {pair}"
        (refusal,) = [text for text in pair if text != "written"]
        assert "created by another process" in refusal or "already exists" in refusal
        winner = "a" if pair[0] == "written" else "b"
        run = tmp_path / f"run{i}"
        assert (run / "writer.txt").read_text() == winner
        assert (run / "config.json").read_text().count(f'"{winner}"') == 1
        assert sorted(p.name for p in run.iterdir()) == sorted(
            [OWNER_MARK, "config.json", "weights.bin", "writer.txt"]
        )
    assert hidden_leftovers(tmp_path) == []


@pytest.mark.slow
def test_two_train_commands_with_the_same_out(tmp_path: Path) -> None:
    """The issue's reproduction: both used to print "run written"; one result was lost."""
    out = tmp_path / "same"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "recunlearn", "train", "--model", "mf", "--epochs", "2"]
    procs = [
        subprocess.Popen(
            [*command, "--seed", str(seed), "--quiet", "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for seed in (1, 2)
    ]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    (loser,) = [err for code, _, err in results if code == 2]
    assert "created by another process" in loser or "already exists" in loser
    (winner,) = [stdout for code, stdout, _ in results if code == 0]
    assert "run written" in winner
    assert (out / "metrics.json").exists() and hidden_leftovers(tmp_path) == []
