"""Wilcoxon signed-rank tests between methods on per-user NDCG@10.

Users are paired by (seed or fold, user id); the pairs of every seed are pooled, as AdvX
pools the users of its folds. Users with equal values are dropped by the test (``wilcox``
zero method), so ``n`` counts the users whose NDCG differs. No correction for multiple
comparisons is applied: the p-values are per test.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from recunlearn.report.frames import method_rank, model_name, read_per_user, requirement_label
from recunlearn.report.tables import Table, TCell

ALPHA = 0.05


def _paired(
    ours: Mapping[Any, pd.Series], reference: Mapping[Any, pd.Series]
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per replicate of ``ours`` (in its order) present on both sides, the values of the users
    both sides have, aligned: ``(ours, reference)``."""
    for replicate, series in ours.items():
        other = reference.get(replicate)
        if other is None:
            continue
        common = series.index.intersection(other.index)
        yield series.loc[common].to_numpy(float), other.loc[common].to_numpy(float)


def paired_differences(
    ours: Mapping[Any, pd.Series], reference: Mapping[Any, pd.Series]
) -> np.ndarray:
    """``ours - reference`` for every (replicate, user) present on both sides."""
    parts = [a - b for a, b in _paired(ours, reference)]
    return np.concatenate(parts) if parts else np.zeros(0)


def signed_rank(differences: np.ndarray) -> dict[str, float]:
    """Mean difference, number of pairs / non-zero pairs, statistic and two-sided p-value."""
    nonzero = int(np.count_nonzero(differences))
    out = {
        "pairs": float(len(differences)),
        "nonzero": float(nonzero),
        "mean_difference": float(differences.mean()) if len(differences) else math.nan,
        "statistic": math.nan,
        "p": math.nan,
    }
    if nonzero == 0:
        out["p"] = 1.0
        return out
    result = wilcoxon(differences, zero_method="wilcox", alternative="two-sided")
    out["statistic"], out["p"] = float(result.statistic), float(result.pvalue)
    return out


def bootstrap_ratio_interval(
    ours: Mapping[Any, pd.Series],
    reference: Mapping[Any, pd.Series],
    *,
    draws: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over replicates of ``sum(ours) /
    sum(reference)``, users resampled with replacement within each replicate and kept paired.

    It measures how much the ratio would move with other test users of the same size, the
    models held fixed (the spread over seeds is the other part of the noise). ``(nan, nan)``
    when nothing pairs or a resampled reference sums to zero.
    """
    rng = np.random.default_rng(seed)
    ratios = np.zeros(draws)
    paired = 0
    ordered = {k: ours[k] for k in sorted(ours, key=str)}  # the same draws in any record order
    for a, b in _paired(ordered, reference):
        if not len(a):
            continue
        picks = rng.integers(0, len(a), size=(draws, len(a)))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios += a[picks].sum(axis=1) / b[picks].sum(axis=1)
        paired += 1
    if not paired:
        return math.nan, math.nan
    ratios /= paired
    if not np.isfinite(ratios).all():
        return math.nan, math.nan
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return float(low), float(high)


def series_by_seed(part: pd.DataFrame) -> dict[Any, pd.Series]:
    """Per seed, the per-user NDCG@10 of the rows' sidecars (columns ``seed``, ``per_user``)."""
    out = {}
    for seed, path in zip(part["seed"], part["per_user"], strict=True):
        series = read_per_user(path)
        if series is not None:
            out[seed] = series
    return out


def comparison_row(label: list[str], ours: dict, reference: dict) -> list[TCell] | None:
    """One table row (None when nothing pairs)."""
    differences = paired_differences(ours, reference)
    if not len(differences):
        return None
    result = signed_rank(differences)
    p = result["p"]
    significant = not math.isnan(p) and p <= ALPHA
    return [
        *(TCell(x) for x in label),
        TCell(f"{int(result['pairs'])} ({int(result['nonzero'])})"),
        TCell(f"{100 * result['mean_difference']:+.2f}"),
        TCell("–" if math.isnan(result["statistic"]) else f"{result['statistic']:.0f}"),
        TCell(("–" if math.isnan(p) else f"{p:.3g}") + (" *" if significant else "")),
    ]


def unlearning_tests(frame: pd.DataFrame) -> list[Table]:
    """Per dataset: every method against ``original`` and against ``lego`` (when present),
    per model and requirement."""
    if frame.empty or "per_user" not in frame or frame["per_user"].isna().all():
        return []
    tables = []
    for dataset, part in frame.groupby("dataset", sort=False):
        rows = []
        keys = part[["model", "requirement"]].drop_duplicates().itertuples(index=False)
        for model, req in keys:
            group = part[(part["model"] == model) & (part["requirement"] == req)]
            ranks = method_rank(list(dict.fromkeys(group["method"])))
            methods = sorted(ranks, key=ranks.get)
            for reference in ("original", "lego"):
                if reference not in methods:
                    continue
                ref_series = series_by_seed(group[group["method"] == reference])
                for method in methods:
                    if method == reference or (reference == "lego" and method == "original"):
                        continue
                    row = comparison_row(
                        [model_name(model), requirement_label(req), f"{method} vs {reference}"],
                        series_by_seed(group[group["method"] == method]),
                        ref_series,
                    )
                    if row is not None:
                        rows.append(row)
        if rows:
            header = ["model", "requirement", "comparison", "users (≠)", "Δ NDCG@10", "W", "p"]
            notes = [
                "Wilcoxon signed-rank test on per-user NDCG@10 (test users, paired by seed and "
                "user; users of all seeds pooled); Δ = mean difference in percentage points; "
                f"* p ≤ {ALPHA} (no multiple-comparison correction)."
            ]
            tables.append(Table(f"Significance — {dataset}", header, rows, notes))
    return tables
