"""Benchmark records as tidy frames, and the display conventions shared by the report.

One row per record; columns are fractions (the tables show percent). ``record`` holds the
record file's path, ``per_user`` its sidecar's (or None).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recunlearn.core.records import record_sidecar
from recunlearn.report.adversarial import objective_of

MODEL_NAMES = {"mf": "MF", "ncf": "NCF", "lightgcn": "LightGCN", "multvae": "MultVAE"}
METHOD_ORDER = ("original", "dp", "d2dfr", "advx", "lego")
ATTRIBUTE_ORDER = ("gender", "age", "occupation")


def model_name(model: str) -> str:
    """``NCF`` for ``ncf`` (unknown names unchanged)."""
    return MODEL_NAMES.get(model, model)


def requirement_key(attributes: Iterable[str]) -> tuple[str, ...]:
    """Attributes in the papers' order (gender, age, occupation, then alphabetical)."""
    rank = {a: i for i, a in enumerate(ATTRIBUTE_ORDER)}
    return tuple(sorted(set(attributes), key=lambda a: (rank.get(a, len(rank)), a)))


def requirement_label(attributes: Iterable[str]) -> str:
    """``Gender, Age`` (the papers' column titles)."""
    return ", ".join(a.replace("_", " ").capitalize() for a in requirement_key(attributes))


def method_rank(methods: Sequence[str]) -> dict[str, int]:
    """Display order: the papers' methods first, the others in order of appearance."""
    unique = list(dict.fromkeys(methods))

    def key(method: str) -> tuple[int, int]:
        papers = reference_method(method)
        first = METHOD_ORDER.index(papers) if papers in METHOD_ORDER else len(METHOD_ORDER)
        return first, unique.index(method)

    return {m: i for i, m in enumerate(sorted(unique, key=key))}


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def sidecar_file(record: dict[str, Any]) -> str | None:
    """The path of a record's per-user sidecar as text (None when it has none)."""
    path = record_sidecar(record)
    return None if path is None else str(path)


def unlearn_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per ``unlearn`` record."""
    rows = []
    for record in records:
        if record.get("kind") != "unlearn":
            continue
        params, metrics = record["params"], record["metrics"]
        attack = metrics["attack"]
        average = attack.get("average", {})
        paper = average.get("paper_mlp", {})
        worst = average.get("worst case", {})
        rows.append(
            {
                "dataset": record["dataset"].get("label", params["dataset"]),
                "dataset_id": params["dataset"],
                "model": params["model"],
                "seed": params["seed"],
                "requirement": requirement_key(params["requirement"]),
                "method": params["method"],
                "unlearner": params.get("unlearner"),
                "HR@10": metrics["test"].get("HR@10"),
                "NDCG@10": metrics["test"].get("NDCG@10"),
                "paper_bacc": paper.get("bacc_mean"),
                "paper_f1": paper.get("micro_f1_mean"),
                "worst_bacc": worst.get("bacc_mean"),
                "worst_gap": worst.get("bacc_gap_mean"),
                "chance_bacc": worst.get("chance_bacc_mean", paper.get("chance_bacc_mean")),
                "worst_attackers": attack.get("worst_attackers", {}),
                "unlearn_seconds": record["wall"].get("unlearn"),
                "record": record["_path"],
                "per_user": sidecar_file(record),
            }
        )
    return pd.DataFrame(rows)


def timing_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per (timing record, method, request)."""
    rows = []
    for record in records:
        if record.get("kind") != "timing":
            continue
        for step, row in enumerate(record["metrics"]["rows"]):
            rows.append(
                {
                    "dataset": record["dataset"].get("label"),
                    "model": record["metrics"]["model"],
                    "step": step % max(1, len(record["params"]["sequence"])),
                    "method": row["method"],
                    "requirement": requirement_label(row["requirement"]),
                    "seconds": row["seconds"],
                    "calibrated": row.get("calibrated"),
                    "base_train_seconds": record["metrics"]["base_train_seconds"],
                    "record": record["_path"],
                }
            )
    return pd.DataFrame(rows)


def adversarial_records(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The grid records of the ``adversarial`` cells (with ``_path`` and ``_per_user``)."""
    out = []
    for record in records:
        if record.get("kind") != "adversarial":
            continue
        grid = dict(record["metrics"])
        grid["_path"] = record["_path"]
        grid["_per_user"] = sidecar_file(record)
        out.append(grid)
    return out


def advx_method_label(lambdas: dict[str, float], objective: str = "reversal") -> str:
    """``advx (λ=400)`` (several lambdas: ``advx (λ gender=400, age_raw=200)``); the bounded
    objective is ``advx-confusion (...)``, which the papers do not report."""
    name = "advx" if objective == "reversal" else f"advx-{objective.removeprefix('reversal-')}"
    values = {float(v) for v in lambdas.values()}
    if len(values) == 1:
        return f"{name} (λ={next(iter(values)):g})"
    return f"{name} (λ " + ", ".join(f"{a}={v:g}" for a, v in lambdas.items()) + ")"


def reference_method(method: str) -> str:
    """The papers' name of a displayed method (``advx (λ=400)`` -> ``advx``)."""
    return method.split(" (")[0]


def advx_unlearn_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """``unlearn_frame`` rows for the in-training adversarial cells of the LEGO protocol.

    LEGO Table 1 lists AdvX beside the post-hoc methods: every ``adversarial`` record trained
    on a ``loo`` split with at least one lambda > 0 becomes a row whose requirement is the
    attributes with a positive lambda, scored with the same cross-validated attackers.
    """

    rows = []
    for record in records:
        if record.get("kind") != "adversarial":
            continue
        grid = record["metrics"]
        lambdas = {a: v for a, v in (grid.get("lambdas") or {}).items() if v}
        cv = grid.get("leakage", {}).get("cv")
        if not lambdas or not cv or not str(grid.get("protocol", "")).startswith("loo"):
            continue
        attrs = [a for a in requirement_key(lambdas) if cv.get(a, {}).get("kind") == "categorical"]

        def average(attacker: str, metric: str, cv: dict = cv, attrs: list = attrs) -> Any:
            values = [cv[a].get(attacker, {}).get(metric) for a in attrs]
            return None if not values or None in values else float(np.mean(values))

        rows.append(
            {
                "dataset": record["dataset"].get("label", grid.get("dataset")),
                "dataset_id": record["params"].get("data"),
                "model": grid["model"],
                "seed": grid.get("seed"),
                "requirement": requirement_key(lambdas),
                "method": advx_method_label(lambdas, objective_of(grid)),
                "unlearner": "advx",
                "HR@10": grid["test"].get("HR@10"),
                "NDCG@10": grid["test"].get("NDCG@10"),
                "paper_bacc": average("paper_mlp", "bacc"),
                "paper_f1": average("paper_mlp", "micro_f1"),
                "worst_bacc": average("worst", "bacc"),
                "worst_gap": average("worst", "bacc_gap"),
                "chance_bacc": average("worst", "chance_bacc"),
                "worst_attackers": {a: cv[a]["worst"].get("attacker") for a in attrs},
                "unlearn_seconds": record["wall"].get("train"),
                "record": record["_path"],
                "per_user": sidecar_file(record),
            }
        )
    return pd.DataFrame(rows)


def read_per_user(path: str | None, metric: str = "NDCG@10") -> pd.Series | None:
    """A sidecar's per-user metric indexed by user id (None when absent)."""
    if path is None or not Path(path).exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        if metric not in data.files or "user_id" not in data.files:
            return None
        return pd.Series(data[metric], index=data["user_id"])


DEBIAS_METRICS = {
    "AUC": "AUC",
    "NDCG@5": "NDCG@5|positive_only",
    "Recall@5": "Recall@5|positive_only|n_pos",
    "NDCG@5 (all users)": "NDCG@5|all_users_nopos_ndcg1",
    "Recall@5 (all users, min(K, #pos))": "Recall@5|all_users_nopos_ndcg1|min_k_npos",
}
"""Report column -> key of a debias record's ``test`` metrics (conventions named)."""


def debias_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per ``debias`` record: dataset, method, seed and the test metrics (fractions)."""
    rows = []
    for record in records:
        if record.get("kind") != "debias":
            continue
        metrics = record["metrics"]
        test = metrics.get("test", {})
        row = {
            "dataset": metrics.get("dataset", record["params"].get("dataset")),
            "method": metrics.get("row")
            or record["params"].get("label")
            or metrics.get("method", record["params"].get("method")),
            "seed": metrics.get("seed"),
            "record": record["_path"],
        }
        row.update({column: test.get(key) for column, key in DEBIAS_METRICS.items()})
        rows.append(row)
    return pd.DataFrame(rows)
