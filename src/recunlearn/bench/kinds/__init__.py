"""The built-in cell kinds, registered on import: ``train``, ``unlearn``, ``adversarial``,
``timing``, ``debias``, ``protocol_gap``, ``personal`` (per-user requirements), and the
wall-time kinds ``train_speed``, ``audit_speed`` and ``removal_speed`` (see :mod:`recunlearn.bench.registry` to add another)."""

from recunlearn.bench.kinds import (
    adversarial,
    debias,
    diagnostics,
    personal,
    speed,
    timing,
    train,
    unlearn,
)

__all__ = [
    "adversarial",
    "debias",
    "diagnostics",
    "personal",
    "speed",
    "timing",
    "train",
    "unlearn",
]
