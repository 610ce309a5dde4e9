"""Thread limits for attackers: BLAS / OpenMP (threadpoolctl) and torch, in one context.

The audit parallelises over jobs (one process each), so every fit runs single-threaded:
OpenMP estimators such as gradient boosting or t-SNE slow down by an order of magnitude when
their threads compete for busy cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import torch
from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    """One controller per process (inspecting the loaded libraries costs ~4 ms per call)."""
    import sklearn.ensemble  # noqa: F401  (load the OpenMP runtime before inspecting)

    return ThreadpoolController()


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Set the number of torch threads inside the block (``None`` leaves it alone)."""
    if threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def limit_threads(threads: int | None = 1) -> Iterator[None]:
    """BLAS, OpenMP and torch limited to ``threads`` inside the block (``None``: no limit)."""
    if threads is None:
        yield
        return
    with _controller().limit(limits=threads), torch_threads(threads):
        yield
