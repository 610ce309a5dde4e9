"""recunlearn: audit, remove and debias protected-attribute information in recommenders."""

from recunlearn.core.errors import DataError, RecunlearnError

__version__ = "0.1.0"

__all__ = ["DataError", "RecunlearnError", "__version__"]
