"""``recunlearn bench CONFIG.yaml --out DIR`` and ``recunlearn report DIR``.

``bench`` runs (or resumes) a benchmark grid: one JSON record per cell under ``DIR/records``
(see :mod:`recunlearn.bench`); ``report`` turns the records into a self-contained HTML page
and a markdown file (see :mod:`recunlearn.report`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recunlearn.cli.console import console
from recunlearn.core.errors import RecunlearnError


def _fail(exc: Exception) -> None:
    console.print(f"[bold red]error:[/bold red] {exc}", soft_wrap=True)
    raise typer.Exit(code=2)


def bench(
    config: Annotated[Path, typer.Argument(help="YAML grid (see benchmarks/configs/)")],
    out: Annotated[Path, typer.Option(help="benchmark folder (records, runs, brick store)")],
    jobs: Annotated[
        int | None, typer.Option(help="cells in parallel processes (default: the config's jobs)")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
    report: Annotated[bool, typer.Option(help="build the report when done")] = False,
) -> None:
    """Run (or resume) a benchmark grid; finished cells are never recomputed."""
    from recunlearn.bench import run_bench

    try:
        result = run_bench(config, out, jobs=jobs, progress=not quiet, console=console)
    except (RecunlearnError, OSError) as exc:
        _fail(exc)
    console.print(
        f"{len(result.computed)} cells computed, {len(result.skipped)} already recorded, "
        f"{len(result.failed)} failed, {len(result.blocked)} blocked in {result.seconds:.0f} s; "
        f"records in {out / 'records'}"
    )
    if report and result.computed + result.skipped:
        _report(out, None)
    if not result.ok:
        for cell_hash, error in result.failed.items():
            console.print(f"[red]failed[/red] {cell_hash}: {error}", soft_wrap=True)
        raise typer.Exit(code=1)


def _report(directory: Path, out: Path | None) -> None:
    from recunlearn.report import build_report

    try:
        files = build_report(directory, out)
    except (RecunlearnError, OSError) as exc:
        _fail(exc)
    console.print(f"report written to {files.html} and {files.markdown}")


def report(
    directory: Annotated[Path, typer.Argument(help="a folder written by `recunlearn bench`")],
    out: Annotated[
        Path | None, typer.Option(help="HTML file (default DIR/report.html; .md beside it)")
    ] = None,
) -> None:
    """Build the HTML page and the markdown report of a benchmark folder."""
    _report(directory, out)
