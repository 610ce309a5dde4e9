"""Adam on one flat parameter tensor, for loops of hundreds of tiny steps.

``torch.optim.Adam`` (even fused) spends most of a tiny step in per-call bookkeeping: hooks,
state lookups, one kernel launch per tensor. When all parameters are views of one flat tensor,
the update is a handful of in-place operations. The arithmetic is torch's Adam (no weight
decay, no amsgrad): the same bias corrections, with ``eps`` added after the corrected
square root.
"""

from __future__ import annotations

import math

import torch


class FlatAdam:
    """Adam updating ``params`` in place from ``grad`` (two tensors of the same shape).

    Args:
        params: the parameters, updated in place by :meth:`step`.
        grad: the tensor the caller fills with the gradient before each step.
        lr: step size.
        betas: the moment decay rates.
        eps: added to the denominator.
    """

    def __init__(
        self,
        params: torch.Tensor,
        grad: torch.Tensor,
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        if params.shape != grad.shape:
            raise ValueError(f"params {tuple(params.shape)} and grad {tuple(grad.shape)} differ")
        self.params, self.grad = params, grad
        self.lr, self.betas, self.eps = lr, betas, eps
        self.first = torch.zeros_like(params)
        self.second = torch.zeros_like(params)
        self.steps = 0
        self._scratch = torch.empty_like(params)

    @torch.no_grad()
    def step(self) -> None:
        """One Adam update of ``params`` with the current ``grad``."""
        self.steps += 1
        beta1, beta2 = self.betas
        self.first.lerp_(self.grad, 1.0 - beta1)
        self.second.mul_(beta2).addcmul_(self.grad, self.grad, value=1.0 - beta2)
        correction1 = 1.0 - beta1**self.steps
        correction2 = math.sqrt(1.0 - beta2**self.steps)
        denominator = torch.sqrt(self.second, out=self._scratch).div_(correction2).add_(self.eps)
        self.params.addcdiv_(self.first, denominator, value=-self.lr / correction1)
