"""Removing protected attributes from user representations.

* :mod:`.posthoc`: methods that edit a trained model's user matrix (LEGO, D2DFR, DP, ...);
* :mod:`.adversarial`: adversary heads trained with the recommender (Adv / AdvX);
* :class:`Requirement`: the attributes to forget.
"""

from recunlearn.protect.requirement import Requirement

__all__ = ["Requirement"]
