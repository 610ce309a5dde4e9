"""Typed specifications of the data a run uses: which dataset, how it is filtered, how it is split."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSpec(_Spec):
    """Which dataset to load and how to filter it.

    Attributes:
        name: a name accepted by :func:`recunlearn.data.loading.load_dataset`.
        data_dir: folder (MovieLens, RecBole) or interactions file (csv/parquet).
        attributes_path: user-attribute table for csv/parquet data.
        options: extra loader options (e.g. synthetic ``n_users``).
        min_user_interactions: k-core bound on users (papers: 5; 0 disables).
        min_item_interactions: k-core bound on items (0 disables).
        binarize_threshold: keep ratings >= this value as positives (None keeps all).
    """

    name: str = "synthetic"
    data_dir: str | None = None
    attributes_path: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    min_user_interactions: int = Field(5, ge=0)
    min_item_interactions: int = Field(0, ge=0)
    binarize_threshold: float | None = None


class SplitSpec(_Spec):
    """A named split protocol and its parameters (see :mod:`recunlearn.data.splits`)."""

    protocol: str = "loo"
    params: dict[str, Any] = Field(default_factory=dict)
