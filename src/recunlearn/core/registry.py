"""One registry pattern for every extension point: datasets, models, attackers, unlearners,
debiasing methods and benchmark cell kinds.

A :class:`Registry` maps case-insensitive names to objects. Built-in entries may be given lazily
as ``"package.module:attribute"`` strings, imported on first use, so that listing names (the CLI's
help, config validation) does not import torch-heavy modules. Unknown names are refused with a
:class:`~recunlearn.core.errors.ConfigError` that lists the known ones and suggests the closest.

>>> shapes = Registry("shape")
>>> @shapes.register("square")
... def square(side):
...     return side * side
>>> shapes.get("Square")(3)
9
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, overload

from recunlearn.core.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> object, case-insensitive, in registration order.

    Args:
        what: what the entries are, for messages (``"model"``, ``"attacker"``).
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T | str] = {}
        self._aliases: dict[str, str] = {}

    @overload
    def register(self, name: str, obj: T, *, replace: bool = False) -> T: ...

    @overload
    def register(
        self, name: str, obj: None = None, *, replace: bool = False
    ) -> Callable[[T], T]: ...

    def register(self, name: str, obj: T | None = None, *, replace: bool = False):
        """Add ``obj`` under ``name``; without ``obj``, a decorator that adds what it decorates.

        Raises:
            ConfigError: ``name`` is taken and ``replace`` is false.
        """

        def add(value: T) -> T:
            key = name.lower()
            if key in self._entries and not replace:
                raise ConfigError(f"{self.what} '{name}' is already registered")
            self._entries[key] = value
            return value

        return add if obj is None else add(obj)

    def alias(self, name: str, target: str) -> None:
        """Let ``name`` resolve to the entry ``target`` (an old or short name); aliases are
        accepted by :meth:`get` and ``in`` but not listed by :meth:`names`."""
        self._aliases[name.strip().lower()] = target.strip().lower()

    def unregister(self, name: str) -> None:
        """Remove ``name`` (e.g. a plugin's entry in a test's teardown); unknown names pass."""
        self._entries.pop(name.strip().lower(), None)

    def register_lazy(self, name: str, target: str) -> None:
        """Add ``"package.module:attribute"``, imported when the entry is first used."""
        if ":" not in target:
            raise ValueError(f"lazy target must be 'module:attribute', got {target!r}")
        self._entries[name.lower()] = target

    def get(self, name: str) -> T:
        """The entry called ``name`` (case-insensitive).

        Raises:
            ConfigError: unknown name (the message lists the known names).
        """
        key = str(name).strip().lower()
        key = self._aliases.get(key, key)
        if key not in self._entries:
            raise ConfigError(self.unknown_message(name))
        entry = self._entries[key]
        if isinstance(entry, str):
            module, _, attribute = entry.partition(":")
            entry = getattr(importlib.import_module(module), attribute)
            self._entries[key] = entry
        return entry  # type: ignore[return-value]

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def unknown_message(self, name: str) -> str:
        """``unknown <what> 'name'; known: ...`` with the closest name suggested."""
        close = difflib.get_close_matches(str(name).lower(), self.accepted(), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown {self.what} '{name}'{hint}; known: {', '.join(self._entries)}"

    def names(self) -> list[str]:
        """Every registered name, in registration order (aliases left out)."""
        return list(self._entries)

    def accepted(self) -> list[str]:
        """Every name :meth:`get` accepts: the registered names, then the aliases."""
        return [*self._entries, *self._aliases]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.strip().lower()
        return self._aliases.get(key, key) in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """(name, entry) pairs, lazy entries imported."""
        return [(name, self.get(name)) for name in self._entries]
