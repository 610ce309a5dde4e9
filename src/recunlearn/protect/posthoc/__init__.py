"""Post-hoc protection of user-embedding matrices: LEGO, its baselines and the default remover.

Every method is an :class:`Unlearner` (scikit-learn rules: typed config, ``fit(U, labels)``,
``transform(requirement) -> U*``) registered by name in :mod:`.registry`.
"""

from recunlearn.protect.posthoc.base import AttributeLabels, Unlearner, labels_from_dataset

__all__ = ["AttributeLabels", "Unlearner", "labels_from_dataset"]
