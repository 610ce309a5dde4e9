"""Post-hoc attribute unlearning on user-embedding matrices (LEGO and its baselines)."""

from recunlearn.unlearning.base import AttributeLabels, Unlearner, labels_from_dataset
from recunlearn.unlearning.requirement import Requirement

__all__ = ["AttributeLabels", "Requirement", "Unlearner", "labels_from_dataset"]
