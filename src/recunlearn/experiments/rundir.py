"""The run directory: what a trained, unlearned or debiased run leaves on disk, the one function
that writes it (:func:`write_run_directory`), and reading it back.

Layout::

    config.json                 the complete validated RunSpec, the model's resolved config
                                (defaults included), the spec's hash, dataset fingerprint,
                                library versions, creation time
    weights.safetensors         model weights
    user_embeddings.parquet     user_id + e0..e{d-1}: the representation user_embeddings() returns
    item_embeddings.parquet     item_id + e0..  (when the model has an item table)
    metrics.json                test / validation metrics, loss log, wall times
    per_user_metrics.parquet    user_id + one column per metric (for significance tests)
    recommendations.parquet     user_id, rank, item_id, score (top-K per test user, raw ids)
    .recunlearn                 owner mark: only a directory carrying it is ever replaced
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from safetensors.torch import save_file

from recunlearn.core.atomic import atomic_directory
from recunlearn.core.errors import DataError, RecunlearnError
from recunlearn.core.provenance import versions
from recunlearn.data.fingerprint import dataset_fingerprint
from recunlearn.data.loading import DATASETS, load_data
from recunlearn.data.types import Dataset
from recunlearn.experiments.spec import RunSpec

CONFIG = "config.json"
WEIGHTS = "weights.safetensors"
USER_EMBEDDINGS = "user_embeddings.parquet"
ITEM_EMBEDDINGS = "item_embeddings.parquet"
METRICS = "metrics.json"
PER_USER = "per_user_metrics.parquet"
RECOMMENDATIONS = "recommendations.parquet"
LEAKAGE_JSON = "leakage.json"
LEAKAGE_MD = "leakage.md"


def embedding_frame(
    ids: np.ndarray, matrix: torch.Tensor | np.ndarray, id_column: str
) -> pd.DataFrame:
    """A table ``id_column, e0, e1, ...`` keyed by raw ids."""
    values = matrix.detach().cpu().numpy() if isinstance(matrix, torch.Tensor) else matrix
    values = np.asarray(values, dtype=np.float32)
    frame = pd.DataFrame(values, columns=[f"e{j}" for j in range(values.shape[1])])
    frame.insert(0, id_column, np.asarray(ids))
    return frame


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Pretty JSON with NaN written as null."""
    path.write_text(json.dumps(_clean(payload), indent=2, sort_keys=False) + "\n")


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def config_payload(
    spec: RunSpec, dataset: Dataset, model_config: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The content of ``config.json``.

    ``model_config`` is the model's resolved configuration (every option, defaults included):
    ``spec.model_options`` holds only the options given, so a later change of a default would
    otherwise change what an old run directory means when it is loaded again.
    """
    return {
        "spec": spec.model_dump(mode="json"),
        **({"model_config": model_config} if model_config is not None else {}),
        "config_hash": spec.fingerprint(),
        "dataset": {"label": dataset.label, "fingerprint": dataset_fingerprint(dataset)},
        "versions": versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON file of a run directory with an error naming the file."""
    if not path.exists():
        raise DataError("missing file of the run directory", path=path)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc})", path=path) from exc


def read_config(run: str | Path) -> tuple[RunSpec, dict[str, Any]]:
    """The validated :class:`RunSpec` of a run directory and the raw ``config.json``."""
    path = Path(run) / CONFIG
    payload = read_json(path)
    if "spec" not in payload:
        raise DataError("no 'spec' entry", path=path, field="spec")
    try:
        spec = RunSpec.model_validate(payload["spec"])
    except ValueError as exc:
        raise DataError(f"invalid run spec: {exc}", path=path, field="spec") from exc
    return spec, payload


def relocate_data(
    spec: RunSpec, data_dir: str | Path | None = None, attributes_path: str | Path | None = None
) -> RunSpec:
    """``spec`` with its data read from another place (a data folder that moved since the run
    was trained); ``None`` keeps the recorded location. The data must still be the same: see
    :func:`check_fingerprint`.

    A run whose dataset was named by its file (``--dataset ratings.csv``) gets the new file
    as its name too."""
    update: dict[str, Any] = {}
    if data_dir is not None:
        update["data_dir"] = str(Path(data_dir).expanduser().resolve())
        if spec.data.name not in DATASETS:
            update["name"] = update["data_dir"]
    if attributes_path is not None:
        update["attributes_path"] = str(Path(attributes_path).expanduser().resolve())
    if not update:
        return spec
    return spec.model_copy(update={"data": spec.data.model_copy(update=update)})


def load_run_data(spec: RunSpec, run: str | Path) -> Dataset:
    """Load the data a run was trained on (as its spec describes it, filters included).

    Raises:
        DataError: the data cannot be loaded; the message says where the run looked and how
            to point it elsewhere (``--data-dir`` / ``--data-attributes``).
    """
    try:
        return load_data(spec.data)
    except RecunlearnError as exc:
        where = f"data_dir '{spec.data.data_dir}'" if spec.data.data_dir else "the default place"
        if spec.data.attributes_path:
            where += f", attributes '{spec.data.attributes_path}'"
        raise DataError(
            f"cannot load the data of run '{run}' (dataset '{spec.data.name}' from {where}): "
            f"{exc}. If the data moved, pass its new place with --data-dir (and "
            "--data-attributes for a user-attribute table)"
        ) from exc


def check_fingerprint(payload: dict[str, Any], dataset: Dataset, run: str | Path) -> None:
    """Raise a DataError when ``dataset`` is not the data the run of ``payload`` (its
    ``config.json``) was trained on; runs without a recorded fingerprint pass."""
    expected = payload.get("dataset", {}).get("fingerprint")
    actual = dataset_fingerprint(dataset)
    if expected is not None and expected != actual:
        raise DataError(
            f"the data changed since this run was trained (fingerprint {actual}, run has "
            f"{expected})",
            path=Path(run) / CONFIG,
            field="dataset.fingerprint",
        )


def read_embeddings(path: str | Path, id_column: str = "user_id") -> tuple[np.ndarray, np.ndarray]:
    """Raw ids and the float32 matrix of an embedding Parquet table."""
    path = Path(path)
    if not path.exists():
        raise DataError("missing embedding table", path=path)
    frame = pd.read_parquet(path)
    if id_column not in frame.columns:
        raise DataError(f"no '{id_column}' column", path=path, field=id_column)
    columns = [c for c in frame.columns if c != id_column]
    return frame[id_column].to_numpy(), frame[columns].to_numpy(np.float32)


RunFile = Mapping[str, Any] | list[Any] | pd.DataFrame | Path | str | bytes
"""What :func:`write_run_directory` writes under a file name (see there)."""


def write_run_directory(
    out: str | Path, files: Mapping[str, RunFile], *, kind: str = "run", overwrite: bool = False
) -> Path:
    """Write a run directory atomically: every file or none, and only over one of ours.

    The file name decides the format: ``.json`` (a mapping or list, NaN written as null),
    ``.parquet`` / ``.csv`` (a data frame, no index), ``.safetensors`` (a mapping of tensors);
    a :class:`~pathlib.Path` value is copied, ``str`` / ``bytes`` are written as they are.

    Args:
        out: the directory to create.
        files: file name -> content.
        kind: what the directory holds (``run``, ``unlearned``, ``debias``), kept in its mark.
        overwrite: replace an existing run directory (never a folder recunlearn did not write).

    Raises:
        ConfigError: ``out`` exists without ``overwrite``, or is not ours, or appeared
            meanwhile (see :func:`recunlearn.core.atomic.atomic_directory`).
    """
    out = Path(out)
    with atomic_directory(out, overwrite=overwrite, kind=kind) as tmp:
        for name, content in files.items():
            _write_file(tmp / name, content)
    return out


def _write_file(path: Path, content: RunFile) -> None:
    suffix = path.suffix.lower()
    if isinstance(content, Path):
        shutil.copy2(content, path)
    elif isinstance(content, pd.DataFrame):
        if suffix == ".csv":
            content.to_csv(path, index=False)
        else:
            content.to_parquet(path, index=False)
    elif suffix == ".safetensors":
        save_file(dict(content), str(path))
    elif suffix == ".json":
        path.write_text(json.dumps(_clean(content), indent=2, default=str) + "\n")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(str(content))
