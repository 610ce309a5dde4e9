"""Re-keying records made before a method gained an option.

A cell's hash covers its method's resolved options (:func:`recunlearn.bench.cells.resolved_options`),
so adding an option to a method would orphan every record made before. Options added later are
marked :data:`recunlearn.core.options.LATE_OPTION` and stay out of the hash at their default;
:func:`adopt_records` moves the records that were written while such an option was still hashed
(or before it existed) to the hash their cell has now, so a resumed grid neither recomputes them
nor counts them twice. A record is adopted only when its parameters, with its method's options
resolved again, are exactly those of a planned cell that has no record yet.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from recunlearn.bench.cells import Cell, cell_hash, resolved_options
from recunlearn.core.atomic import atomic_write_bytes
from recunlearn.core.errors import ConfigError, DataError
from recunlearn.core.records import (
    read_record,
    record_path,
    sidecar_path,
    write_record,
)

logger = logging.getLogger(__name__)


def current_params(params: dict[str, Any]) -> dict[str, Any] | None:
    """A recorded cell's parameters with its method's options resolved by today's code (None
    when the record has no post-hoc method or its options are no longer valid)."""
    method, options = params.get("unlearner"), params.get("options")
    if not isinstance(method, str) or not isinstance(options, dict):
        return None
    try:
        return {**params, "options": resolved_options(method, options)}
    except ConfigError:
        return None


def adopt_records(out: str | Path, cells: list[Cell]) -> int:
    """Move records whose cell was re-keyed by a late option to the cell's current hash.

    Args:
        out: the benchmark folder.
        cells: the planned cells.

    Returns:
        How many records were adopted.
    """
    out = Path(out)
    planned = {cell.hash: cell for cell in cells}
    adopted = 0
    for path in sorted((out / "records").glob("*.json")):
        if path.stem in planned:
            continue
        try:
            record = read_record(path)
        except DataError:
            continue
        params = current_params(record.get("params", {}))
        if params is None:
            continue
        new_hash = cell_hash(record["kind"], params)
        cell = planned.get(new_hash)
        if cell is None:
            continue
        if record_path(out, new_hash).exists():
            if read_record(record_path(out, new_hash)).get("adopted_from") == path.stem:
                _remove(out, path)  # an earlier adoption stopped before removing the original
            continue
        _move(out, record, path, cell)
        adopted += 1
    if adopted:
        logger.info("adopted %d record(s) made before a late option of their method", adopted)
    return adopted


def _move(out: Path, record: dict[str, Any], path: Path, cell: Cell) -> None:
    """Rewrite one record under its cell's hash: sidecar first, then the record, then the old
    files, so an interruption leaves at worst a duplicate that the next adoption skips."""
    old_hash = record["config_hash"]
    sidecar = record.get("per_user")
    if sidecar:
        old = sidecar_path(out, old_hash)
        new = sidecar_path(out, cell.hash)
        atomic_write_bytes(new, old.read_bytes())
        sidecar = {**sidecar, "file": new.name}
    record = {key: value for key, value in record.items() if key != "_path"}
    record.update(
        config_hash=cell.hash,
        params=dict(cell.params),
        per_user=sidecar,
        adopted_from=old_hash,
    )
    write_record(out, record)
    _remove(out, path)


def _remove(out: Path, path: Path) -> None:
    """Delete a record file and its sidecar."""
    path.unlink()
    sidecar_path(out, path.stem).unlink(missing_ok=True)
