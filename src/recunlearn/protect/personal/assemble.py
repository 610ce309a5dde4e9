"""Serving per-user requirements with any post-hoc method.

A method that is per-user by design (AFRL, SM, FFVAE: :class:`PersonalProtector`) answers a
:class:`~recunlearn.protect.personal.requirement.PersonalRequirement` itself, in one pass. Any
other :class:`~recunlearn.protect.posthoc.base.Unlearner` is served by :func:`assemble`: one
``transform`` per distinct requirement, each user's row taken from the protected matrix of
that user's requirement, the original row for users who asked for nothing. Methods that keep
per-attribute bricks (the split eraser, LEGO) compute each attribute once and combine cached
bricks for the other requirements.
"""

from __future__ import annotations

import time
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from recunlearn.core.errors import ConfigError
from recunlearn.protect.personal.requirement import PersonalRequirement


@runtime_checkable
class PersonalProtector(Protocol):
    """A fitted method that takes a requirement per user (AFRL, SM, FFVAE)."""

    def transform_personal(self, requirement: PersonalRequirement) -> torch.Tensor:
        """The protected matrix, each row under its user's own requirement."""
        ...


def assemble(
    method: Any,
    embeddings: torch.Tensor | np.ndarray,
    requirement: PersonalRequirement,
    *,
    log: dict[str, Any] | None = None,
) -> torch.Tensor:
    """The matrix whose row ``u`` is protected under user ``u``'s requirement.

    Args:
        method: a fitted :class:`~recunlearn.protect.posthoc.base.Unlearner` (fitted on
            ``embeddings``), or a :class:`PersonalProtector`.
        embeddings: the original matrix (rows of users who asked for nothing).
        requirement: the per-user requirement (rows aligned with ``embeddings``).
        log: if given, filled with ``seconds`` (total) and ``groups`` (requirement label ->
            number of users and seconds of its transform).

    Raises:
        ConfigError: a requirement with another number of rows than the matrix; an attribute
            the method does not know (from its ``transform``).
    """
    matrix = torch.as_tensor(np.asarray(embeddings), dtype=torch.float32)
    if requirement.n_users != matrix.shape[0]:
        raise ConfigError(
            f"the requirement table has {requirement.n_users} users for {matrix.shape[0]} "
            "embedding rows"
        )
    started = time.perf_counter()
    groups: dict[str, dict[str, float]] = {}
    if isinstance(method, PersonalProtector):
        out = method.transform_personal(requirement)
    else:
        out = matrix.clone()
        for names, rows in requirement.groups():
            if not names:
                continue
            t0 = time.perf_counter()
            protected = method.transform(list(names))
            index = torch.from_numpy(rows)
            out[index] = protected[index].to(out.dtype)
            groups["+".join(names)] = {
                "users": float(len(rows)),
                "seconds": time.perf_counter() - t0,
            }
    if log is not None:
        log["seconds"] = time.perf_counter() - started
        log["groups"] = groups
    return out
