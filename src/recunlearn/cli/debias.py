"""``recunlearn debias``: train one debiasing method on Coat / Yahoo! R3 / KuaiRec / synthetic,
print a results table and write a run directory (atomically)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recunlearn.cli.console import console, fail, parse_assignments, print_table
from recunlearn.core.atomic import check_writable
from recunlearn.core.errors import RecunlearnError


def debias(
    out: Annotated[Path, typer.Option(help="run directory to create")],
    dataset: Annotated[str, typer.Option(help="coat, yahoo, kuairec or synthetic")] = "coat",
    data_dir: Annotated[str | None, typer.Option(help="folder with the publisher's files")] = None,
    method: Annotated[
        str,
        typer.Option(
            help="mf, mf-uniform, mf-combine, ips, snips, dr-jl, kd-label, cause, "
            "autodebias, ultd-jl, ultd-tp"
        ),
    ] = "ultd-jl",
    seed: Annotated[list[int] | None, typer.Option(help="seed (repeatable)")] = None,
    threshold: Annotated[float | None, typer.Option(help="positive if rating >= threshold")] = None,
    option: Annotated[
        list[str] | None, typer.Option("--set", help="method option key=value (repeatable)")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing run directory")] = False,
) -> None:
    """Debias selection bias with a few unbiased ratings; metrics on the unbiased test set."""
    import numpy as np

    from recunlearn.data.feedback import load_debias_data
    from recunlearn.debias.metrics import DEFAULT_CONVENTION
    from recunlearn.experiments.debias import DebiasConfig, execute, write_debias_run

    seeds = seed or [0]
    try:
        check_writable(out, overwrite=overwrite)
        options = parse_assignments(option, "--set")
        data = load_debias_data(dataset, data_dir, threshold=threshold)
        outcomes = [
            execute(
                DebiasConfig(
                    dataset=dataset,
                    method=method,
                    data_dir=data_dir,
                    seed=s,
                    threshold=threshold,
                    options=options,
                ),
                data,
            )
            for s in seeds
        ]
        write_debias_run(out, outcomes, overwrite=overwrite)
    except (RecunlearnError, OSError, ValueError) as exc:
        fail(exc)
    k = outcomes[0].record["test"]["K"]
    conv = DEFAULT_CONVENTION
    keys = [
        ("AUC", "AUC (all test pairs)"),
        (f"NDCG@{k}|{conv.users}", f"NDCG@{k} ({conv.users})"),
        (f"Recall@{k}|{conv.label}", f"Recall@{k} ({conv.label})"),
        (f"NDCG@{k}|all_users_nopos_ndcg1", f"NDCG@{k} (all_users_nopos_ndcg1)"),
        (
            f"Recall@{k}|all_users_nopos_ndcg1|min_k_npos",
            f"Recall@{k} (all_users_nopos_ndcg1|min_k_npos)",
        ),
    ]
    rows = []
    for key, label in keys:
        values = np.array([o.record["test"][key] for o in outcomes], dtype=float)
        spread = f" ± {values.std():.4f}" if len(values) > 1 else ""
        rows.append([label, f"{values.mean():.4f}{spread}"])
    epochs = [o.record["training"]["best_epoch"] for o in outcomes]
    rows.append(["best epoch (valid AUC)", ", ".join(str(e) for e in epochs)])
    print_table(
        f"{dataset} · {method} · seeds {seeds} · unbiased test T (90 %)", ["metric", "value"], rows
    )
    console.print(f"run written to {out}")
