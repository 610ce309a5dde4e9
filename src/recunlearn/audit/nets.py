"""Neural building blocks shared by the AdvX attacker and the in-training adversaries: a batch
of independent MLP heads evaluated in one product, and inverse-frequency class weights.

A head group for one attribute holds ``n_heads`` MLPs of the same shape. Their weights are
stacked (``n_heads x fan_in x fan_out``) so the whole group is one ``baddbmm`` per layer. Each
head draws its own input-dropout mask from a dedicated generator, so attaching heads never
consumes the global torch random stream (with lambda = 0 the recommender trains exactly as
without heads).
"""

from __future__ import annotations

import math

import numpy as np
import torch

_ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


class ParallelMLP(torch.nn.Module):
    """``n_heads`` MLPs ``in_dim -> hidden... -> out_dim`` with input dropout.

    Args:
        n_heads: number of independent heads.
        in_dim: input size.
        hidden: hidden layer sizes (``()`` = one linear layer).
        out_dim: output size.
        activation: ``relu``, ``sigmoid`` or ``tanh`` between layers.
        dropout: input dropout probability (independent mask per head).
        generator: seeds the initialisation (torch ``Linear``'s default: weights and biases
            uniform in +-1/sqrt(fan_in)).
    """

    def __init__(
        self,
        n_heads: int,
        in_dim: int,
        hidden: tuple[int, ...],
        out_dim: int,
        *,
        activation: str = "relu",
        dropout: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}")
        sizes = [in_dim, *hidden, out_dim]
        self.n_heads = n_heads
        self.activation = activation
        self.dropout = float(dropout)
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = 1.0 / math.sqrt(fan_in)
            w = torch.empty(n_heads, fan_in, fan_out).uniform_(-bound, bound, generator=generator)
            b = torch.empty(n_heads, fan_out).uniform_(-bound, bound, generator=generator)
            self.weights.append(torch.nn.Parameter(w))
            self.biases.append(torch.nn.Parameter(b))

    def forward(
        self, x: torch.Tensor, *, generator: torch.Generator | None = None, frozen: bool = False
    ) -> torch.Tensor:
        """Outputs of every head, ``(n_heads, n, out_dim)``, for inputs ``x`` ``(n, in_dim)``.

        Dropout is applied when ``generator`` is given (training) and ``dropout > 0``;
        ``frozen`` sends no gradient to the heads' parameters (only to ``x``).
        """
        h = x.unsqueeze(0).expand(self.n_heads, *x.shape)
        if generator is not None and self.dropout > 0:
            keep = torch.rand(h.shape, generator=generator, dtype=h.dtype) >= self.dropout
            h = h * keep / (1.0 - self.dropout)
        act = _ACTIVATIONS[self.activation]
        last = len(self.weights) - 1
        for index, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if frozen:
                w, b = w.detach(), b.detach()
            h = torch.baddbmm(b.unsqueeze(1), h, w)
            if index < last:
                h = act(h)
        return h


def inverse_frequency_weights(codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Class weights proportional to ``1 / count`` among ``codes`` (>= 0), normalised to sum 1.

    Classes absent from ``codes`` get weight 0 (no example of theirs is ever weighted). With
    two classes this is the share of the *other* class: ML-1M gender (28 % F) -> [0.72, 0.28],
    the AdvX weights.

    Raises:
        ValueError: no code given.
    """
    codes = np.asarray(codes, dtype=np.int64)
    codes = codes[codes >= 0]
    if codes.size == 0:
        raise ValueError("no labelled example to compute class weights from")
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    weights = np.zeros(n_classes)
    present = counts > 0
    weights[present] = 1.0 / counts[present]
    return weights / weights.sum()
