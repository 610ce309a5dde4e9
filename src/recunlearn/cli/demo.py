"""``recunlearn demo``: the whole job end to end on the built-in synthetic data."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from recunlearn.cli.console import console, fail, print_table
from recunlearn.cli.train import METRIC_COLUMNS, metric_row, warn_dead_dimensions
from recunlearn.core.errors import RecunlearnError

DEMO_MODELS = ("mf", "ncf", "lightgcn", "multvae")


def demo(
    out: Annotated[
        Path | None, typer.Option(help="folder for the demo runs (default: a temp dir)")
    ] = None,
    models: Annotated[str, typer.Option(help="comma-separated models")] = ",".join(DEMO_MODELS),
    epochs: Annotated[int, typer.Option(help="max epochs per model")] = 40,
    quiet: Annotated[bool, typer.Option(help="no progress bars")] = False,
) -> None:
    """End to end on the built-in synthetic dataset: train, evaluate, print a table."""
    from recunlearn.data.loading import load_data
    from recunlearn.data.spec import DataSpec
    from recunlearn.experiments.spec import RunSpec
    from recunlearn.experiments.train import train_run

    root = out or Path(tempfile.mkdtemp(prefix="recunlearn-demo-"))
    data_spec = DataSpec(name="synthetic")
    dataset = load_data(data_spec)
    info = dataset.describe()
    console.print(
        f"[bold]{info['label']}[/bold]: {info['users']} users, {info['items']} items, "
        f"{info['interactions']} interactions; attributes: {', '.join(info['attributes'])}"
    )
    rows, runs = [], {}
    for name in models.split(","):
        spec = RunSpec(data=data_spec, model=name, model_options={"epochs": epochs, "patience": 10})
        try:
            run = train_run(spec, root / name, progress=not quiet, overwrite=True, dataset=dataset)
        except (RecunlearnError, OSError, ValueError) as exc:
            fail(exc)
        runs[name] = run
        rows.append(metric_row(name, run.metrics))
    print_table("demo · synthetic · loo · full ranking · test", METRIC_COLUMNS, rows)
    for name, run in runs.items():
        warn_dead_dimensions(name, run.metrics)
    console.print(f"runs written under {root}")
