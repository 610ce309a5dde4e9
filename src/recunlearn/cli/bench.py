"""``recunlearn bench CONFIG.yaml --out DIR``: run (or resume) a benchmark grid, one JSON record
per cell under ``DIR/records`` (see :mod:`recunlearn.bench`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recunlearn.cli.console import console, err_console, fail
from recunlearn.cli.report import write_report
from recunlearn.core.errors import RecunlearnError


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
        fail(exc)
    console.print(
        f"{len(result.computed)} cells computed, {len(result.skipped)} already recorded, "
        f"{len(result.failed)} failed, {len(result.blocked)} blocked in {result.seconds:.0f} s; "
        f"records in {out / 'records'}"
    )
    if report and result.computed + result.skipped:
        write_report(out, None)
    if not result.ok:
        for cell_hash, error in result.failed.items():
            err_console.print(f"[red]failed[/red] {cell_hash}: {error}", soft_wrap=True)
        raise typer.Exit(code=1)
