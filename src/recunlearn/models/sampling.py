"""Vectorised uniform negative sampling from a binary train matrix.

For every positive pair ``(u, i)`` we need items ``j`` that ``u`` has not interacted with in
``train``. Items are drawn uniformly from the whole catalogue; draws that hit one of the user's
training items are detected in one shot (binary search of the key ``u * n_items + j`` among the
sorted keys of the training pairs) and only those are redrawn. This is rejection sampling, so
every accepted item is uniform over the user's non-interacted items. After ``max_rounds`` rounds
the few draws still colliding (users whose row is nearly full) are drawn exactly from their
complement.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import torch


def positive_pairs(train: sp.csr_matrix) -> tuple[torch.Tensor, torch.Tensor]:
    """All stored ``(user, item)`` pairs of ``train`` as two long tensors, row-major order."""
    csr = sp.csr_matrix(train)
    csr.sum_duplicates()
    csr.eliminate_zeros()
    users = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
    return torch.from_numpy(users), torch.from_numpy(csr.indices.astype(np.int64))


class NegativeSampler:
    """Draws uniform non-interacted items for users of a fixed train matrix.

    Args:
        train: n_users x n_items matrix; every stored non-zero counts as an interaction.
        max_rounds: rejection rounds before the exact fallback for the remaining collisions.

    Raises:
        ValueError: if the matrix has no items.
    """

    def __init__(self, train: sp.csr_matrix, max_rounds: int = 8) -> None:
        csr = sp.csr_matrix(train)
        csr.sum_duplicates()
        csr.eliminate_zeros()
        csr.sort_indices()
        self.n_users, self.n_items = csr.shape
        if self.n_items == 0:
            raise ValueError("cannot sample negatives from a matrix with no items")
        self.max_rounds = max_rounds
        self._indptr = csr.indptr.astype(np.int64)
        self._indices = csr.indices.astype(np.int64)
        self._row_length = np.diff(self._indptr)
        users = np.repeat(np.arange(self.n_users, dtype=np.int64), self._row_length)
        # CSR with sorted indices is already sorted by (user, item), so the keys are sorted.
        self._keys = torch.from_numpy(users * self.n_items + self._indices)

    def is_positive(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Boolean tensor: whether each ``(users[k], items[k])`` is a training interaction."""
        query = users.to(torch.int64) * self.n_items + items.to(torch.int64)
        if self._keys.numel() == 0:
            return torch.zeros_like(query, dtype=torch.bool)
        pos = torch.searchsorted(self._keys, query).clamp_(max=self._keys.numel() - 1)
        return self._keys[pos] == query

    def sample(
        self, users: torch.Tensor | np.ndarray, k: int, generator: torch.Generator
    ) -> torch.Tensor:
        """``k`` uniform non-interacted items for each entry of ``users``.

        Args:
            users: 1-D user indices (one per positive pair; repeats allowed).
            k: negatives per entry.
            generator: the torch generator all draws come from (seeded => reproducible).

        Returns:
            A ``(len(users), k)`` long tensor. Draws are independent (with replacement).

        Raises:
            ValueError: if a requested user has interacted with every item.
        """
        users_t = users if torch.is_tensor(users) else torch.from_numpy(np.asarray(users))
        users_t = users_t.to(torch.int64).reshape(-1)
        full = self._row_length[users_t.numpy()] >= self.n_items
        if full.any():
            bad_users = np.unique(users_t.numpy()[full])
            raise ValueError(f"users {bad_users[:10].tolist()} interacted with every item")
        flat_users = users_t.repeat_interleave(k)
        items = torch.randint(self.n_items, (len(flat_users),), generator=generator)
        bad = self.is_positive(flat_users, items).nonzero().squeeze(1)
        for _ in range(self.max_rounds):
            if bad.numel() == 0:
                break
            items[bad] = torch.randint(self.n_items, (bad.numel(),), generator=generator)
            still = self.is_positive(flat_users[bad], items[bad])
            bad = bad[still]
        if bad.numel():
            self._exact(flat_users, items, bad, generator)
        return items.reshape(len(users_t), k)

    def _exact(
        self,
        flat_users: torch.Tensor,
        items: torch.Tensor,
        bad: torch.Tensor,
        generator: torch.Generator,
    ) -> None:
        """Fill ``items[bad]`` exactly from each user's complement (loop over distinct users)."""
        bad_users = flat_users[bad]
        for user in torch.unique(bad_users).tolist():
            where = bad[bad_users == user]
            row = self._indices[self._indptr[user] : self._indptr[user + 1]]
            pool = torch.from_numpy(np.setdiff1d(np.arange(self.n_items), row))
            pick = torch.randint(len(pool), (where.numel(),), generator=generator)
            items[where] = pool[pick]


def epoch_triples(
    pos_users: torch.Tensor,
    pos_items: torch.Tensor,
    sampler: NegativeSampler,
    n_negatives: int,
    batch_size: int,
    generator: torch.Generator,
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """One epoch of (users, positive items, negatives[batch, n_negatives]) mini-batches.

    The positives are shuffled and the negatives of the whole epoch drawn at once, so the
    only Python loop is over batches.
    """
    n = len(pos_users)
    order = torch.randperm(n, generator=generator)
    users, items = pos_users[order], pos_items[order]
    negatives = sampler.sample(users, n_negatives, generator)
    for start in range(0, n, batch_size):
        stop = start + batch_size
        yield users[start:stop], items[start:stop], negatives[start:stop]


class TrainingPairs:
    """A train matrix's positive pairs and a negative sampler for it: the epochs of the models
    trained on (user, positive, negatives) triples (MF, NCF, LightGCN).

    Args:
        train: n_users x n_items matrix; every stored non-zero is a positive pair.
    """

    def __init__(self, train: sp.csr_matrix) -> None:
        self.users, self.items = positive_pairs(train)
        self.sampler = NegativeSampler(train)

    def __len__(self) -> int:
        return len(self.users)

    def epoch(
        self, n_negatives: int, batch_size: int, generator: torch.Generator
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """One epoch of mini-batches (see :func:`epoch_triples`)."""
        return epoch_triples(
            self.users, self.items, self.sampler, n_negatives, batch_size, generator
        )
