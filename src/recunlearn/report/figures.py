"""Report figures as PNG bytes (matplotlib object API on an Agg canvas: no display, no
global state).

* :func:`tradeoff` -- NDCG@10 against the worst-case attacker's BAcc, one point per method x
  requirement (mean over seeds), one panel per model, chance BAcc of each requirement as a
  vertical line;
* :func:`ball_sweep` -- LEGO's ball constraint swept: attackers' BAcc and NDCG@10 (share of
  Original's) against the ball's radius, one column per model, one colour per variant;
* :func:`timing_chart` -- LEGO Fig. 3: seconds per request of the dynamic-requirement
  sequence, one bar per method, the base model's training time as a dashed line;
* :func:`advx_figures` -- AdvX Fig. 2 (trade-off) and the lambda heat maps, drawn by
  :mod:`recunlearn.report.adversarial_figures`.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from recunlearn.report.adversarial_figures import plot_lambda_heatmaps, plot_tradeoff
from recunlearn.report.frames import method_rank, model_name, requirement_label

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


BACC_LABELS = {
    "worst_bacc": "worst-case attacker BAcc (%)",
    "paper_bacc": "paper-MLP attacker BAcc (%)",
}


def tradeoff(
    frame: pd.DataFrame,
    dataset: str,
    *,
    bacc: str = "worst_bacc",
    keep_fraction: float | None = None,
) -> bytes | None:
    """NDCG@10 vs an attacker's BAcc for one dataset (``unlearn_frame`` rows).

    Args:
        frame: one row per (model, method, requirement, seed).
        dataset: which dataset's rows to draw.
        bacc: the BAcc column on the x axis (``worst_bacc`` or ``paper_bacc``).
        keep_fraction: when given and an ``original`` method is present, a dotted line at
            this fraction of Original's NDCG@10 (LEGO Table 1's bar: 0.95).
    """
    part = frame[frame["dataset"] == dataset]
    if part.empty:
        return None
    models = list(dict.fromkeys(part["model"]))
    methods = sorted(part["method"].unique(), key=method_rank(list(part["method"])).get)
    requirements = sorted(part["requirement"].unique(), key=lambda r: (len(r), r))
    colours = {m: f"C{i % 10}" for i, m in enumerate(methods)}
    markers = {r: MARKERS[i % len(MARKERS)] for i, r in enumerate(requirements)}
    figure = Figure(figsize=(max(7.0, 4.6 * len(models) + 1.6), 4.4), layout="constrained")
    axes = figure.subplots(1, len(models), squeeze=False)[0]
    for ax, model in zip(axes, models, strict=True):
        group = part[part["model"] == model]
        means = group.groupby(["method", "requirement"])[[bacc, "NDCG@10", "chance_bacc"]].mean()
        for (method, req), row in means.iterrows():
            ax.scatter(
                100 * row[bacc],
                100 * row["NDCG@10"],
                color=colours[method],
                marker=markers[req],
                s=55,
                edgecolors="black",
                linewidths=0.4,
            )
        for req in requirements:
            chance = group[group["requirement"] == req]["chance_bacc"].mean()
            if np.isfinite(chance):
                ax.axvline(100 * chance, color="grey", linestyle="--", linewidth=0.8)
                ax.annotate(
                    f"chance {requirement_label(req)}",
                    (100 * chance, 1.0),
                    xycoords=("data", "axes fraction"),
                    rotation=90,
                    fontsize=7,
                    va="top",
                    ha="right",
                    color="grey",
                )
        original = group[group["method"] == "original"]["NDCG@10"]
        if keep_fraction is not None and not original.empty:
            ax.axhline(
                100 * keep_fraction * original.mean(), color="grey", linestyle=":", linewidth=0.8
            )
            ax.annotate(
                f"{100 * keep_fraction:.0f} % of Original",
                (1.0, 100 * keep_fraction * original.mean()),
                xycoords=("axes fraction", "data"),
                fontsize=7,
                va="bottom",
                ha="right",
                color="grey",
            )
        ax.set_title(model_name(model), fontsize=10)
        ax.set_xlabel(f"{BACC_LABELS.get(bacc, bacc)}; chance = no leakage")
        ax.set_ylabel("NDCG@10 (%)")
    handles = [axes[0].scatter([], [], color=colours[m], marker="o", label=m) for m in methods] + [
        axes[0].scatter(
            [], [], color="white", edgecolors="black", marker=markers[r], label=requirement_label(r)
        )
        for r in requirements
    ]
    figure.legend(handles=handles, loc="outside right center", fontsize=8)
    figure.suptitle(f"{dataset}: recommendation vs leakage (mean over seeds)", fontsize=10)
    return png(figure)


def ball_sweep(frame: pd.DataFrame, keep_fraction: float = 0.95) -> bytes | None:
    """The ball-constraint sweep, one column of panels per model: attacker BAcc (top) and
    NDCG@10 as a share of Original's (bottom) against the ball's radius r (log axis; the
    paper's ball, which never binds, at the right end), one colour per calibration variant,
    solid for the paper's MLP and dashed for the worst case; Original's BAcc as dotted lines.

    Args:
        frame: one row per (model, seed, method) with ``radius`` (NaN = the paper's ball),
            ``step`` (the variant), ``keep`` (NDCG over Original's), ``paper_bacc``,
            ``worst_bacc``, ``chance_bacc``; Original rows have ``method == "original"``.
        keep_fraction: where to draw the accuracy bar (LEGO Table 1's: 0.95).
    """
    swept = frame[frame["method"] != "original"]
    if swept.empty:
        return None
    models = list(dict.fromkeys(frame["model"]))
    radii = swept["radius"].dropna()
    paper_x = 3.0 * (radii.max() if not radii.empty else 1.0)
    variants = sorted(swept["step"].unique())
    attackers = {"paper_bacc": ("paper MLP", "-"), "worst_bacc": ("worst case", "--")}
    figure = Figure(figsize=(max(7.0, 4.2 * len(models) + 2.4), 6.4), layout="constrained")
    axes = figure.subplots(2, len(models), squeeze=False, sharex=True)
    for column, model in enumerate(models):
        top, bottom = axes[0][column], axes[1][column]
        group = frame[frame["model"] == model]
        points = group[group["method"] != "original"].assign(
            x=lambda f: f["radius"].fillna(paper_x)
        )
        means = points.groupby(["step", "x"])[["keep", *attackers]].mean()
        for i, variant in enumerate(variants):
            if variant not in means.index.get_level_values(0):
                continue
            line = means.loc[variant]
            for name, (who, style) in attackers.items():
                top.plot(
                    line.index,
                    100 * line[name],
                    linestyle=style,
                    marker="o",
                    markersize=4,
                    color=f"C{i}",
                    label=f"{who}, {variant}",
                )
            bottom.plot(line.index, 100 * line["keep"], marker="o", markersize=4, color=f"C{i}")
        original = group[group["method"] == "original"]
        for name in attackers if not original.empty else ():
            top.axhline(100 * original[name].mean(), color="black", linestyle=":", lw=0.8)
        chance = group["chance_bacc"].mean()
        if np.isfinite(chance):
            top.axhline(100 * chance, color="grey", linestyle="--", linewidth=0.8)
        bottom.axhline(100 * keep_fraction, color="grey", linestyle=":", linewidth=0.8)
        top.set_title(model_name(model), fontsize=10)
        top.set_ylabel("attacker BAcc (%)")
        bottom.set_ylabel("NDCG@10, % of Original")
        bottom.set_xscale("log")
        ticks = [*sorted(radii.unique()), paper_x]
        bottom.set_xticks(ticks, [f"{t:g}" for t in ticks[:-1]] + ["paper"], fontsize=7)
        bottom.set_xlabel("ball radius r (||U - U0|| <= r ||U0||)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    handles += [
        Line2D([], [], color="black", linestyle=":", lw=0.8),
        Line2D([], [], color="grey", linestyle="--", lw=0.8),
    ]
    labels += ["Original (each attacker)", "chance"]
    figure.legend(handles, labels, loc="outside right center", fontsize=8)
    figure.suptitle("LEGO's ball constraint swept (mean over seeds)", fontsize=10)
    return png(figure)


def timing_chart(frame: pd.DataFrame, *, log_scale: bool = False) -> bytes | None:
    """LEGO Fig. 3 from ``timing_frame`` rows (first dataset x model).

    ``log_scale`` puts seconds on a log axis (for sequences where a cached answer takes
    milliseconds and a baseline minutes).
    """
    if frame.empty:
        return None
    dataset, model = frame["dataset"].iloc[0], frame["model"].iloc[0]
    part = frame[(frame["dataset"] == dataset) & (frame["model"] == model)]
    methods = list(dict.fromkeys(part["method"]))
    steps = sorted(part["step"].unique())
    labels = [part[part["step"] == s]["requirement"].iloc[0] for s in steps]
    means = part.groupby(["method", "step"])["seconds"].mean()
    figure = Figure(figsize=(max(6.0, 1.6 * len(steps)), 4.0), layout="constrained")
    ax = figure.add_subplot()
    width = 0.8 / max(1, len(methods))
    for i, method in enumerate(methods):
        values = [means.get((method, s), np.nan) for s in steps]
        ax.bar(
            np.arange(len(steps)) + (i - (len(methods) - 1) / 2) * width,
            values,
            width,
            label=method,
        )
    base = part["base_train_seconds"].mean()
    if np.isfinite(base) and base > 0:
        ax.axhline(
            base, color="black", linestyle="--", linewidth=1, label=f"train {model_name(model)}"
        )
    ax.set_xticks(np.arange(len(steps)), labels, fontsize=8)
    if log_scale:
        ax.set_yscale("log")
    ax.set_ylabel("seconds per request" + (" (log scale)" if log_scale else ""))
    ax.set_title(
        f"Dynamic requirements — {dataset}, {model_name(model)} (LEGO Fig. 3)", fontsize=10
    )
    ax.legend(fontsize=8)
    return png(figure)


def advx_figures(
    table: pd.DataFrame, categorical: str, continuous: str, title: str
) -> list[tuple[str, bytes]]:
    """AdvX Fig. 2 and the lambda heat maps of one (dataset, model) cell table."""

    out = []
    with tempfile.TemporaryDirectory() as folder:
        for name, draw in (("tradeoff", plot_tradeoff), ("lambda heat maps", plot_lambda_heatmaps)):
            path = Path(folder) / f"{name.replace(' ', '_')}.png"
            draw(table, categorical, continuous, path, title=title)
            out.append((name, path.read_bytes()))
    return out
