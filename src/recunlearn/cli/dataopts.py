"""Data options shared by the commands that load a dataset (``train``, ``data describe``) or
reload a run's data (``evaluate``, ``unlearn``, ``audit``).

Paths are made absolute before they enter a spec, so a run directory's ``config.json`` says
where its data is whatever folder a later command runs from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
"""Suffixes of a dataset given as a file path (``--dataset ratings.csv``)."""


def absolute(path: str | Path | None) -> str | None:
    """``path`` made absolute (``~`` expanded, symlinks resolved); ``None`` stays ``None``."""
    if path is None:
        return None
    return str(Path(path).expanduser().resolve())


def dataset_name(name: str) -> str:
    """A dataset name as given, or an absolute path when it is a table file's path."""
    if Path(name).suffix.lower() in TABLE_SUFFIXES and Path(name).expanduser().exists():
        return str(absolute(name))
    return name


def loader_options(allow_missing_timestamp: bool, kinds: list[str] | None) -> dict[str, Any]:
    """Loader options of ``--allow-missing-timestamp`` and ``--kind name=kind`` (only the ones
    given, so specs of runs that use neither are unchanged).

    Raises:
        ConfigError: a ``--kind`` that is not ``name=categorical|continuous``.
    """
    from recunlearn.experiments.audit import parse_kinds

    options: dict[str, Any] = {}
    if allow_missing_timestamp:
        options["allow_missing_timestamp"] = True
    declared = parse_kinds(kinds)
    if declared:
        options["attribute_kinds"] = declared
    return options


MISSING_TIMESTAMP_HELP = (
    "csv/parquet/recbole data without a timestamp column: use the row order as time"
)
KIND_HELP = "attribute kind name=categorical|continuous of csv/parquet/recbole data (repeatable)"
DATA_DIR_HELP = "where the run's data is now, if it moved since the run was trained"
DATA_ATTRIBUTES_HELP = "where the run's user-attribute table is now (csv/parquet data)"
