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

from recunlearn.audit.guard import NDCG_TARGET, TARGET_POINTS
from recunlearn.report.figures import png
from recunlearn.report.format import mean_std, pct
from recunlearn.report.frames import (
    method_rank,
    model_name,
    requirement_key,
    requirement_label,
    sidecar_file,
)
from recunlearn.report.stats import bootstrap_ratio_interval, series_by_seed
from recunlearn.report.tables import Table, TCell

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
            "per_user": sidecar_file(record),
            "heldout_share": float(params.get("audit", {}).get("heldout_fraction", 0.2)),
            "heldout_masks": int(params.get("audit", {}).get("heldout_repeats", 1)),
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


def _heldout_phrase(data: pd.DataFrame) -> str:
    """How the held-out view of a dataset's records was made, from their audit settings."""
    settings = sorted(set(zip(data["heldout_share"], data["heldout_masks"], strict=True)))
    phrases = []
    for share, masks in settings:
        if share <= 0:
            continue
        phrase = f"a fit without {100 * share:g} % of the labels, tested on those users"
        if masks > 1:
            phrase += f" ({masks} disjoint masks, one fit each, pooled)"
        phrases.append(phrase)
    return " or ".join(phrases) if phrases else "none"


def _interval_text(interval: tuple[float, float]) -> str:
    """An NDCG@10 ratio interval in % (``–`` when no per-user sidecars paired)."""
    low, high = interval
    return "–" if math.isnan(low) else f"{100 * low:.1f}–{100 * high:.1f}"


def _meets(summary: dict[str, Any], interval: tuple[float, float] = (math.nan, math.nan)) -> str:
    """``yes`` / ``no`` on the means; when the leakage side holds and the NDCG ratio's
    ``interval`` (over test users) contains the bar, the verdict says that the test users do
    not decide it."""
    ratio = summary["ndcg_ratio"][0]
    views = [summary[v][0] for v in VIEWS.values()]
    if any(math.isnan(v) for v in views) or math.isnan(ratio):
        return "–"
    if not all(v <= TARGET_POINTS for v in views):
        return "no"
    verdict = "yes" if ratio >= NDCG_TARGET else "no"
    low, high = interval
    if low < NDCG_TARGET <= high:  # False when the interval is NaN
        verdict += " (NDCG bar inside the interval)"
    return verdict


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
        "95 % interval (test users)",
        "worst |BAcc − chance|, transductive",
        "held-out",
        "transfer",
        "floor (permuted labels)",
        f"≤ {TARGET_POINTS:g} pts everywhere and ≥ {100 * NDCG_TARGET:g} % NDCG",
    ]
    with_kept = frame["kept"].notna().any()
    if with_kept:
        header.append("kept attributes, |BAcc − chance|")
    tables = []
    for dataset, data in frame.groupby("dataset", sort=False):
        rows = []
        for (model, requirement), cell in data.groupby(["model", "requirement"], sort=False):
            original = cell[cell["method"] == "original"]
            reference = series_by_seed(original.drop_duplicates("seed"))  # read once per cell
            floor = mean_std(original.groupby("seed")["floor"].max() if not original.empty else [])
            rank = method_rank(list(cell["method"]))
            for method, part in sorted(cell.groupby("method"), key=lambda item: rank[item[0]]):
                summary = _cell_summary(part)
                interval = (
                    (math.nan, math.nan)
                    if method == "original"
                    else bootstrap_ratio_interval(
                        series_by_seed(part.drop_duplicates("seed")), reference
                    )
                )
                links = tuple(dict.fromkeys(part["record"]))
                rows.append(
                    [
                        TCell(model_name(model)),
                        TCell(requirement_label(requirement)),
                        TCell(method),
                        TCell(str(summary["seeds"])),
                        TCell(pct(*summary["ndcg_ratio"][:2]), links=links),
                        TCell(_interval_text(interval)),
                        *(TCell(pct(*summary[v][:2], scale=1.0, digits=1)) for v in VIEWS.values()),
                        TCell(pct(*floor[:2], scale=1.0, digits=1)),
                        TCell("–" if method == "original" else _meets(summary, interval)),
                        *(
                            [TCell(pct(*summary["kept"][:2], scale=1.0, digits=1))]
                            if with_kept
                            else []
                        ),
                    ]
                )
        tables.append(
            Table(
                f"{dataset}: does the removal hold? (points from chance, mean ± std over seeds"
                + (
                    f"; held-out view pooled over {int(data['heldout_masks'].max())} masks)"
                    if data["heldout_masks"].max() > 1
                    else ")"
                ),
                header,
                rows,
                notes=[
                    "Per seed, the distance is the largest |BAcc − chance| of the worst of the "
                    "audit's attackers over the requirement's attributes (below chance counts); "
                    "transductive: k-fold over the users whose labels the method used; held-out: "
                    f"{_heldout_phrase(data)}; transfer: logistic "
                    "attacker fitted on the original rows. Floor: the original matrix against "
                    "permuted labels (the metric's noise). Interval: percentile bootstrap of the "
                    "NDCG@10 ratio over the test users of every seed (paired with the original's, "
                    "models held fixed): where it straddles the target, these test users cannot "
                    "tell the cell from it, and a verdict whose leakage side holds says so."
                ],
            )
        )
    return tables


FAMILY_SEPARATOR = "@"
"""A method label ``family@setting`` is one point of ``family``'s sweep (e.g. ``dp@0.5``)."""


def method_family(label: str) -> str:
    """The method a sweep point belongs to: the label before :data:`FAMILY_SEPARATOR`."""
    return label.split(FAMILY_SEPARATOR, 1)[0]


def _worst_over_views(summary: dict[str, Any]) -> float:
    values = [summary[v][0] for v in VIEWS.values() if not math.isnan(summary[v][0])]
    return max(values) if values else math.nan


def frontier_points(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset x model x requirement x method label (mean over seeds): NDCG@10 as
    a share of the original and the worst distance over attributes and views, with the
    method's family. The points a frontier is drawn from."""
    rows = []
    if frame.empty:
        return pd.DataFrame(rows)
    keys = ["dataset", "model", "requirement", "method"]
    for (dataset, model, requirement, method), part in frame.groupby(keys, sort=False):
        if method == "original":
            continue
        summary = _cell_summary(part)
        rows.append(
            {
                "dataset": dataset,
                "model": model,
                "requirement": requirement,
                "method": method,
                "family": method_family(method),
                "ndcg": 100.0 * summary["ndcg_ratio"][0],
                "worst": _worst_over_views(summary),
                "seeds": summary["seeds"],
                "records": tuple(dict.fromkeys(part["record"])),
            }
        )
    return pd.DataFrame(rows)


def pareto_front(points: pd.DataFrame) -> pd.DataFrame:
    """The points no other point beats on both axes (less leakage and more NDCG), by leakage."""
    ordered = points.dropna(subset=["worst", "ndcg"]).sort_values(["worst", "ndcg"])
    keep, best = [], -math.inf
    for index, row in ordered.iterrows():
        if row["ndcg"] > best:
            keep.append(index)
            best = row["ndcg"]
    return ordered.loc[keep]


def frontier_table(frame: pd.DataFrame) -> list[Table]:
    """Per dataset, model, requirement and method family: what the family reaches. The best
    NDCG among its settings within the leakage target, the least leakage among its settings
    that keep the NDCG target, and its Pareto points (NDCG % / worst points)."""
    points = frontier_points(frame)
    if points.empty:
        return []
    header = [
        "model",
        "forget",
        "method",
        "settings",
        f"best NDCG % at ≤ {TARGET_POINTS:g} pts",
        f"least leakage (pts) at ≥ {100 * NDCG_TARGET:g} % NDCG",
        "Pareto points (NDCG % / pts)",
    ]
    tables = []
    for dataset, data in points.groupby("dataset", sort=False):
        rows = []
        for (model, requirement), cell in data.groupby(["model", "requirement"], sort=False):
            rank = method_rank(list(cell["family"]))
            families = sorted(cell.groupby("family"), key=lambda item: rank[item[0]])
            for family, part in families:
                within = part[part["worst"] <= TARGET_POINTS]
                keeping = part[part["ndcg"] >= 100 * NDCG_TARGET]
                best = (
                    f"{within['ndcg'].max():.1f} ({within.loc[within['ndcg'].idxmax(), 'method']})"
                    if not within.empty
                    else "none"
                )
                least = (
                    f"{keeping['worst'].min():.1f} "
                    f"({keeping.loc[keeping['worst'].idxmin(), 'method']})"
                    if not keeping.empty
                    else "none"
                )
                front = pareto_front(part)
                rows.append(
                    [
                        TCell(model_name(model)),
                        TCell(requirement_label(requirement)),
                        TCell(family),
                        TCell(str(len(part))),
                        TCell(best),
                        TCell(least),
                        TCell(
                            ", ".join(f"{r.ndcg:.0f} / {r.worst:.1f}" for r in front.itertuples()),
                            links=tuple(dict.fromkeys(x for r in part["records"] for x in r)),
                        ),
                    ]
                )
        tables.append(
            Table(
                f"{dataset}: the reachable trade-off per method (mean over seeds)",
                header,
                rows,
                notes=[
                    "A method's settings are the sweep points of its family (labels "
                    f"`method{FAMILY_SEPARATOR}setting` in the config). Leakage: the worst "
                    "attacker's |BAcc − chance| over the requirement's attributes and the "
                    "transductive, held-out and transfer views, mean over seeds. A Pareto point "
                    "is one no other setting of the same method beats on both axes."
                ],
            )
        )
    return tables


def frontier_figure(frame: pd.DataFrame, dataset: str) -> bytes | None:
    """NDCG@10 (% of original) against the worst distance over views, one panel per model x
    requirement of ``dataset``, one marker per setting of a method family and a line through its
    Pareto points (mean over seeds): the reachable trade-off."""
    points = frontier_points(frame)
    if points.empty:
        return None
    data = points[points["dataset"] == dataset]
    if data.empty:
        return None
    panels = list(dict.fromkeys(zip(data["model"], data["requirement"], strict=True)))
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = MplFigure(figsize=(4.2 * columns + 1.5, 3.4 * rows + 0.6))
    FigureCanvasAgg(figure)
    families = list(dict.fromkeys(data["family"]))
    for index, (model, requirement) in enumerate(panels):
        ax = figure.add_subplot(rows, columns, index + 1)
        panel = data[(data["model"] == model) & (data["requirement"] == requirement)]
        for number, family in enumerate(families):
            part = panel[panel["family"] == family].sort_values("worst")
            if part.empty:
                continue
            color = f"C{number % 10}"
            ax.plot(
                part["worst"],
                part["ndcg"],
                marker="osD^vPX*"[number % 8],
                linestyle="none",
                color=color,
                label=family,
                alpha=0.85,
            )
            front = pareto_front(part)
            if len(front) > 1:  # the line joins the settings no other setting beats
                ax.plot(front["worst"], front["ndcg"], linestyle="-", color=color, alpha=0.85)
        ax.axvline(TARGET_POINTS, color="grey", linestyle="--", linewidth=1)
        ax.axhline(100 * NDCG_TARGET, color="grey", linestyle="--", linewidth=1)
        ax.set_title(f"{model_name(model)} · {requirement_label(requirement)}", fontsize=9)
        ax.set_xlabel("worst |BAcc − chance| (points)", fontsize=8)
        ax.set_ylabel("NDCG@10, % of original", fontsize=8)
        ax.tick_params(labelsize=7)
    seen: dict[str, Any] = {}
    for ax in figure.axes:
        handles, labels = ax.get_legend_handles_labels()
        for handle, label in zip(handles, labels, strict=True):
            seen.setdefault(label, handle)
    figure.legend(list(seen.values()), list(seen.keys()), loc="lower center", ncol=6, fontsize=8)
    figure.suptitle(f"{dataset}: quality against leakage (target: upper left of the dashes)")
    figure.tight_layout(rect=(0, 0.06, 1, 0.97))
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
