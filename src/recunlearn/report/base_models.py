"""Base models against a peer tool (RecBole) on the same protocol, and only at today's defaults.

A headline row aggregates only ``train`` records whose resolved model configuration equals the
model's current default (every field but the seed): a record trained before a default changed
describes another model and is listed apart, labelled. Each row compares our seeds with the
peer's by a two-sided Welch t-test per metric and says *better*, *on par* or *worse* from the
test (p < 0.05), not from the means alone.

Peer records are the JSON files of ``benchmarks/recbole_side_by_side.py`` (one per model and
seed), found in the folders named by the config's ``peers`` section.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from scipy import stats

from recunlearn.core.errors import ConfigError
from recunlearn.models.registry import make_model
from recunlearn.report.format import mean_std, pct
from recunlearn.report.frames import model_name
from recunlearn.report.tables import Table, TCell

ALPHA = 0.05
RECBOLE_MODELS = {"BPR": "mf", "NeuMF": "ncf", "LightGCN": "lightgcn", "MultiVAE": "multvae"}
"""RecBole's model names -> ours."""
RECBOLE_DATASETS = {"ml-100k": "ML-100K", "ml-1m": "ML-1M"}
"""RecBole harness ``dataset_format`` -> our dataset labels (a partial copy never matches)."""
METRICS = ("HR@10", "NDCG@10")


def default_config(model: str, seed: int) -> dict[str, Any] | None:
    """Today's resolved default configuration of ``model`` with ``seed`` (None if unknown)."""

    try:
        return make_model(model, seed=seed).config.model_dump(mode="json")
    except ConfigError:
        return None


def ours_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per ``train`` record, with ``at_default``: its resolved config is today's."""
    rows = []
    for record in records:
        if record.get("kind") != "train":
            continue
        spec, metrics = record["params"]["spec"], record["metrics"]
        options = dict(spec["model_options"])
        seed = int(options.get("seed", 0))
        resolved = metrics.get("model_config") or options
        default = default_config(spec["model"], seed)
        rows.append(
            {
                "dataset": record["dataset"].get("label", record["params"]["dataset"]),
                "model": spec["model"],
                "seed": seed,
                "HR@10": metrics["test"].get("HR@10"),
                "NDCG@10": metrics["test"].get("NDCG@10"),
                "best_epoch": metrics.get("best_epoch"),
                "train_seconds": metrics.get("train_seconds"),
                "threads": metrics.get("threads"),
                "at_default": default is not None and resolved == default,
                "differs": sorted(
                    k
                    for k in set(resolved) | set(default or {})
                    if (default or {}).get(k) != resolved.get(k)
                ),
                "record": record["_path"],
            }
        )
    return pd.DataFrame(rows)


def peer_frame(folders: Iterable[Path]) -> pd.DataFrame:
    """RecBole harness records: dataset label, our model name, seed, test HR / NDCG @10."""
    rows = []
    for folder in folders:
        for path in sorted(Path(folder).glob("*.json")):
            record = json.loads(path.read_text())
            if record.get("tool") != "recbole" or record.get("model") not in RECBOLE_MODELS:
                continue
            rows.append(
                {
                    "dataset": RECBOLE_DATASETS.get(record.get("dataset_format"), "?"),
                    "model": RECBOLE_MODELS[record["model"]],
                    "seed": record.get("seed"),
                    "ties": record.get("ties"),
                    "HR@10": record["test"]["hit@10"],
                    "NDCG@10": record["test"]["ndcg@10"],
                    "record": str(path),
                }
            )
    return pd.DataFrame(rows)


def welch(ours: pd.Series, theirs: pd.Series) -> tuple[float, str]:
    """Two-sided Welch t-test p-value and the verdict for a higher-is-better metric."""
    a, b = ours.dropna().to_numpy(float), theirs.dropna().to_numpy(float)
    if len(a) < 2 or len(b) < 2:
        return math.nan, "too few seeds"
    p = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
    if not math.isfinite(p) or p >= ALPHA:
        return p, "on par"
    return p, "better" if a.mean() > b.mean() else "worse"


def base_model_tables(records: Iterable[dict[str, Any]], peers: Iterable[Path] = ()) -> list[Table]:
    """The headline table (today's defaults, beside the peer) and the table of the records
    trained under other configurations."""
    ours = ours_frame(records)
    if ours.empty:
        return []
    theirs = peer_frame(peers)
    current = ours[ours["at_default"]]
    rows = []
    for (dataset, model), part in current.groupby(["dataset", "model"], sort=False):
        peer = (
            theirs[(theirs["dataset"] == dataset) & (theirs["model"] == model)]
            if not theirs.empty
            else theirs
        )
        cells = [TCell(dataset), TCell(model_name(model)), TCell(str(len(part)))]
        for metric in METRICS:
            cells.append(TCell(pct(*mean_std(part[metric])[:2]), links=tuple(part["record"])))
        cells.append(TCell(str(len(peer))))
        verdicts = []
        for metric in METRICS:
            values = peer[metric] if not peer.empty else pd.Series(dtype=float)
            cells.append(TCell(pct(*mean_std(values)[:2])))
        for metric in METRICS:
            values = peer[metric] if not peer.empty else pd.Series(dtype=float)
            p, verdict = welch(part[metric], values)
            verdicts.append(verdict)
            cells.append(TCell("–" if math.isnan(p) else f"{p:.3f}"))
        cells.append(TCell(" / ".join(verdicts)))
        epochs, seconds = mean_std(part["best_epoch"]), mean_std(part["train_seconds"])
        cells.append(TCell(f"{epochs[0]:.0f}" if epochs[2] else "–"))
        cells.append(TCell(f"{seconds[0]:.0f}" if seconds[2] else "–"))
        rows.append(cells)
    header = [
        "dataset",
        "model",
        "seeds",
        "ours HR@10 %",
        "ours NDCG@10 %",
        "RecBole seeds",
        "RecBole HR@10 %",
        "RecBole NDCG@10 %",
        "p HR@10",
        "p NDCG@10",
        "ours vs RecBole (HR / NDCG)",
        "best epoch",
        "train s",
    ]
    tables = [
        Table(
            "Base models at today's default configuration (test split), beside RecBole 1.2.1",
            header,
            rows,
            [
                "Rows aggregate only records whose resolved model configuration equals today's "
                "default (every option but the seed). p: two-sided Welch t-test over seeds; the "
                f"verdict is 'on par' unless p < {ALPHA}."
            ],
        )
    ]
    stale = ours[~ours["at_default"]]
    if not stale.empty:
        stale_rows = []
        for (dataset, model), part in stale.groupby(["dataset", "model"], sort=False):
            differs = sorted({k for keys in part["differs"] for k in keys})
            stale_rows.append(
                [
                    TCell(dataset),
                    TCell(model_name(model)),
                    TCell(str(len(part))),
                    *(
                        TCell(pct(*mean_std(part[m])[:2]), links=tuple(part["record"]))
                        for m in METRICS
                    ),
                    TCell(", ".join(differs) or "–"),
                ]
            )
        tables.append(
            Table(
                "Records trained under other configurations (not in the headline)",
                [
                    "dataset",
                    "model",
                    "seeds",
                    "HR@10 %",
                    "NDCG@10 %",
                    "options that differ from today's default",
                ],
                stale_rows,
            )
        )
    return tables
