"""Shared fixtures: a tiny dataset with planted attribute signal and a hand-made LOO split.

These fixtures depend only on the core types, so model tests do not depend on the loaders.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from recunlearn.data.split_types import EvalSet, Split
from recunlearn.data.types import Attribute, Dataset, Interactions

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data(name: str) -> Path:
    """Path of a local copy of a real dataset, skipping the test when it is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"real data not available at {path}")
    return path


def make_tiny_dataset(
    n_users: int = 60, n_items: int = 40, per_user: int = 12, seed: int = 0
) -> Dataset:
    """Users of two genders prefer two halves of the catalogue; timestamps increase per user."""
    rng = np.random.default_rng(seed)
    gender = rng.integers(0, 2, n_users)
    age = rng.uniform(18, 60, n_users)
    users, items, stamps = [], [], []
    for u in range(n_users):
        half = np.arange(n_items // 2) + (n_items // 2) * gender[u]
        pool = np.concatenate([half, rng.choice(n_items, 4, replace=False)])
        chosen = rng.choice(np.unique(pool), per_user, replace=False)
        users += [u] * per_user
        items += chosen.tolist()
        stamps += (1000 * u + np.arange(per_user)).tolist()
    inter = Interactions(np.array(users), np.array(items), np.ones(len(users)), np.array(stamps))
    return Dataset(
        name="tiny",
        interactions=inter,
        user_ids=np.arange(1, n_users + 1),
        item_ids=np.arange(101, 101 + n_items),
        attributes=(
            Attribute("gender", "categorical", ("F", "M")),
            Attribute("age_raw", "continuous"),
        ),
        user_values={"gender": gender, "age_raw": age},
    )


def make_tiny_split(dataset: Dataset) -> Split:
    """Leave-one-out by timestamp: last event -> test, second last -> validation."""
    inter = dataset.interactions
    order = np.lexsort((inter.timestamp, inter.user))
    u, i = inter.user[order], inter.item[order]
    last = np.r_[u[1:] != u[:-1], True]
    second = np.r_[last[1:], False] & ~last
    shape = (dataset.n_users, dataset.n_items)

    def csr(mask: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((np.ones(mask.sum(), np.float32), (u[mask], i[mask])), shape=shape)

    train = csr(~last & ~second)
    valid_t, test_t = csr(second), csr(last)
    users = np.arange(dataset.n_users)
    return Split(
        protocol="loo",
        params={"ties": "hand-made"},
        dataset=dataset,
        train=train,
        train_users=users,
        valid=EvalSet(users, train, valid_t),
        test=EvalSet(users, (train + valid_t).tocsr(), test_t),
    )


@pytest.fixture(scope="session")
def tiny_dataset() -> Dataset:
    """A 60-user dataset with a planted gender signal."""
    return make_tiny_dataset()


@pytest.fixture(scope="session")
def tiny_split(tiny_dataset: Dataset) -> Split:
    """LOO split of ``tiny_dataset``."""
    return make_tiny_split(tiny_dataset)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny models are slower with 2 threads on a busy 2-core machine (thread stalls)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
