"""Does the removal hold? Per cell of ``unlearn`` records: NDCG@10 relative to the original
model and the worst attacker's distance from chance in every view, against the targets.

Views (see :mod:`recunlearn.audit.guard`): *transductive* (k-fold over the labelled users the
method saw), *held-out* (a fit without 20 % of the labels, tested on those users), *transfer*
(a logistic attacker fitted on the original rows; far below chance = flipped). The distance of
one seed is the largest ``|BAcc - chance|`` over the requirement's attributes; the table shows
its mean ± std over seeds. The *floor* is the same worst-of-attackers distance on the original
matrix against permuted labels: what "at chance" looks like with this many users.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from recunlearn.report.figures import png
from recunlearn.report.format import mean_std, pct
from recunlearn.report.frames import (
    method_rank,
    model_name,
    requirement_key,
    requirement_label,
)
from recunlearn.report.tables import Table, TCell

LEAKAGE_TARGET = 5.0
"""Points from chance the worst attacker may be, in every view (issue #8)."""

NDCG_TARGET = 0.95
"""Share of the original NDCG@10 to keep."""

VIEWS = {"attack": "transductive", "attack_heldout": "held-out", "attack_transfer": "transfer"}


def _distances(summary: dict[str, Any] | None) -> dict[str, float]:
    """attribute -> signed distance in points of its worst attacker (categorical attributes)."""
    out: dict[str, float] = {}
    for row in (summary or {}).get("per_attribute", []):
        if not row.get("worst") or row.get("kind") != "categorical":
            continue
        out[str(row["attribute"])] = 100.0 * (row["bacc_mean"] - row["chance_bacc_mean"])
    return out


def removal_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per ``unlearn`` record and attribute: signed distances per view, NDCG."""
    rows = []
    for record in records:
        if record.get("kind") != "unlearn":
            continue
        params, metrics = record["params"], record["metrics"]
        base = {
            "dataset": record["dataset"].get("label", params["dataset"]),
            "model": params["model"],
            "seed": params["seed"],
            "requirement": requirement_key(params["requirement"]),
            "method": params["method"],
            "NDCG@10": metrics["test"].get("NDCG@10"),
            "NDCG@10_original": (metrics.get("test_original") or {}).get("NDCG@10"),
            "record": record["_path"],
        }
        views = {name: _distances(metrics.get(key)) for key, name in VIEWS.items()}
        floors = [_distances(entry) for entry in metrics.get("floor") or []]
        kept = _distances(metrics.get("attack_kept"))
        base["kept"] = max((abs(v) for v in kept.values()), default=math.nan)
        for attribute in params["requirement"]:
            row = dict(base, attribute=attribute)
            for name, values in views.items():
                row[name] = values.get(attribute, math.nan)
            row["floor"] = (
                max(abs(f.get(attribute, math.nan)) for f in floors) if floors else math.nan
            )
            rows.append(row)
    return pd.DataFrame(rows)


def _cell_summary(part: pd.DataFrame) -> dict[str, Any]:
    """Mean ± std over seeds of the per-seed worst |distance| (over attributes) per view."""
    out: dict[str, Any] = {}
    per_seed = part.groupby("seed")
    for view in VIEWS.values():
        worst = per_seed[view].apply(lambda s: s.abs().max() if s.notna().any() else math.nan)
        out[view] = mean_std(worst)
    ratios = per_seed.apply(
        lambda s: (
            s["NDCG@10"].iloc[0] / s["NDCG@10_original"].iloc[0]
            if s["NDCG@10_original"].iloc[0]
            else math.nan
        )
    )
    out["ndcg_ratio"] = mean_std(ratios)
    out["kept"] = mean_std(per_seed["kept"].max())
    out["seeds"] = int(part["seed"].nunique())
    return out


def _meets(summary: dict[str, Any]) -> str:
    ratio = summary["ndcg_ratio"][0]
    views = [summary[v][0] for v in VIEWS.values()]
    if any(math.isnan(v) for v in views) or math.isnan(ratio):
        return "–"
    ok = all(v <= LEAKAGE_TARGET for v in views) and ratio >= NDCG_TARGET
    return "yes" if ok else "no"


def removal_tables(frame: pd.DataFrame) -> list[Table]:
    """One table per dataset: model x requirement x method (the headline of issue #8)."""
    if frame.empty:
        return []
    header = [
        "model",
        "forget",
        "method",
        "seeds",
        "NDCG@10 % of original",
        "worst |BAcc − chance|, transductive",
        "held-out",
        "transfer",
        "floor (permuted labels)",
        f"≤ {LEAKAGE_TARGET:g} pts everywhere and ≥ {100 * NDCG_TARGET:g} % NDCG",
    ]
    with_kept = frame["kept"].notna().any()
    if with_kept:
        header.append("kept attributes, |BAcc − chance|")
    tables = []
    for dataset, data in frame.groupby("dataset", sort=False):
        rows = []
        for (model, requirement), cell in data.groupby(["model", "requirement"], sort=False):
            original = cell[cell["method"] == "original"]
            floor = mean_std(original.groupby("seed")["floor"].max() if not original.empty else [])
            rank = method_rank(list(cell["method"]))
            for method, part in sorted(cell.groupby("method"), key=lambda item: rank[item[0]]):
                summary = _cell_summary(part)
                links = tuple(dict.fromkeys(part["record"]))
                rows.append(
                    [
                        TCell(model_name(model)),
                        TCell(requirement_label(requirement)),
                        TCell(method),
                        TCell(str(summary["seeds"])),
                        TCell(pct(*summary["ndcg_ratio"][:2]), links=links),
                        *(TCell(pct(*summary[v][:2], scale=1.0, digits=1)) for v in VIEWS.values()),
                        TCell(pct(*floor[:2], scale=1.0, digits=1)),
                        TCell("–" if method == "original" else _meets(summary)),
                        *(
                            [TCell(pct(*summary["kept"][:2], scale=1.0, digits=1))]
                            if with_kept
                            else []
                        ),
                    ]
                )
        tables.append(
            Table(
                f"{dataset}: does the removal hold? (points from chance, mean ± std over seeds)",
                header,
                rows,
                notes=[
                    "Per seed, the distance is the largest |BAcc − chance| of the worst of the "
                    "audit's attackers over the requirement's attributes (below chance counts); "
                    "transductive: k-fold over the users whose labels the method used; held-out: "
                    "a fit without 20 % of the labels, tested on those users; transfer: logistic "
                    "attacker fitted on the original rows. Floor: the original matrix against "
                    "permuted labels (the metric's noise)."
                ],
            )
        )
    return tables


def frontier_figure(frame: pd.DataFrame, dataset: str) -> bytes | None:
    """NDCG@10 (% of original) against the worst distance over views, one point per method x
    requirement x model of ``dataset`` (mean over seeds): the reachable trade-off."""
    data = frame[frame["dataset"] == dataset]
    if data.empty:
        return None
    figure = MplFigure(figsize=(7.5, 4.8))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot(1, 1, 1)
    methods = list(dict.fromkeys(data["method"]))
    for index, method in enumerate(methods):
        xs, ys = [], []
        for _, part in data[data["method"] == method].groupby(["model", "requirement"]):
            summary = _cell_summary(part)
            worst = max(summary[v][0] for v in VIEWS.values() if not math.isnan(summary[v][0]))
            xs.append(worst)
            ys.append(100.0 * summary["ndcg_ratio"][0])
        ax.scatter(xs, ys, label=method, marker="osD^vPX*"[index % 8], alpha=0.8)
    ax.axvline(LEAKAGE_TARGET, color="grey", linestyle="--", linewidth=1)
    ax.axhline(100 * NDCG_TARGET, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("worst |BAcc − chance| over attributes and views (points)")
    ax.set_ylabel("NDCG@10, % of the original model")
    ax.set_title(f"{dataset}: quality against leakage (target: lower right of the dashes)")
    ax.legend(fontsize=8, loc="lower left")

    return png(figure)


def attribute_detail(frame: pd.DataFrame) -> list[Table]:
    """Per attribute: mean signed distance per view (below chance shows as negative)."""
    if frame.empty:
        return []
    header = ["model", "forget", "method", "attribute", "transductive", "held-out", "transfer"]
    tables = []
    for dataset, data in frame.groupby("dataset", sort=False):
        rows = []
        keys = ["model", "requirement", "method", "attribute"]
        for (model, requirement, method, attribute), part in data.groupby(keys, sort=False):
            rows.append(
                [
                    TCell(model_name(model)),
                    TCell(requirement_label(requirement)),
                    TCell(method),
                    TCell(attribute),
                    *(
                        TCell(pct(*mean_std(part[v])[:2], scale=1.0, digits=1))
                        for v in VIEWS.values()
                    ),
                ]
            )
        tables.append(
            Table(f"{dataset}: signed distance per attribute (points; mean ± std)", header, rows)
        )
    return tables


def has_views(frame: pd.DataFrame) -> bool:
    """True when the records carry the held-out or transfer view (newer ``unlearn`` cells)."""
    return not frame.empty and bool(
        np.isfinite(frame[["held-out", "transfer"]].to_numpy(dtype=float)).any()
    )


def original_leakage_table(frame: pd.DataFrame) -> list[Table]:
    """How much the unprotected models leak: per dataset, model and attribute, the worst
    attacker's signed distance from chance (transductive and held-out) beside the floor."""
    original = frame[frame["method"] == "original"] if not frame.empty else frame
    if original.empty:
        return []
    # the requirement naming the most attributes carries every attribute's numbers
    widest = original[original["requirement"].map(len) == original["requirement"].map(len).max()]
    tables = []
    for dataset, data in widest.groupby("dataset", sort=False):
        rows = []
        for (model, attribute), part in data.groupby(["model", "attribute"], sort=False):
            rows.append(
                [
                    TCell(model_name(model)),
                    TCell(attribute),
                    TCell(str(part["seed"].nunique())),
                    TCell(
                        pct(*mean_std(part["transductive"])[:2], scale=1.0, digits=1),
                        links=tuple(part["record"]),
                    ),
                    TCell(pct(*mean_std(part["held-out"])[:2], scale=1.0, digits=1)),
                    TCell(pct(*mean_std(part["floor"])[:2], scale=1.0, digits=1)),
                ]
            )
        tables.append(
            Table(
                f"{dataset}: what the original models leak (worst attacker, points from chance)",
                [
                    "model",
                    "attribute",
                    "seeds",
                    "transductive",
                    "held-out",
                    "floor (permuted labels)",
                ],
                rows,
            )
        )
    return tables
