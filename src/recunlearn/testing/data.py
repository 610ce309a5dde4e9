"""Small seeded data for tests of any component: a tiny dataset with a hand-made leave-one-out
split, and a planted embedding matrix whose attributes are readable to a known degree.

These depend only on the core types, so component tests never depend on the loaders.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from recunlearn.data.split_types import EvalSet, Split
from recunlearn.data.types import Attribute, Dataset, Interactions
from recunlearn.protect.posthoc.base import AttributeLabels


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


def planted_matrix(
    n: int = 400, d: int = 16, seed: int = 0
) -> tuple[np.ndarray, dict[str, AttributeLabels]]:
    """Rows with a gender direction, an age-bin direction and an independent noise label."""
    rng = np.random.default_rng(seed)
    gender = rng.integers(0, 2, n)
    age = rng.integers(0, 3, n)
    noise = rng.integers(0, 2, n)
    age_raw = 20 + 15 * age + rng.normal(0, 3, n)
    matrix = rng.normal(0, 1, (n, d))
    matrix[:, 0] += 2.0 * (2 * gender - 1)
    matrix[:, 1] += 1.0 * (age - 1)
    gender_known = gender.copy()
    gender_known[:20] = -1  # some users never disclosed their gender
    labels = {
        "gender": AttributeLabels(Attribute("gender", "categorical", ("F", "M")), gender_known),
        "age": AttributeLabels(Attribute("age", "categorical", ("<28", "28-40", ">40")), age),
        "noise": AttributeLabels(Attribute("noise", "categorical", ("a", "b")), noise),
        "age_raw": AttributeLabels(Attribute("age_raw", "continuous"), age_raw),
    }
    return matrix.astype(np.float32), labels


class LinearScorer:
    """A frozen dot-product recommender for methods trained through one (AFRL, SM, FFVAE), with
    the interface of :class:`~recunlearn.protect.posthoc.base.ModelScorer`.

    Item vectors are drawn at random; each user's training interactions are the ``per_user``
    items it scores highest under ``matrix`` (plus noise), its validation target the next one,
    so a replacement matrix that keeps the users' preferences keeps the rankings.

    Args:
        matrix: the users' original rows (n_users x d).
        n_items: catalogue size.
        per_user: training items per user.
        seed: seed of the item vectors and of the noise.
    """

    def __init__(
        self, matrix: np.ndarray, n_items: int = 40, per_user: int = 6, seed: int = 0
    ) -> None:
        rng = np.random.default_rng(seed)
        matrix = np.asarray(matrix, dtype=np.float32)
        n_users = len(matrix)
        self.items = torch.from_numpy(rng.normal(size=(n_items, matrix.shape[1])).astype("f4"))
        noisy = matrix @ self.items.numpy().T + rng.normal(0, 0.5, (n_users, n_items))
        order = np.argsort(-noisy, axis=1)
        rows = np.repeat(np.arange(n_users), per_user)
        shape = (n_users, n_items)
        ones = np.ones(len(rows), np.float32)
        self.train = sp.csr_matrix((ones, (rows, order[:, :per_user].ravel())), shape=shape)
        target = sp.csr_matrix(
            (np.ones(n_users, np.float32), (np.arange(n_users), order[:, per_user])), shape=shape
        )
        users = np.arange(n_users)
        self.valid = EvalSet(users, self.train, target)
        self.known = (self.train + target).tocsr()

    def raw(self, users: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        """Scores of every item (differentiable in ``table``)."""
        return table[users].to(torch.float32) @ self.items.T

    def __call__(self, users: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        scores = self.raw(users, table)
        rows = self.known[users.numpy()].tocoo()
        mask = torch.zeros(scores.shape, dtype=torch.bool)
        mask[torch.from_numpy(rows.row).long(), torch.from_numpy(rows.col).long()] = True
        return scores.masked_fill(mask, float("-inf"))
