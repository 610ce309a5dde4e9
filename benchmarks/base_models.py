"""Benchmark of the four base recommenders (issue 2).

Trains MF (BPR), NCF, LightGCN and MultVAE on the LEGO protocol (leave-one-out by timestamp,
latest interaction to test, second latest to validation, full ranking with training items
masked, users with >= 5 interactions, early stopping on validation NDCG@10 with patience 30)
for several seeds, and appends one JSON record per (dataset, model, seed) to a JSON-lines file.
Finished cells are skipped when the script is run again (resumable).

Usage::

    python benchmarks/base_models.py --dataset ml-100k --data-dir ../shared/data/ml-100k \
        --seeds 0 1 2 --out benchmarks/results/base_models.jsonl
    python benchmarks/base_models.py --report benchmarks/results/base_models.jsonl
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from recunlearn.core.provenance import versions
from recunlearn.data.fingerprint import dataset_fingerprint
from recunlearn.data.loading import load_data
from recunlearn.data.spec import DataSpec, SplitSpec
from recunlearn.experiments.spec import RunSpec
from recunlearn.experiments.train import train_run

MODELS = ("mf", "ncf", "lightgcn", "multvae")


RESULTS_PATHSPEC = ":(exclude)benchmarks/results"


@functools.cache
def git_commit() -> str:
    """Short commit hash of the working tree, with +dirty when a tracked file other than a
    benchmark result is modified (the results are appended while a benchmark runs).

    Memoised and first called when this module is imported: a benchmark process records the
    commit of the code it loaded, even if the tree moves on while it runs."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", RESULTS_PATHSPEC],
            capture_output=True,
            text=True,
        ).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


git_commit()  # pin the commit at process start (see the docstring)


def parse_options(items: list[str]) -> dict:
    """``key=value`` strings -> dict (values parsed as JSON when possible)."""
    out = {}
    for item in items:
        key, value = item.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def variant_label(options: dict) -> str:
    """A short label of non-default model options ("default" when none)."""
    return ",".join(f"{k}={v}" for k, v in sorted(options.items())) or "default"


COLLAPSED_NCF = "default (GMF collapsed, before 2026-12-02)"
"""Variant label of NCF records trained before ``gmf_weight_decay`` existed (dead GMF branch)."""
COLLAPSED_NCF_MODEL = "ncf (GMF collapsed)"
"""Model label under which reports show records of the pre-fix NCF."""
L2_NCF = "default (Adam L2, GMF decay 1e-5, 2026-12-02)"
"""Variant label of NCF records trained with the coupled L2 decay of 2026-12-02 (some GMF
coordinates still died); the default since then is decoupled decay (AdamW)."""
L2_NCF_MODEL = "ncf (Adam L2)"
"""Model label under which reports show records of that NCF."""

PER_STEP_NCF = "default (AdamW, same decay per step on any data, 2026-12-02)"
"""Variant label of AdamW NCF records on data with more steps per epoch than ML-100K, trained
before the decay was scaled per epoch (``decay_reference_steps``): the GMF branch died again."""
PER_STEP_NCF_MODEL = "ncf (AdamW per-step decay)"
"""Model label under which reports show records of that NCF."""
PER_STEP_SAME_AS_DEFAULT = ("ML-100K",)
"""Dataset labels whose training set has at most the reference 48 steps per epoch: there the
per-step and the per-epoch decay are the same optimiser, so their records stay current."""

SUPERSEDED_NCF = {
    "collapsed": (COLLAPSED_NCF_MODEL, COLLAPSED_NCF),
    "adam-l2": (L2_NCF_MODEL, L2_NCF),
    "adamw-per-step": (PER_STEP_NCF_MODEL, PER_STEP_NCF),
}
"""Superseded NCF versions: (model label, variant label)."""
SUPERSEDED_MODELS = frozenset(model for model, _ in SUPERSEDED_NCF.values())
"""Every model label of a superseded base model (tables only, never figures or pooled)."""


def ncf_version(model: str, model_config: dict | None, dataset: str | None = None) -> str | None:
    """Which superseded NCF made a record, judged by the model config it stored and the
    dataset label (None for today's default, and for every other model).

    * ``"collapsed"``: trained before ``gmf_weight_decay`` existed, with one Adam L2 decay on
      every table, which kills the GMF branch (benchmarks/notes/issue2). Records without a
      stored config predate the fix too.
    * ``"adam-l2"``: Adam's coupled L2 with a smaller GMF decay (2026-12-02): most of the GMF
      branch alive, 9-13 of its 32 user coordinates still dead.
    * ``"adamw-per-step"``: AdamW before ``decay_reference_steps`` existed, on data larger than
      ML-100K (on ML-100K it is the same optimiser as today's).
    """
    if model != "ncf":
        return None
    config = model_config or {}
    if "gmf_weight_decay" not in config:
        return "collapsed"
    if not config.get("decoupled_weight_decay", False):
        return "adam-l2"
    if "decay_reference_steps" not in config and dataset not in PER_STEP_SAME_AS_DEFAULT:
        return "adamw-per-step"
    return None


def record_ncf_version(record: dict, config_field: str = "model_config") -> str | None:
    """:func:`ncf_version` of a record: its model, the model config stored in
    ``record[config_field]`` and its dataset label."""
    return ncf_version(record["model"], record.get(config_field), record.get("dataset"))


def is_superseded(record: dict, config_field: str = "model_config") -> bool:
    """Whether a record was made with a base model that is no longer the default."""
    return record_ncf_version(record, config_field) is not None


def model_label(record: dict, config_field: str = "model_config") -> str:
    """The record's model, or the label of the superseded NCF that made it (judged by the
    model config stored in ``record[config_field]`` and the record's dataset)."""
    version = record_ncf_version(record, config_field)
    return record["model"] if version is None else SUPERSEDED_NCF[version][0]


def record_variant(record: dict) -> str:
    """The option-variant label of a record, telling superseded NCFs apart."""
    variant = record.get("variant", "default")
    version = record_ncf_version(record)
    if variant == "default" and version is not None:
        return SUPERSEDED_NCF[version][1]
    return variant


def done_cells(path: Path) -> set[tuple[str, str, int, str, str]]:
    """(dataset label, model, seed, ties, variant) of records already in ``path``."""
    if not path.exists():
        return set()
    cells = set()
    for line in path.read_text().splitlines():
        record = json.loads(line)
        cells.add(
            (
                record["dataset"],
                record["model"],
                record["seed"],
                record["ties"],
                record_variant(record),
            )
        )
    return cells


def run(args: argparse.Namespace) -> None:
    """Train every (model, seed) cell not yet recorded."""
    torch.set_num_threads(args.threads)
    data_spec = DataSpec(name=args.dataset, data_dir=args.data_dir, min_user_interactions=5)
    dataset = load_data(data_spec)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    finished = done_cells(out)
    extra = parse_options(args.set)
    variant = variant_label(extra)
    for model in args.models:
        for seed in args.seeds:
            key = (dataset.label, model, seed, args.ties, variant)
            if key in finished:
                print(f"skip {key} (recorded)")
                continue
            options = {"seed": seed, **extra}
            if args.epochs:
                options["epochs"] = args.epochs
            spec = RunSpec(
                data=data_spec,
                split=SplitSpec(protocol="loo", params={"ties": args.ties, "valid": True}),
                model=model,
                model_options=options,
            )
            started = time.perf_counter()
            # the default variant's run is kept where Table 1 and the audit look for it
            # (train_run refuses an existing directory before training)
            keep = None
            if args.runs_dir and not extra and not args.epochs:
                keep = Path(args.runs_dir) / f"{args.dataset}-{model}-s{seed}"
            trained = train_run(spec, keep, progress=not args.quiet, dataset=dataset)
            record = {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "commit": git_commit(),
                "machine": f"{platform.node()} {platform.processor() or platform.machine()} "
                f"{torch.get_num_threads()} threads",
                "dataset": dataset.label,
                "dataset_fingerprint": dataset_fingerprint(dataset),
                "protocol": "loo_full",
                "ties": args.ties,
                "variant": variant,
                "model": model,
                "seed": seed,
                "config_hash": spec.fingerprint(),
                "model_config": trained.model.config.model_dump(mode="json"),
                "dead_user_dims": trained.metrics["dead_user_dims"],
                "test": trained.metrics["test"],
                "valid": trained.metrics["valid"],
                "best_epoch": trained.metrics["best_epoch"],
                "epochs_run": trained.metrics["epochs_run"],
                "train_seconds": trained.metrics["train_seconds"],
                "seconds_per_epoch": trained.metrics["seconds_per_epoch"],
                "interactions_per_second": trained.metrics["interactions_per_second"],
                "wall_seconds": time.perf_counter() - started,
                "versions": versions(),
            }
            with out.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
            t = record["test"]
            print(
                f"{dataset.label} {model} seed {seed}: HR@10 {100 * t['HR@10']:.2f} "
                f"NDCG@10 {100 * t['NDCG@10']:.2f} best epoch {record['best_epoch']} "
                f"{record['seconds_per_epoch']:.2f} s/epoch, "
                f"{record['dead_user_dims']} dead user dims"
            )


def dead_summary(records: list[dict]) -> str:
    """Dead user dimensions per seed ("–" where not recorded: before 2026-12-02)."""
    counts = [r.get("dead_user_dims") for r in records]
    return (
        "–"
        if all(c is None for c in counts)
        else " / ".join("–" if c is None else str(c) for c in counts)
    )


def report(path: Path) -> str:
    """A markdown table: mean ± std over seeds per dataset x model."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    groups: dict[tuple[str, str, str, str], list[dict]] = {}
    for r in records:
        key = (r["dataset"], r["ties"], r["model"], record_variant(r))
        groups.setdefault(key, []).append(r)
    lines = [
        "| dataset | ties | model | options | seeds | HR@10 % | NDCG@10 % | valid NDCG@10 % | best epoch | s/epoch | interactions/s | train s | dead user dims |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def ms(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
        a = np.asarray(values, dtype=float) * scale
        return f"{a.mean():.{digits}f} ± {a.std(ddof=1) if len(a) > 1 else 0.0:.{digits}f}"

    for (dataset, ties, model, variant), rs in sorted(groups.items()):
        lines.append(
            f"| {dataset} | {ties} | {model} | {variant} | {len(rs)} | {ms([r['test']['HR@10'] for r in rs], 100)} | "
            f"{ms([r['test']['NDCG@10'] for r in rs], 100)} | "
            f"{ms([r['valid']['NDCG@10'] for r in rs], 100)} | {ms([r['best_epoch'] for r in rs], 1, 0)} | "
            f"{ms([r['seconds_per_epoch'] for r in rs], 1, 3)} | "
            f"{ms([r['interactions_per_second'] for r in rs], 1, 0)} | {ms([r['train_seconds'] for r in rs], 1, 1)} | "
            f"{dead_summary(rs)} |"
        )
    commits = sorted({r["commit"] for r in records})
    dates = sorted({r["date"][:10] for r in records})
    lines.append("")
    lines.append(
        f"Commits: {', '.join(commits)}; dates: {', '.join(dates)}; machine: {records[0]['machine']}."
    )
    return "\n".join(lines)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--ties", default="file_order")
    parser.add_argument(
        "--epochs", type=int, default=0, help="override max epochs (0 = model default)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--set", nargs="*", default=[], help="model options key=value (recorded as the variant)"
    )
    parser.add_argument("--out", default="benchmarks/results/base_models.jsonl")
    parser.add_argument("--report", default=None, help="print the markdown table of a results file")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--runs-dir",
        default=None,
        help="keep the default variant's run directories here (reused by unlearning_table1.py "
        "and audit_base_models.py with the same --runs-dir)",
    )
    args = parser.parse_args()
    if args.report:
        print(report(Path(args.report)))
    else:
        run(args)


if __name__ == "__main__":
    main()
