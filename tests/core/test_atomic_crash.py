"""Crash injection: a write that fails midway leaves the previous content intact and nothing
half-written visible (atomic bytes, atomic directories, benchmark records)."""

from __future__ import annotations

import json
import os

import pytest

from recunlearn.core import atomic
from recunlearn.core.atomic import OWNER_MARK, atomic_directory, atomic_write_bytes
from recunlearn.core.records import RECORD_FORMAT, read_records, record_path, write_record


class Boom(RuntimeError):
    """The injected failure."""


def test_a_failed_byte_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "f.json"
    atomic_write_bytes(path, b'{"old": 1}')
    real_fsync = os.fsync

    def crash(fd):  # the new bytes are in the temporary file, not yet renamed
        real_fsync(fd)
        raise Boom("disk vanished")

    monkeypatch.setattr(atomic.os, "fsync", crash)
    with pytest.raises(Boom):
        atomic_write_bytes(path, b'{"new": 2, "and": "much more"}')
    assert path.read_bytes() == b'{"old": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_a_failed_directory_replace_keeps_the_old_directory(tmp_path, monkeypatch):
    final = tmp_path / "run"
    with atomic_directory(final, kind="run") as tmp:
        (tmp / "a.txt").write_text("old")
    real_replace = os.replace
    calls = {"n": 0}

    def crash(src, dst):
        calls["n"] += 1
        if calls["n"] == 2:  # the old directory was moved aside; the new one fails to land
            raise Boom("rename failed")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(Boom), atomic_directory(final, overwrite=True, kind="run") as tmp:
        (tmp / "a.txt").write_text("new")
    # the old directory is back under its name, nothing half-written is left beside it
    assert (final / "a.txt").read_text() == "old" and (final / OWNER_MARK).exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_a_record_failing_midway_is_never_listed(tmp_path, monkeypatch):
    write_record(tmp_path, {"format": RECORD_FORMAT, "config_hash": "aaaa", "metrics": {"v": 1}})

    def crash(path, text):
        path.with_name(f".{path.name}.tmp-x").write_text(text[: len(text) // 2])
        raise Boom("killed")

    import recunlearn.core.records as records

    monkeypatch.setattr(records, "atomic_write_text", crash)
    with pytest.raises(Boom):
        write_record(
            tmp_path, {"format": RECORD_FORMAT, "config_hash": "bbbb", "metrics": {"v": 2}}
        )
    listed = read_records(tmp_path)
    assert [r["config_hash"] for r in listed] == ["aaaa"]
    assert not record_path(tmp_path, "bbbb").exists()
    assert json.loads(record_path(tmp_path, "aaaa").read_text())["metrics"] == {"v": 1}
