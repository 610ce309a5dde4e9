"""Atomic directory and file writes leave nothing half-written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from recunlearn.core.atomic import (
    OWNER_MARK,
    atomic_directory,
    atomic_write_text,
    check_writable,
    is_own_directory,
)
from recunlearn.core.errors import ConfigError


def test_directory_appears_only_when_complete(tmp_path):
    final = tmp_path / "run"
    with atomic_directory(final) as tmp:
        (tmp / "a.txt").write_text("x")
        assert not final.exists()
    assert (final / "a.txt").read_text() == "x"
    assert is_own_directory(final)
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def _old_output(final):
    final.mkdir()
    (final / OWNER_MARK).write_text("run\n")
    (final / "old.txt").write_text("old")


def test_failure_leaves_no_trace_and_keeps_the_old_output(tmp_path):
    final = tmp_path / "run"
    _old_output(final)
    with pytest.raises(RuntimeError), atomic_directory(final, overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
        raise RuntimeError("killed")
    assert (final / "old.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_overwrite_replaces(tmp_path):
    final = tmp_path / "run"
    _old_output(final)
    with atomic_directory(final, overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in final.iterdir()) == [OWNER_MARK, "new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_existing_directory_is_refused(tmp_path):
    _old_output(tmp_path / "run")
    with pytest.raises(ConfigError, match="already exists"), atomic_directory(tmp_path / "run"):
        pass


def test_atomic_write_text(tmp_path):
    path = tmp_path / "sub" / "f.json"
    atomic_write_text(path, "{}")
    atomic_write_text(path, '{"a": 1}')
    assert path.read_text() == '{"a": 1}'
    assert [p.name for p in path.parent.iterdir()] == ["f.json"]


def test_overwrite_refuses_a_folder_recunlearn_did_not_write(tmp_path):
    final = tmp_path / "mine"
    final.mkdir()
    (final / "important.txt").write_text("keep me")
    with (
        pytest.raises(ConfigError, match="not a directory recunlearn wrote"),
        atomic_directory(final, overwrite=True),
    ):
        pass
    assert (final / "important.txt").read_text() == "keep me"


def test_a_directory_created_meanwhile_is_not_replaced(tmp_path):
    final = tmp_path / "run"
    with (
        pytest.raises(ConfigError, match="created by another process"),
        atomic_directory(final) as tmp,
    ):
        (tmp / "mine.txt").write_text("second")
        with atomic_directory(final) as other:  # another writer finishes first
            (other / "theirs.txt").write_text("first")
    assert sorted(p.name for p in final.iterdir()) == [OWNER_MARK, "theirs.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_an_empty_folder_may_be_filled(tmp_path):
    final = tmp_path / "run"
    final.mkdir()
    with atomic_directory(final) as tmp:
        (tmp / "a.txt").write_text("x")
    assert (final / "a.txt").exists()


def test_check_writable_creates_nothing(tmp_path):
    check_writable(tmp_path / "a" / "b" / "run")
    assert list(tmp_path.iterdir()) == []


def test_a_file_in_the_way_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match="notes.txt is a file, not a folder"):
        check_writable(tmp_path / "notes.txt" / "run")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_a_clear_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match="cannot write into .*locked"):
            check_writable(locked / "run")
    finally:
        locked.chmod(0o700)


def test_an_unwritable_file_system_is_a_clear_error():
    """Checked by really creating a folder: as root, permission bits would let it pass."""
    if not Path("/proc").is_dir():
        pytest.skip("no /proc")
    with pytest.raises(ConfigError, match="cannot write into /proc"):
        check_writable("/proc/recunlearn-run")


def test_only_existing_directories_can_be_own(tmp_path):
    assert not is_own_directory(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    assert not is_own_directory(tmp_path / "file")
    (tmp_path / "empty").mkdir()
    assert not is_own_directory(tmp_path / "empty")


def test_missing_parent_folders_are_created(tmp_path):
    final = tmp_path / "a" / "b" / "run"
    with atomic_directory(final, kind="run") as tmp:
        (tmp / "x.txt").write_text("x")
    assert (final / "x.txt").read_text() == "x" and is_own_directory(final)
    atomic_write_text(tmp_path / "c" / "d" / "f.txt", "y")
    assert (tmp_path / "c" / "d" / "f.txt").read_text() == "y"


def test_the_temporary_directory_is_a_hidden_sibling(tmp_path):
    # beside the output (same file system, so the final rename is atomic), hidden, and named
    # after it (so a leftover says what it was)
    final = tmp_path / "out" / "run"
    with atomic_directory(final, kind="run") as tmp:
        assert tmp.parent == final.parent and tmp.name.startswith(".run.tmp-")


def test_a_file_is_written_through_a_hidden_sibling(tmp_path, monkeypatch):
    from recunlearn.core import atomic

    renamed = []
    real_replace = os.replace

    def record(src, dst):
        renamed.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", record)
    atomic_write_text(tmp_path / "f.json", "{}")
    ((src, dst),) = renamed
    assert dst == tmp_path / "f.json" and src.parent == tmp_path
    assert src.name.startswith(".f.json.tmp-")
