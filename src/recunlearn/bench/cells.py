"""Expanding a config into cells, each with a stable hash and its dependencies.

A cell's hash is the SHA-256 (16 hex digits) of the canonical JSON of its kind and
parameters. Parameters hold everything that determines the numbers (data filters, split,
model options with the seed, method options, attack settings) and nothing that does not (file
locations, ``jobs``), so the same cell gets the same hash in any grid, on any machine, and a
finished cell is found again by its record ``records/<hash>.json``.

Dependencies: an ``unlearn`` or ``timing`` cell needs the ``train`` cell of its base model; a
cell of a method that keeps bricks in a store (LEGO) also waits for that method's cells of the
same base whose requirement is a strict subset of its own, so their bricks are in the store and
reused instead of recomputed in parallel.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recunlearn.bench.config import (
    AdversarialSettings,
    BenchConfig,
    DatasetEntry,
    MethodEntry,
    parse_requirement,
)
from recunlearn.bench.data import data_params
from recunlearn.bench.loading import config_error
from recunlearn.core.errors import ConfigError
from recunlearn.core.options import is_late_option, validate_options
from recunlearn.experiments.adversarial import lambda_grid
from recunlearn.experiments.spec import RunSpec
from recunlearn.models.registry import make_model
from recunlearn.protect.adversarial.config import AdversaryConfig
from recunlearn.protect.posthoc.registry import UNLEARNERS

HASH_FORMAT = "recunlearn-bench-cell 1"
"""Part of every hash: bump it when the meaning of parameters changes."""


def cell_hash(kind: str, params: dict[str, Any]) -> str:
    """The stable hash of a cell (16 hex digits)."""
    text = json.dumps(
        {"format": HASH_FORMAT, "kind": kind, "params": params},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Cell:
    """One unit of work of a benchmark.

    Attributes:
        kind: a registered kind (:mod:`recunlearn.bench.registry`).
        params: JSON-able parameters (hashed).
        label: a human-readable name (progress bar, errors).
        deps: hashes of cells that must finish first.
        runtime: values passed to the cell that do not identify it (file locations).
    """

    kind: str
    params: dict[str, Any]
    label: str
    deps: tuple[str, ...] = ()
    runtime: dict[str, Any] = field(default_factory=dict)

    @property
    def hash(self) -> str:
        """The cell's config hash."""
        return cell_hash(self.kind, self.params)


def _runtime(entry: DatasetEntry, base_dir: Path | None) -> dict[str, Any]:
    spec = entry.data_spec(base_dir)
    return {"data_dir": spec.data_dir, "attributes_path": spec.attributes_path}


def train_cell(
    entry: DatasetEntry,
    model: str,
    options: dict[str, Any],
    seed: int,
    base_dir: Path | None,
) -> Cell:
    """The ``train`` cell of one base model (dataset x model x seed).

    The model options are hashed resolved (every option, defaults included), so a changed
    default makes a new cell instead of reusing a record trained under the old one.
    """

    resolved = make_model(model, **{**options, "seed": seed}).config.model_dump(mode="json")
    spec = RunSpec(
        data=entry.data_spec(None),
        split=entry.split_spec(),
        model=model.lower(),
        model_options=resolved,
        evaluation=entry.eval_spec(),
    )
    payload = spec.model_dump(mode="json")
    payload["data"] = data_params(spec.data)
    params = {"dataset": entry.key, "spec": payload}
    return Cell(
        "train",
        params,
        f"{entry.key} · {model} · seed {seed} · train",
        (),
        _runtime(entry, base_dir),
    )


def resolved_options(method: str, options: dict[str, Any]) -> dict[str, Any]:
    """Every option of ``method`` with ``options`` applied, defaults included: the hashed
    form, so a changed default makes new cells instead of reusing records made under the old
    one, and a bad option fails when the grid is expanded, before any cell runs.

    Raises:
        ConfigError: unknown method or invalid option (the message names both).
    """

    cls = UNLEARNERS.get(method)
    config = validate_options(cls.Config, options, what=f"unlearning method '{method}'")
    dumped = config.model_dump(mode="json")
    for name, info in cls.Config.model_fields.items():
        if is_late_option(info) and getattr(config, name) == info.default:
            # an option added after records existed: at its default it does what the method
            # did before the option existed, so it stays out of the hash and those records
            # remain the cells they were
            del dumped[name]
    return dumped


def _method_params(
    entry: DatasetEntry, base: Cell, model: str, seed: int, method: MethodEntry
) -> dict[str, Any]:
    """The parameters every cell of a post-hoc method on one base run carries (``unlearn`` and
    ``personal`` cells add what they measure): the base, the data, the method and its resolved
    options (``seed`` defaults to the cell's)."""
    original = method.name == "original"
    return {
        "base": base.hash,
        "dataset": entry.key,
        "data": base.params["spec"]["data"],
        "model": model.lower(),
        "seed": seed,
        "method": method.label,
        "unlearner": None if original else method.name,
        "options": (
            {} if original else resolved_options(method.name, {"seed": seed, **method.options})
        ),
    }


def _uses_store(method: str) -> bool:
    """True when ``method`` is an unlearner that keeps per-attribute bricks in a store."""

    return method != "original" and UNLEARNERS.get(method).uses_store


def expand(config: BenchConfig, base_dir: Path | None = None) -> list[Cell]:
    """Every cell of ``config``, dependencies first (see the module docstring).

    Args:
        config: the validated config.
        base_dir: folder of the config file (relative ``data_dir`` are resolved against it).
    """
    cells: dict[str, Cell] = {}

    def add(cell: Cell) -> Cell:
        cells.setdefault(cell.hash, cell)
        return cell

    audit = config.audit.cell_params()
    requirements = [parse_requirement(r) for r in config.requirements]
    for entry in config.datasets:
        for model in config.models:
            for seed in config.seeds:
                base = add(train_cell(entry, model.name, model.options, seed, base_dir))
                # methods with a brick store wait for the same method's cells on smaller
                # requirements of this base, whose bricks they reuse
                stored: dict[str, list[tuple[tuple[str, ...], str]]] = {}
                for requirement in sorted(requirements, key=len):
                    for method in config.methods:
                        if not method.applies_to(model.name):
                            continue
                        deps = [base.hash]
                        if _uses_store(method.name):
                            earlier = stored.setdefault(method.label, [])
                            deps += [h for req, h in earlier if set(req) < set(requirement)]
                        params = {
                            **_method_params(entry, base, model.name, seed, method),
                            "requirement": list(requirement),
                            "audit": audit,
                        }
                        label = f"{entry.key} · {model.name} · seed {seed} · {'+'.join(requirement)} · {method.label}"
                        cell = add(Cell("unlearn", params, label, tuple(deps), base.runtime))
                        if _uses_store(method.name):
                            stored[method.label].append((requirement, cell.hash))
    for adv in config.adversarial:
        for cell in adversarial_cells(config, adv, base_dir):
            add(cell)
    if config.timing is not None:
        timing = config.timing
        entry = config.dataset(timing.dataset) if timing.dataset else config.datasets[0]
        base = add(train_cell(entry, timing.model, timing.model_options, timing.seed, base_dir))
        params = {
            "base": base.hash,
            "dataset": entry.key,
            "data": base.params["spec"]["data"],
            "model": timing.model.lower(),
            "seed": timing.seed,
            "sequence": [list(parse_requirement(r)) for r in timing.sequence],
            "lego": {"seed": timing.seed, **timing.lego},
            "d2dfr": {"seed": timing.seed, **timing.d2dfr},
        }
        label = f"{entry.key} · {timing.model} · dynamic requirements (timing)"
        add(Cell("timing", params, label, (base.hash,), base.runtime))
    for cell in personal_cells(config, base_dir):
        add(cell)
    for entry in config.extra:
        for cell in extra_cells(entry.kind, entry.grid, entry.params):
            add(cell)
    return order(cells.values())


def personal_cells(config: BenchConfig, base_dir: Path | None) -> list[Cell]:
    """The ``personal`` cells (one per base run of the section's datasets and models, seed and
    method), each after its base run's ``train`` cell, which it shares with the grid."""
    personal = config.personal
    if personal is None:
        return []
    settings = personal.cell_params()
    wanted = {m.lower() for m in personal.models} if personal.models else None
    out: list[Cell] = []
    for entry in config.datasets:
        if personal.datasets is not None and entry.key not in personal.datasets:
            continue
        for model in config.models:
            if wanted is not None and model.name.lower() not in wanted:
                continue
            for seed in config.seeds:
                base = train_cell(entry, model.name, model.options, seed, base_dir)
                out.append(base)
                for method in personal.methods:
                    if not method.applies_to(model.name):
                        continue
                    params = {
                        **_method_params(entry, base, model.name, seed, method),
                        "personal": settings,
                    }
                    label = f"{entry.key} · {model.name} · seed {seed} · per-user · {method.label}"
                    out.append(Cell("personal", params, label, (base.hash,), base.runtime))
    return out


def adversarial_cells(
    config: BenchConfig, adv: AdversarialSettings, base_dir: Path | None
) -> list[Cell]:
    """The lambda-grid cells (one per dataset x replicate x lambda combination, plus a base
    cell per replicate without adversary heads)."""

    options: dict[str, Any] = {}
    if adv.preset == "advx":
        from recunlearn.models.multvae import MultVAE

        options = MultVAE.advx_config().model_dump(mode="json")
        options.pop("seed", None)
    options.update(adv.model_options)
    try:
        adversary_options = dict(adv.adversary_options)
        if adv.preset == "advx":  # the papers' recipe unless the benchmark names another
            adversary_options.setdefault("objective", "reversal")
        template = AdversaryConfig.from_lambdas(
            {name: 0.0 for name in adv.lambdas},
            attribute_options=adv.attribute_options,
            **adversary_options,
        )
    except ConfigError as exc:
        raise ConfigError(f"field 'adversarial': {exc}") from exc
    grid: list[dict[str, float] | None] = [None] if adv.include_base else []
    grid += lambda_grid(adv.lambdas)
    grid += [
        c
        for c in ({k: float(v) for k, v in cell.items()} for cell in adv.lambda_cells)
        if c not in grid
    ]
    out = []
    for key in adv.datasets or [d.key for d in config.datasets]:
        entry = config.dataset(key)
        for replicate in adv.replicates:
            for lambdas in grid:
                params = {
                    "dataset": entry.key,
                    "data": data_params(entry.data_spec(None)),
                    "split_params": entry.split.params
                    if entry.split.protocol == adv.protocol
                    else {},
                    "model": adv.model.lower(),
                    "protocol": adv.protocol,
                    "model_options": options,
                    "adversary": template.cell_payload(),
                    "lambdas": lambdas,
                    "replicate": replicate,
                    "attackers": adv.attacker_names(),
                    "label_holdout": adv.label_holdout,
                }
                text = (
                    "base"
                    if lambdas is None
                    else ",".join(f"{k}={v:g}" for k, v in lambdas.items())
                )
                label = f"{entry.key} · {adv.model} · {adv.protocol} r{replicate} · {text}"
                out.append(Cell("adversarial", params, label, (), _runtime(entry, base_dir)))
    return out


def extra_cells(kind: str, grid: dict[str, list[Any]], params: dict[str, Any]) -> list[Cell]:
    """Cells of a registered kind: the product of the ``grid`` lists merged into ``params``."""
    names = list(grid)
    out = []
    for combo in itertools.product(*(grid[n] for n in names)):
        values = {**params, **dict(zip(names, combo, strict=True))}
        text = ", ".join(f"{n}={v}" for n, v in zip(names, combo, strict=True))
        out.append(Cell(kind, values, f"{kind} · {text or 'cell'}"))
    return out


def order(cells: Iterable[Cell]) -> list[Cell]:
    """Cells in a dependency-respecting order (stable otherwise).

    Raises:
        ConfigError: a dependency that is not among the cells, or a cycle.
    """
    pending = list(cells)
    known = {c.hash for c in pending}
    for cell in pending:
        missing = [d for d in cell.deps if d not in known]
        if missing:
            raise ConfigError(f"cell '{cell.label}' depends on unknown cells {missing}")
    done: set[str] = set()
    out: list[Cell] = []
    while pending:
        ready = [c for c in pending if all(d in done for d in c.deps)]
        if not ready:
            raise ConfigError("cyclic dependencies between cells")
        for cell in ready:
            done.add(cell.hash)
            out.append(cell)
        pending = [c for c in pending if c.hash not in done]
    return out


def check_attributes(
    config: BenchConfig, attributes: dict[str, list[str]], path: str | Path | None = None
) -> None:
    """Check every attribute the config names against the loaded datasets' attributes.

    Args:
        config: the config.
        attributes: dataset id -> its attribute names.
        path: the config file (for the message).

    Raises:
        ConfigError: naming the file, the field, the dataset and the known attributes.
    """

    def check(field_name: str, names: Iterable[str], keys: Iterable[str]) -> None:
        for key in keys:
            known = attributes[key]
            unknown = [n for n in names if n not in known]
            if unknown:
                raise config_error(
                    path,
                    field_name,
                    f"unknown attribute(s) {unknown} for dataset '{key}'; known: {', '.join(known)}",
                )

    ids = [d.key for d in config.datasets]
    if config.methods and config.models:
        for i, requirement in enumerate(config.requirements):
            check(f"requirements[{i}]", parse_requirement(requirement), ids)
        check("audit.kept", config.audit.kept, ids)
    for n, adv in enumerate(config.adversarial):
        check(f"{config.adversarial_field(n)}.lambdas", adv.lambdas, adv.datasets or ids)
    if config.personal is not None:
        keys = config.personal.datasets or ids
        check("personal.attributes", config.personal.attributes, keys)
        for i, requirement in enumerate(config.personal.requirements or []):
            check(f"personal.requirements[{i}]", parse_requirement(requirement), keys)
    if config.timing is not None:
        key = config.timing.dataset or ids[0]
        for i, requirement in enumerate(config.timing.sequence):
            check(f"timing.sequence[{i}]", parse_requirement(requirement), [key])
