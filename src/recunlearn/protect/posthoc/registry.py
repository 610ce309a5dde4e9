"""Name -> post-hoc unlearner class."""

from __future__ import annotations

from typing import Any

from recunlearn.core.errors import ConfigError
from recunlearn.protect.posthoc.base import Unlearner
from recunlearn.protect.posthoc.d2dfr import D2DFR
from recunlearn.protect.posthoc.dp import DP
from recunlearn.protect.posthoc.inductive import InductiveMap
from recunlearn.protect.posthoc.lego import LEGO
from recunlearn.protect.posthoc.linear_erasure import LinearErasure

UNLEARNERS: dict[str, type[Unlearner]] = {
    "lego": LEGO,
    "inductive-map": InductiveMap,
    "linear-erasure": LinearErasure,
    "dp": DP,
    "d2dfr": D2DFR,
}


def make_unlearner(name: str, **options: Any) -> Unlearner:
    """Instantiate the unlearner called ``name`` (unknown names and options are refused)."""
    key = name.lower()
    if key not in UNLEARNERS:
        raise ConfigError(
            f"unknown unlearning method '{name}'; choose one of {', '.join(UNLEARNERS)}"
        )
    return UNLEARNERS[key](**options)
