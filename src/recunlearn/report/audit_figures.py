"""PNG figures of an audit (matplotlib's object API with the Agg canvas; no pyplot state).

* :func:`plot_projection` — a 2-D projection (PCA or t-SNE) of the embeddings coloured by each
  attribute; with two tables (before / after an unlearning method) they sit side by side, on
  the same users (Adv-MultVAE Fig. 1, AdvX Fig. 3).
* :func:`plot_leakage` — leakage vs chance per attacker: BAcc bars with std error bars and the
  chance line (categorical), MAE bars and the chance MAE line (continuous).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from recunlearn.audit.inputs import AttributeTable, EmbeddingTable, JoinedData, join
from recunlearn.audit.leakage_report import LeakageReport
from recunlearn.core.errors import ConfigError
from recunlearn.core.threads import limit_threads
from recunlearn.data.types import MISSING_CODE

TSNE_MAX_POINTS = 3000


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _project(matrix: np.ndarray, method: str, seed: int) -> np.ndarray:
    with limit_threads(1):  # t-SNE is 5-8x slower with threads on a busy machine
        return _project_1(matrix, method, seed)


def _project_1(matrix: np.ndarray, method: str, seed: int) -> np.ndarray:
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(matrix)
    from sklearn.manifold import TSNE

    perplexity = float(min(30.0, max(2.0, (len(matrix) - 1) / 3.0)))
    return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(
        matrix
    )


def _common_users(joined: Sequence[JoinedData], limit: int | None, seed: int) -> np.ndarray:
    """Ids (as text) present in every table, sorted; a seeded sample of ``limit`` of them."""
    common = joined[0].ids.astype(str)
    for other in joined[1:]:
        common = np.intersect1d(common, other.ids.astype(str))
    if limit is not None and len(common) > limit:
        rng = np.random.default_rng(seed)
        common = np.sort(rng.choice(common, size=limit, replace=False))
    return common


def plot_projection(
    tables: Sequence[tuple[str, EmbeddingTable]],
    attributes: AttributeTable,
    out: str | Path,
    *,
    method: Literal["pca", "tsne"] = "pca",
    max_points: int | None = None,
    seed: int = 0,
) -> Path:
    """Scatter the 2-D projection of each table, one row per attribute, one column per table.

    Args:
        tables: ``(label, table)`` pairs, e.g. ``[("before", U0), ("after", U1)]``.
        attributes: the users' attributes (joined by id with each table).
        out: PNG path.
        method: ``"pca"`` or ``"tsne"``.
        max_points: users drawn (a seeded sample of the users common to all tables); default
            3,000 for t-SNE and all for PCA.
        seed: seed of the sample and of the projection.
    """
    if method not in ("pca", "tsne"):
        raise ConfigError(f"unknown projection {method!r} (pca or tsne)")
    if not tables:
        raise ConfigError("no embedding table to project")
    if max_points is None and method == "tsne":
        max_points = TSNE_MAX_POINTS
    joined = [join(table, attributes) for _, table in tables]
    users = _common_users(joined, max_points, seed)
    n_rows = len(attributes.attributes)
    figure = _figure(4.2 * len(tables) + 1.5, 3.6 * n_rows)
    axes = np.atleast_2d(figure.subplots(n_rows, len(tables), squeeze=False))
    for col, ((label, _), data) in enumerate(zip(tables, joined, strict=True)):
        keep = pd.Index(data.ids.astype(str)).get_indexer(users)
        points = _project(data.matrix[keep], method, seed)
        for row, attribute in enumerate(attributes.attributes):
            ax = axes[row, col]
            values = data.values[attribute.name][keep]
            if attribute.kind == "categorical":
                _scatter_classes(
                    ax, points, values, attribute.classes, legend=col == len(tables) - 1
                )
            else:
                known = ~np.isnan(values)
                ax.scatter(*points[~known].T, s=3, c="lightgrey", linewidths=0)
                handle = ax.scatter(*points[known].T, s=3, c=values[known], cmap="viridis")
                if col == len(tables) - 1:
                    figure.colorbar(handle, ax=ax, shrink=0.8)
            ax.set_title(f"{label} · {attribute.name} · {method.upper()}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    figure.suptitle(f"{method.upper()} of user embeddings ({len(users)} users)", fontsize=10)
    out = Path(out)
    figure.savefig(out, dpi=110)
    return out


def _scatter_classes(ax, points: np.ndarray, codes: np.ndarray, classes, legend: bool) -> None:
    from matplotlib import colormaps

    if len(classes) > 20:
        spread = colormaps["turbo"](np.linspace(0.05, 0.95, len(classes)))

        def palette(code: int):
            return spread[code]
    else:
        table = colormaps["tab20" if len(classes) > 10 else "tab10"]

        def palette(code: int):
            return table(code)

    unknown = codes == MISSING_CODE
    if unknown.any():
        ax.scatter(*points[unknown].T, s=3, c="lightgrey", linewidths=0, label="unknown")
    for code, name in enumerate(classes):
        member = codes == code
        if member.any():
            colour = palette(code)
            ax.scatter(*points[member].T, s=3, color=colour, linewidths=0, label=str(name))
    if legend:
        ax.legend(
            fontsize=6,
            markerscale=3,
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
            ncol=2 if len(classes) > 12 else 1,
            frameon=False,
        )


def plot_leakage(report: LeakageReport, out: str | Path) -> Path:
    """Bars per attacker and attribute: BAcc ± std with the chance line, or MAE ± std with the
    chance MAE line; the worst-case attacker's bar is outlined."""
    summary = report.summary()
    names = report.attributes
    n_cols = min(3, len(names))
    n_rows = math.ceil(len(names) / n_cols)
    figure = _figure(4.6 * n_cols, 3.4 * n_rows)
    axes = np.atleast_1d(figure.subplots(n_rows, n_cols, squeeze=False).ravel())
    for ax, name in zip(axes, names, strict=False):
        part = summary[summary["attribute"] == name].reset_index(drop=True)
        x = np.arange(len(part))
        categorical = part["kind"].iloc[0] == "categorical"
        metric = "bacc" if categorical else "mae"
        chance = part[f"chance_{metric}_mean"].mean()
        colours = ["tab:red" if w else "tab:blue" for w in part["worst"]]
        ax.bar(
            x,
            part[f"{metric}_mean"],
            yerr=part[f"{metric}_std"],
            color=colours,
            alpha=0.8,
            capsize=3,
        )
        ax.axhline(chance, color="black", linestyle="--", linewidth=1, label="chance")
        ax.set_xticks(x, part["attacker"], rotation=35, ha="right", fontsize=8)
        ax.set_ylabel("balanced accuracy" if categorical else "MAE", fontsize=8)
        if categorical:
            ax.set_ylim(0, 1)
        ax.set_title(f"{name} (red: worst case)", fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    out = Path(out)
    figure.savefig(out, dpi=110)
    return out
