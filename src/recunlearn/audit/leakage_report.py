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

    def to_markdown(self) -> str:
        """A markdown summary: inputs, per attribute x attacker table, worst cases, averages."""
        return render_markdown(self)


# ------------------------------------------------------------------------------- markdown
def pct(mean: float, std: float | None = None) -> str:
    """``"65.61 ± 1.20"`` in percent; ``"-"`` for NaN."""
    if mean is None or not math.isfinite(mean):
        return "-"
    if std is None or not math.isfinite(std):
        return f"{100 * mean:.2f}"
    return f"{100 * mean:.2f} ± {100 * std:.2f}"


def num(mean: float, std: float | None = None, digits: int = 3) -> str:
    """``"7.412 ± 0.210"``; ``"-"`` for NaN."""
    if mean is None or not math.isfinite(mean):
        return "-"
    if std is None or not math.isfinite(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def summary_rows(report: LeakageReport) -> list[list[str]]:
    """Rows of the summary table: attribute, attacker, BAcc / MAE vs chance, F1s, AUC / R²."""
    rows = []
    for row in report.summary().to_dict(orient="records"):
        mark = "◀ worst" if row["worst"] else ""
        if row["kind"] == "categorical":
            rows.append(
                [
                    row["attribute"],
                    row["attacker"],
                    f"{pct(row['bacc_mean'], row['bacc_std'])} / {pct(row['chance_bacc_mean'])}",
                    f"{pct(row['bacc_gap'])} (z {row['bacc_z']:+.1f})"
                    if math.isfinite(row.get("bacc_z", math.nan))
                    else pct(row["bacc_gap"]),
                    pct(row["micro_f1_mean"], row["micro_f1_std"]),
                    pct(row["macro_f1_mean"], row["macro_f1_std"]),
                    pct(row["auc_mean"], row["auc_std"]),
                    mark,
                ]
            )
        else:
            rows.append(
                [
                    row["attribute"],
                    row["attacker"],
                    f"MAE {num(row['mae_mean'], row['mae_std'])} / {num(row['chance_mae_mean'])}",
                    "-",
                    "-",
                    "-",
                    f"R² {num(row['r2_mean'], row['r2_std'])}",
                    mark,
                ]
            )
    return rows


SUMMARY_HEADER = [
    "attribute",
    "attacker",
    "BAcc % / chance (MAE / chance MAE)",
    "distance to chance % (z)",
    "micro-F1 %",
    "macro-F1 %",
    "AUC % (R²)",
    "",
]


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(report: LeakageReport) -> str:
    """The markdown of :meth:`LeakageReport.to_markdown`."""
    meta = report.meta
    out = ["# Attribute-inference audit", ""]
    source = meta.get("embeddings", {})
    protocol = meta.get("protocol", "?")
    folds = meta.get("n_folds")
    how = f"stratified {folds}-fold CV" if protocol == "kfold" else "fixed test users"
    out.append(
        f"Embeddings: {source.get('path') or 'in memory'} ({source.get('n_rows')} users x "
        f"{source.get('dim')}); attributes: {meta.get('attributes_source') or 'in memory'}."
    )
    join = meta.get("join", {})
    out.append(
        f"Join by {join.get('join', '?')}: {join.get('n_matched')} users matched, "
        f"{join.get('n_embedding_only')} embedding rows without attributes, "
        f"{join.get('n_attribute_only')} attribute rows without embeddings."
    )
    out.append(
        f"Protocol: {how}, seeds {meta.get('seeds')}; attackers: "
        f"{', '.join(meta.get('attackers', report.attackers))}; wall time "
        f"{meta.get('wall_seconds', float('nan')):.1f} s for {meta.get('n_fits')} fits on "
        f"{meta.get('workers')} worker process(es)."
    )
    out.append("")
    per_attr = meta.get("per_attribute", {})
    if per_attr:
        rows = []
        for name, entry in per_attr.items():
            chance = (
                pct(entry.get("chance_bacc"))
                if entry.get("kind") == "categorical"
                else num(entry.get("chance_mae"))
            )
            rows.append(
                [
                    name,
                    entry.get("kind"),
                    entry.get("n_used"),
                    entry.get("n_left_out_no_label"),
                    entry.get("n_dropped_rare", 0),
                    entry.get("sample_size") or "-",
                    entry.get("n_test_users") or "-",
                    chance,
                ]
            )
        out += [
            "## Users per attribute",
            "",
            _md_table(
                [
                    "attribute",
                    "kind",
                    "used",
                    "left out (no label)",
                    "dropped (rare class)",
                    "sample",
                    "fixed test users",
                    "chance (BAcc % / MAE)",
                ],
                rows,
            ),
            "",
        ]
    out += [
        "## Leakage per attribute and attacker (mean ± std over folds and seeds)",
        "",
        _md_table(SUMMARY_HEADER, summary_rows(report)),
        "",
    ]
    average = report.average()
    if not average.empty:
        rows = [
            [
                row["attacker"],
                pct(row["bacc_mean"], row["bacc_std"]),
                pct(row["chance_bacc_mean"]),
                pct(row["micro_f1_mean"], row["micro_f1_std"]),
                pct(row["macro_f1_mean"], row["macro_f1_std"]),
            ]
            for row in average.to_dict(orient="records")
        ]
        out += [
            f"## Average over the categorical attributes ({average['attributes'].iloc[0]})",
            "",
            _md_table(["attacker", "BAcc %", "chance %", "micro-F1 %", "macro-F1 %"], rows),
            "",
        ]
    seconds = meta.get("attacker_seconds", {})
    if seconds:
        out += [
            "## Compute per attacker (sum of job seconds)",
            "",
            _md_table(["attacker", "seconds"], [[k, f"{v:.1f}"] for k, v in seconds.items()]),
            "",
        ]
    return "\n".join(out)
