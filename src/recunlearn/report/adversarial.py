"""Grid records as tables: one row per record, means and stds per cell, best-debiasing picks.

Leakage columns per attribute ``a``, from the record's primary leakage (``cv`` = LEGO's
cross-validation on loo records, else ``heldout`` = train users -> test users); on loo records
with hidden labels, ``a:heldout_worst`` is the worst case on the users the adversaries never saw:

* categorical: ``a:advx`` (BAcc of the exact AdvX attack, user_kfold only), ``a:worst``
  (BAcc of the audit's worst-case attacker), ``a:worst_gap`` (its |BAcc - chance|),
  ``a:paper_mlp`` / ``a:paper_mlp_f1`` (LEGO's attacker: BAcc, micro-F1), ``a:chance``;
* continuous: ``a:advx`` / ``a:worst`` = MAE on the scaled target (AdvX's ``MAE_A``), and
  ``a:chance`` = the scaled MAE of the training median.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

KEYS = ("dataset", "protocol", "model", "objective", "attackers", "cell")
"""Columns identifying a grid cell across replicates (``attackers`` keeps a full-audit rerun of
a cell apart from its default-attacker records: its worst case is over more attackers)."""


def attacker_set(record: Mapping[str, Any]) -> str:
    """The record's audit attackers as one sorted, comma-joined label (``""`` if unrecorded)."""
    return ",".join(sorted(record.get("attackers") or []))


def cell_label(lambdas: Mapping[str, float] | None) -> str:
    """``base`` or ``gender=400,age_raw=200`` (attribute order as given)."""
    if lambdas is None:
        return "base"
    return ",".join(f"{name}={value:g}" for name, value in lambdas.items())


def objective_of(record: Mapping[str, Any]) -> str:
    """``none`` (no heads), ``reversal`` (the papers' gradient reversal) or ``confusion``.

    Cells whose epoch was selected by the heads' leakage (``selection="adversary"``) get a
    ``-advsel`` suffix (``reversal-advsel``): they are another training recipe, so their
    replicates are never averaged with, nor shown as, the NDCG-selected cells.
    """
    if record.get("lambdas") is None:
        return "none"
    adversary = record.get("adversary") or {}
    objective = adversary.get("objective", "reversal")
    if adversary.get("selection", "ndcg") == "adversary":
        objective += "-advsel"
    return objective


def _leakage_source(record: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """The primary leakage of a record: ``cv`` on loo (LEGO's protocol), else ``heldout``."""
    leakage = record.get("leakage") or {}
    if "cv" in leakage:
        return "cv", leakage["cv"]
    return "heldout", leakage.get("heldout", {})


def record_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten one grid record (see the module docstring for the leakage columns)."""
    lambdas = record.get("lambdas")
    row: dict[str, Any] = {
        "dataset": record["dataset"],
        "protocol": record["protocol"],
        "model": record["model"],
        "objective": objective_of(record),
        "attackers": attacker_set(record),
        "cell": cell_label(lambdas),
        "base": lambdas is None,
        "replicate": record["replicate"],
        "seconds_per_epoch": record.get("seconds_per_epoch"),
        "wall_seconds": (record.get("train_seconds") or 0.0) + (record.get("audit_seconds") or 0.0),
        "best_epoch": record.get("best_epoch"),
    }
    for name, value in (lambdas or {}).items():
        row[f"lambda:{name}"] = value
    for metric in ("HR@10", "NDCG@10", "Recall@10", "RecallCapped@10"):
        row[metric] = record["test"].get(metric)
    source, leakage = _leakage_source(record)
    row["leakage_source"] = source
    scales = record.get("scales") or {}
    for name, entry in leakage.items():
        if entry["kind"] == "categorical":
            row[f"{name}:worst"] = entry["worst"]["bacc"]
            row[f"{name}:worst_gap"] = entry["worst"]["bacc_gap"]
            row[f"{name}:worst_attacker"] = entry["worst"]["attacker"]
            row[f"{name}:chance"] = entry["worst"]["chance_bacc"]
            if "paper_mlp" in entry:
                row[f"{name}:paper_mlp"] = entry["paper_mlp"]["bacc"]
                row[f"{name}:paper_mlp_f1"] = entry["paper_mlp"]["micro_f1"]
        else:
            scale = float(scales.get(name, 1.0))
            row[f"{name}:worst"] = entry["worst"]["mae"] / scale
            row[f"{name}:worst_attacker"] = entry["worst"]["attacker"]
            row[f"{name}:chance"] = entry["worst"]["chance_mae"] / scale
    held = (record.get("leakage") or {}).get("heldout", {}) if source == "cv" else {}
    for name, entry in held.items():
        value = entry["worst"]["bacc"] if entry["kind"] == "categorical" else entry["worst"]["mae"]
        row[f"{name}:heldout_worst"] = (
            value if entry["kind"] == "categorical" else value / float(scales.get(name, 1.0))
        )
    for name, entry in (record.get("advx") or {}).items():
        row[f"{name}:advx"] = entry.get("bacc", entry.get("mae_scaled"))
    return row


def records_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per record (:func:`record_row`)."""
    return pd.DataFrame([record_row(r) for r in records])


def latest_per_replicate(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per cell and replicate: when a cell was recorded twice for the same fold or
    seed (a base cell audited again for other attributes), the latest record."""
    return frame.drop_duplicates(subset=[*KEYS, "replicate"], keep="last")


def cell_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample std (``<column>_std``) of every numeric column per cell, with ``n``.

    Over :func:`latest_per_replicate` rows, so a fold is never weighted twice.
    """
    if frame.empty:
        return frame
    frame = latest_per_replicate(frame)
    numeric = [
        c
        for c in frame.columns
        if c not in (*KEYS, "replicate", "base") and pd.api.types.is_numeric_dtype(frame[c])
    ]
    grouped = frame.groupby(list(KEYS), sort=False)
    means = grouped[numeric].mean()
    stds = grouped[numeric].std(ddof=1).add_suffix("_std")
    table = means.join(stds)
    table["n"] = grouped.size()
    table["base"] = grouped["base"].first()
    return table.reset_index()


def variant(row: Mapping[str, Any], attributes: Sequence[str]) -> str:
    """``base``, ``zero`` (all lambdas 0), ``adv:<attr>`` (one attribute > 0) or ``advx``;
    cells trained with another objective than gradient reversal get it as a prefix
    (``confusion:adv:gender``), so the papers' picks never select them."""
    if row.get("base"):
        return "base"
    active = [a for a in attributes if (row.get(f"lambda:{a}") or 0) > 0]
    if not active:
        kind = "zero"
    elif len(active) == 1:
        kind = f"adv:{active[0]}"
    else:
        kind = "advx"
    objective = row.get("objective", "reversal")
    return kind if objective in ("reversal", None) else f"{objective}:{kind}"


def best_debiasing(
    table: pd.DataFrame,
    attribute: str,
    *,
    kind: str,
    column: str = "advx",
    candidates: pd.Series | None = None,
) -> pd.Series | None:
    """The cell that removes ``attribute`` best (AdvX's per-attribute pick).

    Categorical: smallest ``|BAcc - chance|`` of ``<attribute>:<column>``; continuous:
    largest scaled MAE. ``candidates`` is a boolean mask of the rows to choose from. Like the
    paper, the pick uses the reported (test) numbers: it is optimistic.
    """
    part = table if candidates is None else table[candidates]
    name = f"{attribute}:{column}"
    if part.empty or name not in part.columns or part[name].isna().all():
        return None
    if kind == "categorical":
        score = (part[name] - part.get(f"{attribute}:chance", 0.5)).abs()
        return part.loc[score.idxmin()]
    return part.loc[part[name].idxmax()]


def full_grid_replicates(frame: pd.DataFrame) -> list[int]:
    """Replicates (folds) holding more gradient-reversal cells than the others, e.g. the fold
    of a single-fold full grid beside five-fold runs of a few cells; ``[]`` when balanced."""
    reversal = frame[frame["objective"] == "reversal"]
    if reversal.empty:
        return []
    counts = reversal.groupby("replicate")["cell"].nunique()
    if counts.min() == counts.max():
        return []
    return sorted(int(r) for r in counts[counts == counts.max()].index)


def full_grid_fold(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """``frame`` (a records frame) narrowed to its :func:`full_grid_replicates` and a
    `` · fold 0 only`` note; ``frame`` unchanged and ``""`` when every replicate holds the same
    cells."""
    replicates = full_grid_replicates(frame)
    if not replicates:
        return frame, ""
    folds = ", ".join(str(r) for r in replicates)
    return frame[frame["replicate"].isin(replicates)], f" · fold {folds} only"


def figure_parts(frame: pd.DataFrame):
    """One cell table per figure: per (dataset, protocol, model) and objective, that
    objective's cells with the base cells, from the full-grid fold alone when one fold holds
    more cells than the others (a heat map must not mix a one-fold cell with five-fold means).

    Yields ``((dataset, protocol, model, objective), cell table, title note)``.
    """
    for (dataset, protocol, model), part in frame.groupby(
        ["dataset", "protocol", "model"], sort=False
    ):
        part, note = full_grid_fold(part)
        for objective in [o for o in dict.fromkeys(part["objective"]) if o != "none"]:
            chosen = part[part["objective"].isin([objective, "none"])]
            yield (dataset, protocol, model, objective), cell_table(chosen), note


def as_percent(values: np.ndarray | pd.Series) -> np.ndarray:
    """Fractions to percent."""
    return 100.0 * np.asarray(values, dtype=float)
