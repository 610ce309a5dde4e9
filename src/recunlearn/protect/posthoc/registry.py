"""Name -> post-hoc unlearner class.

A new method is one line here (or ``UNLEARNERS.register("name", cls)`` from a plugin); the shared
contract tests (:class:`recunlearn.testing.UnlearnerContract`) then run on it.
"""

from __future__ import annotations

from typing import Any

from recunlearn.core.registry import Registry
from recunlearn.protect.posthoc.base import Unlearner

UNLEARNERS: Registry[type[Unlearner]] = Registry("unlearning method")
UNLEARNERS.register_lazy("split-eraser", "recunlearn.protect.posthoc.split_eraser:SplitEraser")
UNLEARNERS.register_lazy("lego-paper", "recunlearn.protect.posthoc.lego:LEGO")
UNLEARNERS.alias("lego", "lego-paper")  # its name before; configs and records still use it
UNLEARNERS.register_lazy("inductive-map", "recunlearn.protect.posthoc.inductive:InductiveMap")
UNLEARNERS.register_lazy(
    "linear-erasure", "recunlearn.protect.posthoc.linear_erasure:LinearErasure"
)
UNLEARNERS.register_lazy("dp", "recunlearn.protect.posthoc.dp:DP")
UNLEARNERS.register_lazy("d2dfr", "recunlearn.protect.posthoc.d2dfr:D2DFR")
# per-user methods (they also answer a requirement per user: protect.personal.assemble)
UNLEARNERS.register_lazy("afrl", "recunlearn.protect.personal.afrl:AFRL")
UNLEARNERS.register_lazy("sm", "recunlearn.protect.personal.sm:SM")
UNLEARNERS.register_lazy("ffvae", "recunlearn.protect.personal.ffvae:FFVAE")


DEFAULT_UNLEARNER = "split-eraser"
"""What ``recunlearn unlearn`` runs when no method is named."""

DEFAULT_OPTIONS: dict[str, Any] = {"unlabelled": "all"}
"""Options of :data:`DEFAULT_UNLEARNER` when it runs as the default (``--set`` overrides them):
rows without a label are erased with directions fitted on every label, which lowers the
held-out leakage on every measured cell at no cost to the labelled rows (BENCHMARKS.md, rows
``split-eraser@unlabelled-all``). The method's own option default stays as its earlier
benchmark records were made."""


def resolve_method(method: str | None) -> tuple[str, dict[str, Any]]:
    """The method to run and its preset options: :data:`DEFAULT_UNLEARNER` with
    :data:`DEFAULT_OPTIONS` when none is named, a named method with none."""
    return (DEFAULT_UNLEARNER, dict(DEFAULT_OPTIONS)) if method is None else (method, {})


def make_unlearner(name: str, **options: Any) -> Unlearner:
    """Instantiate the unlearner called ``name`` (unknown names and options are refused)."""
    return UNLEARNERS.get(name)(**options)
