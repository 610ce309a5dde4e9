"""The run directory: what a trained (or unlearned) run leaves on disk, and reading it back.

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
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from recunlearn.core.errors import DataError
from recunlearn.core.provenance import versions
from recunlearn.data.fingerprint import dataset_fingerprint
from recunlearn.data.types import Dataset
from recunlearn.experiments.spec import RunSpec

CONFIG = "config.json"
WEIGHTS = "weights.safetensors"
USER_EMBEDDINGS = "user_embeddings.parquet"
ITEM_EMBEDDINGS = "item_embeddings.parquet"
METRICS = "metrics.json"
PER_USER = "per_user_metrics.parquet"
RECOMMENDATIONS = "recommendations.parquet"


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
