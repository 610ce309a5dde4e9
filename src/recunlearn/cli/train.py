"""``recunlearn train``: train a base recommender (optionally with adversaries), write a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from recunlearn.cli.console import console, fail, parse_assignments, print_table, warn
from recunlearn.cli.dataopts import (
    KIND_HELP,
    MISSING_TIMESTAMP_HELP,
    absolute,
    dataset_name,
    loader_options,
)
from recunlearn.cli.guard import show_leakage
from recunlearn.core.errors import RecunlearnError
from recunlearn.report.format import value as fmt


def _build_spec(
    dataset: str,
    data_dir: str | None,
    attributes: str | None,
    model: str,
    split: str,
    ties: str,
    fold: int,
    no_valid: bool,
    min_user: int,
    binarize: float | None,
    epochs: int | None,
    seed: int,
    options: list[str] | None,
    eval_mode: str,
    adversary: list[str] | None = None,
    adversary_set: list[str] | None = None,
    data_options: dict[str, Any] | None = None,
    preset: str | None = None,
):
    from recunlearn.data.spec import DataSpec, SplitSpec
    from recunlearn.evaluation.spec import EvalSpec
    from recunlearn.experiments.spec import RunSpec
    from recunlearn.protect.adversarial.config import parse_adversary

    split_params: dict[str, Any]
    if split == "loo":
        split_params = {"ties": ties, "valid": not no_valid}
    elif split == "user_kfold":
        split_params = {"fold": fold, "valid": not no_valid}
    else:
        split_params = {}
    model_options = parse_assignments(options, "--set")
    model_options.setdefault("seed", seed)
    if epochs is not None:
        model_options["epochs"] = epochs
    data = DataSpec(
        name=dataset_name(dataset),
        data_dir=absolute(data_dir),
        attributes_path=absolute(attributes),
        options=data_options or {},
        min_user_interactions=min_user,
        binarize_threshold=binarize,
    )
    if preset is not None:
        spec = RunSpec.from_preset(preset, data, model, model_options)
        return spec.model_copy(update={"adversary": parse_adversary(adversary, adversary_set)})
    return RunSpec(
        data=data,
        split=SplitSpec(protocol=split, params=split_params),
        model=model,
        model_options=model_options,
        evaluation=EvalSpec(mode=eval_mode),
        adversary=parse_adversary(adversary, adversary_set),
    )


def metric_row(name: str, metrics: dict[str, Any]) -> list[str]:
    test = metrics["test"]
    return [
        name,
        fmt(test.get("HR@10"), True),
        fmt(test.get("NDCG@10"), True),
        fmt(test.get("Recall@10"), True),
        str(metrics.get("best_epoch")),
        str(metrics.get("epochs_run")),
        f"{metrics.get('seconds_per_epoch', float('nan')):.2f}",
        f"{metrics.get('train_seconds', float('nan')):.1f}",
    ]


def warn_dead_dimensions(name: str, metrics: dict[str, Any]) -> None:
    """Print a warning when a trained model's user representation has collapsed coordinates."""
    from recunlearn.models.diagnostics import dead_dimensions_warning

    message = dead_dimensions_warning(metrics.get("dead_user_dims", 0), metrics.get("user_dims", 0))
    if message:
        warn(f"({name}) {message}")


METRIC_COLUMNS = [
    "model",
    "HR@10 %",
    "NDCG@10 %",
    "Recall@10 %",
    "best ep",
    "epochs",
    "s/epoch",
    "train s",
]


def train(
    out: Annotated[Path, typer.Option(help="run directory to create")],
    dataset: Annotated[
        str, typer.Option(help="ml-100k, ml-1m, synthetic, csv, parquet, recbole")
    ] = "synthetic",
    data_dir: Annotated[
        str | None, typer.Option(help="dataset folder or interactions file")
    ] = None,
    attributes: Annotated[
        str | None, typer.Option(help="user-attribute CSV for csv/parquet data")
    ] = None,
    allow_missing_timestamp: Annotated[
        bool, typer.Option("--allow-missing-timestamp", help=MISSING_TIMESTAMP_HELP)
    ] = False,
    kind: Annotated[list[str] | None, typer.Option(help=KIND_HELP)] = None,
    model: Annotated[str, typer.Option(help="mf, ncf, lightgcn, multvae")] = "mf",
    split: Annotated[str, typer.Option(help="loo (LEGO) or user_kfold (Adv/AdvX-MultVAE)")] = "loo",
    ties: Annotated[
        str, typer.Option(help="loo tie rule at the latest timestamp: item_id, file_order, random")
    ] = "file_order",
    fold: Annotated[int, typer.Option(help="test fold for user_kfold")] = 0,
    no_valid: Annotated[
        bool, typer.Option("--no-valid", help="no validation split (no early stopping)")
    ] = False,
    min_user: Annotated[
        int, typer.Option(help="k-core: min interactions per user (papers: 5)")
    ] = 5,
    binarize: Annotated[float | None, typer.Option(help="keep ratings >= threshold")] = None,
    epochs: Annotated[int | None, typer.Option(help="max epochs (default: the model's)")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    option: Annotated[
        list[str] | None, typer.Option("--set", help="model option key=value (repeatable)")
    ] = None,
    eval_mode: Annotated[str, typer.Option(help="full or sampled (1+99)")] = "full",
    preset: Annotated[
        str | None,
        typer.Option(
            help="a named paper protocol (e.g. afrl_loo_sampled99): sets the filters, the split "
            "and the evaluation, replacing --split, --min-user, --binarize and --eval-mode"
        ),
    ] = None,
    adversary: Annotated[
        list[str] | None,
        typer.Option(
            help="train with adversaries: attribute=lambda[:kind], comma separated or repeated "
            "(e.g. gender=400,age_raw=200)"
        ),
    ] = None,
    adversary_set: Annotated[
        list[str] | None,
        typer.Option(
            help="adversary option key=value or attribute.key=value (e.g. age_raw.scale=60, "
            "selection=adversary; repeatable)"
        ),
    ] = None,
    attackers: Annotated[
        str,
        typer.Option(help="with --adversary: guard attackers, 'all' or a comma-separated list"),
    ] = "all",
    max_leakage: Annotated[
        float | None,
        typer.Option(
            help="with --adversary: exit with code 3 when an attacker reads an attribute more "
            "than this many points from chance"
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing run directory")] = False,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Train a base recommender (optionally with adversaries) and write a run directory.

    With ``--adversary`` the trained representation is audited before it is written (the
    leakage guard: every attacker, 5-fold over the labelled users) and the audit is kept in the
    run directory (``leakage.json``, ``leakage.md``).
    """
    from recunlearn.audit import DEFAULT_ATTACKERS
    from recunlearn.audit.guard import GuardSettings
    from recunlearn.experiments.train import train_run

    try:
        spec = _build_spec(
            dataset,
            data_dir,
            attributes,
            model,
            split,
            ties,
            fold,
            no_valid,
            min_user,
            binarize,
            epochs,
            seed,
            option,
            eval_mode,
            adversary,
            adversary_set,
            loader_options(allow_missing_timestamp, kind),
            preset,
        )
        chosen = DEFAULT_ATTACKERS if attackers == "all" else tuple(attackers.split(","))
        run = train_run(
            spec, out, progress=not quiet, overwrite=overwrite, guard=GuardSettings(chosen)
        )
    except (RecunlearnError, OSError, ValueError) as exc:
        fail(exc)
    print_table(
        f"{run.dataset.label} · {spec.split.protocol} · {run.test.mode} ranking · test",
        METRIC_COLUMNS,
        [metric_row(model, run.metrics)],
    )
    warn_dead_dimensions(model, run.metrics)
    console.print(f"run written to {out}")
    if run.leakage is not None:
        show_leakage(run.leakage, max_leakage)
