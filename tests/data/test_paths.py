"""Data folder resolution: explicit folder or parent, $RECUNLEARN_DATA, user cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from recunlearn.data import load_dataset, paths
from recunlearn.data.paths import DATA_ENV, cache_root, resolve_data_dir
from tests.data.test_movielens import write_ml100k


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_ENV, raising=False)


def test_explicit_folder_or_parent(tmp_path: Path) -> None:
    folder = write_ml100k(tmp_path / "ml-100k")
    assert resolve_data_dir("ml-100k", folder) == folder
    assert resolve_data_dir("ml-100k", tmp_path) == folder
    assert resolve_data_dir("ml-100k", str(tmp_path)) == folder
    other = tmp_path / "my-copy"
    assert resolve_data_dir("ml-100k", other) == other  # need not exist


def test_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert resolve_data_dir("ml-1m") == tmp_path / "ml-1m"
    write_ml100k(tmp_path / "ml-100k")
    assert load_dataset("ml-100k").n_users == 4


def test_user_cache_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths.platformdirs, "user_cache_dir", lambda app: str(tmp_path / app))
    assert cache_root() == tmp_path / "recunlearn" / "datasets"
    assert resolve_data_dir("ml-100k") == tmp_path / "recunlearn" / "datasets" / "ml-100k"
    monkeypatch.setenv(DATA_ENV, "  ")
    assert resolve_data_dir("ml-100k") == tmp_path / "recunlearn" / "datasets" / "ml-100k"
