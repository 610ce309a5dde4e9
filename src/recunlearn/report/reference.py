"""The papers' reported numbers, kept as package data (``reference_numbers.json``).

Entries cite their paper and table; values are percent ``[mean, std]`` (std may be null).
The report shows them beside ours only where the dataset label matches exactly: a partial
copy of a dataset (e.g. ``ML-1M, users 1-2999``) is not comparable with the paper's.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

REFERENCE_FILE = "reference_numbers.json"


@lru_cache(maxsize=1)
def _load() -> str:
    return resources.files("recunlearn.report").joinpath(REFERENCE_FILE).read_text("utf-8")


def load_reference() -> dict[str, Any]:
    """The whole reference document (a fresh copy)."""
    return json.loads(_load())


def lego_table1(
    dataset: str, model: str, requirement: list[str] | tuple[str, ...], method: str
) -> dict[str, Any] | None:
    """LEGO Table 1 / 2 entry (``values``: column -> [mean, std]; ``table``) or None."""
    wanted = set(requirement)
    for row in load_reference()["lego_table1"]["rows"]:
        if (
            row["dataset"] == dataset
            and row["model"] == model
            and row["method"] == method.lower()
            and set(row["requirement"]) == wanted
        ):
            return row
    return None


def lego_datasets() -> set[str]:
    """Dataset labels LEGO reports."""
    return {row["dataset"] for row in load_reference()["lego_table1"]["rows"]}


def advx_table2(dataset: str, row: str) -> dict[str, Any] | None:
    """AdvX Table 2 entry (``values``: column -> [mean, std]) or None."""
    for entry in load_reference()["advx_table2"]["rows"]:
        if entry["dataset"] == dataset and entry["row"] == row:
            return entry
    return None


def citation(key: str) -> str:
    """``paper, tables`` of a reference entry."""
    entry = load_reference()[key]
    return f"{entry['paper']}, {entry['tables']}"
