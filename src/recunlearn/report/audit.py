"""The audit's markdown: the summary table (per attribute x attacker, worst case marked) and the
``summary.md`` of an audit folder, for :class:`~recunlearn.audit.LeakageReport` objects."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from recunlearn.audit.leakage_report import LeakageReport
from recunlearn.report.format import markdown_table, num, pct


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    return "\n".join(markdown_table(header, rows))


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
            _table(
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
        _table(SUMMARY_HEADER, summary_rows(report)),
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
            _table(["attacker", "BAcc %", "chance %", "micro-F1 %", "macro-F1 %"], rows),
            "",
        ]
    seconds = meta.get("attacker_seconds", {})
    if seconds:
        out += [
            "## Compute per attacker (sum of job seconds)",
            "",
            _table(["attacker", "seconds"], [[k, f"{v:.1f}"] for k, v in seconds.items()]),
            "",
        ]
    return "\n".join(out)
