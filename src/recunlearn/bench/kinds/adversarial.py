"""``adversarial`` cells: one point of the in-training lambda grid (AdvX-MultVAE).

Each cell trains the model with gradient-reversal heads at one lambda per attribute (or
without heads: the base cell) through :func:`recunlearn.experiments.adversarial.run_cell`, which
evaluates it and attacks the frozen representation (``user_kfold``: attackers train on the
fold's training users and are tested on its test users -- the exact AdvX attacker plus the
configured audit attackers; ``loo``: LEGO's cross-validation). The grid record is kept whole
under ``metrics``, so :mod:`recunlearn.report.adversarial` reads it unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recunlearn.bench.data import data_spec
from recunlearn.bench.registry import CellContext, CellOutput, register_kind

DROPPED = ("versions", "created")


@register_kind("adversarial", protocol="user_kfold_full")
def adversarial_cell(params: dict[str, Any], ctx: CellContext) -> CellOutput:
    """Train with adversary heads at one lambda setting; evaluate and attack."""
    from recunlearn.evaluation.evaluator import evaluate
    from recunlearn.experiments.adversarial import GridSetup, run_cell
    from recunlearn.protect.adversarial.config import AdversaryConfig

    dataset = ctx.dataset(params["data"])
    setup = GridSetup(
        model=params["model"],
        protocol=params["protocol"],
        adversary=AdversaryConfig.from_cell_payload(params["adversary"]),
        model_options=dict(params["model_options"]),
        split_params=dict(params["split_params"]),
        attackers=tuple(params["attackers"]),
        label_holdout=float(params["label_holdout"]),
    )
    kept: dict[str, np.ndarray] = {}

    def keep(model: Any, split: Any) -> None:
        result = evaluate(model, split.test, ks=(10,), metrics=("HR", "NDCG"))
        frame = result.per_user
        kept["user_id"] = dataset.user_ids[frame["user"].to_numpy()]
        for name in ("HR@10", "NDCG@10"):
            kept[name] = frame[name].to_numpy(dtype=float)

    spec = data_spec(
        params["data"], ctx.runtime.get("data_dir"), ctx.runtime.get("attributes_path")
    )
    record = run_cell(
        dataset,
        setup,
        params["lambdas"],
        int(params["replicate"]),
        data_spec=spec,
        on_model=keep,
    )
    fingerprint = record.get("dataset_fingerprint")
    attack = (
        "attackers train on the fold's training users, tested on its test users "
        "(AdvX attacker + audit attackers)"
        if params["protocol"] == "user_kfold"
        else "stratified 5-fold CV over all labelled users (LEGO)"
        + (f"; {params['label_holdout']:.0%} labels held out" if params["label_holdout"] else "")
    )
    return CellOutput(
        metrics={k: v for k, v in record.items() if k not in DROPPED},
        protocol={"split": record["protocol"], "attack": attack, "attackers": params["attackers"]},
        dataset={"label": dataset.label, "fingerprint": fingerprint},
        per_user=kept or None,
        wall={"train": float(record["train_seconds"]), "audit": float(record["audit_seconds"])},
    )
