"""Adversary heads: several independent MLPs per attribute, evaluated in one batched product.

A head group for one attribute holds ``n_heads`` MLPs of the same shape. Their weights are
stacked (``n_heads x fan_in x fan_out``) so the whole group is one ``baddbmm`` per layer. Each
head draws its own input-dropout mask from a dedicated generator, so attaching heads never
consumes the global torch random stream (with lambda = 0 the recommender trains exactly as
without heads).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from recunlearn.protect.adversarial.targets import AttributeTargets

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


class AttributeHead(torch.nn.Module):
    """The head group of one attribute: loss on labelled users and ensemble predictions.

    Args:
        targets: the attribute's resolved targets.
        in_dim: size of the user representation.
        generator: seeds the initialisation.
    """

    def __init__(
        self,
        targets: AttributeTargets,
        in_dim: int,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        spec = targets.spec
        activation = spec.activation
        if activation == "auto":
            activation = "relu" if targets.kind == "categorical" else "sigmoid"
        self.targets = targets
        self.lam = spec.lam
        self.mlp = ParallelMLP(
            spec.n_heads,
            in_dim,
            tuple(spec.hidden),
            targets.n_outputs,
            activation=activation,
            dropout=spec.dropout,
            generator=generator,
        )
        if targets.class_weights is not None:
            self.register_buffer("class_weights", targets.class_weights.clone())
        else:
            self.class_weights = None

    @property
    def categorical(self) -> bool:
        """Whether the attribute is categorical."""
        return self.targets.kind == "categorical"

    def forward(self, x: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """Raw outputs of every head: logits ``(H, n, C)`` or scaled values ``(H, n, 1)``."""
        return self.mlp(x, generator=generator)

    def loss(self, outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean over heads of the class-weighted cross entropy / the MSE on scaled targets.

        Args:
            outputs: ``forward`` of the labelled users.
            target: their codes (long) or scaled values (float).
        """
        n_heads, n = outputs.shape[:2]
        if self.categorical:
            # the weighted mean over heads x users equals the mean of the per-head weighted
            # means: every head sees the same users, hence the same weight total
            return F.cross_entropy(
                outputs.reshape(n_heads * n, -1), target.repeat(n_heads), weight=self.class_weights
            )
        return F.mse_loss(outputs[..., 0], target.unsqueeze(0).expand(n_heads, n))

    def confusion(
        self, x: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """How far the (frozen) heads are from knowing nothing, as a loss for the encoder.

        Categorical: mean cross-entropy of every head's prediction to the uniform distribution
        (smallest, ``log C``, when each head outputs uniform probabilities). Continuous: mean
        squared distance of the predictions to the labelled users' mean scaled target. Unlike
        a reversed cross-entropy it is bounded below, so the encoder cannot lower it by making
        the heads *confidently wrong* (which leaves the attribute readable by a new attacker).
        """
        outputs = self.mlp(x, generator=generator, frozen=True)
        if self.categorical:
            return -torch.log_softmax(outputs, dim=-1).mean()
        return (outputs[..., 0] - self.targets.mean_scaled).pow(2).mean()

    def ensemble(self, outputs: torch.Tensor) -> torch.Tensor:
        """Heads combined: mean class probabilities ``(n, C)`` or mean value ``(n,)`` in the
        attribute's original units."""
        if self.categorical:
            return torch.softmax(outputs, dim=-1).mean(0)
        return outputs[..., 0].mean(0) * self.targets.scale

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 8192) -> torch.Tensor:
        """Ensemble predictions for representations ``x`` (no dropout, no gradient)."""
        return torch.cat([self.ensemble(self(chunk)) for chunk in torch.split(x, batch_size)])
