"""Printing the leakage guard's verdicts and enforcing ``--max-leakage`` (shared by the commands
that write protected embeddings: ``unlearn`` and ``train --adversary``)."""

from __future__ import annotations

import typer

from recunlearn.audit.guard import TARGET_POINTS, LeakageCheck
from recunlearn.cli.console import print_table, warn
from recunlearn.report.guard import HEADER, leakage_rows, points

LEAKAGE_EXIT = 3
"""Exit code when ``--max-leakage`` is exceeded (the run is still written, with its audit)."""


def show_leakage(
    check: LeakageCheck, max_leakage: float | None = None, hint: str | None = None
) -> None:
    """Print the guard's table, warn on stderr where leakage rose, stayed or flipped, print
    ``hint`` (a stronger setting of the method) when the worst distance exceeds ``max_leakage``
    or, without it, :data:`TARGET_POINTS`, and exit with :data:`LEAKAGE_EXIT` when it exceeds
    ``max_leakage``."""
    print_table(
        "leakage guard · worst attacker's distance from chance, points (below chance < 0)",
        HEADER,
        leakage_rows(check),
    )
    for name, reason in check.skipped.items():
        warn(f"{name}: NOT AUDITED ({reason})")
    for row in check.table().to_dict(orient="records"):
        if row["verdict"] == "flipped":
            warn(
                f"{row['attribute']}: FLIPPED, not removed: an attacker trained on the original "
                f"embeddings scores {points(row['transfer'])} points from chance; inverting its "
                "predictions reads the attribute back"
            )
        elif row["verdict"] in ("raised", "unchanged"):
            warn(
                f"{row['attribute']}: leakage {row['verdict'].upper()} "
                f"(before {points(row['before'])}, worst after {points(row['after'])} points)"
            )
    worst = check.worst_distance()
    if hint and worst > (TARGET_POINTS if max_leakage is None else max_leakage):
        warn(f"hint: {hint}")
    if max_leakage is not None and worst > max_leakage:
        warn(f"worst distance {worst:.1f} points exceeds --max-leakage {max_leakage:g}")
        raise typer.Exit(code=LEAKAGE_EXIT)
