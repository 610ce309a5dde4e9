"""Exception types shared across the package."""

from __future__ import annotations

from pathlib import Path


class RecunlearnError(Exception):
    """Base class of every error raised on purpose by recunlearn."""


class DataError(RecunlearnError, ValueError):
    """Bad input data: always names the file (when there is one) and the field.

    Args:
        message: what is wrong, in plain words.
        path: the file the data came from, if any.
        field: the column / attribute / key concerned, if any.
    """

    def __init__(self, message: str, *, path: str | Path | None = None, field: str | None = None):
        self.path = None if path is None else Path(path)
        self.field = field
        where = []
        if path is not None:
            where.append(f"file '{path}'")
        if field is not None:
            where.append(f"field '{field}'")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)


class ConfigError(RecunlearnError, ValueError):
    """An invalid option or combination of options."""
