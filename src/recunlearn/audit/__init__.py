"""Attribute-inference audit: how much does an embedding reveal about each protected attribute?

``audit(embeddings, attributes) -> LeakageReport`` trains attackers (the papers' MLP protocol
and stronger ones) on a share of the users and tests them on the others; see
:mod:`recunlearn.audit.core`. File inputs are read by :mod:`recunlearn.audit.io`, plots drawn by
:mod:`recunlearn.audit.plots`.
"""

from recunlearn.audit.attackers import (
    ATTACKERS,
    DEFAULT_ATTACKERS,
    QUICK_ATTACKERS,
    Attacker,
    AttackerSpec,
    get_attacker,
    register_attacker,
)
from recunlearn.audit.core import audit
from recunlearn.audit.report import LeakageReport
from recunlearn.audit.tables import AttributeTable, EmbeddingTable

__all__ = [
    "ATTACKERS",
    "DEFAULT_ATTACKERS",
    "QUICK_ATTACKERS",
    "Attacker",
    "AttackerSpec",
    "AttributeTable",
    "EmbeddingTable",
    "LeakageReport",
    "audit",
    "get_attacker",
    "register_attacker",
]
