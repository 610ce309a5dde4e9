"""``recunlearn data fetch`` and ``recunlearn data describe``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recunlearn.cli.console import console, fail, print_table
from recunlearn.cli.dataopts import KIND_HELP, MISSING_TIMESTAMP_HELP, loader_options
from recunlearn.core.errors import RecunlearnError

data_app = typer.Typer(help="Fetch and describe datasets.", no_args_is_help=True)


@data_app.command("fetch")
def data_fetch(
    name: Annotated[str, typer.Argument(help="ml-100k or ml-1m")],
    dest: Annotated[
        Path | None, typer.Option(help="folder (default: RECUNLEARN_DATA or the cache)")
    ] = None,
    force: Annotated[bool, typer.Option(help="download again even if present")] = False,
) -> None:
    """Download a dataset from its publisher into the cache and verify its checksum."""
    from recunlearn.data.fetch import fetch

    try:
        path = fetch(name, dest, force=force)
    except (RecunlearnError, OSError) as exc:
        fail(exc)
    console.print(f"{name} ready in {path}")


@data_app.command("describe")
def data_describe(
    name: Annotated[str, typer.Argument(help="ml-100k, ml-1m, synthetic, csv, parquet, recbole")],
    data_dir: Annotated[str | None, typer.Option(help="dataset folder or file")] = None,
    attributes: Annotated[str | None, typer.Option(help="user-attribute CSV (csv/parquet)")] = None,
    allow_missing_timestamp: Annotated[
        bool, typer.Option("--allow-missing-timestamp", help=MISSING_TIMESTAMP_HELP)
    ] = False,
    kind: Annotated[list[str] | None, typer.Option(help=KIND_HELP)] = None,
    min_user: Annotated[int, typer.Option(help="k-core: min interactions per user")] = 5,
    binarize: Annotated[float | None, typer.Option(help="keep ratings >= threshold")] = None,
) -> None:
    """Counts, density and attribute distributions of a dataset after filtering."""
    from recunlearn.data.loading import load_data
    from recunlearn.data.spec import DataSpec

    try:
        spec = DataSpec(
            name=name,
            data_dir=data_dir,
            attributes_path=attributes,
            options=loader_options(allow_missing_timestamp, kind),
            min_user_interactions=min_user,
            binarize_threshold=binarize,
        )
        info = load_data(spec).describe()
    except (RecunlearnError, OSError, ValueError) as exc:
        fail(exc)
    print_table(
        f"{info['label']}",
        ["", "value"],
        [
            ["users", info["users"]],
            ["items", info["items"]],
            ["interactions", info["interactions"]],
            ["density", f"{info['density']:.4%}"],
        ],
    )
    rows = []
    for attr, entry in info["attributes"].items():
        if entry["kind"] == "categorical":
            detail = ", ".join(f"{k}: {v}" for k, v in entry["counts"].items())
            chance = f"BAcc {entry['chance_bacc']:.3f}"
        else:
            detail = f"mean {entry['mean']:.2f}"
            chance = f"MAE {entry['chance_mae']:.3f}"
        rows.append([attr, entry["kind"], entry["known"], chance, detail])
    print_table("attributes", ["attribute", "kind", "known", "chance", "distribution"], rows)
