"""One-step-lookahead bi-level updates (AutoDebias; ULTD's unlearning-rate update reuses it).

The inner loss ``L_in(θ; ψ)`` depends on meta-parameters ``ψ`` (weights, imputations,
unlearning rates). One SGD step ``θ' = θ − η ∇θ L_in`` is taken with a differentiable graph,
and ``ψ`` moves to lower the outer loss ``L_out(θ')`` on the unbiased ratings ``A``:
``∇ψ L_out(θ'(ψ))``. The model parameters ``θ`` themselves are not changed here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from recunlearn.debias.models import Params


def lookahead_params(params: Params, inner_loss: torch.Tensor, lr: float) -> Params:
    """``θ − lr ∇θ inner_loss`` with the graph kept (differentiable in the meta-parameters)."""
    names = list(params)
    grads = torch.autograd.grad(
        inner_loss, [params[n] for n in names], create_graph=True, allow_unused=True
    )
    return {
        n: params[n] if g is None else params[n] - lr * g for n, g in zip(names, grads, strict=True)
    }


def meta_step(
    meta_params: Sequence[torch.Tensor],
    meta_optimizer: torch.optim.Optimizer,
    params: Params,
    inner_loss_fn: Callable[[Params], torch.Tensor],
    outer_loss_fn: Callable[[Params], torch.Tensor],
    lr: float,
) -> float:
    """One bi-level update of ``meta_params``; returns the outer loss at ``θ'``.

    Args:
        meta_params: the tensors to update (must require grad).
        meta_optimizer: the optimizer that owns them.
        params: the model parameters ``θ`` (left unchanged).
        inner_loss_fn: ``θ -> L_in(θ; ψ)``, built from the current meta-parameters.
        outer_loss_fn: ``θ' -> L_out(θ')`` on the unbiased training ratings.
        lr: the lookahead step size ``η``.
    """
    fast = lookahead_params(params, inner_loss_fn(params), lr)
    outer = outer_loss_fn(fast)
    grads = torch.autograd.grad(outer, list(meta_params), allow_unused=True)
    meta_optimizer.zero_grad(set_to_none=True)
    for tensor, grad in zip(meta_params, grads, strict=True):
        tensor.grad = None if grad is None else grad.detach()
    meta_optimizer.step()
    for tensor in params.values():
        tensor.grad = None
    return float(outer.detach())
