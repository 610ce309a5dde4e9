"""Base recommenders behind one interface (:class:`recunlearn.models.base.Recommender`)."""

from recunlearn.models.base import Recommender, StepOutput, TrainConfig

__all__ = ["Recommender", "StepOutput", "TrainConfig"]
