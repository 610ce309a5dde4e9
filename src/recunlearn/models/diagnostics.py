"""Health checks of a trained model's user representation."""

from __future__ import annotations

import numpy as np
import torch


def dead_dimensions(embeddings: torch.Tensor | np.ndarray, tolerance: float = 1e-6) -> int:
    """Coordinates of a user representation that are below ``tolerance`` in absolute value for
    every user.

    Such a coordinate carries no preference signal: it is the mark of a collapsed branch (an
    NCF whose GMF tables were decayed to zero scores with its MLP tower alone). Attackers that
    standardise their inputs can still read label-dependent noise there once an unlearner
    edits it, so a count above zero is worth a look before auditing or unlearning.
    """
    values = torch.as_tensor(embeddings)
    if values.ndim != 2 or values.shape[0] == 0:
        return 0
    return int((values.abs().amax(dim=0) < tolerance).sum())


def dead_dimensions_warning(dead: int, total: int) -> str | None:
    """A one-line explanation for a run's report, or None when no coordinate is dead."""
    if dead <= 0:
        return None
    return (
        f"{dead} of {total} user-embedding coordinates are ~0 for every user: a branch of the "
        "model collapsed and carries no signal (for NCF, lower weight_decay or raise the data's "
        "steps per epoch; see NCFConfig)"
    )
