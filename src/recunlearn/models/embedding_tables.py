"""The plain user and item embedding tables shared by MF and LightGCN."""

from __future__ import annotations

import torch


class UserItemTables(torch.nn.Module):
    """Two embedding tables, ``user`` (n_users x dim) and ``item`` (n_items x dim)."""

    def __init__(self, n_users: int, n_items: int, dim: int) -> None:
        super().__init__()
        self.user = torch.nn.Embedding(n_users, dim)
        self.item = torch.nn.Embedding(n_items, dim)
