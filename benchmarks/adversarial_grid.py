"""AdvX lambda grid (issue 5): in-training adversarial removal for MultVAE, NCF and LightGCN.

Cells: every combination of one lambda per attribute (AdvX: {0, 1, 200, 400, 600, 800} for
gender and age = 36 cells) plus one *base* cell without adversaries per fold / seed. Each
cell trains the model with the adversaries (recunlearn.adversarial), evaluates NDCG@10,
Recall@10 (hits / |T|, AdvX) and RecallCapped@10 (hits / min(10, |T|), Adv-MultVAE), and
attacks the frozen user representation (see recunlearn.experiments.adversarial):

* ``user_kfold`` (default for MultVAE, the AdvX protocol, linear MultVAE of the AdvX code):
  attackers train on the fold's training users and are tested on its test users: the exact
  AdvX attacker (BAcc_G, MAE_A on age / scale) and the audit's attackers (worst case);
* ``loo`` (default for NCF / LightGCN, LEGO's protocol): LEGO's 5-fold CV over all labelled
  users (paper MLP attacker, micro-F1 = LEGO's F1) plus the audit's worst case;
  ``--label-holdout 0.2`` also hides 20 % of the labels from the adversaries and tests
  attackers on those users.

One JSON record per cell is appended to ``--out`` (resumable). ``--report`` prints markdown
tables beside AdvX Table 2 and LEGO Table 1's AdvX rows and writes the figures (NDCG vs BAcc_G
vs MAE_A; lambda heat maps) as PNG.

Usage::

    # AdvX on ML-1M, fold 0, full 6 x 6 grid (age_raw = the ML-1M age code, / 60)
    python benchmarks/adversarial_grid.py --dataset ml-1m --data-dir ../shared/data/ml-1m \
        --model multvae --folds 0
    # LEGO's AdvX baseline rows on ML-100K (gender only)
    python benchmarks/adversarial_grid.py --dataset ml-100k --data-dir ../shared/data/ml-100k \
        --model ncf lightgcn multvae --protocol loo --attributes gender \
        --lambdas 0 1 10 100 400 --seeds 0
    python benchmarks/adversarial_grid.py --report
    python benchmarks/adversarial_grid.py --tiny --model multvae ncf   # smoke test (synthetic,
                                                                        # output in the temp dir)
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from recunlearn.audit import DEFAULT_ATTACKERS, QUICK_ATTACKERS
from recunlearn.data.loading import load_data
from recunlearn.data.spec import DataSpec
from recunlearn.experiments.adversarial import (
    ADVX_LAMBDAS,
    GridSetup,
    lambda_grid,
    read_records,
    run_grid,
)
from recunlearn.models.multvae import MultVAE
from recunlearn.protect.adversarial.config import AdversaryConfig, parse_adversary
from recunlearn.report.adversarial import (
    KEYS,
    attacker_set,
    best_debiasing,
    cell_table,
    latest_per_replicate,
    records_frame,
    variant,
)
from recunlearn.report.adversarial_figures import plot_lambda_heatmaps, plot_tradeoff
from recunlearn.report.format import pct

sys.path.insert(0, str(Path(__file__).resolve().parent))
from base_models import git_commit, is_superseded, model_label  # noqa: E402

COMMIT = git_commit()
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_OUT = RESULTS / "adversarial_grid.jsonl"
FIGURES = RESULTS / "figures"

ADVX_TABLE2 = {
    # AdvX-MultVAE Table 2, ML-1M, percent: NDCG@10, Recall@10 (hits/|T|), BAcc_G, MAE_A
    "MultVAE": (62.72, 8.16, 69.81, 14.45),
    "AdvMultVAE-G": (61.15, 7.84, 59.05, 14.52),
    "AdvXMultVAE-G": (61.21, 7.88, 57.14, 16.91),
    "AdvMultVAE-A": (62.51, 8.12, 69.33, 17.10),
    "AdvXMultVAE-A": (61.05, 7.86, 59.02, 17.09),
}
LEGO_ADVX = {
    # LEGO Table 1, ML-100K, AdvX rows, requirement {gender}: HR@10, NDCG@10, BAcc, F1
    "ncf": (16.53, 8.63, 55.05, 60.19),
    "lightgcn": (12.30, 6.10, 54.80, 60.21),
    "multvae": (10.53, 5.37, 44.15, 48.05),
}
AGE_SCALE = {"ml-1m": 60.0}
"""AdvX scales ML-1M's age code (1-56) by 60; elsewhere the largest training value is used
(ML-100K: ages 7-73 years -> 73)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dataset", default="ml-1m")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--data-option", nargs="*", default=[], help="loader option key=value")
    p.add_argument("--model", nargs="+", default=["multvae"])
    p.add_argument("--protocol", choices=["auto", "user_kfold", "loo"], default="auto")
    p.add_argument("--folds", nargs="+", type=int, default=[0], help="user_kfold test folds")
    p.add_argument("--seeds", nargs="+", type=int, default=[0], help="loo model seeds")
    p.add_argument("--attributes", nargs="+", default=["gender", "age_raw"])
    p.add_argument("--lambdas", nargs="+", type=float, default=list(ADVX_LAMBDAS))
    p.add_argument("--grid", nargs="*", default=[], help="per attribute: name=v1,v2,...")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--set", nargs="*", default=[], help="model option key=value")
    p.add_argument("--adv-set", nargs="*", default=[], help="adversary option (key=value)")
    p.add_argument("--age-scale", type=float, default=None)
    p.add_argument("--label-holdout", type=float, default=0.0)
    p.add_argument("--full-audit", action="store_true", help="every audit attacker")
    p.add_argument("--no-base", action="store_true")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--report", action="store_true")
    p.add_argument("--figures", type=Path, default=FIGURES)
    p.add_argument("--tiny", action="store_true", help="smoke test on tiny synthetic data")
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args(argv)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _options(items: list[str]) -> dict[str, Any]:
    return {k: _value(v) for k, v in (item.split("=", 1) for item in items)}


def protocol_of(model: str, choice: str) -> str:
    """``auto``: MultVAE on the AdvX user split, the other models on LEGO's loo."""
    if choice != "auto":
        return choice
    return "user_kfold" if model == "multvae" else "loo"


def model_options(model: str, protocol: str, args: argparse.Namespace) -> dict[str, Any]:
    """The AdvX linear MultVAE on user_kfold; the library defaults otherwise."""
    options: dict[str, Any] = {}
    if model == "multvae" and protocol == "user_kfold":
        options = MultVAE.advx_config().model_dump(mode="json")
        options.pop("seed", None)
    options["threads"] = args.threads
    if args.epochs is not None:
        options["epochs"] = args.epochs
    options.update(_options(args.set))
    return options


def grid_values(args: argparse.Namespace) -> dict[str, list[float]]:
    """Lambda values per attribute (``--grid`` overrides ``--lambdas`` per attribute)."""
    values = {name: list(args.lambdas) for name in args.attributes}
    for item in args.grid:
        name, text = item.split("=", 1)
        values[name] = [float(v) for v in text.split(",")]
    return values


def adversary_template(args: argparse.Namespace, dataset_name: str) -> AdversaryConfig:
    """Adversary options shared by every cell (lambdas are replaced per cell)."""
    settings = list(args.adv_set)
    scale = args.age_scale if args.age_scale is not None else AGE_SCALE.get(dataset_name)
    if scale is not None and "age_raw" in args.attributes:
        settings.append(f"age_raw.scale={scale}")
    config = parse_adversary([f"{name}=0" for name in args.attributes], settings)
    assert config is not None
    return config


def printer(attributes: list[str], started: float) -> Callable[[dict[str, Any]], None]:
    """A one-line progress print per finished cell."""

    def show(record: dict[str, Any]) -> None:
        row = records_frame([record]).iloc[0]
        leak = "  ".join(f"{a} {100 * row.get(f'{a}:worst', float('nan')):.1f}" for a in attributes)
        print(
            f"{record['model']} {record['protocol']} r{record['replicate']} {row['cell']}: "
            f"NDCG@10 {100 * row['NDCG@10']:.2f}  worst {leak}  "
            f"{record['seconds_per_epoch']:.2f} s/epoch, best {record['best_epoch']}, "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )

    return show


def run(args: argparse.Namespace) -> None:
    """Run (or resume) the grid."""
    torch.set_num_threads(args.threads)
    if args.tiny:
        data_spec = DataSpec(
            name="synthetic",
            options={"n_users": 300, "n_items": 100, "n_interactions_per_user": [10, 25]},
        )
    else:
        data_spec = DataSpec(
            name=args.dataset,
            data_dir=args.data_dir,
            options=_options(args.data_option),
            min_item_interactions=5 if args.dataset.startswith("ml-1m") else 0,
        )
    dataset = load_data(data_spec)
    print(f"{dataset.label}: {dataset.n_users} users, {dataset.n_items} items", flush=True)
    grid = lambda_grid(grid_values(args))
    for model in args.model:
        protocol = protocol_of(model, args.protocol)
        attackers = (
            tuple(DEFAULT_ATTACKERS)
            if args.full_audit
            else (("logreg",) if protocol == "user_kfold" else ("paper_mlp", "logreg"))
        )
        setup = GridSetup(
            model=model,
            protocol=protocol,  # type: ignore[arg-type]
            adversary=adversary_template(args, dataset.name),
            model_options=model_options(model, protocol, args),
            attackers=attackers,
            label_holdout=args.label_holdout if protocol == "loo" else 0.0,
        )
        replicates = args.folds if protocol == "user_kfold" else args.seeds
        run_grid(
            dataset,
            setup,
            grid,
            replicates,
            out=args.out,
            include_base=not args.no_base,
            data_spec=data_spec,
            on_record=printer(args.attributes, time.perf_counter()),
            # the commit of the code this process loaded, not of the tree when a cell ends
            provenance={"commit": COMMIT, "machine": f"{platform.node()} {platform.machine()}"},
            # records of a superseded NCF are recomputed, never reused
            superseded=is_superseded,
        )


# ----------------------------------------------------------------------------- report
def audit_suffix(attackers: str) -> str:
    """`` · full audit (N attackers)`` for cells audited beyond the default attackers, else ``""``."""
    names = [a for a in attackers.split(",") if a]
    if set(names) <= set(QUICK_ATTACKERS):
        return ""
    return f" · full audit ({len(names)} attackers)"


def _md(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(row: pd.Series | None, name: str) -> str:
    if row is None or name not in row:
        return "–"
    return pct(row[name], row.get(f"{name}_std"))


def _lambda_text(row: pd.Series, attributes: list[str]) -> str:
    if bool(row["base"]):
        return "–"
    return ", ".join(f"{a} {row.get(f'lambda:{a}', 0):g}" for a in attributes)


def most_replicated(part: pd.DataFrame, mask: pd.Series) -> pd.Series:
    """``mask`` narrowed to its cells with the most replicates (folds / seeds).

    A cell run on one fold only (a single-fold full grid) must not win a best-debiasing pick
    against cells averaged over five folds: its one fold's noise is not a mean.
    """
    if not mask.any():
        return mask
    return mask & (part["n"] == part.loc[mask, "n"].max())


def advx_report(table: pd.DataFrame, attributes: list[str], heading: str = "") -> list[str]:
    """AdvX Table 2 layout for user_kfold cells (``heading`` is appended to each title)."""
    out = []
    cat = next((a for a in attributes if not a.startswith("age")), None)
    cont = next((a for a in attributes if a.startswith("age")), None)
    for (dataset, model, attackers), part in table.groupby(
        ["dataset", "model", "attackers"], sort=False
    ):
        part = part.reset_index(drop=True)
        kinds = part.apply(lambda r: variant(r, attributes), axis=1)

        def among(kind: str, kinds: pd.Series = kinds, part: pd.DataFrame = part) -> pd.Series:
            return most_replicated(part, kinds == kind)

        picks: list[tuple[str, pd.Series | None]] = [
            ("base (no heads)", part[kinds == "base"].iloc[0] if (kinds == "base").any() else None),
            ("all λ = 0", part[kinds == "zero"].iloc[0] if (kinds == "zero").any() else None),
        ]
        if cat:
            picks.append(
                (
                    f"Adv-{cat}",
                    best_debiasing(part, cat, kind="categorical", candidates=among(f"adv:{cat}")),
                )
            )
            picks.append(
                (
                    f"AdvX-{cat}",
                    best_debiasing(part, cat, kind="categorical", candidates=among("advx")),
                )
            )
        if cat and (kinds == f"confusion:adv:{cat}").any():
            picks.append(
                (
                    f"Adv-{cat} (confusion objective)",
                    best_debiasing(
                        part, cat, kind="categorical", candidates=among(f"confusion:adv:{cat}")
                    ),
                )
            )
        if cont:
            picks.append(
                (
                    f"Adv-{cont}",
                    best_debiasing(part, cont, kind="continuous", candidates=among(f"adv:{cont}")),
                )
            )
            picks.append(
                (
                    f"AdvX-{cont}",
                    best_debiasing(part, cont, kind="continuous", candidates=among("advx")),
                )
            )
        header = ["model", "λ", "NDCG@10", "Recall@10", "RecallCapped@10"]
        for a in (cat, cont):
            if a:
                header += [f"{a} advx", f"{a} worst"]
        header += ["s/epoch", "folds"]
        rows = []
        for label, row in picks:
            if row is None:
                continue
            cells = [label, _lambda_text(row, attributes)]
            cells += [_cell(row, m) for m in ("NDCG@10", "Recall@10", "RecallCapped@10")]
            for a in (cat, cont):
                if a:
                    cells += [_cell(row, f"{a}:advx"), _cell(row, f"{a}:worst")]
            cells += [f"{row['seconds_per_epoch']:.2f}", int(row["n"])]
            rows.append(cells)
        for label, (ndcg, recall, bacc, mae) in ADVX_TABLE2.items():
            rows.append(
                [f"*paper {label}* (ML-1M)", "", ndcg, recall, "", bacc, "", mae, "", "", ""][
                    : len(header)
                ]
            )
        out.append(
            f"### {dataset} · {model} · user_kfold{audit_suffix(attackers)}{heading} "
            "(BAcc / MAE on age/scale, %)\n"
        )
        out.append(_md(header, rows))
        out.append(
            "\nλ picks use the test numbers (as AdvX reports its best-debiasing cells): "
            "optimistic. `advx` = the AdvX attacker protocol; `worst` = worst case over the "
            "audit's attackers.\n"
        )
    return out


LEGO_REQUIREMENT_ORDER = ("gender", "age", "occupation")
"""LEGO Table 1's requirements are the prefixes of this order: {G}, {G, A}, {G, A, O}."""


def requirement_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (loo record, requirement), leakage averaged over the requirement's attributes.

    LEGO reports a multi-attribute requirement by the mean BAcc / F1 over its attributes. An
    adversarial cell's requirement is its attributes with lambda > 0; a base record stands for
    every requirement (prefix of ``LEGO_REQUIREMENT_ORDER``) whose attributes it audited.
    """
    audited = [a for a in LEGO_REQUIREMENT_ORDER if f"{a}:paper_mlp" in frame.columns]
    rows = []
    for _, record in frame.iterrows():
        has = [a for a in audited if pd.notna(record.get(f"{a}:paper_mlp"))]
        if record["base"]:
            requirements = [
                tuple(LEGO_REQUIREMENT_ORDER[:k])
                for k in range(1, len(LEGO_REQUIREMENT_ORDER) + 1)
                if set(LEGO_REQUIREMENT_ORDER[:k]) <= set(has)
            ]
        else:
            active = tuple(a for a in has if (record.get(f"lambda:{a}") or 0) > 0)
            requirements = [active] if active else []
        for requirement in requirements:
            row = {k: record[k] for k in (*KEYS, "replicate", "base")}
            row |= {k: record.get(k) for k in ("HR@10", "NDCG@10", "seconds_per_epoch")}
            row |= {k: v for k, v in record.items() if str(k).startswith("lambda:")}
            row["requirement"] = "{" + ", ".join(requirement) + "}"
            row["attributes"] = requirement
            row["n_attributes"] = len(requirement)
            for column in ("paper_mlp", "paper_mlp_f1", "worst"):
                row[f"req:{column}"] = float(
                    np.mean([record[f"{a}:{column}"] for a in requirement])
                )
            rows.append(row)
    if not rows:
        return pd.DataFrame()
    # a base replicate audited by several grids (e.g. {G} then {G, A, O}) counts once
    return pd.DataFrame(rows).drop_duplicates([*KEYS, "replicate", "requirement"], keep="last")


def lego_report(frame: pd.DataFrame) -> list[str]:
    """LEGO Table 1 layout (AdvX rows) for loo records, one table per requirement."""
    by_requirement = requirement_frame(frame)
    if by_requirement.empty:
        return []
    keys = [*KEYS, "requirement"]
    columns = ["HR@10", "NDCG@10", "req:paper_mlp", "req:paper_mlp_f1", "req:worst"]
    columns += ["seconds_per_epoch"]
    grouped = by_requirement.groupby(keys, sort=False)
    table = grouped[columns].mean().join(grouped[columns].std(ddof=1).add_suffix("_std"))
    table["n"] = grouped.size()
    table["n_attributes"] = grouped["n_attributes"].first()
    table["base"] = grouped["base"].first()
    table["attributes"] = grouped["attributes"].first()
    lambdas = [c for c in by_requirement.columns if c.startswith("lambda:")]
    table = table.join(grouped[lambdas].first()).reset_index()
    table = table.sort_values(["n_attributes", "base"], ascending=[True, False], kind="stable")
    header = ["model", "λ", "HR@10", "NDCG@10", "BAcc (paper MLP)", "F1", "worst BAcc"]
    header += ["s/epoch", "seeds"]
    out = []
    for (dataset, model, attackers, requirement), part in table.groupby(
        ["dataset", "model", "attackers", "requirement"], sort=False
    ):
        attributes = list(part["attributes"].iloc[0])
        rows = []
        for _, row in part.iterrows():
            label = (
                "base"
                if row["base"]
                else {"reversal": "AdvX"}.get(row["objective"], row["objective"])
            )
            rows.append(
                [
                    f"{model} {label}",
                    _lambda_text(row, attributes),
                    _cell(row, "HR@10"),
                    _cell(row, "NDCG@10"),
                    _cell(row, "req:paper_mlp"),
                    _cell(row, "req:paper_mlp_f1"),
                    _cell(row, "req:worst"),
                    f"{row['seconds_per_epoch']:.2f}",
                    int(row["n"]),
                ]
            )
        if model in LEGO_ADVX and requirement == "{gender}":
            hr, ndcg, bacc, f1 = LEGO_ADVX[model]
            rows.append(["*paper LEGO AdvX* (ML-100K)", "", hr, ndcg, bacc, f1, "", "", ""])
        out.append(
            f"### {dataset} · {model} · loo{audit_suffix(attackers)}, requirement {requirement} "
            "(%; BAcc and F1 averaged over the requirement's attributes)\n"
        )
        out.append(_md(header, rows))
        out.append("")
    return out


def timing_report(frame: pd.DataFrame, records: list[dict[str, Any]]) -> list[str]:
    """Seconds per epoch with and without adversaries, and the grid's wall time."""
    rows = []
    walls = pd.DataFrame(
        {
            "dataset": [r["dataset"] for r in records],
            "model": [r["model"] for r in records],
            "protocol": [r["protocol"] for r in records],
            "attackers": [attacker_set(r) for r in records],
            "wall": [r["train_seconds"] + r["audit_seconds"] for r in records],
        }
    )
    for (dataset, model, protocol, attackers), part in frame.groupby(
        ["dataset", "model", "protocol", "attackers"]
    ):
        base = part[part["base"]]["seconds_per_epoch"].mean()
        adv = part[~part["base"]]["seconds_per_epoch"].mean()
        mask = (
            (walls.dataset == dataset)
            & (walls.model == model)
            & (walls.protocol == protocol)
            & (walls.attackers == attackers)
        )
        wall = walls[mask]["wall"]
        cells = (~part["base"]).sum()
        rows.append(
            [
                dataset,
                model,
                protocol + audit_suffix(attackers),
                f"{base:.3f}",
                f"{adv:.3f}",
                f"{adv / base:.2f}" if base else "–",
                int(cells),
                f"{wall.sum() / 60:.1f}",
            ]
        )
    header = [
        "dataset",
        "model",
        "protocol",
        "s/epoch base",
        "s/epoch adv",
        "ratio",
        "cells",
        "wall min",
    ]
    return ["### Wall time\n", _md(header, rows), ""]


def full_grid_replicates(frame: pd.DataFrame) -> list[int]:
    """Replicates (folds) holding more gradient-reversal cells than the others, e.g. the fold
    of a single-fold full grid beside five-fold runs of a few cells; ``[]`` when balanced."""
    reversal = frame[frame["objective"] == "reversal"]
    if reversal.empty:
        return []
    counts = reversal.groupby("replicate")["cell"].nunique()
    if counts.min() == counts.max():
        return []
    return sorted(int(r) for r in counts[counts == counts.max()].index)


def full_grid_fold(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """``frame`` narrowed to its :func:`full_grid_replicates` and a `` · fold 0 only`` note;
    ``frame`` unchanged and ``""`` when every replicate holds the same cells."""
    replicates = full_grid_replicates(frame)
    if not replicates:
        return frame, ""
    folds = ", ".join(str(r) for r in replicates)
    return frame[frame["replicate"].isin(replicates)], f" · fold {folds} only"


def single_fold_grids(frame: pd.DataFrame, attributes: list[str]) -> list[str]:
    """AdvX Table 2 layout again, on the fold(s) of a full grid only, with the grid's wall time.

    The per-fold picks are the paper's selection (best cell on the test numbers among all
    of the grid's cells), so they show how much a 36-cell pick on test adds to a fixed lambda.
    """
    out = []
    for _, part in frame.groupby(["dataset", "model", "attackers"], sort=False):
        chosen, note = full_grid_fold(part)
        if not note:
            continue
        cells = chosen[chosen["objective"] == "reversal"]["cell"].nunique()
        out += advx_report(cell_table(chosen), attributes, heading=f"{note}, {cells} λ cells")
        # the grid as one command runs it: its reversal cells and the base, once per fold
        grid = latest_per_replicate(chosen[chosen["objective"].isin(["reversal", "none"])])
        wall = grid["wall_seconds"].sum() / 60
        folds = chosen["replicate"].nunique()
        out.append(
            f"Wall time of the grid's {len(grid)} cells (base included; train + attack, one "
            f"thread, {folds} fold(s)): {wall:.0f} min.\n"
        )
    return out


def report_markdown(records: list[dict[str, Any]], attributes: list[str]) -> str:
    """The markdown tables (AdvX Table 2 layout, LEGO's AdvX rows, wall time) of ``records``."""
    frame = records_frame(records)
    table = cell_table(frame)
    lines = []
    kfold = table[table["protocol"].str.startswith("user_kfold")]
    loo = frame[frame["protocol"].str.startswith("loo")]
    if not kfold.empty:
        lines += advx_report(kfold, attributes)
        lines += single_fold_grids(
            frame[frame["protocol"].str.startswith("user_kfold")], attributes
        )
    if not loo.empty:
        lines += lego_report(loo)
    lines += timing_report(frame, records)
    return "\n".join(lines)


def labelled_records(path: Path) -> list[dict[str, Any]]:
    """The grid's records, NCF cells of superseded NCFs (dead GMF coordinates;
    benchmarks/notes/issue2) relabelled so they never pool with today's NCF."""
    records = read_records(path)
    for record in records:
        record["model"] = model_label(record)
    return records


def figure_parts(frame: pd.DataFrame):
    """One cell table per figure: (dataset, model, protocol, attackers, objective) with the
    base cells beside each objective's, from the full-grid fold alone when one fold holds
    more cells than the others (a heat map must not mix a one-fold cell with five-fold
    means). Yields (key, cell table, title note)."""
    for (dataset, model, protocol, attackers), part in frame.groupby(
        ["dataset", "model", "protocol", "attackers"]
    ):
        part, note = full_grid_fold(part)
        for objective in sorted(set(part["objective"]) - {"none"}):
            chosen = part[part["objective"].isin([objective, "none"])]
            yield (dataset, model, protocol, attackers, objective), cell_table(chosen), note


def report(args: argparse.Namespace) -> None:
    """Print the markdown tables and write the figures."""
    records = labelled_records(args.out)
    if not records:
        print(f"no records in {args.out}")
        return
    print(report_markdown(records, args.attributes))
    frame = records_frame(records)
    cat = next((a for a in args.attributes if not a.startswith("age")), None)
    cont = next((a for a in args.attributes if a.startswith("age")), None)
    if cat and cont:
        for (dataset, model, protocol, attackers, objective), part, note in figure_parts(frame):
            if f"lambda:{cont}" not in part or f"{cont}:worst" not in part:
                continue
            if part[f"lambda:{cont}"].isna().all():  # no heads on the continuous attribute
                continue
            full = "_full_audit" if audit_suffix(attackers) else ""
            recipe = "" if objective == "reversal" else f"_{objective}"
            stem = f"adversarial_{dataset}_{model}_{protocol}{full}{recipe}".replace(" ", "_")
            stem = "".join(c for c in stem if c.isalnum() or c in "_-.")
            column = (
                "advx" if f"{cat}:advx" in part and part[f"{cat}:advx"].notna().any() else "worst"
            )
            title = (
                f"{dataset} · {model} · {protocol}{audit_suffix(attackers)} · {objective}{note} "
                f"({column} attacker)"
            )
            a = plot_tradeoff(
                part, cat, cont, args.figures / f"{stem}_tradeoff.png", column=column, title=title
            )
            b = plot_lambda_heatmaps(
                part, cat, cont, args.figures / f"{stem}_lambdas.png", column=column, title=title
            )
            print(f"figures: {a}, {b}")


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    if args.tiny:
        args.epochs = args.epochs or 3
        if args.lambdas == list(ADVX_LAMBDAS):
            args.lambdas = [0.0, 200.0]
        scratch = Path(tempfile.gettempdir()) / "recunlearn_adversarial_tiny"
        if args.out == DEFAULT_OUT:
            args.out = scratch / "grid.jsonl"
        if args.figures == FIGURES:
            args.figures = scratch / "figures"
        args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.report:
        report(args)
        return
    run(args)
    if args.tiny:
        report(args)


if __name__ == "__main__":
    sys.exit(main())
