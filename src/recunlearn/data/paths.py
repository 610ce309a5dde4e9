"""Where datasets live on disk: an explicit folder, ``$RECUNLEARN_DATA`` or the user cache.

Nothing here prompts or downloads; :mod:`recunlearn.data.fetch` downloads on request only.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

#: Environment variable naming a directory that holds one subfolder per dataset.
DATA_ENV = "RECUNLEARN_DATA"


def cache_root() -> Path:
    """The per-user cache directory holding one subfolder per downloaded dataset."""
    return Path(platformdirs.user_cache_dir("recunlearn")) / "datasets"


def data_root() -> Path:
    """The directory holding one subfolder per dataset: ``$RECUNLEARN_DATA`` or the cache."""
    env = os.environ.get(DATA_ENV, "").strip()
    return Path(env).expanduser() if env else cache_root()


def resolve_data_dir(name: str, data_dir: str | Path | None = None) -> Path:
    """The folder that holds (or will hold) the files of dataset ``name``.

    Resolution order:

    1. ``data_dir`` when given. It may be the dataset folder itself or its parent: when
       ``data_dir/<name>`` is an existing directory it is used, otherwise ``data_dir`` is.
    2. ``$RECUNLEARN_DATA/<name>`` when the environment variable is set.
    3. ``<user cache dir>/recunlearn/datasets/<name>`` (see :func:`cache_root`).

    The returned folder is not required to exist: loaders report a missing folder with a clear
    error and the suggestion to run ``recunlearn data fetch <name>``.

    Args:
        name: dataset name, e.g. ``"ml-100k"``.
        data_dir: an explicit folder, or ``None``.

    Returns:
        The resolved folder (``~`` expanded, not resolved against symlinks).
    """
    if data_dir is not None:
        base = Path(data_dir).expanduser()
        nested = base / name
        return nested if nested.is_dir() else base
    return data_root() / name
