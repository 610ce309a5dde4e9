"""Adversary heads: several independent MLPs per attribute (:class:`~recunlearn.audit.nets.ParallelMLP`),
their losses on labelled users and their ensemble predictions."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from recunlearn.audit.nets import ParallelMLP
from recunlearn.protect.adversarial.targets import AttributeTargets


def _hidden_sizes(
    explicit: tuple[int, ...] | None, spec: tuple[int, ...] | None
) -> tuple[int, ...]:
    """The hidden sizes to build: the explicit ones, else the spec's, else AdvX's ``(5,)``."""
    if explicit is not None:
        return tuple(explicit)
    return tuple(spec) if spec is not None else (5,)


class AttributeHead(torch.nn.Module):
    """The head group of one attribute: loss on labelled users and ensemble predictions.

    Args:
        targets: the attribute's resolved targets.
        in_dim: size of the user representation.
        generator: seeds the initialisation.
        hidden: hidden sizes (default: the spec's, ``(5,)`` when it leaves them open).
    """

    def __init__(
        self,
        targets: AttributeTargets,
        in_dim: int,
        *,
        generator: torch.Generator | None = None,
        hidden: tuple[int, ...] | None = None,
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
            _hidden_sizes(hidden, spec.hidden),
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
