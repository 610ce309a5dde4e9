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


AFRL_MODELS = {"mf": "PMF", "ncf": "DeepModel"}
"""Our base model -> the AFRL paper's (PMF = BPR dot product; NCF stands in for DeepModel)."""
AFRL_METHODS = {"original": "base", "sm": "sm", "ffvae": "ffvae", "afrl": "afrl"}
"""Our method name -> the AFRL paper's row."""


def afrl_table2(model: str, method: str) -> dict[str, list[float]] | None:
    """AFRL Table 2 (ML-1M): requirement (``gender+age``...) -> ``[AUC, NDCG@10, HR@10]`` as
    fractions, for our ``model`` (``mf`` / ``ncf``) and ``method`` (``original``, ``sm``,
    ``ffvae``, ``afrl``); None when the paper has no such row."""
    paper_model, paper_method = AFRL_MODELS.get(model), AFRL_METHODS.get(method)
    if paper_model is None or paper_method is None:
        return None
    for row in load_reference()["afrl_table2"]["rows"]:
        if row["model"] == paper_model and row["method"] == paper_method:
            return row["values"]
    return None


def afrl_reference_only() -> list[dict[str, Any]]:
    """AFRL Table 2 rows of models we do not have (SASRec: its base, AFRL and PFRec rows),
    shown for reference only; each with ``model``, ``method`` and ``values``."""
    ours = set(AFRL_MODELS.values())
    return [row for row in load_reference()["afrl_table2"]["rows"] if row["model"] not in ours]
