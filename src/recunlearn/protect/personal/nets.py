"""Building blocks shared by the per-user methods (AFRL, SM, FFVAE): MLPs with a chosen
initialisation, label targets with inverse-frequency class weights, the class-weighted NLL
over the labelled users of a batch, the bounded "confusion" loss, and the adversary objectives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from recunlearn.audit.nets import inverse_frequency_weights
from recunlearn.core.errors import ConfigError
from recunlearn.protect.posthoc.base import AttributeLabels

AdversaryObjective = Literal["reversal", "confusion"]
"""How a representation is trained against attribute discriminators.

``reversal`` (the papers'): minimise ``-lambda * NLL(D(z), a)``, i.e. make the discriminator
wrong -- unbounded below, so the representation can win by making it *confidently wrong*, which
keeps the attribute readable to a fresh attacker (a flip). ``confusion`` (bounded): minimise
``lambda *`` the cross entropy of ``D(z)`` to the uniform distribution, smallest (``log C``)
when the discriminator knows nothing."""


def mlp(
    sizes: Sequence[int],
    *,
    activation: Callable[[], nn.Module] = nn.ReLU,
    layer_norm: bool = False,
    dropout: float = 0.0,
    batch_norm: bool = False,
    final_activation: bool = False,
) -> nn.Sequential:
    """``sizes[0] -> ... -> sizes[-1]`` linear layers with ``activation`` between them.

    Args:
        sizes: layer widths, input first.
        activation: builds an activation module (a class, or e.g. ``lambda: LeakyReLU(.2)``).
        layer_norm: a LayerNorm on the input (AFRL's code).
        dropout: dropout before every hidden layer's linear map.
        batch_norm: a BatchNorm after the last layer (SM's filters).
        final_activation: also apply the activation after the last layer.
    """
    layers: list[nn.Module] = [nn.LayerNorm(sizes[0])] if layer_norm else []
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    for k, (a, b) in enumerate(pairs):
        if dropout > 0 and k > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(a, b))
        if k < len(pairs) - 1 or final_activation:
            layers.append(activation())
    if batch_norm:
        layers.append(nn.BatchNorm1d(sizes[-1]))
    return nn.Sequential(*layers)


def init_normal(module: nn.Module, std: float, generator: torch.Generator) -> None:
    """Weights of every linear layer ``N(0, std)``, biases 0 (AFRL's code)."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.Linear):
                layer.weight.normal_(0.0, std, generator=generator)
                layer.bias.zero_()


def init_default(module: nn.Module, generator: torch.Generator) -> None:
    """torch's default Linear initialisation (uniform in +-1/sqrt(fan_in)), seeded."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.Linear):
                bound = 1.0 / np.sqrt(layer.in_features)
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)


@dataclass(frozen=True)
class LabelTarget:
    """One categorical attribute's labels as a training target.

    Attributes:
        name: the attribute.
        codes: class code per user (-1 = unknown), a long tensor.
        n_classes: number of classes.
        weights: inverse-frequency class weights over the labelled users (sum 1).
    """

    name: str
    codes: torch.Tensor
    n_classes: int
    weights: torch.Tensor


def label_targets(
    labels: Mapping[str, AttributeLabels], attributes: Sequence[str] | None, method: str
) -> list[LabelTarget]:
    """The categorical attributes a per-user method protects (``attributes``, or every
    categorical attribute with >= 2 labelled classes), as training targets.

    Raises:
        ConfigError: an unknown or continuous attribute named, or nothing to protect.
    """
    names = (
        list(attributes)
        if attributes is not None
        else [n for n, e in labels.items() if e.attribute.kind == "categorical"]
    )
    out = []
    for name in names:
        if name not in labels:
            raise ConfigError(f"{method}: unknown attribute '{name}'; known: {sorted(labels)}")
        entry = labels[name]
        if entry.attribute.kind != "categorical":
            raise ConfigError(f"{method}: attribute '{name}' is continuous (only categorical)")
        codes = np.asarray(entry.values, dtype=np.int64)
        known = codes[codes >= 0]
        if attributes is None and len(np.unique(known)) < 2:
            continue
        if len(np.unique(known)) < 2:
            raise ConfigError(f"{method}: attribute '{name}' has fewer than two labelled classes")
        weights = inverse_frequency_weights(known, entry.attribute.n_classes)
        out.append(
            LabelTarget(
                name,
                torch.from_numpy(codes.copy()),
                entry.attribute.n_classes,
                torch.tensor(weights, dtype=torch.float32),
            )
        )
    if not out:
        raise ConfigError(f"{method}: no categorical attribute with two labelled classes")
    return out


def weighted_nll(logits: torch.Tensor, target: LabelTarget, users: torch.Tensor) -> torch.Tensor:
    """Class-weighted cross entropy over the labelled users among ``users`` (rows of
    ``logits``); 0 (with a gradient path) when none is labelled."""
    codes = target.codes[users]
    known = codes >= 0
    if not bool(known.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[known], codes[known], weight=target.weights)


def confusion(logits: torch.Tensor, target: LabelTarget, users: torch.Tensor) -> torch.Tensor:
    """Mean cross entropy of the predictions of the labelled users among ``users`` to the
    uniform distribution (bounded below by ``log C``)."""
    known = target.codes[users] >= 0
    if not bool(known.any()):
        return logits.sum() * 0.0
    return -torch.log_softmax(logits[known], dim=-1).mean()


def adversary_loss(
    objective: AdversaryObjective, logits: torch.Tensor, target: LabelTarget, users: torch.Tensor
) -> torch.Tensor:
    """What the representation minimises against one discriminator (see
    :data:`AdversaryObjective`); ``logits`` from a discriminator whose parameters the
    caller does not step."""
    if objective == "reversal":
        return -weighted_nll(logits, target, users)
    return confusion(logits, target, users)
