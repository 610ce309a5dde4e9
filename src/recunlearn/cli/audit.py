"""``recunlearn audit``: attribute-inference audit of user embeddings (a run or a file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recunlearn.cli.console import console, fail, print_table
from recunlearn.cli.dataopts import DATA_ATTRIBUTES_HELP, DATA_DIR_HELP
from recunlearn.core.errors import RecunlearnError


def audit(
    run: Annotated[Path | None, typer.Argument(help="run directory (or use --embeddings)")] = None,
    embeddings: Annotated[
        Path | None,
        typer.Option(help="embedding file: .parquet/.csv (user_id + columns), .npy, .safetensors"),
    ] = None,
    attributes: Annotated[
        Path | None, typer.Option(help="user-attribute CSV/Parquet: user_id + one column each")
    ] = None,
    ids: Annotated[
        Path | None, typer.Option(help="id file (one per line) of a .npy/.safetensors matrix")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="output folder (default RUN/audit or FILE.audit)")
    ] = None,
    attackers: Annotated[
        str | None, typer.Option(help="comma-separated attackers (default: all)")
    ] = None,
    quick: Annotated[bool, typer.Option(help="paper_mlp and logreg only")] = False,
    folds: Annotated[int, typer.Option(help="stratified folds (5 = 80/20)")] = 5,
    seeds: Annotated[str, typer.Option(help="comma-separated repetition seeds")] = "0",
    attributes_only: Annotated[
        str | None, typer.Option(help="comma-separated attributes to audit (default: all)")
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(help="attribute kind override name=categorical|continuous (repeatable)"),
    ] = None,
    sample: Annotated[
        int | None, typer.Option(help="stratified sample of N labelled users per attribute")
    ] = None,
    jobs: Annotated[int, typer.Option(help="worker processes (one thread each)")] = 2,
    test_users: Annotated[
        Path | None,
        typer.Option(help="file of user ids to test on (train on the others) instead of k-fold"),
    ] = None,
    compare: Annotated[
        Path | None,
        typer.Option(help="other embeddings (file or run) drawn beside these in the projections"),
    ] = None,
    strict_ids: Annotated[
        bool, typer.Option(help="fail unless both tables have exactly the same user ids")
    ] = False,
    drop_rare_classes: Annotated[
        bool, typer.Option(help="leave out classes with fewer members than folds")
    ] = False,
    tsne: Annotated[bool, typer.Option(help="also draw the t-SNE projection")] = True,
    data_dir: Annotated[Path | None, typer.Option(help=DATA_DIR_HELP)] = None,
    data_attributes: Annotated[Path | None, typer.Option(help=DATA_ATTRIBUTES_HELP)] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing output folder")] = False,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Attribute-inference audit of user embeddings: attackers vs chance, per attribute."""
    from recunlearn.experiments.audit import parse_kinds, resolve_inputs, run_audit, split_list
    from recunlearn.report.audit import SUMMARY_HEADER, summary_rows

    try:
        inputs = resolve_inputs(
            run,
            embeddings,
            attributes,
            ids=ids,
            kinds=parse_kinds(kind),
            data_dir=data_dir,
            data_attributes=data_attributes,
        )
        target = out or inputs.default_out
        try:
            seed_list = [int(s) for s in split_list(seeds) or ["0"]]
        except ValueError as exc:
            raise typer.BadParameter(f"--seeds expects integers: {exc}") from exc
        report = run_audit(
            inputs,
            target,
            attackers=split_list(attackers),
            quick=quick,
            n_folds=folds,
            seeds=seed_list,
            select=split_list(attributes_only),
            sample=sample,
            n_jobs=jobs,
            test_users=test_users,
            compare=compare,
            strict_ids=strict_ids,
            drop_rare=drop_rare_classes,
            tsne=tsne,
            overwrite=overwrite,
            progress=not quiet,
        )
    except (RecunlearnError, OSError, ValueError) as exc:
        fail(exc)
    join = report.meta["join"]
    console.print(
        f"{inputs.label}: {join['n_matched']} users matched by {join['join']} "
        f"({join['n_embedding_only']} embedding rows without attributes, "
        f"{join['n_attribute_only']} attribute rows without embeddings); "
        f"{report.meta['wall_seconds']:.1f} s"
    )
    for name, entry in report.meta["per_attribute"].items():
        if entry["n_left_out_no_label"] or entry["n_dropped_rare"] or entry["sample_size"]:
            console.print(
                f"  {name}: {entry['n_used']} users used, {entry['n_left_out_no_label']} without "
                f"label, {entry['n_dropped_rare']} in rare classes, sample {entry['sample_size']}"
            )
    print_table(
        f"attribute inference · {report.meta['protocol']} · mean ± std over folds and seeds",
        SUMMARY_HEADER,
        summary_rows(report),
    )
    console.print(f"audit written to {target}")
