"""Name -> model class registry (lazy imports keep the CLI start-up fast).

A new model is one line here (or ``MODELS.register("name", cls)`` from a plugin); the shared
contract tests (:class:`recunlearn.testing.RecommenderContract`) then run on it.
"""

from __future__ import annotations

from typing import Any

from recunlearn.core.errors import ConfigError
from recunlearn.core.options import validate_options
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
    """Instantiate model ``name`` with config overrides.

    Raises:
        ConfigError: unknown model, or invalid options: each problem names the option and the
            value, an unknown option comes with the closest valid name and the list of valid
            ones (what ``--set`` accepts).
    """
    cls = model_class(name)
    config = validate_options(cls.Config, options, what=f"model '{name}'")
    try:
        return cls(config)
    except (ValueError, TypeError) as exc:  # a check beyond the config's own fields
        raise ConfigError(f"invalid options for model '{name}': {exc}") from exc
