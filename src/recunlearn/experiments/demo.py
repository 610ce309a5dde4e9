"""The demo: the whole job on the built-in synthetic dataset.

Train the base models, then remove the protected attributes from the first model's user
embeddings with the library's default method, audited before and after by the leakage guard
(the six attackers, transductive, held-out and transfer views), with the control attribute
``noise`` (independent of everything) audited beside them: it must stay at chance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from recunlearn.audit import DEFAULT_ATTACKERS, audit
from recunlearn.audit.guard import GuardSettings
from recunlearn.audit.leakage_report import LeakageReport
from recunlearn.data.loading import load_data
from recunlearn.data.spec import DataSpec
from recunlearn.experiments.spec import RunSpec
from recunlearn.experiments.train import TrainedRun, train_run
from recunlearn.experiments.unlearn import UnlearnedRun, unlearn_run
from recunlearn.protect.posthoc.registry import resolve_method

DEMO_MODELS = ("mf", "ncf", "lightgcn", "multvae")
DEMO_REQUIREMENT = ("gender", "age", "occupation")
CONTROL = "noise"


@dataclass
class DemoResult:
    """What the demo produced."""

    runs: dict[str, TrainedRun]
    unlearned: UnlearnedRun
    control_before: LeakageReport
    control_after: LeakageReport


def run_demo(
    root: Path,
    models: Sequence[str] = DEMO_MODELS,
    *,
    epochs: int = 40,
    method: str | None = None,
    attackers: Sequence[str] = DEFAULT_ATTACKERS,
    progress: bool = True,
    on_trained: Callable[[str, TrainedRun], None] | None = None,
) -> DemoResult:
    """Train ``models`` on the synthetic data, then unlearn the demo requirement from the first.

    Args:
        root: folder of the run directories (``<model>`` and ``<model>-unlearned``).
        models: the base models to train.
        epochs: max epochs per model.
        method: the removal method (default: the library's default remover with its preset
            options).
        attackers: the guard's attackers (default: every built-in attacker).
        progress: show progress bars.
        on_trained: called after each model is trained (to print as the demo goes).
    """
    data_spec = DataSpec(name="synthetic")
    dataset = load_data(data_spec)
    runs: dict[str, TrainedRun] = {}
    for name in models:
        spec = RunSpec(data=data_spec, model=name, model_options={"epochs": epochs, "patience": 10})
        runs[name] = train_run(
            spec, root / name, progress=progress, overwrite=True, dataset=dataset
        )
        if on_trained is not None:
            on_trained(name, runs[name])
    first = models[0]
    method, preset = resolve_method(method)
    unlearned = unlearn_run(
        root / first,
        method,
        list(DEMO_REQUIREMENT),
        root / f"{first}-unlearned",
        options=preset or None,
        overwrite=True,
        dataset=dataset,
        guard=GuardSettings(tuple(attackers)),
    )

    def control(matrix) -> LeakageReport:
        return audit(
            matrix, dataset, select=[CONTROL], attackers=list(attackers), n_jobs=1, progress=False
        )

    return DemoResult(
        runs,
        unlearned,
        control(unlearned.source.model.user_embeddings()),
        control(unlearned.protected),
    )
