"""Benchmark records: one JSON file per finished cell, written atomically.

Layout of a benchmark folder ``OUT``::

    bench.json               the expanded plan of the last run (config, cells, hashes)
    records/<hash>.json      one record per finished cell (present => the cell is done)
    records/<hash>.npz       per-user arrays of the cell (optional sidecar), written first
    failures/<hash>.txt      traceback of a cell that failed (removed when it succeeds)
    runs/<hash>/             run directories of the ``train`` cells
    store/                   the shared LEGO brick store

A record holds ``format``, ``kind``, ``config_hash``, ``label``, ``params``, ``deps``,
``protocol``, ``dataset`` (label, fingerprint), ``metrics``, ``per_user`` (sidecar file name
and array names, or null), ``wall`` (seconds), ``versions``, ``commit``, ``machine`` and
``created``. The sidecar is renamed into place before the record, so a visible record always
has its sidecar, and a killed cell leaves at most hidden ``.tmp-*`` files.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from recunlearn.core.atomic import atomic_write_bytes, atomic_write_text
from recunlearn.core.errors import DataError
from recunlearn.core.serialize import json_safe

logger = logging.getLogger(__name__)

RECORD_FORMAT = "recunlearn-bench-record 1"
RECORDS = "records"
FAILURES = "failures"
PLAN = "bench.json"


def record_path(out: str | Path, cell_hash: str) -> Path:
    """``OUT/records/<hash>.json``."""
    return Path(out) / RECORDS / f"{cell_hash}.json"


def sidecar_path(out: str | Path, cell_hash: str) -> Path:
    """``OUT/records/<hash>.npz``."""
    return Path(out) / RECORDS / f"{cell_hash}.npz"


def write_sidecar(out: str | Path, cell_hash: str, arrays: dict[str, np.ndarray]) -> str:
    """Write the per-user arrays of a cell atomically; returns the file name."""
    lengths = {name: len(np.asarray(a)) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"per-user arrays of different lengths: {lengths}")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{name: np.asarray(a) for name, a in arrays.items()})
    path = sidecar_path(out, cell_hash)
    atomic_write_bytes(path, buffer.getvalue())
    return path.name


def write_record(out: str | Path, record: dict[str, Any]) -> Path:
    """Write a record atomically (``records/<config_hash>.json``)."""
    path = record_path(out, record["config_hash"])
    atomic_write_text(path, json.dumps(json_safe(record), indent=1, sort_keys=False) + "\n")
    return path


def read_record(path: str | Path) -> dict[str, Any]:
    """One record.

    Raises:
        DataError: unreadable file or not a benchmark record.
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"unreadable record ({exc})", path=path) from exc
    if not isinstance(payload, dict) or payload.get("format") != RECORD_FORMAT:
        raise DataError(f"not a benchmark record (format '{RECORD_FORMAT}')", path=path)
    return payload


def read_records(out: str | Path) -> list[dict[str, Any]]:
    """Every record under ``OUT/records`` (sorted by file name); unreadable files are
    skipped with a warning. Each record gets ``_path`` (its file)."""
    folder = Path(out) / RECORDS
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            record = read_record(path)
        except DataError as exc:
            logger.warning("%s", exc)
            continue
        record["_path"] = str(path)
        records.append(record)
    return records


def record_sidecar(record: dict[str, Any]) -> Path | None:
    """Where a record's per-user sidecar is (None when the record names none or was not read
    from a file)."""
    entry = record.get("per_user")
    if not entry or "_path" not in record:
        return None
    return Path(record["_path"]).parent / entry["file"]


def read_sidecar(record: dict[str, Any]) -> dict[str, np.ndarray] | None:
    """The per-user arrays of a record (None when it has none)."""
    path = record_sidecar(record)
    if path is None:
        return None
    if not path.exists():
        logger.warning("missing sidecar %s", path)
        return None
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def write_failure(out: str | Path, cell_hash: str, label: str, text: str) -> Path:
    """Keep the traceback of a failed cell (``failures/<hash>.txt``)."""
    path = Path(out) / FAILURES / f"{cell_hash}.txt"
    atomic_write_text(path, f"{label}\n{datetime.now(UTC).isoformat(timespec='seconds')}\n\n{text}")
    return path


def clear_failure(out: str | Path, cell_hash: str) -> None:
    """Remove a failure note after the cell succeeded."""
    (Path(out) / FAILURES / f"{cell_hash}.txt").unlink(missing_ok=True)
