"""One entry point to every dataset: :func:`load_dataset` by name, :func:`load_data` by spec (loaded and filtered)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recunlearn.core.errors import ConfigError
from recunlearn.core.registry import Registry
from recunlearn.data.filters import binarize, k_core
from recunlearn.data.movielens import load_movielens_1m, load_movielens_100k
from recunlearn.data.paths import resolve_data_dir
from recunlearn.data.recbole import load_recbole
from recunlearn.data.spec import DataSpec
from recunlearn.data.synthetic import make_synthetic
from recunlearn.data.tabular import load_interactions_table
from recunlearn.data.types import Dataset

logger = logging.getLogger(__name__)

DatasetLoader = Callable[[str, str | Path | None, dict[str, Any]], Dataset]
"""(name as given, data_dir, loader options) -> Dataset."""

DATASETS: Registry[DatasetLoader] = Registry("dataset")
"""Every dataset name :func:`load_dataset` accepts (a ``.csv`` / ``.parquet`` path is accepted
too). A new reader is one ``DATASETS.register("name", loader)``."""

ML1M_ALIASES = ("ml-1m-users1-2999",)
"""Folder names that are loaded with the ML-1M reader (the first-half copy of ML-1M)."""

_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


def _check_options(func: Callable[..., Any], options: dict[str, Any], name: str, skip: int) -> None:
    """Raise ConfigError for options ``func`` does not accept (its first ``skip`` are fixed)."""
    params = list(inspect.signature(func).parameters)[skip:]
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise ConfigError(
            f"unknown option(s) {unknown} for dataset '{name}'; accepted: {', '.join(params) or 'none'}"
        )


def _need_path(name: str, data_dir: str | Path | None, what: str) -> Path:
    if data_dir is None:
        raise ConfigError(f"dataset '{name}' needs data_dir = {what}")
    return Path(data_dir).expanduser()


@DATASETS.register("ml-100k")
def _ml100k(name: str, data_dir: str | Path | None, options: dict[str, Any]) -> Dataset:
    _check_options(load_movielens_100k, options, name, 1)
    return load_movielens_100k(resolve_data_dir("ml-100k", data_dir), **options)


@DATASETS.register("ml-1m")
def _ml1m(name: str, data_dir: str | Path | None, options: dict[str, Any]) -> Dataset:
    _check_options(load_movielens_1m, options, name, 1)
    return load_movielens_1m(resolve_data_dir(name.strip().lower(), data_dir), **options)


for _alias in ML1M_ALIASES:
    DATASETS.register(_alias, _ml1m)


@DATASETS.register("synthetic")
def _synthetic(name: str, data_dir: str | Path | None, options: dict[str, Any]) -> Dataset:
    _check_options(make_synthetic, options, name, 0)
    if data_dir is not None:
        logger.warning("synthetic data is generated: data_dir=%s ignored", data_dir)
    if "n_interactions_per_user" in options:
        options["n_interactions_per_user"] = tuple(options["n_interactions_per_user"])
    return make_synthetic(**options)


def _table(name: str, data_dir: str | Path | None, options: dict[str, Any]) -> Dataset:
    path = _need_path(name, data_dir, "the interactions file")
    _check_options(load_interactions_table, options, name, 1)
    return load_interactions_table(path, **options)


DATASETS.register("csv", _table)
DATASETS.register("parquet", _table)


@DATASETS.register("recbole")
def _recbole(name: str, data_dir: str | Path | None, options: dict[str, Any]) -> Dataset:
    path = _need_path(name, data_dir, "the folder (or <dir>/<name> prefix) of the atomic files")
    _check_options(load_recbole, options, name, 1)
    return load_recbole(path, **options)


def load_dataset(name: str, data_dir: str | Path | None = None, **options: Any) -> Dataset:
    """Load a dataset by name.

    Args:
        name: ``"ml-100k"``, ``"ml-1m"`` (also ``"ml-1m-users1-2999"``, read with the ML-1M
            reader), ``"synthetic"``, ``"csv"`` / ``"parquet"`` (the user's own table), or
            ``"recbole"`` (atomic files): any name of :data:`DATASETS`. A path to a
            ``.csv``/``.parquet`` file is accepted as ``name`` too.
        data_dir: MovieLens: the dataset folder or its parent (default ``$RECUNLEARN_DATA``
            or the cache, see :func:`~recunlearn.data.paths.resolve_data_dir`); csv/parquet:
            the interactions file; recbole: the folder or ``<dir>/<name>`` prefix; ignored for
            synthetic.
        **options: passed to the loader: :func:`~recunlearn.data.movielens.load_movielens_1m`
            (``ratings_file``), :func:`~recunlearn.data.synthetic.make_synthetic`,
            :func:`~recunlearn.data.tabular.load_interactions_table` (``attributes_path``,
            column names, ``attribute_kinds``...), :func:`~recunlearn.data.recbole.load_recbole`.

    Raises:
        ConfigError: unknown name or option, missing ``data_dir`` for file-based datasets.
        DataError: problems in the data files.
    """
    if name not in DATASETS and Path(name).suffix.lower() in _TABLE_SUFFIXES:
        return _table(name, name, options)
    if name not in DATASETS:
        raise ConfigError(DATASETS.unknown_message(name) + " (or a .csv/.parquet path)")
    return DATASETS.get(name)(name, data_dir, dict(options))


def load_data(spec: DataSpec) -> Dataset:
    """Load a dataset and apply the spec's binarisation and k-core filter (in that order)."""
    options = dict(spec.options)
    if spec.attributes_path is not None:
        options["attributes_path"] = spec.attributes_path
    dataset = load_dataset(spec.name, spec.data_dir, **options)
    if spec.binarize_threshold is not None:
        dataset = binarize(dataset, spec.binarize_threshold)
    if spec.min_user_interactions or spec.min_item_interactions or spec.binarize_threshold:
        dataset = k_core(dataset, spec.min_user_interactions, spec.min_item_interactions)
    return dataset
