"""The one registry pattern: case-insensitive names, lazy entries, clear errors."""

from __future__ import annotations

import pytest

from recunlearn.core.errors import ConfigError
from recunlearn.core.registry import Registry


def test_register_get_and_decorator():
    shapes: Registry[object] = Registry("shape")
    shapes.register("Square", 4)

    @shapes.register("circle")
    def circle():
        return 0

    assert shapes.get("square") == 4 and shapes["CIRCLE"] is circle
    assert shapes.names() == ["square", "circle"] and "Square " in shapes and len(shapes) == 2


def test_unknown_name_lists_known_and_suggests():
    shapes: Registry[int] = Registry("shape")
    shapes.register("square", 4)
    shapes.register("circle", 0)
    with pytest.raises(
        ConfigError,
        match=r"unknown shape 'sqare' \(did you mean 'square'\?\); known: square, circle",
    ):
        shapes.get("sqare")


def test_duplicates_are_refused_unless_replaced():
    shapes: Registry[int] = Registry("shape")
    shapes.register("square", 4)
    with pytest.raises(ConfigError, match="already registered"):
        shapes.register("SQUARE", 5)
    shapes.register("square", 5, replace=True)
    assert shapes.get("square") == 5
    shapes.unregister("square")
    assert "square" not in shapes


def test_lazy_entries_are_imported_on_first_use():
    registry: Registry[object] = Registry("thing")
    registry.register_lazy("dumps", "json:dumps")
    import json

    assert registry.get("dumps") is json.dumps
    with pytest.raises(ValueError, match="module:attribute"):
        registry.register_lazy("bad", "json.dumps")


def test_aliases_resolve_but_are_not_listed():
    shapes: Registry[int] = Registry("shape")
    shapes.register("square", 4)
    shapes.alias("box", "square")
    assert shapes.get("Box") == 4 and "box" in shapes and shapes.names() == ["square"]
