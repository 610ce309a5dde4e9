"""A process killed (SIGKILL: no cleanup runs) at any point of a ``train`` run or of a brick
store write leaves its output complete or absent, never half-written, and nothing that stops
the next run.

Kill points are both random moments (a timer in the parent) and every step of the write
(the child kills itself on reaching it), so the write phase is always covered.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

import recunlearn.core.atomic as atomic
import recunlearn.experiments.rundir as rundir
import recunlearn.protect.posthoc.store as store_module
from recunlearn.data.spec import DataSpec
from recunlearn.experiments.spec import RunSpec
from recunlearn.experiments.train import load_trained, train_run
from recunlearn.protect.posthoc.store import BrickStore
from tests.faults.procs import FORK, kill_self

SPEC = RunSpec(
    data=DataSpec(name="synthetic", options={"n_users": 150, "n_items": 80}),
    model="mf",
    model_options={"epochs": 2, "seed": 3},
)
RUN_FILES = sorted(
    [
        ".recunlearn",
        "config.json",
        "weights.safetensors",
        "user_embeddings.parquet",
        "item_embeddings.parquet",
        "metrics.json",
        "per_user_metrics.parquet",
        "recommendations.parquet",
    ]
)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """An uninterrupted run of :data:`SPEC` and how long it took."""
    out = tmp_path_factory.mktemp("reference") / "run"
    started = time.perf_counter()
    train_run(SPEC, out, progress=False)
    return out, time.perf_counter() - started


def assert_complete_or_absent(out: Path, reference: Path) -> str:
    """``out`` is absent, or a complete run equal to ``reference``; returns which."""
    if not out.exists():
        return "absent"
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES
    expected = pd.read_parquet(reference / rundir.USER_EMBEDDINGS)
    pd.testing.assert_frame_equal(pd.read_parquet(out / rundir.USER_EMBEDDINGS), expected)
    load_trained(out)  # weights, config and data agree
    return "complete"


def _train(out: Path) -> None:
    train_run(SPEC, out, progress=False)


def _kill_at_file(out: Path, index: int) -> None:
    """Train, then die when the ``index``-th file of the run directory is being written
    (``index`` = number of files: just before the final rename)."""
    real_write, real_rename = rundir._write_file, atomic._rename_new
    written = []

    def write(path: Path, content) -> None:
        if len(written) == index:
            kill_self()
        written.append(path.name)
        real_write(path, content)

    def rename(tmp: Path, final: Path) -> None:
        kill_self()
        real_rename(tmp, final)

    rundir._write_file = write
    atomic._rename_new = rename if index >= len(RUN_FILES) - 1 else real_rename
    train_run(SPEC, out, progress=False)


def _killed(target, *args) -> int:
    proc = FORK.Process(target=target, args=args)
    proc.start()
    proc.join(timeout=120)
    return proc.exitcode


@pytest.mark.parametrize("index", range(len(RUN_FILES)))
def test_train_killed_while_writing_leaves_nothing(tmp_path: Path, reference, index: int) -> None:
    out = tmp_path / "run"
    assert _killed(_kill_at_file, out, index) == -9
    assert assert_complete_or_absent(out, reference[0]) == "absent"
    train_run(SPEC, out, progress=False)  # a hidden leftover does not stop the next run
    assert assert_complete_or_absent(out, reference[0]) == "complete"


def test_train_killed_at_random_moments(tmp_path: Path, reference) -> None:
    path, seconds = reference
    rng = random.Random(25)
    for attempt in range(3):
        out = tmp_path / f"run{attempt}"
        proc = FORK.Process(target=_train, args=(out,))
        proc.start()
        time.sleep(rng.uniform(0.0, seconds))
        proc.kill()
        proc.join(timeout=60)
        assert_complete_or_absent(out, path)
    visible = [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert set(visible) <= {f"run{attempt}" for attempt in range(3)}


# --------------------------------------------------------------------------- brick store
MATRIX = torch.arange(60 * 16, dtype=torch.float32).reshape(60, 16)


def _put_bricks(root: Path, count: int) -> None:
    store = BrickStore(root)
    for i in range(count):
        store.put(f"key{i:03d}", MATRIX + i, {"source": "s", "attribute": f"a{i}"})


def _kill_inside_save(root: Path) -> None:
    """Die after the brick's temporary file is half written."""

    def save(tensors, filename, metadata=None) -> None:
        Path(filename).write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{partial")
        kill_self()

    store_module.save_file = save
    BrickStore(root).put("key000", MATRIX, {"source": "s"})


def _kill_while_creating(root: Path) -> None:
    """Die after ``bricks/`` exists but before the marker is renamed into place."""

    def write(path: Path, text: str) -> None:
        (path.parent / f".{path.name}.tmp-killed").write_text(text[:5])
        kill_self()

    store_module.atomic_write_text = write
    BrickStore(root)


def assert_store_sound(root: Path, count: int) -> list[str]:
    """Every listed brick loads whole and right; temporaries are not listed."""
    store = BrickStore(root)
    keys = store.keys()
    for key in keys:
        matrix, meta = store.get(key, "s")
        torch.testing.assert_close(matrix, MATRIX + int(key[3:]))
    assert set(keys) <= {f"key{i:03d}" for i in range(count)}
    return keys


def test_store_write_killed_at_random_moments(tmp_path: Path) -> None:
    rng = random.Random(4)
    started = time.perf_counter()
    _put_bricks(tmp_path / "timing", 40)
    seconds = time.perf_counter() - started
    for attempt in range(4):
        root = tmp_path / f"store{attempt}"
        proc = FORK.Process(target=_put_bricks, args=(root, 40))
        proc.start()
        time.sleep(rng.uniform(0.0, 1.2 * seconds))
        proc.kill()
        proc.join(timeout=60)
        if root.exists():
            keys = assert_store_sound(root, 40)
            _put_bricks(root, 40)  # the rerun completes the store
            assert assert_store_sound(root, 40) == [f"key{i:03d}" for i in range(40)]
            assert len(keys) <= 40


def test_store_killed_inside_a_brick_write(tmp_path: Path) -> None:
    root = tmp_path / "store"
    assert _killed(_kill_inside_save, root) == -9
    assert BrickStore(root).keys() == [] and "key000" not in BrickStore(root)
    assert BrickStore(root).get("key000", "s") is None
    assert BrickStore(root).clean() == 1
    _put_bricks(root, 1)
    assert assert_store_sound(root, 1) == ["key000"]


def test_store_killed_while_being_created(tmp_path: Path) -> None:
    root = tmp_path / "store"
    assert _killed(_kill_while_creating, root) == -9
    assert not (root / "STORE").exists() and (root / "bricks").is_dir()
    _put_bricks(root, 2)  # the half-created store is completed, not refused
    assert assert_store_sound(root, 2) == ["key000", "key001"]
    assert BrickStore(root).clean() == 1  # the killed marker write
