"""Name -> model class registry (lazy imports keep the CLI start-up fast).

A new model is one line here (or ``MODELS.register("name", cls)`` from a plugin); the shared
contract tests (:class:`recunlearn.testing.RecommenderContract`) then run on it.
"""

from __future__ import annotations

from typing import Any

from recunlearn.core.errors import ConfigError
from recunlearn.core.registry import Registry
from recunlearn.models.base import Recommender

MODELS: Registry[type[Recommender]] = Registry("model")
MODELS.register_lazy("mf", "recunlearn.models.mf:MF")
MODELS.register_lazy("ncf", "recunlearn.models.ncf:NCF")
MODELS.register_lazy("lightgcn", "recunlearn.models.lightgcn:LightGCN")
MODELS.register_lazy("multvae", "recunlearn.models.multvae:MultVAE")


def model_class(name: str) -> type[Recommender]:
    """The class registered under ``name`` (case-insensitive)."""
    return MODELS.get(name)


def make_model(name: str, **options: Any) -> Recommender:
    """Instantiate model ``name`` with config overrides (unknown options are rejected)."""
    cls = model_class(name)
    try:
        return cls(**options)
    except Exception as exc:  # pydantic ValidationError -> readable message
        raise ConfigError(f"invalid options for model '{name}': {exc}") from exc
