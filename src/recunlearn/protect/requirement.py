"""What must be forgotten: a set of attributes for the whole platform."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from recunlearn.core.errors import ConfigError


@dataclass(frozen=True)
class Requirement:
    """The attributes to forget, in a canonical (sorted, de-duplicated) order.

    ``Requirement.parse("gender,age")`` and ``Requirement(("age", "gender"))`` are equal, so a
    requirement can key caches and records.
    """

    attributes: tuple[str, ...]

    def __post_init__(self) -> None:
        names = tuple(sorted({a.strip() for a in self.attributes if a.strip()}))
        if not names:
            raise ConfigError("a requirement names at least one attribute")
        object.__setattr__(self, "attributes", names)

    @classmethod
    def parse(cls, value: str | Iterable[str] | Requirement) -> Requirement:
        """From ``"gender,age"``, a list of names or a Requirement."""
        if isinstance(value, Requirement):
            return value
        if isinstance(value, str):
            return cls(tuple(value.split(",")))
        return cls(tuple(value))

    @property
    def label(self) -> str:
        """Short label, e.g. ``age+gender``."""
        return "+".join(self.attributes)

    def __len__(self) -> int:
        return len(self.attributes)
