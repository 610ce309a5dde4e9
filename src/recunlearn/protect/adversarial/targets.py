"""What an adversary learns from: per-user targets of one attribute, resolved against a dataset.

Which labels an adversary may use is explicit: the labels of ``label_users`` (by default the
split's training users). Users outside that set, and users whose value is unknown (code -1 /
NaN), are *unlabelled*: the adversary loss of that attribute skips them, their recommendation
loss is untouched. On ``user_kfold`` this keeps the validation and test users' labels out of
training even for MF / NCF / LightGCN, which train on every row of ``split.train`` (held-out
users' input parts included).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from recunlearn.audit.nets import inverse_frequency_weights
from recunlearn.core.errors import ConfigError
from recunlearn.data.types import Attribute, Dataset
from recunlearn.protect.adversarial.config import AttributeAdversary

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AttributeTargets:
    """Targets of one attribute for every user index.

    Attributes:
        attribute: the dataset's attribute.
        spec: the adversary's options.
        values: per user, the class code (long; -1 = unlabelled) or the scaled value
            ``value / scale`` (float32; NaN = unlabelled).
        labelled: per user, True when the adversary may use the label.
        class_weights: categorical only, per class code (float32, sums to 1 unless ``none``).
        scale: continuous only, the divisor of the target (1.0 for categorical).
    """

    attribute: Attribute
    spec: AttributeAdversary
    values: torch.Tensor
    labelled: torch.Tensor
    class_weights: torch.Tensor | None
    scale: float

    @property
    def name(self) -> str:
        """The attribute's name."""
        return self.attribute.name

    @property
    def kind(self) -> str:
        """``categorical`` or ``continuous``."""
        return self.attribute.kind

    @property
    def n_outputs(self) -> int:
        """Logits per user (categorical: one per class) or 1 (continuous)."""
        return self.attribute.n_classes if self.kind == "categorical" else 1

    @property
    def mean_scaled(self) -> float:
        """Continuous only: mean scaled target of the labelled users (0.0 for categorical)."""
        if self.kind != "continuous" or not bool(self.labelled.any()):
            return 0.0
        return float(self.values[self.labelled].mean())

    @property
    def n_labelled(self) -> int:
        """Users whose label the adversary uses."""
        return int(self.labelled.sum())

    def describe(self) -> dict[str, object]:
        """JSON-friendly summary (kind, classes, weights, scale, labelled users)."""
        out: dict[str, object] = {
            "kind": self.kind,
            "lambda": self.spec.lam,
            "n_labelled": self.n_labelled,
        }
        if self.kind == "categorical":
            out["classes"] = list(self.attribute.classes)
            assert self.class_weights is not None
            out["class_weights"] = [round(float(w), 6) for w in self.class_weights]
        else:
            out["scale"] = self.scale
        return out


def _suggest(dataset: Dataset, kind: str) -> str:
    names = [a.name for a in dataset.attributes if a.kind == kind]
    return ", ".join(names) if names else "none"


def resolve_attribute(dataset: Dataset, name: str, spec: AttributeAdversary) -> Attribute:
    """The dataset's attribute ``name``, checked against the kind the adversary expects.

    Raises:
        ConfigError: the dataset has no such attribute, or its kind differs from ``spec.kind``.
    """
    try:
        attribute = dataset.attribute(name)
    except KeyError:
        known = ", ".join(a.name for a in dataset.attributes) or "none"
        raise ConfigError(
            f"adversary for '{name}': dataset '{dataset.label}' has no such attribute "
            f"(known: {known})"
        ) from None
    if spec.kind != "auto" and spec.kind != attribute.kind:
        detail = (
            f"classes {', '.join(attribute.classes)}"
            if attribute.kind == "categorical"
            else "numeric values"
        )
        raise ConfigError(
            f"adversary for '{name}' was requested as {spec.kind}, but '{name}' is "
            f"{attribute.kind} in dataset '{dataset.label}' ({detail}); {spec.kind} attributes "
            f"there: {_suggest(dataset, spec.kind)}"
        )
    if attribute.kind == "continuous" and spec.class_weights not in ("inverse_frequency", "none"):
        raise ConfigError(f"adversary for '{name}': class_weights given for a continuous attribute")
    if attribute.kind == "categorical" and spec.scale is not None:
        raise ConfigError(f"adversary for '{name}': scale given for a categorical attribute")
    return attribute


def make_targets(
    dataset: Dataset, name: str, spec: AttributeAdversary, label_users: np.ndarray
) -> AttributeTargets:
    """Resolve one attribute's adversary targets.

    Args:
        dataset: the dataset (its labels per user index).
        name: the attribute.
        spec: the adversary's options.
        label_users: user indices whose labels the adversary may use.

    Raises:
        ConfigError: unknown attribute, kind mismatch, no labelled user among ``label_users``,
            fewer than two classes among them, wrong number of explicit class weights.
    """
    attribute = resolve_attribute(dataset, name, spec)
    allowed = np.zeros(dataset.n_users, dtype=bool)
    allowed[np.asarray(label_users, dtype=np.int64)] = True
    labelled = allowed & dataset.known(name)
    if not labelled.any():
        raise ConfigError(
            f"adversary for '{name}': none of the {int(allowed.sum())} training users has a label"
        )
    raw = dataset.labels(name)
    n_missing = int((allowed & ~labelled).sum())
    if n_missing:
        logger.info(
            "adversary '%s': %d training users without a label are left out of its loss",
            name,
            n_missing,
        )
    if attribute.kind == "categorical":
        codes = np.where(labelled, raw, -1).astype(np.int64)
        present = np.unique(codes[labelled])
        if len(present) < 2:
            raise ConfigError(
                f"adversary for '{name}': a single class ('{attribute.classes[present[0]]}') "
                "among the labelled training users: nothing to remove"
            )
        if spec.class_weights == "inverse_frequency":
            weights = inverse_frequency_weights(codes[labelled], attribute.n_classes)
        elif spec.class_weights == "none":
            weights = np.ones(attribute.n_classes)
        else:
            weights = np.asarray(spec.class_weights, dtype=np.float64)
            if len(weights) != attribute.n_classes or (weights < 0).any() or weights.sum() <= 0:
                raise ConfigError(
                    f"adversary for '{name}': {attribute.n_classes} non-negative class weights "
                    f"expected (classes {', '.join(attribute.classes)}), got {list(weights)}"
                )
        return AttributeTargets(
            attribute=attribute,
            spec=spec,
            values=torch.from_numpy(codes),
            labelled=torch.from_numpy(labelled),
            class_weights=torch.tensor(weights, dtype=torch.float32),
            scale=1.0,
        )
    values = np.where(labelled, raw, np.nan)
    scale = spec.scale if spec.scale is not None else float(np.abs(values[labelled]).max())
    if not scale > 0:
        raise ConfigError(f"adversary for '{name}': every labelled value is 0; set a scale")
    return AttributeTargets(
        attribute=attribute,
        spec=spec,
        values=torch.from_numpy((values / scale).astype(np.float32)),
        labelled=torch.from_numpy(labelled),
        class_weights=None,
        scale=float(scale),
    )
