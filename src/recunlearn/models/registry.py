"""Name -> model class registry (lazy imports keep the CLI start-up fast)."""

from __future__ import annotations

import importlib
from typing import Any

from recunlearn.core.errors import ConfigError
from recunlearn.models.base import Recommender

MODELS: dict[str, str] = {
    "mf": "recunlearn.models.mf:MF",
    "ncf": "recunlearn.models.ncf:NCF",
    "lightgcn": "recunlearn.models.lightgcn:LightGCN",
    "multvae": "recunlearn.models.multvae:MultVAE",
}


def model_class(name: str) -> type[Recommender]:
    """The class registered under ``name`` (case-insensitive)."""
    key = name.lower()
    if key not in MODELS:
        raise ConfigError(f"unknown model '{name}'; choose one of {', '.join(MODELS)}")
    module_name, class_name = MODELS[key].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def make_model(name: str, **options: Any) -> Recommender:
    """Instantiate model ``name`` with config overrides (unknown options are rejected)."""
    cls = model_class(name)
    try:
        return cls(**options)
    except Exception as exc:  # pydantic ValidationError -> readable message
        raise ConfigError(f"invalid options for model '{name}': {exc}") from exc
