"""``recunlearn``: one command with subcommands (data, train, evaluate, demo)."""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from recunlearn.cli.console import console, fmt, print_table
from recunlearn.core.errors import RecunlearnError

app = typer.Typer(
    help="Audit, remove and debias protected-attribute information in recommender models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Fetch and describe datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_assignments(items: list[str] | None, what: str) -> dict[str, Any]:
    """Turn ``key=value`` strings into a dict (values parsed as JSON when possible)."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise typer.BadParameter(f"{what} expects key=value, got '{item}'")
        key, value = item.split("=", 1)
        out[key.strip()] = _parse_value(value.strip())
    return out


def _fail(exc: Exception) -> None:
    console.print(f"[bold red]error:[/bold red] {exc}", soft_wrap=True)
    raise typer.Exit(code=2)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log details")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


# ---------------------------------------------------------------------------------------- data
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
        _fail(exc)
    console.print(f"{name} ready in {path}")


@data_app.command("describe")
def data_describe(
    name: Annotated[str, typer.Argument(help="ml-100k, ml-1m, synthetic, csv, parquet, recbole")],
    data_dir: Annotated[str | None, typer.Option(help="dataset folder or file")] = None,
    attributes: Annotated[str | None, typer.Option(help="user-attribute CSV (csv/parquet)")] = None,
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
            min_user_interactions=min_user,
            binarize_threshold=binarize,
        )
        info = load_data(spec).describe()
    except (RecunlearnError, OSError, ValueError) as exc:
        _fail(exc)
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


# --------------------------------------------------------------------------------------- train
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
    return RunSpec(
        data=DataSpec(
            name=dataset,
            data_dir=data_dir,
            attributes_path=attributes,
            min_user_interactions=min_user,
            binarize_threshold=binarize,
        ),
        split=SplitSpec(protocol=split, params=split_params),
        model=model,
        model_options=model_options,
        evaluation=EvalSpec(mode=eval_mode),
        adversary=parse_adversary(adversary, adversary_set),
    )


def _metric_row(name: str, metrics: dict[str, Any]) -> list[str]:
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


def _warn_dead_dimensions(name: str, metrics: dict[str, Any]) -> None:
    """Print a warning when a trained model's user representation has collapsed coordinates."""
    from recunlearn.models.diagnostics import dead_dimensions_warning

    message = dead_dimensions_warning(metrics.get("dead_user_dims", 0), metrics.get("user_dims", 0))
    if message:
        console.print(f"[yellow]warning ({name}):[/yellow] {message}", soft_wrap=True)


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


@app.command()
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
    overwrite: Annotated[bool, typer.Option(help="replace an existing run directory")] = False,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Train a base recommender (optionally with adversaries) and write a run directory."""
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
        )
        run = train_run(spec, out, progress=not quiet, overwrite=overwrite)
    except (RecunlearnError, OSError, ValueError) as exc:
        _fail(exc)
    print_table(
        f"{run.dataset.label} · {spec.split.protocol} · {run.test.mode} ranking · test",
        METRIC_COLUMNS,
        [_metric_row(model, run.metrics)],
    )
    _warn_dead_dimensions(model, run.metrics)
    console.print(f"run written to {out}")


@app.command()
def evaluate(
    run: Annotated[Path, typer.Argument(help="run directory")],
    mode: Annotated[str, typer.Option(help="full or sampled (1+99)")] = "full",
    k: Annotated[str, typer.Option(help="cut-offs, comma separated")] = "10,20",
) -> None:
    """Re-evaluate a run's model on its test split (full or sampled ranking)."""
    from recunlearn.experiments.train import evaluate_test, load_trained

    try:
        trained = load_trained(run)
        spec = trained.spec.evaluation.model_copy(
            update={"mode": mode, "ks": [int(x) for x in k.split(",")]}
        )
        result = evaluate_test(trained.model, trained.split, spec)
    except (RecunlearnError, OSError, ValueError) as exc:
        _fail(exc)
    names = sorted(result.summary)
    print_table(
        f"{trained.dataset.label} · {trained.spec.model} · {mode} ranking · test",
        ["metric", "value %"],
        [[n, fmt(result.summary[n], True)] for n in names],
    )


# --------------------------------------------------------------------------------------- audit
@app.command("audit")
def audit_command(
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
    overwrite: Annotated[bool, typer.Option(help="replace an existing output folder")] = False,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Attribute-inference audit of user embeddings: attackers vs chance, per attribute."""
    from recunlearn.audit.leakage_report import SUMMARY_HEADER, summary_rows
    from recunlearn.experiments.audit import parse_kinds, resolve_inputs, run_audit, split_list

    try:
        inputs = resolve_inputs(run, embeddings, attributes, ids=ids, kinds=parse_kinds(kind))
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
        _fail(exc)
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


# ------------------------------------------------------------------------------------- unlearn
@app.command()
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
        _fail(exc)
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


# ---------------------------------------------------------------------------------------- demo
DEMO_MODELS = ("mf", "ncf", "lightgcn", "multvae")


@app.command()
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
            _fail(exc)
        runs[name] = run
        rows.append(_metric_row(name, run.metrics))
    print_table("demo · synthetic · loo · full ranking · test", METRIC_COLUMNS, rows)
    for name, run in runs.items():
        _warn_dead_dimensions(name, run.metrics)
    console.print(f"runs written under {root}")


from recunlearn.cli.debias import debias as _debias  # noqa: E402

app.command("debias")(_debias)

from recunlearn.cli.bench import bench as _bench  # noqa: E402
from recunlearn.cli.bench import report as _report  # noqa: E402

app.command("bench")(_bench)
app.command("report")(_report)


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
