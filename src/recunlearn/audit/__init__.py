"""Attribute-inference audit: how much does an embedding reveal about each protected attribute?

``audit(embeddings, attributes) -> LeakageReport`` trains attackers (the papers' MLP protocol
and stronger ones) on a share of the users and tests them on the others; see
:mod:`recunlearn.audit.core`. File inputs are read by :mod:`recunlearn.audit.io`, plots drawn by
:mod:`recunlearn.report.audit_figures`.
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
from recunlearn.audit.inputs import AttributeTable, EmbeddingTable
from recunlearn.audit.leakage_report import LeakageReport

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
