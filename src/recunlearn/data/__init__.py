"""Datasets, user attributes, loaders, filters and splits."""

from recunlearn.data.loading import load_dataset
from recunlearn.data.types import Attribute, AttributeKind, Dataset, Interactions

__all__ = ["Attribute", "AttributeKind", "Dataset", "Interactions", "load_dataset"]
