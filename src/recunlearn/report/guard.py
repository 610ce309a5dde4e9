"""The leakage guard's verdicts as a table (markdown for run directories, rows for the CLI)."""

from __future__ import annotations

import math
from typing import Any

from recunlearn.audit.guard import FLIP_POINTS, LeakageCheck
from recunlearn.report.format import MISSING, markdown_table

HEADER = [
    "attribute",
    "chance %",
    "before",
    "after (worst attacker)",
    "held-out",
    "transfer",
    "verdict",
]
"""Columns of :func:`leakage_rows`: distances to chance in points, signed (below chance < 0)."""


def points(value: Any) -> str:
    """``+12.3`` / ``-4.0`` points, :data:`~recunlearn.report.format.MISSING` when absent."""
    if value is None or not math.isfinite(float(value)):
        return MISSING
    return f"{float(value):+.1f}"


def leakage_rows(check: LeakageCheck) -> list[list[str]]:
    """One row per attribute of the requirement (see :data:`HEADER`)."""
    rows = []
    for row in check.table().to_dict(orient="records"):
        chance = row["chance"]
        rows.append(
            [
                row["attribute"],
                MISSING if not math.isfinite(chance) else f"{100 * chance:.1f}",
                points(row["before"]),
                f"{points(row['after'])} ({row['worst_attacker']})",
                points(row["heldout"]),
                points(row["transfer"]),
                row["verdict"],
            ]
        )
    return rows


def leakage_markdown(check: LeakageCheck) -> str:
    """The guard's table with a sentence on how to read it."""
    lines = [
        "# Leakage guard",
        "",
        "Distance of the worst attacker's balanced accuracy from chance, in points (below "
        "chance is negative and is leakage too; continuous attributes: share of the constant "
        "predictor's MAE removed). *before* / *after*: the full attacker suite, k-fold over the "
        "labelled users, on the original / protected matrix; *held-out*: a second fit without "
        "some users' labels, tested on those users; *transfer*: a logistic attacker fitted on "
        f"the original rows and tested on the protected ones (below -{FLIP_POINTS:.0f}: the "
        "attribute was flipped, not removed).",
        "",
        *markdown_table(HEADER, leakage_rows(check)),
        "",
        f"Worst distance over the protected views: {points(check.worst_distance())} points.",
    ]
    if check.skipped:
        lines += ["", "Not audited (too few users asked for them):", ""]
        lines += [f"- {name}: {reason}" for name, reason in check.skipped.items()]
    return "\n".join(lines)
