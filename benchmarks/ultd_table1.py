"""ULTD Table 1 (issue 7) on Coat and Yahoo! R3, plus sanity rows and ablations.

One JSON record per (dataset, method, seed) is appended to ``--out`` (resumable: a cell whose
config hash is already there is skipped), with git commit, date, machine, command, wall time and
every metric convention. Protocol: family A (unbiased data split by seed 5 % A / 5 % V / 90 % T,
early stopping on V AUC), threshold 3, K = 5.

Usage::

    python benchmarks/ultd_table1.py --dataset coat --data-dir ../shared/data/coat --seeds 0 1 2 3 4
    python benchmarks/ultd_table1.py --dataset yahoo --data-dir ../shared/data/yahoo-r3
    python benchmarks/ultd_table1.py --dataset coat --data-dir DIR --tune mf   # grid on V only
    python benchmarks/ultd_table1.py --report
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from recunlearn.data.feedback import load_debias_data
from recunlearn.experiments.debias import config_hash, run_debias
from recunlearn.report.reference import load_reference

sys.path.insert(0, str(Path(__file__).resolve().parent))
from base_models import git_commit  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "ultd_table1.jsonl"

#: table rows: row name -> (registered method, options)
TABLE: dict[str, tuple[str, dict]] = {
    "mf": ("mf", {}),
    "mf-combine": ("mf-combine", {}),
    "ips": ("ips", {}),
    "snips": ("snips", {}),
    "dr-jl": ("dr-jl", {}),
    "kd-label": ("kd-label", {}),
    "cause": ("cause", {}),
    "autodebias": ("autodebias", {}),
    "ultd-tp": ("ultd-tp", {}),
    "ultd-jl": ("ultd-jl", {}),
}
SANITY: dict[str, tuple[str, dict]] = {
    "ultd-jl alpha=0": ("ultd-jl", {"fixed_alpha": 0.0}),
    "ultd-jl alpha=1": ("ultd-jl", {"fixed_alpha": 1.0}),
    "mf-uniform": ("mf-uniform", {}),
}
ABLATIONS: dict[str, tuple[str, dict]] = {
    "ultd-jl fixed alpha=0.1 (no rate network)": ("ultd-jl", {"fixed_alpha": 0.1}),
    "ultd-jl global rate": ("ultd-jl", {"rate": "global"}),
    "ultd-jl no-A users alpha=0": ("ultd-jl", {"no_a_users": "zero"}),
    "ultd-jl g anchored on A": ("ultd-jl", {"g_reg_kind": "anchor", "g_reg": 0.1}),
    "ultd-jl +A in L_f": ("ultd-jl", {"add_uniform": True}),
}
GROUPS = {"table": TABLE, "sanity": SANITY, "ablations": ABLATIONS}

#: hyper-parameter grids searched on V (mean validation AUC over --seeds), never on T
GRIDS: dict[str, dict[str, list]] = {
    "mf": {"lr": [0.005, 0.01, 0.05], "weight_decay": [1e-5, 1e-4, 1e-3]},
    "ips": {"clip": [0.02, 0.05, 0.1], "propensity": ["naive_bayes", "learned"]},
    "dr-jl": {"clip": [0.02, 0.05, 0.1], "propensity": ["naive_bayes", "learned"]},
    "autodebias": {"meta_lr": [0.001, 0.01], "imputation_weight": [0.01, 0.1, 1.0]},
    "ultd-jl": {"g_reg": [1e-4, 1e-2, 1e-1], "alpha_lr": [1e-3, 1e-2]},
    "ultd-tp": {"g_reg": [1e-4, 1e-2, 1e-1], "alpha_lr": [1e-3, 1e-2]},
    "kd-label": {"teacher_weight": [0.2, 0.5, 0.8]},
    "cause": {"align": [0.001, 0.01, 0.1]},
}


def machine() -> str:
    """A short description of the machine."""
    return f"{platform.node()} {platform.machine()} {platform.processor() or ''} py{platform.python_version()}".strip()


def existing_hashes(path: Path) -> set[tuple[str, str, int, str]]:
    """Cells already in the results file."""
    if not path.exists():
        return set()
    out = set()
    for line in path.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            out.add((r["dataset"], r["row"], r["seed"], r["cell_hash"]))
    return out


def run_cells(args: argparse.Namespace) -> None:
    """Run every (row, seed) cell that is not in the results file yet."""
    data = load_debias_data(args.dataset, args.data_dir)
    rows = {}
    for group in args.groups:
        rows.update(GROUPS[group])
    if args.rows:
        rows = {k: v for k, v in rows.items() if k in args.rows}
    done = existing_hashes(args.out)
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
    for row, (method, options) in rows.items():
        for seed in args.seeds:
            config = {
                "dataset": args.dataset,
                "method": method,
                "data_dir": args.data_dir,
                "seed": seed,
                "options": dict(options),
            }
            cell = config_hash({**config, "data_dir": None, "commit": git_commit().split("+")[0]})
            if (args.dataset, row, seed, cell) in done:
                continue
            start = time.perf_counter()
            record = run_debias(config, data)
            record.update(
                row=row,
                cell_hash=cell,
                git_commit=git_commit(),
                date=datetime.now(UTC).isoformat(),
                machine=machine(),
                command=command,
                wall_seconds=time.perf_counter() - start,
            )
            args.out.parent.mkdir(parents=True, exist_ok=True)
            with open(args.out, "a") as handle:
                handle.write(json.dumps(record, default=str) + "\n")
            h = record["headline"]
            print(
                f"{args.dataset} {row:45s} seed {seed}: AUC {h['AUC']:.4f} "
                f"NDCG@5 {h['NDCG@5']:.4f} R@5 {h['Recall@5']:.4f} "
                f"(valid AUC {record['training']['best_valid_auc']:.4f}, "
                f"{record['wall_seconds']:.1f} s)",
                flush=True,
            )


def tune(args: argparse.Namespace) -> None:
    """Grid search of one method on the validation AUC (mean over seeds); T is not read."""
    data = load_debias_data(args.dataset, args.data_dir)
    grid = dict(GRIDS[args.tune])
    for item in args.grid:  # --grid weight_decay=0,1e-6 replaces one axis of the grid
        key, _, values = item.partition("=")
        grid[key] = [float(v) for v in values.split(",")]
    results = []
    for values in itertools.product(*grid.values()):
        options = dict(zip(grid, values, strict=True))
        scores = [
            run_debias(
                {
                    "dataset": args.dataset,
                    "method": args.tune,
                    "data_dir": args.data_dir,
                    "seed": s,
                    "options": options,
                },
                data,
            )["valid"]["AUC"]
            for s in args.seeds
        ]
        results.append((float(np.mean(scores)), options))
        print(
            f"{args.tune} {options}: valid AUC {np.mean(scores):.4f} ± {np.std(scores):.4f}",
            flush=True,
        )
    best = max(results, key=lambda r: r[0])
    print(f"BEST on V: {best[1]} (valid AUC {best[0]:.4f})")


def _fmt(values: list[float]) -> str:
    if not values:
        return "–"
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def report(path: Path) -> str:
    """Markdown tables: mean ± std over seeds beside the paper's numbers."""
    records = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    paper = load_reference()["ultd_table1"]
    latest: dict[tuple, dict] = {}
    for r in records:  # the newest record of a (dataset, row, seed) wins
        latest[(r["dataset"], r["row"], r["seed"])] = r
    lines = []
    for dataset in sorted({k[0] for k in latest}):
        rows = list(dict.fromkeys(k[1] for k in latest if k[0] == dataset))
        lines += [
            f"### {dataset} (family-A split 5/5/90, r >= 3, K = 5; mean ± std over seeds; "
            "ours / paper)",
            "",
            "NDCG@5 and Recall@5: users with >= 1 positive test item, Recall = hits/#pos "
            "(`positive_only|n_pos`); family-B columns: all users, no-positive NDCG = 1, "
            "Recall = hits/min(5, #pos) (`all_users_nopos_ndcg1|min_k_npos`).",
            "",
            "| method | seeds | AUC | paper | NDCG@5 (positive_only) | paper | Recall@5 "
            "(positive_only\\|n_pos) | paper | NDCG@5 (all_users_nopos_ndcg1) | Recall@5 "
            "(all_users_nopos_ndcg1\\|min_k_npos) | valid AUC | s/run |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in rows:
            rs = [latest[k] for k in sorted(latest) if k[0] == dataset and k[1] == row]
            t = [r["test"] for r in rs]
            ref = paper.get(dataset, {}).get(row)
            p = ["–", "–", "–"] if ref is None else [f"{v:.3f}" for v in ref]
            lines.append(
                f"| {row} | {len(rs)} | {_fmt([x['AUC'] for x in t])} | {p[0]} | "
                f"{_fmt([x['NDCG@5|positive_only'] for x in t])} | {p[1]} | "
                f"{_fmt([x['Recall@5|positive_only|n_pos'] for x in t])} | {p[2]} | "
                f"{_fmt([x['NDCG@5|all_users_nopos_ndcg1'] for x in t])} | "
                f"{_fmt([x['Recall@5|all_users_nopos_ndcg1|min_k_npos'] for x in t])} | "
                f"{_fmt([r['training']['best_valid_auc'] for r in rs])} | "
                f"{np.mean([r['wall_seconds'] for r in rs]):.1f} |"
            )
        lines += ["", *sanity_lines(latest, dataset), ""]
    return "\n".join(lines)


def sanity_lines(latest: dict, dataset: str) -> list[str]:
    """The checks that cannot pass by accident, per seed."""

    def preds(row):
        return {k[2]: v for k, v in latest.items() if k[0] == dataset and k[1] == row}

    out = ["Sanity checks:", ""]
    mf, zero = preds("mf"), preds("ultd-jl alpha=0")
    common = sorted(set(mf) & set(zero))
    if common:
        same = all(mf[s]["test"]["AUC"] == zero[s]["test"]["AUC"] for s in common)
        out.append(
            f"- α ≡ 0 reproduces MF: {'yes' if same else 'NO'} "
            f"(test AUC identical on {len(common)} seeds)"
        )
    for row in ("ultd-jl", "ultd-tp"):
        ours, comb = preds(row), preds("mf-combine")
        common = sorted(set(ours) & set(comb))
        if common:
            diff = [ours[s]["test"]["AUC"] - comb[s]["test"]["AUC"] for s in common]
            wins = sum(d > 0 for d in diff)
            out.append(
                f"- {row} − MF-combine, test AUC: {np.mean(diff):+.4f} ± "
                f"{np.std(diff):.4f} ({wins}/{len(common)} seeds better)"
            )
    one = preds("ultd-jl alpha=1")
    if one:
        out.append(f"- α ≡ 1 collapses: test AUC {_fmt([r['test']['AUC'] for r in one.values()])}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=["coat", "yahoo", "synthetic"], default="coat")
    parser.add_argument("--data-dir")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--groups", nargs="+", default=["table", "sanity"], choices=list(GROUPS))
    parser.add_argument("--rows", nargs="+", help="only these row names")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tune", choices=list(GRIDS), help="grid search one method on V")
    parser.add_argument("--grid", nargs="*", default=[], help="with --tune: key=v1,v2 (one axis)")
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.report:
        print(report(args.out))
    elif args.tune:
        tune(args)
    else:
        run_cells(args)


if __name__ == "__main__":
    main()
