"""``recunlearn evaluate``: re-evaluate a run's model on its test split."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recunlearn.cli.console import fail, print_table
from recunlearn.cli.dataopts import DATA_ATTRIBUTES_HELP, DATA_DIR_HELP
from recunlearn.core.errors import RecunlearnError
from recunlearn.report.format import value as fmt


def evaluate(
    run: Annotated[Path, typer.Argument(help="run directory")],
    mode: Annotated[str, typer.Option(help="full or sampled (1+99)")] = "full",
    k: Annotated[str, typer.Option(help="cut-offs, comma separated")] = "10,20",
    data_dir: Annotated[Path | None, typer.Option(help=DATA_DIR_HELP)] = None,
    data_attributes: Annotated[Path | None, typer.Option(help=DATA_ATTRIBUTES_HELP)] = None,
) -> None:
    """Re-evaluate a run's model on its test split (full or sampled ranking)."""
    from recunlearn.experiments.train import evaluate_test, load_trained

    try:
        trained = load_trained(run, data_dir=data_dir, attributes_path=data_attributes)
        spec = trained.spec.evaluation.model_copy(
            update={"mode": mode, "ks": [int(x) for x in k.split(",")]}
        )
        result = evaluate_test(trained.model, trained.split, spec)
    except (RecunlearnError, OSError, ValueError) as exc:
        fail(exc)
    names = sorted(result.summary)
    print_table(
        f"{trained.dataset.label} · {trained.spec.model} · {mode} ranking · test",
        ["metric", "value %"],
        [[n, fmt(result.summary[n], True)] for n in names],
    )
