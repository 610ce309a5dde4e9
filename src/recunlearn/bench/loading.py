"""Loading a ``recunlearn bench`` grid: YAML to a validated :class:`~recunlearn.bench.config.BenchConfig`.

Pydantic's errors are re-worded so that each names the file and the field (``methods[2].method``,
with a close match for a misspelt key); names are checked against the registries (models,
methods, attackers, cell kinds, dataset ids) and every option mapping against the config of
what it configures (``methods[3].options.calibration_steps``), so a bad value fails before any
cell runs.
"""

from __future__ import annotations

import difflib
import importlib
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from recunlearn.audit import ATTACKERS
from recunlearn.bench.config import AdversarialSettings, BenchConfig, PersonalSettings
from recunlearn.bench.registry import KINDS
from recunlearn.core.errors import ConfigError
from recunlearn.core.options import option_problems
from recunlearn.models.registry import MODELS
from recunlearn.protect.posthoc.registry import UNLEARNERS


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


def _section_class(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that holds the last key of ``loc`` (for suggestions)."""

    current: Any = BenchConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        annotation = field.annotation
        candidates = [annotation, *typing.get_args(annotation)]
        for arg in list(candidates):
            candidates += list(typing.get_args(arg))
        current = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _reword(error: dict[str, Any]) -> str:
    loc = tuple(error.get("loc", ()))
    where = _location(loc)
    if error.get("type") == "extra_forbidden":
        section = _section_class(loc)
        allowed = sorted(section.model_fields) if section is not None else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        listing = f"; allowed: {', '.join(allowed)}" if allowed else ""
        return f"field '{where}': unknown field{hint}{listing}"
    if error.get("type") == "missing":
        return f"field '{where}': required field missing"
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    given = error.get("input")
    shown = "" if isinstance(given, dict | list) else f" (got {given!r})"
    return f"field '{where}': {message}{shown}"


def config_error(path: str | Path | None, field: str, message: str) -> ConfigError:
    """A :class:`ConfigError` naming the config file and the field."""
    prefix = f"config '{path}'" if path is not None else "config"
    return ConfigError(f"{prefix}: field '{field}': {message}")


def parse_config(payload: Any, path: str | Path | None = None) -> BenchConfig:
    """Validate a parsed YAML document, with errors naming the file and the fields.

    Raises:
        ConfigError: invalid structure or values, unknown names (models, methods, attackers,
            cell kinds, dataset ids).
    """
    where = f"config '{path}'" if path is not None else "config"
    if not isinstance(payload, dict):
        raise ConfigError(
            f"{where}: expected a mapping at the top level, got {type(payload).__name__}"
        )
    for module in payload.get("plugins") or []:
        _import_plugin(module, path)
    try:
        config = BenchConfig.model_validate(payload)
    except ValidationError as exc:
        problems = [_reword(e) for e in exc.errors()]
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        raise ConfigError(f"{where}: {len(problems)} {noun}:\n{lines}") from None
    check_names(config, path)
    check_options(config, path)
    return config


def _import_plugin(module: Any, path: str | Path | None) -> None:
    try:
        importlib.import_module(str(module))
    except ImportError as exc:
        raise config_error(path, "plugins", f"cannot import '{module}': {exc}") from exc


def _unknown(
    path: str | Path | None, field: str, what: str, name: str, known: list[str]
) -> ConfigError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return config_error(
        path, field, f"unknown {what} '{name}'{hint}; choose one of {', '.join(known)}"
    )


def check_names(config: BenchConfig, path: str | Path | None = None) -> None:
    """Check every name against its registry (models, unlearners, attackers, kinds, ids).

    Attribute names are checked later, against the loaded datasets
    (:func:`recunlearn.bench.cells.check_attributes`).

    Raises:
        ConfigError: naming the file and the field.
    """

    models = MODELS.accepted()
    methods = ["original", *UNLEARNERS.accepted()]
    attackers = ATTACKERS.accepted()
    ids = [d.key for d in config.datasets]
    if len(set(ids)) != len(ids):
        raise config_error(path, "datasets", f"dataset ids must be unique, got {ids}")
    for i, entry in enumerate(config.models):
        if entry.name.lower() not in models:
            raise _unknown(path, f"models[{i}].name", "model", entry.name, models)
    labels = [m.label for m in config.methods]
    if len(set(labels)) != len(labels):
        raise config_error(path, "methods", f"method labels must be unique, got {labels}")
    for i, entry in enumerate(config.methods):
        if entry.name not in methods:
            raise _unknown(path, f"methods[{i}].method", "unlearning method", entry.name, methods)
        if entry.name == "original" and entry.options:
            raise config_error(path, f"methods[{i}].options", "'original' takes no options")
        grid_models = [m.name.lower() for m in config.models]
        for model in entry.models or []:
            if model.lower() not in grid_models:
                raise _unknown(
                    path, f"methods[{i}].models", "model of the grid", model, grid_models
                )
    if config.methods and not config.requirements:
        raise config_error(path, "requirements", "methods are given but no requirement")
    if config.methods and not config.models:
        raise config_error(path, "models", "methods are given but no base model")
    sections = [("audit.attackers", config.audit.attackers)]
    if config.personal is not None:
        sections.append(("personal.attackers", config.personal.attackers))
    for i, adv in enumerate(config.adversarial):
        sections.append((f"{config.adversarial_field(i)}.attackers", adv.attackers))
    for field, chosen in sections:
        if chosen == "all":
            continue
        for i, name in enumerate(chosen):
            if name not in attackers:
                raise _unknown(path, f"{field}[{i}]", "attacker", name, attackers)
    for n, adv in enumerate(config.adversarial):
        where = config.adversarial_field(n)
        if adv.model.lower() not in models:
            raise _unknown(path, f"{where}.model", "model", adv.model, models)
        for i, key in enumerate(adv.datasets or []):
            if key not in ids:
                raise _unknown(path, f"{where}.datasets[{i}]", "dataset id", key, ids)
        if adv.preset == "advx" and adv.model.lower() != "multvae":
            raise config_error(path, f"{where}.preset", "the 'advx' preset is for multvae")
        if adv.label_holdout and adv.protocol != "loo":
            raise config_error(path, f"{where}.label_holdout", "applies to protocol 'loo'")
        orphans = sorted(set(adv.attribute_options) - set(adv.lambdas))
        if orphans:
            raise config_error(path, f"{where}.attribute_options", f"{orphans} have no lambdas")
    if config.timing is not None:
        timing = config.timing
        if timing.model.lower() not in models:
            raise _unknown(path, "timing.model", "model", timing.model, models)
        if timing.dataset is not None and timing.dataset not in ids:
            raise _unknown(path, "timing.dataset", "dataset id", timing.dataset, ids)
    if config.personal is not None:
        _check_personal_names(config, config.personal, methods, models, path)
    kinds = sorted(KINDS)
    for i, entry in enumerate(config.extra):
        if entry.kind not in KINDS:
            raise _unknown(path, f"extra[{i}].kind", "cell kind", entry.kind, kinds)


def _check_personal_names(
    config: BenchConfig,
    personal: PersonalSettings,
    methods: list[str],
    models: list[str],
    path: str | Path | None,
) -> None:
    """Methods, dataset ids and base models of the ``personal`` section."""
    ids = [d.key for d in config.datasets]
    grid_models = [m.name.lower() for m in config.models]
    labels = [m.label for m in personal.methods]
    if len(set(labels)) != len(labels):
        raise config_error(path, "personal.methods", f"method labels must be unique, got {labels}")
    for i, entry in enumerate(personal.methods):
        if entry.name not in methods:
            raise _unknown(
                path, f"personal.methods[{i}].method", "unlearning method", entry.name, methods
            )
        if entry.name == "original" and entry.options:
            raise config_error(
                path, f"personal.methods[{i}].options", "'original' takes no options"
            )
        for model in entry.models or []:
            if model.lower() not in grid_models:
                raise _unknown(
                    path, f"personal.methods[{i}].models", "model of the grid", model, grid_models
                )
    for i, key in enumerate(personal.datasets or []):
        if key not in ids:
            raise _unknown(path, f"personal.datasets[{i}]", "dataset id", key, ids)
    for i, name in enumerate(personal.models or []):
        if name.lower() not in grid_models:
            raise _unknown(path, f"personal.models[{i}]", "model of 'models'", name, grid_models)


def _model_problems(name: str, options: dict[str, Any], where: str) -> list[str]:
    from recunlearn.models.registry import model_class

    return option_problems(model_class(name).Config, options, where, noun="field")


def _method_problems(name: str, options: dict[str, Any], where: str) -> list[str]:
    from recunlearn.protect.posthoc.registry import UNLEARNERS

    return option_problems(UNLEARNERS.get(name).Config, options, where, noun="field")


def _adversary_problems(adv: AdversarialSettings, where: str) -> list[str]:
    from recunlearn.protect.adversarial.config import AdversaryConfig

    try:
        AdversaryConfig.from_lambdas(
            {name: 0.0 for name in adv.lambdas},
            attribute_options=adv.attribute_options,
            **adv.adversary_options,
        )
    except ConfigError as exc:
        return [f"field '{where}.adversary_options': {exc}"]
    return []


def check_options(config: BenchConfig, path: str | Path | None = None) -> None:
    """Validate every option mapping of the grid against the config of what it configures
    (base models, unlearning methods, the timing's unlearners, adversaries), so that a bad value
    fails when the config is read, before any cell runs.

    Names must have passed :func:`check_names`.

    Raises:
        ConfigError: naming the file and, for each problem, the field, e.g.
            ``methods[3].options.calibration_steps``.
    """
    problems: list[str] = []
    for i, entry in enumerate(config.models):
        problems += _model_problems(entry.name, entry.options, f"models[{i}].options")
    for i, entry in enumerate(config.methods):
        if entry.name != "original":
            problems += _method_problems(entry.name, entry.options, f"methods[{i}].options")
    for i, entry in enumerate(config.personal.methods if config.personal else []):
        if entry.name != "original":
            where = f"personal.methods[{i}].options"
            problems += _method_problems(entry.name, entry.options, where)
    if config.timing is not None:
        timing = config.timing
        problems += _model_problems(timing.model, timing.model_options, "timing.model_options")
        problems += _method_problems("lego", timing.lego, "timing.lego")
        problems += _method_problems("d2dfr", timing.d2dfr, "timing.d2dfr")
    for n, adv in enumerate(config.adversarial):
        where = config.adversarial_field(n)
        problems += _model_problems(adv.model, adv.model_options, f"{where}.model_options")
        problems += _adversary_problems(adv, where)
    if problems:
        prefix = f"config '{path}'" if path is not None else "config"
        noun = "problem" if len(problems) == 1 else "problems"
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"{prefix}: {len(problems)} invalid option {noun}:\n{lines}")


def load_config(path: str | Path) -> BenchConfig:
    """Read and validate a YAML config file.

    Raises:
        ConfigError: missing file, YAML syntax error (with line and column), invalid fields
            or unknown names -- always naming the file.
    """

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config '{path}': file not found")
    try:
        payload = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"config '{path}': YAML syntax error{where}: {problem}") from None
    return parse_config(payload, path)
