"""The cell-kind registry: what a benchmark cell of each kind computes.

A kind is one function ``run(params, ctx) -> CellOutput``. The runner takes care of the rest:
hashing, skipping finished cells, parallel processes, wall times, provenance and writing the
record atomically. Built-in kinds: ``train``, ``unlearn``, ``adversarial``, ``timing``.

Adding a kind (e.g. debiasing) is one decorated function in any module::

    from recunlearn.bench import CellOutput, register_kind

    @register_kind("debias", protocol="mnar_ab_split")
    def debias_cell(params, ctx):
        from recunlearn.experiments.debias import run_debias   # imported inside: workers import lazily
        record = run_debias(...params...)
        return CellOutput(metrics=record, dataset={"label": params["dataset"]})

and, in the YAML config, the module under ``plugins`` and the cells under ``extra``::

    plugins: [mypackage.bench_debias]
    extra:
      - kind: debias
        grid: {dataset: [coat, yahoo], method: [mf, ips, ultd-jl], seed: [0, 1, 2]}

Each combination of the ``grid`` lists (merged into ``params``) is one cell with its own
record. Plugins are imported again in every worker process, so registration must happen at
import time (module level).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recunlearn.core.registry import Registry


@dataclass
class CellOutput:
    """What a cell computed.

    Attributes:
        metrics: JSON-able results (the record's ``metrics``).
        protocol: how the numbers were obtained (split, evaluation, attack protocol).
        dataset: ``label`` and ``fingerprint`` of the data the cell ran on.
        per_user: named per-user arrays (e.g. ``user_id``, ``NDCG@10``) written to the cell's
            ``.npz`` sidecar for significance tests; all arrays have the same length.
        wall: named durations in seconds (the runner adds ``total``).
    """

    metrics: dict[str, Any]
    protocol: dict[str, Any] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)
    per_user: dict[str, np.ndarray] | None = None
    wall: dict[str, float] = field(default_factory=dict)


@dataclass
class CellContext:
    """What a running cell may use besides its parameters.

    Attributes:
        out: the benchmark folder.
        cell_hash: the running cell's hash.
        runtime: values that do not identify the cell (e.g. resolved ``data_dir``).
        deps: hashes of the cells this one depends on (finished before it starts).
        threads: torch / BLAS threads of this cell.
    """

    out: Path
    cell_hash: str = ""
    runtime: dict[str, Any] = field(default_factory=dict)
    deps: tuple[str, ...] = ()
    threads: int = 1

    @property
    def runs_dir(self) -> Path:
        """Run directories of trained base models (``OUT/runs/<train cell hash>``)."""
        return self.out / "runs"

    @property
    def store_dir(self) -> Path:
        """The shared LEGO brick store."""
        return self.out / "store"

    @property
    def partial_dir(self) -> Path:
        """Where the running cell keeps what lets it resume if interrupted (e.g. the training
        state of a long fit; ``OUT/partial/<cell hash>``, removed once its record is
        written)."""
        return self.out / "partial" / self.cell_hash

    def run_dir(self, cell_hash: str) -> Path:
        """The run directory written by the ``train`` cell ``cell_hash``."""
        return self.runs_dir / cell_hash

    def dataset(self, data: dict[str, Any]):  # -> Dataset (lazy import keeps this light)
        """The dataset of a cell's ``data`` parameters (loaded once per process)."""
        from recunlearn.bench.data import load_cached

        return load_cached(data, self.runtime.get("data_dir"), self.runtime.get("attributes_path"))


CellFunction = Callable[[dict[str, Any], CellContext], CellOutput]
"""The signature of a kind: ``run(params, ctx) -> CellOutput``."""


@dataclass(frozen=True)
class CellKind:
    """A registered kind of cell.

    Attributes:
        name: the kind's name (``kind`` of its records).
        run: computes one cell.
        protocol: a short protocol name recorded when the output does not give one.
        exclusive: run alone (no other cell in parallel), e.g. for wall-time measurements.
        description: one line for listings.
    """

    name: str
    run: CellFunction
    protocol: str = ""
    exclusive: bool = False
    description: str = ""


KINDS: Registry[CellKind] = Registry("cell kind")
"""Registered kinds by name."""


def register_kind(
    name: str,
    run: CellFunction | None = None,
    *,
    protocol: str = "",
    exclusive: bool = False,
    description: str = "",
    replace: bool = False,
) -> Any:
    """Register a cell kind; usable as a decorator (``@register_kind("debias")``).

    Args:
        name: the kind's name.
        run: the function (omit to use as a decorator).
        protocol: default protocol name of its records.
        exclusive: its cells run alone (timings).
        description: one line (default: the function's first docstring line).
        replace: allow replacing a registered kind.

    Raises:
        ConfigError: the name is taken and ``replace`` is false.
    """

    def decorate(function: CellFunction) -> CellFunction:
        same = name in KINDS and KINDS.get(name).run is function
        doc = (function.__doc__ or "").strip().splitlines()
        kind = CellKind(name, function, protocol, exclusive, description or (doc[0] if doc else ""))
        KINDS.register(name, kind, replace=replace or same)
        return function

    return decorate(run) if run is not None else decorate


def get_kind(name: str) -> CellKind:
    """The registered kind called ``name``.

    Raises:
        ConfigError: unknown kind.
    """
    return KINDS.get(name)
