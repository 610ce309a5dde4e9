"""LEGO's ball constraint swept (issue 4, item 1): where does it trade leakage for accuracy?

LEGO projects each calibrated matrix onto the Frobenius ball ``||U_t - U0|| <= eps`` (eq. 11).
At the paper's ``eps/N = 0.5`` the ball never binds on our embeddings (BENCHMARKS.md), so the
calibration is unconstrained and flips the attribute. This study reruns the Table 1 cell of one
requirement (default ``{gender}``) with the ball's radius set relative to the original matrix,
``eps = r ||U0||_F`` (``r`` = the largest allowed RMS displacement of a row, as a fraction of
the RMS row norm), for a grid of ``r``, at the paper's step (``--step absolute``, Adam lr 1e-3
on the entries) or at an RMS-scaled one (``--step rms``). Every cell is the same as a Table 1
cell (``unlearning_table1.run_cell``): NDCG@10 with the swapped matrix, the paper's MLP
attacker and the worst case over the audit's attackers (5-fold CV over the labelled users),
plus how often the projection fired and ``||U - U0|| / eps`` at the end. ``--subspace F``
keeps every edit in the principal directions of ``U0`` carrying a fraction ``F`` of its
variance (LEGO ``edit_subspace``, our option, not the paper's).

The grid is a description of the trade-off, not a tuning: no radius is picked from it for the
Table 1 rows.

Usage::

    python benchmarks/unlearning_eps_sweep.py --data-dir DIR --seeds 0 1 2
    python benchmarks/unlearning_eps_sweep.py --report
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import unlearning_table1  # noqa: E402
from unlearning_table1 import mean_std  # noqa: E402

RADII = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
PAPER_BALL = "paper (eps/N = 0.5)"


def method_name(radius: float | None, step: str, subspace: float | None = None) -> str:
    """The cell's method label: ``lego`` at the paper's settings, ``lego-ball<r>`` with a
    relative ball, plus ``-rms`` / ``-sub<fraction>`` for an RMS-scaled step / an edit
    subspace."""
    suffix = ("-rms" if step == "rms" else "") + (f"-sub{subspace:g}" if subspace else "")
    if radius is None:
        return "lego" + suffix
    return f"lego-ball{radius:g}{suffix}"


def register(radii: list[float | None], step: str, subspace: float | None = None) -> list[str]:
    """Add the sweep's LEGO variants to ``unlearning_table1.METHODS``; their names."""
    names = []
    for radius in radii:
        name = method_name(radius, step, subspace)
        options: dict = {"lr_scale": step}
        if radius is not None:
            options["eps_relative"] = radius
        if subspace:
            options["edit_subspace"] = subspace
        unlearning_table1.METHODS[name] = ("lego", options)
        names.append(name)
    return names


def run(args) -> None:
    """Compute every missing (model, seed, radius) cell, and Original's."""
    radii: list[float | None] = [None, *args.radii]
    methods = ["original", *register(radii, args.step, args.subspace)]

    def annotate(method: str, record: dict) -> None:
        options = unlearning_table1.METHODS[method][1]
        record.update(
            radius=options.get("eps_relative"),
            step=options.get("lr_scale"),
            subspace=options.get("edit_subspace"),
        )

    unlearning_table1.compute_cells(args, [args.requirement], methods, Path(args.out), annotate)


def sweep_frame(path: Path) -> pd.DataFrame:
    """One row per latest sweep record: radius, step, projection statistics, NDCG, BAcc."""
    rows = []
    for r in unlearning_table1.latest_records(path):
        calibration = next(iter(r.get("calibration", {}).values()), {})
        rows.append(
            {
                "dataset": r["dataset"],
                "model": r["model"],
                "seed": r["seed"],
                "requirement": "+".join(r["requirement"]),
                "method": r["method"],
                "radius": r.get("radius"),
                "step": variant_label(r),
                "projection_rate": calibration.get("projection_rate", np.nan),
                "distance_over_eps": calibration.get("distance_over_eps") or np.nan,
                "NDCG@10": r["test"]["NDCG@10"],
                "paper_bacc": r["paper"]["bacc_mean"],
                "worst_bacc": r["worst"]["worst case"]["bacc_mean"],
                "worst_attackers": ", ".join(sorted(set(r["worst"]["worst_attackers"].values()))),
                "chance_bacc": r["paper"]["chance_bacc_mean"],
            }
        )
    return pd.DataFrame(rows)


def variant_label(record: dict) -> str:
    """The row's calibration variant: its step, plus the edit subspace when restricted."""
    step = record.get("step") or "-"
    if record.get("subspace"):
        step += f", subspace {record['subspace']:g}"
    return step


def with_keep(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus ``keep``: NDCG@10 over Original's NDCG@10 of the same model and seed."""
    original = frame[frame["method"] == "original"].set_index(["dataset", "model", "seed"])[
        "NDCG@10"
    ]
    index = pd.MultiIndex.from_frame(frame[["dataset", "model", "seed"]])
    return frame.assign(keep=frame["NDCG@10"].to_numpy() / original.reindex(index).to_numpy())


def ball_label(row) -> str:
    """How a row's ball is described in the table and the figure."""
    if row["method"] == "original":
        return "Original"
    if pd.isna(row["radius"]):
        return PAPER_BALL
    return f"r = {row['radius']:g}"


def report(path: Path) -> str:
    """Markdown: per dataset x model x requirement x step, one row per radius (mean ± std)."""
    frame = with_keep(sweep_frame(path))
    frame["ball"] = frame.apply(ball_label, axis=1)
    lines = []
    for (dataset, model, requirement), group in frame.groupby(
        ["dataset", "model", "requirement"], sort=False
    ):
        chance = 100 * group["chance_bacc"].iloc[0]
        lines += [
            f"**{dataset} · {model} · forget {requirement}** (chance BAcc {chance:.1f} %)",
            "",
            "| step | ball | seeds | projections (share of steps) | ‖U − U0‖ / eps | NDCG@10 | "
            "NDCG vs Original | paper-MLP BAcc | worst-case BAcc (attackers) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        order = group.assign(
            rank=(group["method"] != "original").astype(int),
            radius_rank=group["radius"].fillna(-1.0),
        ).sort_values(["rank", "step", "radius_rank"])
        for (step, ball), rows in order.groupby(["step", "ball"], sort=False):
            attackers = sorted({a for text in rows["worst_attackers"] for a in text.split(", ")})
            projections = mean_std(rows["projection_rate"], digits=1)
            lines.append(
                f"| {step} | {ball} | {len(rows)} | "
                f"{projections + ' %' if projections != '-' else '-'} | "
                f"{mean_std(rows['distance_over_eps'], 1.0)} | {mean_std(rows['NDCG@10'])} | "
                f"{mean_std(rows['keep'], digits=1)} % | {mean_std(rows['paper_bacc'])} | "
                f"{mean_std(rows['worst_bacc'])} ({', '.join(attackers)}) |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    unlearning_table1.add_cell_arguments(
        parser, out="benchmarks/results/unlearning_eps_sweep.jsonl"
    )
    parser.add_argument("--requirement", default="gender")
    parser.add_argument("--radii", nargs="+", type=float, default=list(RADII))
    parser.add_argument("--step", choices=("absolute", "rms"), default="absolute")
    parser.add_argument(
        "--subspace",
        type=float,
        default=None,
        help="LEGO edit_subspace: keep edits in the principal directions carrying this "
        "fraction of U0's variance (default: none, the paper)",
    )
    args = parser.parse_args()
    args.heldout = False
    if args.report:
        print(report(Path(args.out)))
    else:
        run(args)


if __name__ == "__main__":
    main()
