"""``recunlearn unlearn``: remove attributes from a run's user embeddings, write a new run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recunlearn.cli.console import console, fail, parse_assignments, print_table
from recunlearn.core.errors import RecunlearnError
from recunlearn.report.format import value as fmt


def unlearn(
    run: Annotated[Path, typer.Argument(help="trained run directory")],
    forget: Annotated[str, typer.Option(help="attributes to forget, e.g. gender,age")],
    out: Annotated[Path, typer.Option(help="new run directory to create")],
    method: Annotated[
        str, typer.Option(help="lego, d2dfr, dp, linear-erasure, inductive-map")
    ] = "lego",
    option: Annotated[
        list[str] | None, typer.Option("--set", help="method option key=value (repeatable)")
    ] = None,
    store: Annotated[
        Path | None, typer.Option(help="brick store folder (LEGO): reuse calibrated attributes")
    ] = None,
    attackers: Annotated[
        str, typer.Option(help="audit attackers before/after (comma separated, or 'all')")
    ] = "paper_mlp,logreg",
    overwrite: Annotated[bool, typer.Option(help="replace an existing run directory")] = False,
) -> None:
    """Remove attributes from a run's user embeddings; evaluate and audit before and after."""
    from recunlearn.audit import DEFAULT_ATTACKERS, audit
    from recunlearn.experiments.unlearn import unlearn_run
    from recunlearn.protect.requirement import Requirement

    try:
        options = parse_assignments(option, "--set")
        requirement = Requirement.parse(forget)
        result = unlearn_run(
            run, method, requirement, out, options=options, store=store, overwrite=overwrite
        )
        chosen = list(DEFAULT_ATTACKERS) if attackers == "all" else attackers.split(",")
        attrs = list(requirement.attributes)
        dataset = result.source.dataset
        reports = {
            label: audit(matrix, dataset, select=attrs, attackers=chosen, progress=False)
            for label, matrix in (
                ("before", result.source.model.user_embeddings()),
                ("after", result.protected),
            )
        }
    except (RecunlearnError, OSError, ValueError) as exc:
        fail(exc)
    rows = []
    for metric in ("HR@10", "NDCG@10"):
        rows.append(
            [
                metric,
                fmt(result.before.summary[metric], True),
                fmt(result.after.summary[metric], True),
                "",
            ]
        )
    for name in attrs:
        worst = {k: r.worst_case().set_index("attribute").loc[name] for k, r in reports.items()}
        if worst["before"]["kind"] == "categorical":
            rows.append(
                [
                    f"{name} BAcc (worst: {worst['after']['attacker']})",
                    fmt(worst["before"]["bacc_mean"], True),
                    fmt(worst["after"]["bacc_mean"], True),
                    fmt(worst["after"]["chance_bacc_mean"], True),
                ]
            )
            rows.append(
                [
                    f"{name} micro-F1",
                    fmt(worst["before"]["micro_f1_mean"], True),
                    fmt(worst["after"]["micro_f1_mean"], True),
                    "",
                ]
            )
        else:
            rows.append(
                [
                    f"{name} MAE (worst: {worst['after']['attacker']})",
                    fmt(worst["before"]["mae_mean"]),
                    fmt(worst["after"]["mae_mean"]),
                    fmt(worst["after"]["chance_mae_mean"]),
                ]
            )
    print_table(
        f"{dataset.label} · {result.source.spec.model} · {method} · forget {requirement.label}",
        ["", "before", "after", "chance"],
        rows,
    )
    console.print(f"unlearned run written to {out}")
