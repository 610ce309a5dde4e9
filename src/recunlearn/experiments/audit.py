"""What ``recunlearn audit`` does, as plain functions (the CLI only parses and prints)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recunlearn.audit.attackers import DEFAULT_ATTACKERS, QUICK_ATTACKERS
from recunlearn.audit.core import audit
from recunlearn.audit.inputs import AttributeTable, EmbeddingTable, normalise_ids
from recunlearn.audit.io import read_attributes, read_embeddings, read_ids
from recunlearn.audit.leakage_report import LeakageReport
from recunlearn.core.atomic import check_writable
from recunlearn.core.errors import ConfigError, DataError
from recunlearn.data.types import Dataset
from recunlearn.experiments import rundir
from recunlearn.experiments.audit_folder import write_audit_folder


@dataclass
class AuditInputs:
    """Resolved inputs of one ``recunlearn audit`` call."""

    embeddings: EmbeddingTable
    attributes: AttributeTable
    default_out: Path
    label: str
    attributes_source: str | None = None


def split_list(text: str | None) -> list[str] | None:
    """``"a, b"`` -> ``["a", "b"]``; ``None`` / empty -> ``None``."""
    if text is None:
        return None
    items = [part.strip() for part in text.split(",") if part.strip()]
    return items or None


def parse_kinds(items: list[str] | None) -> dict[str, str]:
    """``["age=continuous"]`` -> ``{"age": "continuous"}``."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--kind expects name=categorical|continuous, got '{item}'")
        name, kind = item.split("=", 1)
        out[name.strip()] = kind.strip()
    return out


def resolve_inputs(
    run: Path | None,
    embeddings: Path | None,
    attributes: Path | None,
    *,
    ids: Path | None = None,
    kinds: dict[str, str] | None = None,
    id_column: str = "user_id",
    data_dir: Path | None = None,
    data_attributes: Path | None = None,
) -> AuditInputs:
    """Read a run directory, or an embedding file plus a user-attribute file.

    ``data_dir`` / ``data_attributes`` say where a run's data is when it moved since the run
    was trained (see :func:`read_run`).

    Raises:
        ConfigError: neither or both input styles given.
        DataError: unreadable inputs.
    """
    if run is not None and (embeddings is not None or attributes is not None):
        raise ConfigError("give either a run directory or --embeddings with --attributes")
    if run is None and (data_dir is not None or data_attributes is not None):
        raise ConfigError("--data-dir and --data-attributes apply to a run directory")
    if run is not None:
        emb, table, dataset = read_run(run, data_dir=data_dir, attributes_path=data_attributes)
        source = f"{dataset.label}, reloaded from {Path(run) / 'config.json'}"
        return AuditInputs(emb, table, Path(run) / "audit", dataset.label, source)
    if embeddings is None or attributes is None:
        raise ConfigError("give a run directory, or both --embeddings FILE and --attributes FILE")
    emb = read_any_embeddings(embeddings, ids=ids)
    table = read_attributes(attributes, id_column=id_column, kinds=kinds)
    source = Path(embeddings)
    default = source / "audit" if source.is_dir() else source.with_name(source.stem + ".audit")
    return AuditInputs(emb, table, default, source.name)


def mask_from_id_file(embeddings: EmbeddingTable, path: Path) -> np.ndarray:
    """Boolean mask over the embedding rows of the ids listed in ``path`` (one per line).

    Raises:
        DataError: no listed id is among the embedding ids.
    """
    wanted = normalise_ids(read_ids(path))
    if embeddings.ids is None:
        raise DataError("the embeddings carry no ids to match", path=path)
    left, right = embeddings.ids, wanted
    if not (left.dtype.kind == "i" and right.dtype.kind == "i"):
        left, right = left.astype(str), right.astype(str)
    mask = np.isin(left, right)
    if not mask.any():
        raise DataError("none of these test users is in the embeddings", path=path)
    return mask


def run_audit(
    inputs: AuditInputs,
    out: Path,
    *,
    attackers: list[str] | None = None,
    quick: bool = False,
    n_folds: int = 5,
    seeds: list[int] | None = None,
    select: list[str] | None = None,
    sample: int | None = None,
    n_jobs: int = 2,
    test_users: Path | None = None,
    compare: Path | None = None,
    strict_ids: bool = False,
    drop_rare: bool = False,
    tsne: bool = True,
    overwrite: bool = False,
    progress: bool = True,
) -> LeakageReport:
    """Audit, then write the output folder; returns the report.

    Raises:
        ConfigError: bad options, or ``out`` exists without ``overwrite`` (checked first).
        DataError: bad inputs.
    """
    check_writable(out, overwrite=overwrite)
    if quick and attackers:
        raise ConfigError("--quick and --attackers exclude each other")
    names = list(QUICK_ATTACKERS if quick else (attackers or DEFAULT_ATTACKERS))
    other: EmbeddingTable | None = read_any_embeddings(compare) if compare is not None else None
    kwargs: dict[str, Any] = {}
    if test_users is not None:
        kwargs["test_users"] = mask_from_id_file(inputs.embeddings, test_users)
    report = audit(
        inputs.embeddings,
        inputs.attributes,
        attackers=names,
        select=select,
        n_folds=n_folds,
        seeds=seeds or [0],
        sample=sample,
        n_jobs=n_jobs,
        progress=progress,
        strict_ids=strict_ids,
        rare_classes="drop" if drop_rare else "error",
        **kwargs,
    )
    report.meta["label"] = inputs.label
    if inputs.attributes_source and not report.meta.get("attributes_source"):
        report.meta["attributes_source"] = inputs.attributes_source
    write_audit_folder(
        report,
        out,
        embeddings=inputs.embeddings,
        attributes=inputs.attributes,
        compare=other,
        labels=(inputs.label, compare.name if compare is not None else ""),
        tsne=tsne,
        overwrite=overwrite,
    )
    return report


def read_run(
    run: str | Path,
    *,
    data_dir: str | Path | None = None,
    attributes_path: str | Path | None = None,
) -> tuple[EmbeddingTable, AttributeTable, Dataset]:
    """The user embeddings of a run directory and its dataset's attributes.

    The dataset is reloaded from ``config.json`` (or from ``data_dir`` / ``attributes_path``
    when the data moved) and must have the fingerprint recorded there.

    Raises:
        DataError: not a run directory, missing files, data that cannot be loaded, or data that
            changed since the run.
    """
    run = Path(run)
    if not (run / rundir.CONFIG).is_file():
        raise DataError("not a run directory (no config.json)", path=run)
    spec, payload = rundir.read_config(run)
    spec = rundir.relocate_data(spec, data_dir, attributes_path)
    dataset = rundir.load_run_data(spec, run)
    rundir.check_fingerprint(payload, dataset, run)
    embeddings = read_embeddings(run / rundir.USER_EMBEDDINGS)
    return embeddings, AttributeTable.from_dataset(dataset), dataset


def read_any_embeddings(source: str | Path, *, ids: str | Path | None = None) -> EmbeddingTable:
    """Embeddings from a run directory (its ``user_embeddings.parquet``) or a file."""
    source = Path(source)
    if source.is_dir():
        return read_embeddings(source / rundir.USER_EMBEDDINGS)
    return read_embeddings(source, ids=ids)
