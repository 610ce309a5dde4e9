"""Validation of option mappings against a pydantic config class, with messages a user can act
on: each problem names the option (with an optional location prefix such as
``methods[3].options``), the value given, and for an unknown option the closest valid name and
the list of valid ones.

>>> from pydantic import BaseModel, ConfigDict
>>> class Small(BaseModel):
...     model_config = ConfigDict(extra="forbid")
...     epochs: int = 1
>>> option_problems(Small, {"epoch": 3})
["option 'epoch': unknown option (did you mean 'epochs'?); valid options: epochs"]
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from recunlearn.core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def _location(prefix: str, loc: tuple[Any, ...]) -> str:
    text = prefix
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(options)"


def describe_error(
    cls: type[BaseModel], error: Mapping[str, Any], prefix: str = "", noun: str = "option"
) -> str:
    """One pydantic error of ``cls`` as ``<noun> 'where': what is wrong (got value)``.

    Args:
        cls: the config class that was validated.
        error: one entry of ``ValidationError.errors()``.
        prefix: where the options sit (``methods[3].options``), prepended to the location.
        noun: how the location is introduced (``option``, or ``field`` in a config file).
    """
    loc = tuple(error.get("loc", ()))
    where = _location(prefix, loc)
    if error.get("type") == "extra_forbidden":
        valid = sorted(cls.model_fields)
        close = difflib.get_close_matches(str(loc[-1]) if loc else "", valid, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"{noun} '{where}': unknown option{hint}; valid options: {', '.join(valid)}"
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    given = error.get("input")
    shown = "" if isinstance(given, dict | list) else f" (got {given!r})"
    return f"{noun} '{where}': {message}{shown}"


def option_problems(
    cls: type[BaseModel], options: Mapping[str, Any], prefix: str = "", noun: str = "option"
) -> list[str]:
    """Every problem of ``options`` for config class ``cls`` (empty when they are valid); see
    :func:`describe_error` for ``prefix`` and ``noun``."""
    try:
        cls.model_validate(dict(options))
    except ValidationError as exc:
        return [describe_error(cls, error, prefix, noun) for error in exc.errors()]
    return []


def validate_options(cls: type[M], options: Mapping[str, Any], *, what: str) -> M:
    """``cls`` validated from ``options``.

    Args:
        cls: the pydantic config class (it should forbid extra keys).
        options: the options given (e.g. by ``--set key=value``).
        what: what is configured, for the message (``"model 'mf'"``).

    Raises:
        ConfigError: listing every problem; an unknown option comes with the valid names.
    """
    try:
        return cls.model_validate(dict(options))
    except ValidationError as exc:
        problems = [describe_error(cls, error) for error in exc.errors()]
        raise ConfigError(f"invalid options for {what}: " + "; ".join(problems)) from None


LATE_OPTION = {"hashed": "when set"}
"""``json_schema_extra`` of an option added to a method after benchmark records were made
with it: its default must reproduce the method's earlier behaviour, and the option enters a
cell's hash only when set to something else (see ``recunlearn.bench.cells.resolved_options``)."""


def is_late_option(info: FieldInfo) -> bool:
    """Whether a config field is marked :data:`LATE_OPTION`."""
    extra = info.json_schema_extra
    return isinstance(extra, dict) and extra.get("hashed") == LATE_OPTION["hashed"]
