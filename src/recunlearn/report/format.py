"""The one number formatter and the one plain markdown-table helper of every report, audit
summary and results table (HTML page, BENCHMARKS.md, ``summary.md`` of an audit, the CLI)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

MISSING = "–"
"""What a missing or non-finite number is shown as."""


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def pct(mean: Any, std: Any = None, *, scale: float = 100.0, digits: int = 2) -> str:
    """``"65.61 ± 1.20"`` from fractions (percent by default); :data:`MISSING` when absent."""
    if _missing(mean):
        return MISSING
    text = f"{scale * float(mean):.{digits}f}"
    if not _missing(std):
        text += f" ± {scale * float(std):.{digits}f}"
    return text


def num(mean: Any, std: Any = None, digits: int = 3) -> str:
    """``"7.412 ± 0.210"``; :data:`MISSING` when absent."""
    return pct(mean, std, scale=1.0, digits=digits)


def value(item: Any, percent: bool = False) -> str:
    """One table value: percent with two decimals when asked, 4 significant digits for other
    floats, text as it is, :data:`MISSING` for None."""
    if item is None:
        return MISSING
    if isinstance(item, float):
        return pct(item) if percent else (MISSING if _missing(item) else f"{item:.4g}")
    return str(item)


def mean_std(values: Iterable[Any]) -> tuple[float, float | None, int]:
    """Mean, sample std (None for fewer than two values) and count, ignoring None / NaN."""
    clean = [float(v) for v in values if not _missing(v)]
    if not clean:
        return math.nan, None, 0
    array = np.asarray(clean)
    std = float(array.std(ddof=1)) if len(array) > 1 else None
    return float(array.mean()), std, len(array)


def escape(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> list[str]:
    """The lines of a markdown table (cells escaped)."""
    lines = ["| " + " | ".join(escape(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]
    return lines
