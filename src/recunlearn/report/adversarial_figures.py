"""The figures of AdvX-MultVAE from grid cells (matplotlib object API, Agg canvas, PNG).

* :func:`plot_tradeoff` (AdvX Fig. 2): every lambda cell as a point at (BAcc of the
  categorical attribute, scaled MAE of the continuous one), coloured by NDCG@10, marker by
  variant (single-attribute Adv, simultaneous AdvX, all-zero), dotted lines at the base
  model's values. Upper left = both attributes removed.
* :func:`plot_lambda_heatmaps` (AdvX Fig. 4 as heat maps): lambda of the categorical attribute
  on x, of the continuous one on y, one panel per metric (NDCG@10, BAcc, MAE), cell means
  written in the squares.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from recunlearn.report.adversarial import variant

_MARKERS = {"zero": "s", "advx": "o", "base": "*"}


def _save(figure: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=120)
    return path


def plot_tradeoff(
    table: pd.DataFrame,
    categorical: str,
    continuous: str,
    path: str | Path,
    *,
    column: str = "advx",
    title: str = "",
) -> Path:
    """Scatter of the lambda cells of one (dataset, model) ``table`` (from ``cell_table``).

    Args:
        table: cell means with ``lambda:<attr>``, ``<attr>:<column>`` and ``NDCG@10``.
        categorical: attribute on the x axis (BAcc, lower = better removal).
        continuous: attribute on the y axis (scaled MAE, higher = better removal).
        path: PNG to write.
        column: which leakage column (``advx`` or ``worst``).
        title: figure title.
    """
    x_name, y_name = f"{categorical}:{column}", f"{continuous}:{column}"
    figure = Figure(figsize=(6.0, 4.6), layout="constrained")
    ax = figure.add_subplot()
    attributes = [categorical, continuous]
    kinds = table.apply(lambda row: variant(row, attributes), axis=1)
    cells = table[kinds != "base"]
    scatter = None
    for kind in sorted(set(kinds[kinds != "base"])):
        part = table[kinds == kind]
        marker = _MARKERS.get(kind, "^" if kind.endswith(categorical) else "v")
        scatter = ax.scatter(
            100 * part[x_name],
            100 * part[y_name],
            c=100 * part["NDCG@10"],
            cmap="viridis",
            vmin=100 * cells["NDCG@10"].min(),
            vmax=100 * cells["NDCG@10"].max(),
            marker=marker,
            s=60,
            edgecolors="black",
            linewidths=0.5,
            label=kind.replace("adv:", "Adv-"),
        )
    base = table[kinds == "base"]
    if not base.empty:
        ax.axvline(100 * base[x_name].iloc[0], color="grey", linestyle=":", label="base")
        ax.axhline(100 * base[y_name].iloc[0], color="grey", linestyle=":")
    if scatter is not None:
        figure.colorbar(scatter, ax=ax, label="NDCG@10 (%)")
    ax.set_xlabel(f"BAcc {categorical} (%) ← better removal")
    ax.set_ylabel(f"MAE {continuous} (% of scale) → better removal")
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title or f"{column} attacker", fontsize=9)
    return _save(figure, path)


def plot_lambda_heatmaps(
    table: pd.DataFrame,
    categorical: str,
    continuous: str,
    path: str | Path,
    *,
    column: str = "advx",
    title: str = "",
) -> Path:
    """Heat maps of NDCG@10, BAcc and scaled MAE over the (lambda_cat, lambda_cont) grid."""
    lx, ly = f"lambda:{categorical}", f"lambda:{continuous}"
    # cells without one of the two lambdas (heads on other attributes) have no square
    cells = table[~table["base"].astype(bool)].dropna(subset=[lx, ly])
    if cells.duplicated([lx, ly]).any():
        raise ValueError(
            "several rows share a (lambda, lambda) cell (another objective or selection?): "
            "plot one training recipe at a time"
        )
    panels = [
        ("NDCG@10", "NDCG@10 (%)"),
        (f"{categorical}:{column}", f"BAcc {categorical} (%)"),
        (f"{continuous}:{column}", f"MAE {continuous} (% of scale)"),
    ]
    figure = Figure(figsize=(16.0, 4.4), layout="constrained")
    for index, (name, label) in enumerate(panels):
        ax = figure.add_subplot(1, 3, index + 1)
        grid = cells.pivot_table(index=ly, columns=lx, values=name, aggfunc="mean") * 100
        image = ax.imshow(grid.to_numpy(), origin="lower", cmap="viridis", aspect="auto")
        ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
        ax.set_xlabel(f"λ {categorical}")
        ax.set_ylabel(f"λ {continuous}")
        values = grid.to_numpy()
        finite = values[np.isfinite(values)]
        middle = float(np.mean(finite)) if finite.size else 0.0
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                ax.text(
                    j,
                    i,
                    f"{value:.1f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if value < middle else "black",
                )
        figure.colorbar(image, ax=ax, label=label)
        ax.set_title(label)
    if title:
        figure.suptitle(title, fontsize=10)
    return _save(figure, path)
