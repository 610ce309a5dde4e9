"""``recunlearn demo``: the whole job end to end on the built-in synthetic data: train the base
models, then remove gender, age and occupation from the first one's user embeddings with the
default method, audited before and after (see :mod:`recunlearn.experiments.demo`)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from recunlearn.cli.console import console, fail, print_table, warn
from recunlearn.cli.train import METRIC_COLUMNS, metric_row, warn_dead_dimensions
from recunlearn.core.errors import RecunlearnError
from recunlearn.report.format import value as fmt


def demo(
    out: Annotated[
        Path | None, typer.Option(help="folder for the demo runs (default: a temp dir)")
    ] = None,
    models: Annotated[
        str, typer.Option(help="comma-separated models (the first one is unlearned)")
    ] = "mf",
    epochs: Annotated[int, typer.Option(help="max epochs per model")] = 40,
    attackers: Annotated[
        str, typer.Option(help="guard attackers: 'all' or a comma-separated list")
    ] = "all",
    quiet: Annotated[bool, typer.Option(help="no progress bars")] = False,
) -> None:
    """Train on the synthetic dataset, then remove gender, age and occupation and audit."""
    from recunlearn.audit import DEFAULT_ATTACKERS
    from recunlearn.experiments.demo import CONTROL, DEMO_REQUIREMENT, run_demo
    from recunlearn.report.guard import HEADER, leakage_rows, points

    root = out or Path(tempfile.mkdtemp(prefix="recunlearn-demo-"))
    names = [m.strip() for m in models.split(",") if m.strip()]
    chosen = DEFAULT_ATTACKERS if attackers == "all" else tuple(attackers.split(","))
    console.print(
        f"[bold]synthetic data[/bold]: training {', '.join(names)}; then removing "
        f"{', '.join(DEMO_REQUIREMENT)} from {names[0]} and auditing it ({len(chosen)} "
        "attackers; a minute or two)"
    )
    rows = []

    def trained(name, run) -> None:
        rows.append(metric_row(name, run.metrics))
        warn_dead_dimensions(name, run.metrics)

    try:
        result = run_demo(
            root, names, epochs=epochs, attackers=chosen, progress=not quiet, on_trained=trained
        )
    except (RecunlearnError, OSError, ValueError) as exc:
        fail(exc)
    print_table("1. base models · synthetic · loo · full ranking · test", METRIC_COLUMNS, rows)
    unlearned = result.unlearned
    method = unlearned.metrics["method"]
    print_table(
        f"2. {names[0]} · {method} · forget {', '.join(DEMO_REQUIREMENT)} · test",
        ["", "before", "after"],
        [
            [m, fmt(unlearned.before.summary[m], True), fmt(unlearned.after.summary[m], True)]
            for m in ("HR@10", "NDCG@10")
        ],
    )
    leakage = leakage_rows(unlearned.leakage)
    for report, column in ((result.control_before, 2), (result.control_after, 3)):
        worst = report.worst_case().iloc[0]
        distance = 100 * (worst["bacc_mean"] - worst["chance_bacc_mean"])
        if column == 2:
            control = [
                f"{CONTROL} (control)",
                f"{100 * worst['chance_bacc_mean']:.1f}",
                points(distance),
            ]
        else:
            control += [
                f"{points(distance)} ({worst['attacker']})",
                "–",
                "–",
                "must stay at chance",
            ]
    print_table(
        "3. leakage guard · worst attacker's distance from chance, points (below chance < 0)",
        HEADER,
        [*leakage, control],
    )
    for row in unlearned.leakage.table().to_dict(orient="records"):
        if row["verdict"] in ("flipped", "raised", "unchanged"):
            warn(f"{row['attribute']}: leakage {row['verdict']}")
    console.print(
        f"runs written under {root} (the protected run: {root / (names[0] + '-unlearned')}, "
        "its guard: leakage.md)"
    )
