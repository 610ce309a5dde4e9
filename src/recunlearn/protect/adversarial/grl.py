"""Gradient reversal (Ganin & Lempitsky 2015): identity forward, ``-lambda * grad`` backward.

Placed between a model's user representation and an adversary head, it lets one backward pass
train the head to *predict* a protected attribute while pushing the representation to make
that prediction *harder* (Adv-MultVAE eq. 3, AdvX-MultVAE eq. 4-5).
"""

from __future__ import annotations

from typing import Any

import torch


class _ReverseGradient(torch.autograd.Function):
    """The autograd function behind :func:`grad_reverse`."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, lam: float) -> torch.Tensor:
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad * (-ctx.lam), None


def grad_reverse(x: torch.Tensor, lam: float = 1.0) -> torch.Tensor:
    """``x`` unchanged in the forward pass; its gradient multiplied by ``-lam`` in the backward.

    ``lam = 0`` trains whatever sits after the layer without sending any gradient back to ``x``
    (AdvX's lambda = 0 cells: the adversary learns, the recommender is untouched).

    Raises:
        ValueError: ``lam`` is negative or not finite.
    """
    lam = float(lam)
    if not lam >= 0.0 or lam == float("inf"):
        raise ValueError(f"gradient reversal scale must be a finite number >= 0, got {lam}")
    return _ReverseGradient.apply(x, lam)


class GradientReversal(torch.nn.Module):
    """Module form of :func:`grad_reverse` with a fixed scale ``lam``."""

    def __init__(self, lam: float = 1.0) -> None:
        super().__init__()
        if not float(lam) >= 0.0:
            raise ValueError(f"gradient reversal scale must be >= 0, got {lam}")
        self.lam = float(lam)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Identity (gradient reversed and scaled on the way back)."""
        return grad_reverse(x, self.lam)

    def extra_repr(self) -> str:
        return f"lam={self.lam}"
