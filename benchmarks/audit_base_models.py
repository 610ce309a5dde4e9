"""Attribute-inference audit benchmarks (issue 3).

Three parts, each appending one JSON line per cell to a JSON-lines file (resumable: recorded
cells are skipped):

(a) default: the leakage of the four base models' user embeddings (MF, NCF, LightGCN, MultVAE;
    LEGO protocol: leave-one-out, users with >= 5 interactions, early stopping on validation
    NDCG@10) per attribute (gender, age, occupation, age_raw) and attacker, mean ± std over
    folds and audit seeds, for several model seeds. Models are trained, or reused from
    ``--runs-dir`` (run directories ``<runs-dir>/<dataset>-<model>-s<seed>``; new ones are
    saved there). ``--report`` prints the table beside LEGO Table 1's Original rows.
(b) ``--timing``: wall time of the full audit (every attacker, 5 folds, gender / age /
    occupation) on a 6,040 x 64 table of synthetic embeddings with ML-1M's class balance
    (target: under 2 minutes on 2 cores). ``--n-users`` / ``--dim`` shrink it for a smoke test.
(c) ``--planted``: train MF on the synthetic dataset and audit every attribute, including the
    control ``noise`` (independent of everything): attributes that drive preferences must be
    detected; ``noise`` must sit at chance for every attacker.

Usage::

    python benchmarks/audit_base_models.py --dataset ml-100k --data-dir ../shared/data/ml-100k \
        --seeds 0 1 2 --runs-dir runs/base
    python benchmarks/audit_base_models.py --dataset ml-1m-users1-2999 \
        --data-dir ../shared/data/ml-1m-users1-2999 --seeds 0 1 2 --runs-dir runs/base
    python benchmarks/audit_base_models.py --timing
    python benchmarks/audit_base_models.py --planted --seeds 0 1 2
    python benchmarks/audit_base_models.py --report
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from base_models import git_commit, model_label  # noqa: E402

from recunlearn.audit import DEFAULT_ATTACKERS, LeakageReport, audit
from recunlearn.core.provenance import versions
from recunlearn.data.fingerprint import dataset_fingerprint
from recunlearn.data.loading import load_data
from recunlearn.data.spec import DataSpec, SplitSpec
from recunlearn.data.types import Attribute
from recunlearn.experiments.audit import read_run
from recunlearn.experiments.rundir import read_config
from recunlearn.experiments.spec import RunSpec
from recunlearn.experiments.train import resolved_config, train_run

MODELS = ("mf", "ncf", "lightgcn", "multvae")
RESULTS = Path("benchmarks/results/audit_base_models.jsonl")

#: LEGO Table 1, "Original" rows: gender BAcc (%) of the paper's MLP attacker.
LEGO_ORIGINAL_GENDER_BACC = {
    "ML-100K": {"ncf": 65.61, "lightgcn": 62.96, "multvae": 65.64},
    "ML-1M": {"ncf": 76.12, "lightgcn": 71.28, "multvae": 72.10},
}

#: ML-1M class sizes (users.dat): gender F/M, age bins <25 / 25-35 / >35, occupation codes 0-20.
ML1M_GENDER = (1709, 4331)
ML1M_AGE = (1325, 3289, 1426)
ML1M_OCCUPATION = (
    711, 528, 267, 173, 759, 112, 236, 679, 17, 92, 195, 129, 388, 142, 302, 144, 241, 502, 70,
    72, 281,
)  # fmt: skip


# ------------------------------------------------------------------------------- provenance
def provenance() -> dict[str, Any]:
    """Date, commit, machine (with the load average: the box may be shared), command."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": f"{platform.node()} {platform.processor() or platform.machine()} "
        f"{os.cpu_count()} cores",
        "load_average_at_start": load,
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "versions": versions(),
    }


def summary_payload(report: LeakageReport) -> dict[str, Any]:
    """The parts of a report a benchmark line keeps: summary, worst case, averages, meta."""
    clean = report.to_dict()
    return {
        "summary": json.loads(report.summary().to_json(orient="records")),
        "average": json.loads(report.average().to_json(orient="records")),
        "audit_meta": clean["meta"],
        "records": clean["records"],
    }


def append(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(record) + "\n")


def recorded(path: Path) -> list[dict[str, Any]]:
    """Every line of a results file."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --------------------------------------------------------------------------- (a) base models
def _run_spec(args: argparse.Namespace, model: str, seed: int) -> RunSpec:
    options: dict[str, Any] = {"seed": seed}
    if args.epochs:
        options["epochs"] = args.epochs
    return RunSpec(
        data=DataSpec(name=args.dataset, data_dir=args.data_dir, min_user_interactions=5),
        split=SplitSpec(protocol="loo", params={"ties": args.ties, "valid": True}),
        model=model,
        model_options=options,
    )


def _embeddings_for(args: argparse.Namespace, spec: RunSpec, dataset, model: str, seed: int):
    """(ids, matrix, source, model config) from a reused run directory, or a freshly trained
    model; the config is None for a run directory written before config.json pinned it."""
    if args.runs_dir:
        folder = Path(args.runs_dir) / f"{args.dataset}-{model}-s{seed}"
        if (folder / "config.json").exists():
            embeddings, _, _ = read_run(folder)
            _, payload = read_config(folder)
            config = payload.get("model_config")
            return embeddings.ids, embeddings.matrix, str(folder), config
        trained = train_run(spec, folder, progress=not args.quiet, dataset=dataset)
    else:
        trained = train_run(spec, progress=not args.quiet, dataset=dataset)
        folder = None
    matrix = trained.model.user_embeddings().detach().cpu().numpy()
    source = None if folder is None else str(folder)
    return dataset.user_ids, matrix, source, resolved_config(trained.model)


def run_base_models(args: argparse.Namespace) -> None:
    """Audit every (model, seed) not yet recorded."""
    torch.set_num_threads(args.threads)
    dataset = load_data(_run_spec(args, args.models[0], args.seeds[0]).data)
    attackers = tuple(args.attackers)
    done = {
        (r["dataset"], model_label(r), r["seed"], tuple(r["attackers"]), r.get("epochs", 0))
        for r in recorded(args.out)
        if r.get("part") == "base_models"
    }
    for model in args.models:
        for seed in args.seeds:
            key = (dataset.label, model, seed, attackers, args.epochs)
            if key in done:
                print(f"skip {key} (recorded)")
                continue
            spec = _run_spec(args, model, seed)
            ids, matrix, source, model_config = _embeddings_for(args, spec, dataset, model, seed)
            report = audit(
                matrix,
                dataset,
                ids=ids,
                attackers=attackers,
                select=args.attributes,
                n_folds=args.folds,
                seeds=args.audit_seeds,
                n_jobs=args.jobs,
                progress=not args.quiet,
            )
            record = {
                "part": "base_models",
                **provenance(),
                "dataset": dataset.label,
                "dataset_fingerprint": dataset_fingerprint(dataset),
                "model": model,
                "seed": seed,
                "epochs": args.epochs,
                "config_hash": spec.fingerprint(),
                "model_config": model_config,
                "run_dir": source,
                "attackers": list(attackers),
                "embedding_dim": int(matrix.shape[1]),
                **summary_payload(report),
            }
            append(args.out, record)
            summary = report.summary().set_index(["attribute", "attacker"])
            gender = summary.loc["gender"] if "gender" in report.attributes else None
            if gender is not None:
                line = ", ".join(f"{a} {100 * gender.loc[a, 'bacc_mean']:.2f}" for a in attackers)
                print(f"{dataset.label} {model} seed {seed}: gender BAcc % {line}")


def _lego(dataset: str, model: str) -> str:
    if dataset in LEGO_ORIGINAL_GENDER_BACC:
        value = LEGO_ORIGINAL_GENDER_BACC[dataset].get(model)
        return "-" if value is None else f"{value:.2f}"
    return "n/c"  # a partial ML-1M copy is not comparable with the paper's ML-1M


def _ms(values: list[float], scale: float = 100.0, digits: int = 2) -> str:
    a = np.asarray([v for v in values if v is not None], dtype=float) * scale
    if a.size == 0:
        return "-"
    std = a.std(ddof=1) if a.size > 1 else 0.0
    return f"{a.mean():.{digits}f} ± {std:.{digits}f}"


def report_base_models(records: list[dict[str, Any]]) -> str:
    """Markdown: per dataset x model x attribute x attacker, mean ± std over every fold, audit
    seed and model seed; LEGO's Original gender BAcc beside the paper_mlp rows."""
    # the latest line wins for each (dataset, model, seed, attacker): re-runs do not double count
    latest: dict[tuple[str, str, int, str], list[dict]] = {}
    for r in records:
        if r.get("part") != "base_models":
            continue
        dataset = r["dataset"] + (f" ({r['epochs']} epochs)" if r.get("epochs") else "")
        for attacker in r["attackers"]:
            latest[(dataset, model_label(r), r["seed"], attacker)] = [
                rec for rec in r["records"] if rec["attacker"] == attacker
            ]
    rows: dict[tuple[str, str, str, str], dict[str, list]] = {}
    seeds: dict[tuple[str, str], set[int]] = {}
    for (dataset, model, seed, _), recs in latest.items():
        seeds.setdefault((dataset, model), set()).add(seed)
        for rec in recs:
            key = (dataset, model, rec["attribute"], rec["attacker"])
            cell = rows.setdefault(key, {"kind": rec["kind"], "values": []})
            cell["values"].append(rec)
    if not rows:
        return "no base-model records"
    lines = [
        "| dataset | model | seeds | attribute | attacker | BAcc % | chance % | micro-F1 % | "
        "macro-F1 % | AUC % / R² | MAE (chance) | LEGO Original gender BAcc % |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (dataset, model, attribute, attacker), cell in sorted(rows.items()):
        recs = cell["values"]
        lego = _lego(dataset, model) if attribute == "gender" and attacker == "paper_mlp" else ""
        n_seeds = len(seeds[(dataset, model)])
        if cell["kind"] == "categorical":
            lines.append(
                f"| {dataset} | {model} | {n_seeds} | {attribute} | {attacker} | "
                f"{_ms([x['bacc'] for x in recs])} | {_ms([x['chance_bacc'] for x in recs])} | "
                f"{_ms([x['micro_f1'] for x in recs])} | {_ms([x['macro_f1'] for x in recs])} | "
                f"{_ms([x['auc'] for x in recs])} | - | {lego} |"
            )
        else:
            lines.append(
                f"| {dataset} | {model} | {n_seeds} | {attribute} | {attacker} | - | - | - | - | "
                f"{_ms([x['r2'] for x in recs], 1, 3)} | {_ms([x['mae'] for x in recs], 1, 2)} "
                f"({_ms([x['chance_mae'] for x in recs], 1, 2)}) | |"
            )
    base = [r for r in records if r.get("part") == "base_models"]
    lines.append("")
    lines.append(
        f"Commits: {', '.join(sorted({r['commit'] for r in base}))}; dates: "
        f"{', '.join(sorted({r['date'][:10] for r in base}))}; machine: {base[0]['machine']}. "
        "mean ± std over folds x audit seeds x model seeds. LEGO numbers: paper_mlp protocol, "
        "10 runs; 'n/c' = not comparable (partial ML-1M)."
    )
    return "\n".join(lines)


# ------------------------------------------------------------------------------- (b) timing
def _ml1m_like(n_users: int, dim: int, seed: int) -> tuple[np.ndarray, dict[str, tuple]]:
    """Synthetic embeddings with ML-1M's class shares and a moderate planted signal."""
    rng = np.random.default_rng(seed)

    def labels(counts: tuple[int, ...]) -> np.ndarray:
        shares = np.asarray(counts, dtype=float) / sum(counts)
        sizes = np.maximum(np.floor(shares * n_users).astype(int), 5)
        sizes[np.argmax(sizes)] += n_users - sizes.sum()
        return rng.permutation(np.repeat(np.arange(len(counts)), sizes))

    gender, age, occupation = labels(ML1M_GENDER), labels(ML1M_AGE), labels(ML1M_OCCUPATION)
    directions = rng.normal(size=(2 + 3 + 21, dim))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    X = rng.normal(size=(n_users, dim))
    X += 0.8 * np.outer(2 * gender - 1, directions[0])
    X += 0.6 * directions[2 + age]
    X += 0.6 * directions[5 + occupation]
    attributes = {
        "gender": (Attribute("gender", "categorical", ("F", "M")), gender),
        "age": (Attribute("age", "categorical", ("<25", "25-35", ">35")), age),
        "occupation": (
            Attribute("occupation", "categorical", tuple(str(i) for i in range(21))),
            occupation,
        ),
    }
    return X, attributes


def run_timing(args: argparse.Namespace) -> None:
    """Time the full audit on an ML-1M-sized table."""
    X, attributes = _ml1m_like(args.n_users, args.dim, seed=0)
    started = time.perf_counter()
    report = audit(
        X,
        attributes,
        attackers=tuple(args.attackers),
        n_folds=args.folds,
        seeds=args.audit_seeds,
        n_jobs=args.jobs,
        progress=not args.quiet,
    )
    wall = time.perf_counter() - started
    record = {
        "part": "timing",
        **provenance(),
        "n_users": args.n_users,
        "dim": args.dim,
        "n_folds": args.folds,
        "audit_seeds": args.audit_seeds,
        "attackers": list(args.attackers),
        "jobs": args.jobs,
        "workers": report.meta["workers"],
        "wall_seconds": wall,
        "attacker_seconds": report.meta["attacker_seconds"],
        "target_seconds": 120.0,
        **summary_payload(report),
    }
    append(args.out, record)
    print(
        f"audit of {args.n_users} x {args.dim}, {len(args.attackers)} attackers, "
        f"{args.folds} folds, 3 attributes, {report.meta['workers']} workers: {wall:.1f} s"
    )
    for name, seconds in report.meta["attacker_seconds"].items():
        print(f"  {name}: {seconds:.1f} s of job time")


# ------------------------------------------------------------------------------ (c) planted
def run_planted(args: argparse.Namespace) -> None:
    """MF on synthetic data, audited: signal attributes detected, ``noise`` at chance."""
    options = {"n_users": args.n_users}
    if args.signal is not None:
        options["signal"] = args.signal
    for seed in args.seeds:
        spec = RunSpec(
            data=DataSpec(name="synthetic", options={**options, "seed": seed}),
            model="mf",
            model_options={"seed": seed, **({"epochs": args.epochs} if args.epochs else {})},
        )
        trained = train_run(spec, progress=not args.quiet)
        dataset = trained.dataset
        report = audit(
            trained.model.user_embeddings(),
            dataset,
            ids=dataset.user_ids,
            attackers=tuple(args.attackers),
            n_folds=args.folds,
            seeds=args.audit_seeds,
            n_jobs=args.jobs,
            progress=not args.quiet,
        )
        summary = report.summary()
        verdicts = {}
        for attribute in report.attributes:
            part = summary[summary["attribute"] == attribute]
            if part["kind"].iloc[0] == "categorical":
                verdicts[attribute] = {
                    "max_abs_z": float(part["bacc_z"].abs().max()),
                    "detected": bool((part["bacc_z"] > 3).any()),
                    "all_within_chance": bool((part["bacc_z"].abs() < 3).all()),
                }
            else:
                verdicts[attribute] = {
                    "detected": bool((part["mae_mean"] < part["chance_mae_mean"]).any()),
                    "best_r2": float(part["r2_mean"].max()),
                }
        record = {
            "part": "planted",
            **provenance(),
            "dataset": dataset.label,
            "seed": seed,
            "model": "mf",
            "test": trained.metrics["test"],
            "verdicts": verdicts,
            "attackers": list(args.attackers),
            **summary_payload(report),
        }
        append(args.out, record)
        print(report.to_markdown())
        print(json.dumps(verdicts, indent=1))


def report_planted(records: list[dict[str, Any]]) -> str:
    """Markdown: per attribute x attacker, BAcc (or MAE) vs chance over seeds; noise verdict."""
    planted = [r for r in records if r.get("part") == "planted"]
    if not planted:
        return "no planted-signal records"
    rows: dict[tuple[str, str], list[dict]] = {}
    for r in planted:
        for row in r["summary"]:
            rows.setdefault((row["attribute"], row["attacker"]), []).append(row)
    lines = [
        "| attribute | attacker | BAcc % (MAE) | chance % (MAE) | z (mean over seeds) |",
        "|---|---|---|---|---|",
    ]
    for (attribute, attacker), rs in rows.items():
        if rs[0]["kind"] == "categorical":
            lines.append(
                f"| {attribute} | {attacker} | {_ms([x['bacc_mean'] for x in rs])} | "
                f"{_ms([x['chance_bacc_mean'] for x in rs])} | "
                f"{np.mean([x['bacc_z'] for x in rs]):+.1f} |"
            )
        else:
            lines.append(
                f"| {attribute} | {attacker} | {_ms([x['mae_mean'] for x in rs], 1)} | "
                f"{_ms([x['chance_mae_mean'] for x in rs], 1)} | |"
            )
    lines.append("")
    lines.append(f"Seeds: {sorted({r['seed'] for r in planted})}; {planted[0]['dataset']}.")
    return "\n".join(lines)


def report_timing(records: list[dict[str, Any]]) -> str:
    """One line per timing record."""
    timing = [r for r in records if r.get("part") == "timing"]
    if not timing:
        return "no timing records"
    lines = ["| date | commit | users x dim | attackers | folds | workers | load | wall s |"]
    lines.append("|---|---|---|---|---|---|---|---|")
    for r in timing:
        load = r.get("load_average_at_start")
        lines.append(
            f"| {r['date'][:16]} | {r['commit']} | {r['n_users']} x {r['dim']} | "
            f"{len(r['attackers'])} | {r['n_folds']} | {r['workers']} | "
            f"{'-' if load is None else f'{load[0]:.2f}'} | {r['wall_seconds']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--timing", action="store_true", help="(b) wall time of the full audit")
    mode.add_argument("--planted", action="store_true", help="(c) planted-signal check")
    mode.add_argument("--report", action="store_true", help="print the markdown tables")
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--runs-dir", default=None, help="reuse / save run directories here")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="model seeds")
    parser.add_argument("--audit-seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--attackers", nargs="+", default=list(DEFAULT_ATTACKERS))
    parser.add_argument(
        "--attributes", nargs="+", default=None, help="default: all of the dataset's"
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--ties", default="file_order")
    parser.add_argument("--epochs", type=int, default=0, help="max epochs (0 = model default)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for training")
    parser.add_argument("--n-users", type=int, default=None, help="timing: 6040; planted: 1000")
    parser.add_argument("--dim", type=int, default=64, help="timing: embedding size")
    parser.add_argument("--signal", type=float, default=None, help="planted: synthetic signal")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    if args.report:
        records = recorded(args.out)
        print("## Base models\n")
        print(report_base_models(records))
        print("\n## Planted signal\n")
        print(report_planted(records))
        print("\n## Timing\n")
        print(report_timing(records))
    elif args.timing:
        args.n_users = args.n_users or 6040
        run_timing(args)
    elif args.planted:
        args.n_users = args.n_users or 1000
        run_planted(args)
    else:
        run_base_models(args)


if __name__ == "__main__":
    main()
