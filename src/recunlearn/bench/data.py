"""Datasets of benchmark cells: built from a cell's ``data`` parameters, loaded once per
process (a worker runs many cells on the same data)."""

from __future__ import annotations

import json
from typing import Any

from recunlearn.data.spec import DataSpec
from recunlearn.data.types import Dataset

_CACHE: dict[str, Dataset] = {}


def data_params(spec: DataSpec) -> dict[str, Any]:
    """A data spec as cell parameters: everything but the file locations, which do not
    identify the data (the recorded dataset fingerprint does)."""
    return spec.model_dump(mode="json", exclude={"data_dir", "attributes_path"})


def data_spec(
    params: dict[str, Any], data_dir: str | None = None, attributes_path: str | None = None
) -> DataSpec:
    """The :class:`DataSpec` of a cell's ``data`` parameters and its file locations."""
    return DataSpec(**params, data_dir=data_dir, attributes_path=attributes_path)


def load_cached(
    params: dict[str, Any], data_dir: str | None = None, attributes_path: str | None = None
) -> Dataset:
    """Load (or reuse) the filtered dataset of ``params``."""
    from recunlearn.data.loading import load_data

    spec = data_spec(params, data_dir, attributes_path)
    key = json.dumps(spec.model_dump(mode="json"), sort_keys=True)
    if key not in _CACHE:
        _CACHE[key] = load_data(spec)
    return _CACHE[key]
