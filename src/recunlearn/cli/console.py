"""What every command shares: results tables on stdout, errors and warnings on stderr, and the
parsing of ``key=value`` options."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

console = Console()
"""Results (stdout)."""

err_console = Console(stderr=True)
"""Errors, warnings and progress (stderr)."""


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a simple table with right-aligned numeric columns."""
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*[str(cell) for cell in row])
    console.print(table)


def fail(exc: Exception | str, code: int = 2) -> NoReturn:
    """Print ``error: ...`` on stderr and exit with ``code`` (2: bad input or options)."""
    err_console.print(f"[bold red]error:[/bold red] {exc}", soft_wrap=True)
    raise typer.Exit(code=code)


def warn(message: str) -> None:
    """Print ``warning: ...`` on stderr."""
    err_console.print(f"[yellow]warning:[/yellow] {message}", soft_wrap=True)


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_assignments(items: list[str] | None, what: str) -> dict[str, Any]:
    """Turn ``key=value`` strings into a dict (values parsed as JSON when possible)."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise typer.BadParameter(f"{what} expects key=value, got '{item}'")
        key, value = item.split("=", 1)
        out[key.strip()] = _parse_value(value.strip())
    return out
