"""The built-in cell kinds, registered on import: ``train``, ``unlearn``, ``adversarial``,
``timing``, ``debias`` (see :mod:`recunlearn.bench.registry` to add another)."""

from recunlearn.bench.kinds import adversarial, debias, timing, train, unlearn

__all__ = ["adversarial", "debias", "timing", "train", "unlearn"]
