"""The result of an audit: one record per attacker x attribute x fold x seed, and summaries.

Summaries average over folds and seeds (mean and sample standard deviation, ddof = 1; 0 for a
single record). The worst case of an attribute is the attacker that leaks most: for a
categorical attribute the largest ``|mean BAcc - chance|`` (distance of the means, so noise
around chance does not add up), for a continuous one the lowest mean MAE.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recunlearn.audit.metrics import CATEGORICAL_METRICS, CONTINUOUS_METRICS
from recunlearn.core.atomic import atomic_write_text
from recunlearn.core.errors import DataError
from recunlearn.core.serialize import json_safe

FORMAT = "recunlearn.leakage_report/1"

KEY_COLUMNS = ("attribute", "kind", "attacker", "seed", "fold")
COUNT_COLUMNS = ("n_train", "n_test")
METRIC_COLUMNS = (*CATEGORICAL_METRICS, "n_test_classes", *CONTINUOUS_METRICS)
TIME_COLUMNS = ("fit_seconds", "predict_seconds")
RECORD_COLUMNS = (*KEY_COLUMNS, *COUNT_COLUMNS, *METRIC_COLUMNS, *TIME_COLUMNS)
"""Columns of :attr:`LeakageReport.records` (metrics of the other kind are NaN)."""

SUMMARY_METRICS = {
    "categorical": ("bacc", "chance_bacc", "micro_f1", "macro_f1", "auc"),
    "continuous": ("mae", "chance_mae", "r2"),
}


def _std(values: pd.Series) -> float:
    values = values.dropna()
    return float(values.std(ddof=1)) if len(values) > 1 else (0.0 if len(values) else math.nan)


@dataclass
class LeakageReport:
    """Records of an audit plus its metadata.

    Attributes:
        records: one row per attacker x attribute x fold x seed (columns
            :data:`RECORD_COLUMNS`).
        meta: users used and left out per attribute, sample sizes, chance levels, seeds,
            folds, protocol, join counts, wall seconds per attacker, versions.
    """

    records: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        records = self.records.copy()
        for column in RECORD_COLUMNS:
            if column not in records.columns:
                records[column] = np.nan
        for column in (*METRIC_COLUMNS, *TIME_COLUMNS):
            records[column] = pd.to_numeric(records[column], errors="coerce").astype(float)
        for column in ("seed", "fold", *COUNT_COLUMNS):
            values = pd.to_numeric(records[column], errors="coerce")
            records[column] = values.astype("int64") if values.notna().all() else values
        self.records = records[list(RECORD_COLUMNS)].reset_index(drop=True)

    # ----------------------------------------------------------------------------- views
    @property
    def attributes(self) -> list[str]:
        """Audited attributes, in audit order."""
        return list(dict.fromkeys(self.records["attribute"]))

    @property
    def attackers(self) -> list[str]:
        """Attackers used, in audit order."""
        return list(dict.fromkeys(self.records["attacker"]))

    def kind(self, attribute: str) -> str:
        """``"categorical"`` or ``"continuous"``."""
        kinds = self.records.loc[self.records["attribute"] == attribute, "kind"]
        if kinds.empty:
            raise KeyError(f"no records for attribute '{attribute}'")
        return str(kinds.iloc[0])

    def summary(self) -> pd.DataFrame:
        """Per attribute x attacker: ``<metric>_mean`` and ``<metric>_std`` over folds and seeds.

        Also ``n`` (records), ``seconds`` (fit + predict), ``worst`` (the attribute's
        worst-case attacker) and, for categorical attributes, ``bacc_gap`` = |mean BAcc - mean
        chance|, ``bacc_null_sd`` (the spread of a guesser's BAcc, see
        :func:`recunlearn.audit.core.null_bacc_sd`) and ``bacc_z`` = (mean BAcc - chance) /
        ``bacc_null_sd`` (|z| < 2: indistinguishable from chance).
        """
        rows = []
        for (attribute, attacker), group in self.records.groupby(
            ["attribute", "attacker"], sort=False
        ):
            kind = str(group["kind"].iloc[0])
            row: dict[str, Any] = {
                "attribute": attribute,
                "kind": kind,
                "attacker": attacker,
                "n": len(group),
            }
            for metric in SUMMARY_METRICS[kind]:
                row[f"{metric}_mean"] = float(group[metric].mean())
                row[f"{metric}_std"] = _std(group[metric])
            if kind == "categorical":
                row["bacc_gap"] = abs(row["bacc_mean"] - row["chance_bacc_mean"])
                null_sd = self.meta.get("per_attribute", {}).get(attribute, {}).get("bacc_null_sd")
                null_sd = math.nan if null_sd is None else float(null_sd)
                row["bacc_null_sd"] = null_sd
                row["bacc_z"] = (
                    (row["bacc_mean"] - row["chance_bacc_mean"]) / null_sd
                    if null_sd > 0
                    else math.nan
                )
            row["seconds"] = float(group["fit_seconds"].sum() + group["predict_seconds"].sum())
            rows.append(row)
        table = pd.DataFrame(rows)
        if table.empty:
            return table
        table["worst"] = False
        for attribute in self.attributes:
            table.loc[self._worst_index(table, attribute), "worst"] = True
        return table

    @staticmethod
    def _worst_index(table: pd.DataFrame, attribute: str) -> Any:
        part = table[table["attribute"] == attribute]
        if part["kind"].iloc[0] == "categorical":
            return part["bacc_gap"].idxmax()
        return part["mae_mean"].idxmin()

    def worst_case(self) -> pd.DataFrame:
        """One row per attribute: the summary row of the attacker that leaks most."""
        table = self.summary()
        if table.empty:
            return table
        return table[table["worst"]].reset_index(drop=True)

    def average(self, attributes: Sequence[str] | None = None) -> pd.DataFrame:
        """BAcc, micro-F1, macro-F1 and |BAcc - chance| averaged over the attributes of a
        requirement (LEGO's multi-attribute rows), per attacker and for the worst case.

        The average over attributes is taken within each (seed, fold), then mean and std over
        (seed, fold). Only categorical attributes enter; the worst-case row uses each
        attribute's worst attacker.

        Args:
            attributes: the requirement (default: every categorical attribute audited).
        """
        names = list(attributes) if attributes is not None else self.attributes
        names = [n for n in names if n in self.attributes and self.kind(n) == "categorical"]
        if not names:
            return pd.DataFrame()
        part = self.records[self.records["attribute"].isin(names)]
        worst = self.worst_case().set_index("attribute")["attacker"]
        selections = {a: part[part["attacker"] == a] for a in self.attackers}
        selections["worst case"] = part[
            part["attacker"].to_numpy() == worst.reindex(part["attribute"]).to_numpy()
        ]
        rows = []
        for label, frame in selections.items():
            if frame["attribute"].nunique() != len(names):
                continue
            per_run = frame.groupby(["seed", "fold"])[
                ["bacc", "chance_bacc", "micro_f1", "macro_f1"]
            ].mean()
            per_run["bacc_gap"] = (per_run["bacc"] - per_run["chance_bacc"]).abs()
            row: dict[str, Any] = {"attacker": label, "attributes": "+".join(names)}
            for metric in ("bacc", "chance_bacc", "micro_f1", "macro_f1", "bacc_gap"):
                row[f"{metric}_mean"] = float(per_run[metric].mean())
                row[f"{metric}_std"] = _std(per_run[metric])
            rows.append(row)
        return pd.DataFrame(rows)

    # ---------------------------------------------------------------------------- output
    def to_dict(self) -> dict[str, Any]:
        """``{"format", "meta", "records"}`` with NaN as None."""
        return {
            "format": FORMAT,
            "meta": json_safe(self.meta),
            "records": json_safe(self.records.to_dict(orient="records")),
        }

    def to_json(self, path: str | Path) -> Path:
        """Write the report as JSON (atomically) and return the path."""
        path = Path(path)
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @classmethod
    def from_dict(cls, payload: dict[str, Any], path: str | Path | None = None) -> LeakageReport:
        """Rebuild a report from :meth:`to_dict` output.

        Raises:
            DataError: not a leakage report.
        """
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise DataError(f"not a leakage report (expected format '{FORMAT}')", path=path)
        records = pd.DataFrame(payload.get("records", []), columns=list(RECORD_COLUMNS))
        return cls(records, dict(payload.get("meta", {})))

    @classmethod
    def from_json(cls, path: str | Path) -> LeakageReport:
        """Read a report written by :meth:`to_json`.

        Raises:
            DataError: missing file, invalid JSON or not a leakage report.
        """
        path = Path(path)
        if not path.is_file():
            raise DataError("file not found", path=path)
        try:
            payload = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON ({exc})", path=path) from exc
        return cls.from_dict(payload, path)
