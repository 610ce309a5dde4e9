"""Running a benchmark grid: skip finished cells, run the rest in dependency order, in
parallel processes, with a progress bar and an estimate of the time left.

Resuming is the normal mode: a cell whose record ``records/<hash>.json`` exists is finished
and never recomputed; records and their sidecars are written atomically by the worker that
computed them, so a killed run leaves no half-written record (only hidden ``.tmp-*`` files,
removed at the next start). Base runs (``runs/<hash>``) and LEGO bricks (``store/``) are
shared by every cell that needs them.

Parallelism: up to ``jobs`` cells at once, each in its own process (``spawn``) limited to
``threads`` torch / BLAS / OpenMP threads; a cell starts when the cells it depends on have
records; ``exclusive`` kinds (timings) run alone. ``jobs=1`` runs everything in this process.
"""

from __future__ import annotations

import importlib
import json
import logging
import multiprocessing
import os
import shutil
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from threadpoolctl import threadpool_limits

import recunlearn.bench.kinds  # noqa: F401  (registers the built-in kinds)
from recunlearn.bench.adopt import adopt_records
from recunlearn.bench.cells import Cell, check_attributes, expand
from recunlearn.bench.config import BenchConfig
from recunlearn.bench.data import data_params, load_cached
from recunlearn.bench.loading import config_error, load_config
from recunlearn.bench.registry import KINDS, CellContext, get_kind
from recunlearn.core.atomic import atomic_write_text
from recunlearn.core.errors import ConfigError, DataError, RecunlearnError
from recunlearn.core.provenance import git_commit, machine
from recunlearn.core.records import (
    PLAN,
    RECORD_FORMAT,
    clear_failure,
    json_safe,
    read_record,
    record_path,
    write_failure,
    write_record,
    write_sidecar,
)
from recunlearn.data.fingerprint import dataset_fingerprint
from recunlearn.protect.posthoc.registry import UNLEARNERS

logger = logging.getLogger(__name__)

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass
class BenchResult:
    """The outcome of :func:`run_bench`.

    Attributes:
        out: the benchmark folder.
        cells: every cell of the grid, in dependency order.
        computed: hashes of the cells computed in this run.
        skipped: hashes of the cells that already had a record.
        failed: hash -> error message of the cells that raised.
        blocked: hashes of the cells not run because a dependency failed.
        seconds: wall time of the run.
    """

    out: Path
    cells: list[Cell]
    computed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    blocked: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no cell failed or was blocked."""
        return not self.failed and not self.blocked


# ------------------------------------------------------------------------------- workers
def _limit_threads(threads: int) -> Callable[[], None]:
    """Limit torch, BLAS and OpenMP to ``threads`` in this process; returns a function that
    restores the previous limits (workers never call it)."""

    saved_env = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    saved_torch = torch.get_num_threads()
    for name in THREAD_VARIABLES:  # inherited by processes this one starts
        os.environ[name] = str(threads)
    torch.set_num_threads(threads)
    limiter = threadpool_limits(limits=threads)

    def restore() -> None:
        limiter.restore_original_limits()
        torch.set_num_threads(saved_torch)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    return restore


def _init_worker(threads: int, plugins: list[str]) -> None:
    """Process-pool initializer: thread limits, built-in and plugin kinds."""

    _limit_threads(threads)
    for module in plugins:
        importlib.import_module(module)


def execute_cell(cell: Cell, out: str, threads: int, jobs: int) -> dict[str, Any]:
    """Compute one cell and write its record (runs in a worker process, or inline).

    Returns:
        ``{"hash", "status": "done" | "failed", "seconds", "error"}``.
    """
    out_path = Path(out)
    kind = get_kind(cell.kind)
    ctx = CellContext(
        out=out_path,
        cell_hash=cell.hash,
        runtime=dict(cell.runtime),
        deps=cell.deps,
        threads=threads,
    )
    host = {**machine(), "jobs": jobs, "threads": threads}
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    try:
        output = kind.run(cell.params, ctx)
        total = time.perf_counter() - started
        per_user = None
        if output.per_user:
            name = write_sidecar(out_path, cell.hash, output.per_user)
            first = next(iter(output.per_user.values()))
            per_user = {"file": name, "arrays": list(output.per_user), "n": len(first)}
        from recunlearn.core.provenance import versions

        record = {
            "format": RECORD_FORMAT,
            "kind": cell.kind,
            "config_hash": cell.hash,
            "label": cell.label,
            "params": cell.params,
            "deps": list(cell.deps),
            "protocol": output.protocol or {"name": kind.protocol},
            "dataset": output.dataset,
            "metrics": output.metrics,
            "per_user": per_user,
            "wall": {**output.wall, "total": total},
            "versions": versions(),
            "commit": git_commit(),
            "machine": host,
            "started": started_at,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_record(out_path, record)
        clear_failure(out_path, cell.hash)
        shutil.rmtree(ctx.partial_dir, ignore_errors=True)
        return {"hash": cell.hash, "status": "done", "seconds": total, "error": None}
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one failed cell must not stop the grid
        text = traceback.format_exc()
        write_failure(out_path, cell.hash, cell.label, text)
        return {
            "hash": cell.hash,
            "status": "failed",
            "seconds": time.perf_counter() - started,
            "error": f"{type(exc).__name__}: {exc}",
        }


class _InlineExecutor(Executor):
    """Runs each submitted call at once in this process (``jobs=1``)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            future.set_exception(exc)
        return future


# ------------------------------------------------------------------------------ planning
def _uses_store(cell: Cell) -> bool:
    """True for an ``unlearn`` or ``personal`` cell whose method keeps bricks in the shared
    store."""

    method = cell.params.get("unlearner") if cell.kind in ("unlearn", "personal") else None
    return bool(method) and UNLEARNERS.get(method).uses_store


def _clean_temporaries(out: Path) -> None:
    """Remove hidden ``.tmp-*`` leftovers of killed writers (no worker is running yet)."""
    partial = sorted((out / "partial").glob("*")) if (out / "partial").is_dir() else []
    for folder in (out / "records", out / "runs", out / "failures", out, *partial):
        if not folder.is_dir():
            continue
        for path in folder.glob(".*.tmp-*"):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        for path in folder.glob(".*.old-*"):
            shutil.rmtree(path, ignore_errors=True)
    store = out / "store"
    if (store / "STORE").exists():
        from recunlearn.protect.posthoc.store import BrickStore

        BrickStore(store).clean()


def dataset_facts(
    config: BenchConfig, base_dir: Path | None, config_path: str | Path | None = None
) -> dict[str, dict[str, Any]]:
    """Per dataset id: label, fingerprint and attribute names of the loaded data.

    Raises:
        ConfigError: the dataset cannot be loaded (naming the config field).
    """

    facts = {}
    for i, entry in enumerate(config.datasets):
        spec = entry.data_spec(base_dir)
        try:
            dataset = load_cached(data_params(spec), spec.data_dir, spec.attributes_path)
        except (RecunlearnError, ValueError, OSError) as exc:
            raise config_error(
                config_path, f"datasets[{i}]", f"cannot load '{entry.name}': {exc}"
            ) from exc
        facts[entry.key] = {
            "label": dataset.label,
            "fingerprint": dataset_fingerprint(dataset),
            "attributes": [a.name for a in dataset.attributes],
            "users": int(dataset.n_users),
            "items": int(dataset.n_items),
        }
    return facts


def _finished(out: Path, cells: list[Cell], facts: dict[str, dict[str, Any]]) -> set[str]:
    """Hashes of cells with a record; a record computed on other data is an error."""
    done = set()
    for cell in cells:
        path = record_path(out, cell.hash)
        if not path.exists():
            continue
        try:
            record = read_record(path)
        except DataError as exc:
            logger.warning("%s: recomputing the cell", exc)
            continue
        key = cell.params.get("dataset")
        expected = facts.get(key, {}).get("fingerprint") if isinstance(key, str) else None
        found = (record.get("dataset") or {}).get("fingerprint")
        if expected is not None and found is not None and found != expected:
            raise ConfigError(
                f"record '{path}' was computed on other data for dataset '{key}' "
                f"(fingerprint {found}, now {expected}); use a new --out folder"
            )
        done.add(cell.hash)
    return _without_missing_runs(out, cells, done)


def _without_missing_runs(out: Path, cells: list[Cell], done: set[str]) -> set[str]:
    """``done`` minus the ``train`` cells whose run directory is gone (records are kept in git,
    run directories are not) while a cell that needs it is still to run: they train again."""
    pending_deps = {d for c in cells if c.hash not in done for d in c.deps}
    missing = {
        c.hash
        for c in cells
        if c.kind == "train"
        and c.hash in done
        and c.hash in pending_deps
        and not (out / "runs" / c.hash).is_dir()
    }
    if missing:
        logger.info("retraining %d base model(s) whose run directory is missing", len(missing))
    return done - missing


def _write_plan(
    out: Path,
    config: BenchConfig,
    config_path: Path | None,
    cells: list[Cell],
    facts: dict[str, dict[str, Any]],
) -> None:
    plan = {
        "config": config.model_dump(mode="json"),
        "config_path": None if config_path is None else str(config_path),
        "datasets": facts,
        "cells": [
            {"hash": c.hash, "kind": c.kind, "label": c.label, "deps": list(c.deps)} for c in cells
        ],
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
    }
    atomic_write_text(out / PLAN, json.dumps(json_safe(plan), indent=1) + "\n")


def plan(
    config: BenchConfig, out: str | Path, config_path: str | Path | None = None
) -> tuple[list[Cell], set[str], dict[str, dict[str, Any]]]:
    """Expand the grid and find the finished cells (loads each dataset once); records made
    before one of their method's late options existed are first moved to their cell's current
    hash (:func:`recunlearn.bench.adopt.adopt_records`).

    Returns:
        (cells in dependency order, hashes already recorded, dataset facts by id).

    Raises:
        ConfigError: unknown attributes (naming the config file and field), records of
            other data in ``out``.
    """

    for module in config.plugins:
        importlib.import_module(module)
    base_dir = None if config_path is None else Path(config_path).resolve().parent
    facts = dataset_facts(config, base_dir, config_path)
    check_attributes(config, {k: v["attributes"] for k, v in facts.items()}, config_path)
    cells = expand(config, base_dir)
    adopt_records(out, cells)  # records made before a late option keep their cells
    return cells, _finished(Path(out), cells, facts), facts


# ------------------------------------------------------------------------------- running
def _format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _Estimator:
    """Time left from the mean duration of finished cells of each kind."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.durations: dict[str, list[float]] = defaultdict(list)

    def add(self, kind: str, seconds: float) -> None:
        self.durations[kind].append(seconds)

    def left(self, remaining: list[Cell]) -> float | None:
        if not remaining:
            return 0.0
        every = [s for values in self.durations.values() for s in values]
        if not every:
            return None
        overall = sum(every) / len(every)
        total = 0.0
        for cell in remaining:
            known = self.durations.get(cell.kind)
            total += sum(known) / len(known) if known else overall
        return total / max(1, min(self.jobs, len(remaining)))


def run_bench(
    config: BenchConfig | str | Path,
    out: str | Path,
    *,
    jobs: int | None = None,
    config_path: str | Path | None = None,
    progress: bool = True,
    console: Console | None = None,
) -> BenchResult:
    """Run (or resume) a benchmark grid into ``out``.

    Args:
        config: a validated config, or the path of its YAML file.
        out: the benchmark folder (created).
        jobs: parallel cells (default: the config's ``jobs``).
        config_path: the YAML file ``config`` came from (relative data paths, messages).
        progress: show a progress bar and one line per finished cell.
        console: where to print (default: stderr).

    Returns:
        A :class:`BenchResult` (failed cells have a traceback in ``out/failures``).

    Raises:
        ConfigError: invalid config, unknown attributes, records of other data in ``out``.
    """
    started = time.perf_counter()
    if isinstance(config, str | Path):
        config_path = Path(config)
        config = load_config(config_path)
    jobs = jobs or config.jobs
    if jobs < 1:
        raise ConfigError(f"jobs must be >= 1, got {jobs}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _clean_temporaries(out)
    cells, done, facts = plan(config, out, config_path)
    _write_plan(out, config, None if config_path is None else Path(config_path), cells, facts)
    if any(_uses_store(c) for c in cells):
        from recunlearn.protect.posthoc.store import BrickStore

        BrickStore(out / "store")  # created here, before workers race to create it
    result = BenchResult(out=out, cells=cells, skipped=[c.hash for c in cells if c.hash in done])
    todo = [c for c in cells if c.hash not in done]
    console = console or Console(stderr=True)
    if progress:
        saved = sum((out / "partial" / c.hash).is_dir() for c in todo)
        console.print(
            f"[bold]{config.name}[/bold]: {len(cells)} cells, {len(result.skipped)} already "
            f"recorded, {len(todo)} to run with {jobs} job(s) -> {out}"
            + (f" ({saved} resume saved fits)" if saved else "")
        )
    if todo:
        _schedule(todo, done, result, config, out, jobs, progress, console)
    result.seconds = time.perf_counter() - started
    return result


def _schedule(
    todo: list[Cell],
    done: set[str],
    result: BenchResult,
    config: BenchConfig,
    out: Path,
    jobs: int,
    progress: bool,
    console: Console,
) -> None:
    """Submit ready cells until every cell finished, failed or was blocked."""
    pending = list(todo)
    finished = set(done)
    bad: set[str] = set()
    running: dict[Future, Cell] = {}
    estimator = _Estimator(jobs)
    restore = None
    if jobs == 1:
        executor: Executor = _InlineExecutor()
        restore = _limit_threads(config.threads)
        import recunlearn.bench.kinds  # noqa: F401
    else:
        executor = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(config.threads, list(config.plugins)),
        )
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("[cyan]~{task.fields[left]} left"),
        console=console,
        disable=not progress,
        transient=False,
    )
    try:
        with bar:
            task = bar.add_task(config.name, total=len(todo), left="?")
            while pending or running:
                for cell in [c for c in pending if any(d in bad for d in c.deps)]:
                    pending.remove(cell)
                    bad.add(cell.hash)
                    result.blocked.append(cell.hash)
                    bar.advance(task)
                    if progress:
                        bar.console.print(f"[yellow]blocked[/yellow] {cell.label}")
                exclusive_running = any(KINDS[c.kind].exclusive for c in running.values())
                for cell in [c for c in pending if all(d in finished for d in c.deps)]:
                    if len(running) >= jobs or exclusive_running:
                        break
                    if KINDS[cell.kind].exclusive:
                        if running:
                            break
                        exclusive_running = True
                    pending.remove(cell)
                    future = executor.submit(execute_cell, cell, str(out), config.threads, jobs)
                    running[future] = cell
                    bar.update(task, description=f"{config.name}: {cell.label}")
                if not running:
                    if pending:
                        raise ConfigError("no cell can start: unsatisfiable dependencies")
                    break
                completed, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in completed:
                    cell = running.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as exc:  # noqa: BLE001 - e.g. a worker process died
                        outcome = {"status": "failed", "seconds": 0.0, "error": repr(exc)}
                        write_failure(out, cell.hash, cell.label, repr(exc))
                    if outcome["status"] == "done":
                        finished.add(cell.hash)
                        result.computed.append(cell.hash)
                        estimator.add(cell.kind, outcome["seconds"])
                        if progress:
                            bar.console.print(
                                f"[green]done[/green] {cell.label} ({outcome['seconds']:.1f} s)"
                            )
                    else:
                        bad.add(cell.hash)
                        result.failed[cell.hash] = outcome["error"]
                        if progress:
                            bar.console.print(
                                f"[red]failed[/red] {cell.label}: {outcome['error']} "
                                f"(traceback in {out / 'failures' / (cell.hash + '.txt')})"
                            )
                    bar.advance(task)
                remaining = pending + list(running.values())
                bar.update(task, left=_format_seconds(estimator.left(remaining)))
    except KeyboardInterrupt:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        if restore is not None:
            restore()
