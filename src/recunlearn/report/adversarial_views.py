"""Does adversarial training remove the attribute? ``loo`` adversarial records (LEGO's
protocol) as the removal table shows post-hoc methods: NDCG@10 as a share of the base model of
the same seed, and the worst attacker's distance from chance over the adversaries'
attributes, transductive (k-fold over the labelled users) and on the users whose labels the
adversaries never saw (``label_holdout``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from recunlearn.audit.guard import NDCG_TARGET, TARGET_POINTS
from recunlearn.report.adversarial import latest_per_replicate, records_frame
from recunlearn.report.format import mean_std, pct
from recunlearn.report.frames import model_name
from recunlearn.report.tables import Table, TCell

Linker = Callable[[pd.DataFrame], tuple[str, ...]]


def _worst(row: pd.Series, attributes: Sequence[str], column: str) -> float:
    """The largest |BAcc - chance| in points over ``attributes`` (NaN when none measured)."""
    values = [
        abs(row[f"{a}:{column}"] - row[f"{a}:chance"])
        for a in attributes
        if f"{a}:{column}" in row and not pd.isna(row[f"{a}:{column}"])
    ]
    return 100.0 * max(values) if values else math.nan


def views_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per ``loo`` record and seed: NDCG ratio to the same seed's base model and the
    worst distances (points) in the transductive and held-out views."""
    loo = [r for r in records if str(r.get("protocol", "")).startswith("loo")]
    if not loo:
        return pd.DataFrame()
    frame = records_frame(loo)
    frame["_path"] = [r.get("_path", "") for r in loo]
    frame = latest_per_replicate(frame)
    attributes = sorted({c.split(":")[0] for c in frame.columns if c.endswith(":chance")})
    base = frame[frame["base"].astype(bool)].set_index(["dataset", "model", "replicate"])
    ratios = []
    for _, row in frame.iterrows():
        key = (row["dataset"], row["model"], row["replicate"])
        ndcg = base["NDCG@10"].get(key, math.nan) if key in base.index else math.nan
        ratios.append(row["NDCG@10"] / ndcg if ndcg else math.nan)
    frame["ndcg_ratio"] = ratios
    categorical = [a for a in attributes if f"{a}:worst_gap" in frame.columns]
    frame["transductive"] = [_worst(r, categorical, "worst") for _, r in frame.iterrows()]
    frame["held-out"] = [_worst(r, categorical, "heldout_worst") for _, r in frame.iterrows()]
    frame["attackers_worst"] = [
        ", ".join(
            sorted(
                {str(r[f"{a}:worst_attacker"]) for a in categorical if f"{a}:worst_attacker" in r}
            )
        )
        for _, r in frame.iterrows()
    ]
    return frame


def adversarial_views_table(records: Sequence[dict[str, Any]]) -> list[Table]:
    """Per dataset: model x objective x lambdas, mean ± std over seeds, against the targets."""
    frame = views_frame(records)
    if frame.empty:
        return []
    header = [
        "model",
        "objective",
        "λ",
        "seeds",
        "NDCG@10 % of base",
        "worst |BAcc − chance|, transductive",
        "held-out (labels hidden)",
        "worst attacker",
        f"≤ {TARGET_POINTS:g} pts and ≥ {100 * NDCG_TARGET:g} % NDCG",
    ]
    tables = []
    for dataset, data in frame.groupby("dataset", sort=False):
        rows = []
        keys = ["model", "objective", "cell"]
        for (model, objective, cell), part in data.groupby(keys, sort=False):
            ratio = mean_std(part["ndcg_ratio"])
            views = [mean_std(part[v]) for v in ("transductive", "held-out")]
            is_base = bool(part["base"].iloc[0])
            verdict = "–"
            if not is_base and not any(math.isnan(v[0]) for v in views):
                ok = all(v[0] <= TARGET_POINTS for v in views) and ratio[0] >= NDCG_TARGET
                verdict = "yes" if ok else "no"
            rows.append(
                [
                    TCell(model_name(model)),
                    TCell("base (no adversary)" if is_base else objective),
                    TCell("–" if is_base else cell),
                    TCell(str(part["replicate"].nunique())),
                    TCell(pct(*ratio[:2]), links=tuple(dict.fromkeys(part["_path"]))),
                    *(TCell(pct(*v[:2], scale=1.0, digits=1)) for v in views),
                    TCell(", ".join(sorted(set(", ".join(part["attackers_worst"]).split(", "))))),
                    TCell(verdict),
                ]
            )
        tables.append(
            Table(
                f"{dataset}: in-training adversaries, leave-one-out (points from chance, "
                "mean ± std over seeds)",
                header,
                rows,
                notes=[
                    "Objectives: confusion = the default (bounded: the heads' prediction pulled "
                    "toward uniform; linear heads refitted on a bank of every labelled user's "
                    "current row before each model step); reversal = the papers' gradient "
                    "reversal. Transductive: the audit's k-fold over the labelled users; "
                    "held-out: attackers fitted on the labelled users, tested on the users whose "
                    "labels the adversaries never saw. NDCG@10 relative to the base model of "
                    "the same seed."
                ],
            )
        )
    return tables
