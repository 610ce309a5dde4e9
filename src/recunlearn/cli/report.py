"""``recunlearn report DIR``: the HTML page and the markdown report of a benchmark folder (see
:mod:`recunlearn.report`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recunlearn.cli.console import console, fail
from recunlearn.core.errors import RecunlearnError


def write_report(directory: Path, out: Path | None) -> None:
    from recunlearn.report import build_report

    try:
        files = build_report(directory, out)
    except (RecunlearnError, OSError) as exc:
        fail(exc)
    console.print(f"report written to {files.html} and {files.markdown}")


def report(
    directory: Annotated[Path, typer.Argument(help="a folder written by `recunlearn bench`")],
    out: Annotated[
        Path | None, typer.Option(help="HTML file (default DIR/report.html; .md beside it)")
    ] = None,
) -> None:
    """Build the HTML page and the markdown report of a benchmark folder."""
    write_report(directory, out)
