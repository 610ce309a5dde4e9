"""``recunlearn report DIR``: the HTML page and the markdown report of a benchmark folder, and
``recunlearn report --summary benchmarks/benchmarks.yaml``: BENCHMARKS.md, organised by question
(see :mod:`recunlearn.report`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recunlearn.cli.console import console, fail
from recunlearn.core.errors import RecunlearnError


def write_report(directory: Path, out: Path | None) -> None:
    """Build one folder's report and say where it went."""
    from recunlearn.report import build_report

    try:
        files = build_report(directory, out)
    except (RecunlearnError, OSError) as exc:
        fail(exc)
    console.print(f"report written to {files.html} and {files.markdown}")


def report(
    directory: Annotated[
        Path | None, typer.Argument(help="a folder written by `recunlearn bench`")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="HTML file (default DIR/report.html; .md beside it)")
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option(
            help="a summary description (benchmarks/benchmarks.yaml): write BENCHMARKS.md"
        ),
    ] = None,
) -> None:
    """Build the report of a benchmark folder, or the BENCHMARKS.md summary of several."""
    if (directory is None) == (summary is None):
        fail("give a benchmark folder, or --summary FILE")
    if summary is not None:
        from recunlearn.report.summary import build_summary

        try:
            path = build_summary(summary)
        except (RecunlearnError, OSError) as exc:
            fail(exc)
        console.print(f"summary written to {path}")
        return
    write_report(directory, out)
