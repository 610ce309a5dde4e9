"""The brick store: reuse, parallel calibration, atomicity and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from recunlearn.core.errors import DataError
from recunlearn.protect.posthoc.lego import LEGO
from recunlearn.protect.posthoc.store import STORE_FORMAT, BrickStore, brick_key, matrix_fingerprint

FAST = dict(calibration_steps=25, combination_steps=5)


def test_bricks_are_written_and_reused(planted_data, tmp_path):
    matrix, labels = planted_data
    first = LEGO(**FAST).fit(matrix, labels, store=tmp_path / "store")
    a = first.transform("gender,age")
    assert first.timings_["calibrated"] == 2
    assert len(BrickStore(tmp_path / "store").keys()) == 2
    second = LEGO(**FAST).fit(matrix, labels, store=tmp_path / "store")
    b = second.transform("gender,age")
    assert second.timings_["calibrated"] == 0
    torch.testing.assert_close(a, b)
    assert second.calibration_logs_["gender"].steps == 25
    # a new attribute is the only one calibrated
    second.transform("gender,age,noise")
    assert second.timings_["calibrated"] == 1


def test_other_hyperparameters_get_other_bricks(planted_data, tmp_path):
    matrix, labels = planted_data
    LEGO(**FAST).fit(matrix, labels, store=tmp_path).transform("gender")
    LEGO(**{**FAST, "eps_per_user": 0.1}).fit(matrix, labels, store=tmp_path).transform("gender")
    assert len(BrickStore(tmp_path).keys()) == 2


@pytest.mark.slow
def test_parallel_equals_serial(planted_data, tmp_path):
    matrix, labels = planted_data
    serial = LEGO(**FAST).fit(matrix, labels).transform("gender,age")
    parallel = LEGO(**FAST, n_jobs=2).fit(matrix, labels, store=tmp_path).transform("gender,age")
    torch.testing.assert_close(serial, parallel)
    assert len(BrickStore(tmp_path).keys()) == 2


def test_corrupted_brick_is_reported_and_kept(planted_data, tmp_path):
    matrix, labels = planted_data
    LEGO(**FAST).fit(matrix, labels, store=tmp_path).transform("gender")
    (path,) = BrickStore(tmp_path).bricks.glob("*.safetensors")
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(DataError, match="corrupted") as info:
        LEGO(**FAST).fit(matrix, labels, store=tmp_path).transform("gender")
    assert path.name in str(info.value)
    assert path.exists()


def test_foreign_brick_is_refused(planted_data, tmp_path):
    matrix, labels = planted_data
    store = BrickStore(tmp_path)
    lego = LEGO(**FAST).fit(matrix, labels, store=store)
    store.put(lego._key("gender"), torch.zeros(matrix.shape), {"source": "someone-else"})
    with pytest.raises(DataError, match="other embeddings"):
        lego.transform("gender")


def test_other_version_and_foreign_folders_are_refused(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "STORE").write_text("recunlearn-brick-store 0\n")
    with pytest.raises(DataError, match="another version"):
        BrickStore(tmp_path / "s")
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="not a brick store"):
        BrickStore(tmp_path / "f")
    assert (tmp_path / "f" / "notes.txt").read_text() == "mine"
    assert (BrickStore(tmp_path / "new").root / "STORE").read_text().strip() == STORE_FORMAT


def test_leftover_temporary_files_are_ignored_and_cleaned(planted_data, tmp_path):
    matrix, labels = planted_data
    store = BrickStore(tmp_path)
    (store.bricks / ".abc.tmp-123").write_bytes(b"half a brick")
    assert store.keys() == []
    LEGO(**FAST).fit(matrix, labels, store=store).transform("gender")
    assert len(store.keys()) == 1
    assert store.clean() == 1


def test_first_writer_wins(planted_data, tmp_path):
    store = BrickStore(tmp_path)
    store.put("k", torch.ones(2, 2), {"source": "s"})
    store.put("k", torch.zeros(2, 2), {"source": "s"})
    matrix, meta = store.get("k", "s")
    torch.testing.assert_close(matrix, torch.ones(2, 2))
    assert json.dumps(meta)


def test_a_store_being_created_by_another_process_is_completed(tmp_path):
    """Issue 25, case 4: a second process saw ``bricks/`` before the marker and refused."""
    root = tmp_path / "store"
    (root / "bricks").mkdir(parents=True)  # another process is half way
    (root / ".STORE.tmp-abc").write_text("recunlearn-brick")  # its marker, not yet renamed
    store = BrickStore(root)
    assert (root / "STORE").read_text().strip() == STORE_FORMAT and store.keys() == []
    assert store.clean() == 1 and not (root / ".STORE.tmp-abc").exists()


def test_a_folder_with_other_files_or_a_file_is_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "bricks").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(DataError, match="not a brick store"):
        BrickStore(tmp_path / "mine")
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["bricks", "notes.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="is a file"):
        BrickStore(tmp_path / "file")


def test_membership_names_the_complete_bricks(tmp_path):
    store = BrickStore(tmp_path)
    assert "k" not in store
    store.put("k", torch.ones(2, 2), {"source": "s"})
    assert "k" in store and "other" not in store and store.keys() == ["k"]


def test_a_brick_finished_meanwhile_by_another_process_is_kept(tmp_path, monkeypatch):
    from recunlearn.protect.posthoc import store as store_module

    store = BrickStore(tmp_path)
    real_save = store_module.save_file
    seen = []

    def save_and_race(tensors, path, metadata=None):
        seen.append(path)
        real_save(tensors, path, metadata=metadata)
        # another process renames its complete brick into place while this one writes
        real_save({"matrix": torch.zeros(2, 2)}, str(store.path("k")), metadata=metadata)

    monkeypatch.setattr(store_module, "save_file", save_and_race)
    assert store.put("k", torch.ones(2, 2), {"source": "s"}) == store.path("k")
    torch.testing.assert_close(store.get("k", "s")[0], torch.zeros(2, 2))  # the first writer's
    assert [p.name for p in store.bricks.iterdir()] == ["k.safetensors"]  # no temporary left
    # the temporary file is hidden and recognisable, so clean() finds it after a crash
    assert Path(seen[0]).parent == store.bricks and Path(seen[0]).name.startswith(".k.tmp-")


def test_a_failed_brick_write_leaves_nothing(tmp_path, monkeypatch):
    from recunlearn.protect.posthoc import store as store_module

    store = BrickStore(tmp_path)

    def crash(tensors, path, metadata=None):
        Path(path).write_bytes(b"half a brick")
        raise OSError("disk full")

    monkeypatch.setattr(store_module, "save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        store.put("k", torch.ones(2, 2), {"source": "s"})
    assert "k" not in store and list(store.bricks.iterdir()) == []


def test_errors_name_the_brick_file(tmp_path):
    store = BrickStore(tmp_path)
    store.put("k", torch.ones(2, 2), {"source": "s"})
    with pytest.raises(DataError, match="other embeddings") as foreign:
        store.get("k", "other")
    assert foreign.value.path == store.path("k") and foreign.value.field == "source"
    store.path("bad").write_bytes(b"not a brick")
    with pytest.raises(DataError, match="corrupted") as corrupted:
        store.get("bad", "s")
    assert corrupted.value.path == store.path("bad")


def test_a_half_created_store_beside_other_files_is_refused(tmp_path):
    # whatever order the folder lists them in, another file next to the parts of a store
    # being created (its bricks/ folder, its marker being written) means it is not a store
    for i in range(8):
        root = tmp_path / f"f{i}"
        (root / "bricks").mkdir(parents=True)
        names = [".STORE.tmp-abc", f"notes-{i}.txt"]
        for name in names if i % 2 else names[::-1]:  # both creation orders
            (root / name).write_text("x")
        with pytest.raises(DataError, match="not a brick store") as refused:
            BrickStore(root)
        assert refused.value.path == root


def test_a_store_that_cannot_be_created_is_a_data_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="cannot create the brick store") as error:
        BrickStore(tmp_path / "file" / "store")
    assert error.value.path == tmp_path / "file" / "store"


def test_fingerprints_and_keys_change_with_every_input():
    m = np.arange(12, dtype=np.float32).reshape(3, 4)
    fp = matrix_fingerprint(m)
    assert len(fp) == 16 and fp == matrix_fingerprint(torch.as_tensor(m))
    assert fp == matrix_fingerprint(m.astype(np.float64))  # the float32 values are hashed
    assert fp != matrix_fingerprint(m.reshape(4, 3))  # same bytes, other shape
    assert fp != matrix_fingerprint(m + 1)
    labels = np.array([0, 1, 1])
    key = brick_key(fp, "gender", labels, {"a": 1, "b": 2})
    assert len(key) == 24 and key == brick_key(fp, "gender", labels, {"b": 2, "a": 1})
    others = [
        brick_key(fp[::-1], "gender", labels, {"a": 1, "b": 2}),
        brick_key(fp, "age", labels, {"a": 1, "b": 2}),
        brick_key(fp, "gender", labels[::-1], {"a": 1, "b": 2}),
        brick_key(fp, "gender", labels, {"a": 1, "b": 3}),
    ]
    assert len({key, *others}) == 5
