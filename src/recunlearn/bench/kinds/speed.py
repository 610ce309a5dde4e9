"""Wall-time cells (they run alone: ``exclusive``): training seconds per epoch, a full audit, and
a removal method answering new and cached requirements.

Every cell records the torch thread count it ran with and the load average before it started
(in the record's ``machine``), so a timing is only compared with timings made alike.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from recunlearn.bench.registry import CellContext, CellOutput, register_kind

ML1M_SHARES = {
    "gender": (0.28, 0.72),
    "age": (0.22, 0.53, 0.25),
    "occupation": tuple([1 / 21] * 21),
}
"""Class shares of the synthetic timing labels (ML-1M's gender and binned age; occupation
uniform over its 21 codes)."""


def timing_matrix(n_users: int, dim: int, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """A float32 ``n_users x dim`` matrix whose first coordinates carry each attribute, and
    :class:`~recunlearn.protect.posthoc.base.AttributeLabels` with ML-1M's class balance."""
    from recunlearn.data.types import Attribute
    from recunlearn.protect.posthoc.base import AttributeLabels

    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(n_users, dim)).astype(np.float32)
    labels = {}
    for index, (name, shares) in enumerate(ML1M_SHARES.items()):
        codes = rng.choice(len(shares), size=n_users, p=np.asarray(shares) / sum(shares))
        matrix[:, index] += 0.8 * (codes - codes.mean()) / max(codes.std(), 1e-9)
        classes = tuple(f"{name}{c}" for c in range(len(shares)))
        labels[name] = AttributeLabels(Attribute(name, "categorical", classes), codes)
    return matrix, labels


@register_kind("train_speed", protocol="loo, validation off", exclusive=True)
def train_speed_cell(params: dict[str, Any], ctx: CellContext) -> CellOutput:
    """Seconds per training epoch of one model (median over epochs 2..N, validation off)."""
    import dataclasses

    import torch

    from recunlearn.data.loading import load_data
    from recunlearn.data.spec import DataSpec
    from recunlearn.data.splits import leave_one_out
    from recunlearn.models.registry import make_model

    threads = int(params.get("threads", ctx.threads))
    torch.set_num_threads(threads)
    dataset = load_data(DataSpec(name=params["dataset"], data_dir=ctx.runtime.get("data_dir")))
    split = dataclasses.replace(leave_one_out(dataset), valid=None)
    options = {"epochs": int(params.get("epochs", 10)), "seed": 0, "threads": threads}
    options.update(params.get("options") or {})
    model = make_model(params["model"], **options).fit(split, progress=False)
    seconds = np.asarray(model.epoch_seconds_[1:])  # the first epoch pays one-off costs
    n_train = int(split.train.nnz)
    return CellOutput(
        metrics={
            "model": params["model"],
            "setting": params.get("setting", "default"),
            "options": params.get("options") or {},
            "threads": threads,
            "train_interactions": n_train,
            "seconds_per_epoch_median": float(np.median(seconds)),
            "seconds_per_epoch_mean": float(seconds.mean()),
            "interactions_per_second": float(n_train / np.median(seconds)),
        },
        protocol={"split": "loo, validation off", "epochs": options["epochs"]},
        dataset={"label": dataset.label},
        wall={"train": float(sum(model.epoch_seconds_))},
    )


@register_kind("audit_speed", protocol="synthetic ML-1M-sized table", exclusive=True)
def audit_speed_cell(params: dict[str, Any], ctx: CellContext) -> CellOutput:
    """Wall time of a full audit (every attacker, k folds, 3 attributes) of a synthetic table."""
    from recunlearn.audit import DEFAULT_ATTACKERS, audit

    matrix, labels = timing_matrix(int(params["n_users"]), int(params["dim"]), 0)
    attributes = {name: (entry.attribute, entry.values) for name, entry in labels.items()}
    started = time.perf_counter()
    report = audit(
        matrix,
        attributes,
        attackers=params.get("attackers") or list(DEFAULT_ATTACKERS),
        n_folds=int(params.get("n_folds", 5)),
        n_jobs=int(params.get("jobs", 2)),
        progress=False,
    )
    seconds = time.perf_counter() - started
    return CellOutput(
        metrics={
            "seconds": seconds,
            "n_fits": int(report.meta["n_fits"]),
            "attacker_seconds": report.meta["attacker_seconds"],
            "workers": report.meta["workers"],
        },
        protocol={"table": f"{params['n_users']} x {params['dim']} synthetic, ML-1M balance"},
        wall={"audit": seconds},
    )


@register_kind("removal_speed", protocol="synthetic ML-1M-sized table", exclusive=True)
def removal_speed_cell(params: dict[str, Any], ctx: CellContext) -> CellOutput:
    """Seconds to answer a sequence of requirements with one method: a requirement naming an
    attribute not seen before, then requirements whose attributes are all cached (in memory or
    in the method's brick store)."""
    import tempfile

    from recunlearn.protect.posthoc.registry import make_unlearner
    from recunlearn.protect.requirement import Requirement

    matrix, labels = timing_matrix(int(params["n_users"]), int(params["dim"]), 0)
    options = dict(params.get("options") or {})
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix=".speed-store.tmp-", dir=ctx.out) as folder:
        unlearner = make_unlearner(params["method"], **options)
        store = folder if unlearner.uses_store else None
        unlearner.fit(matrix, labels, store=store)
        seen: set[str] = set()
        for raw in params["sequence"]:
            requirement = Requirement.parse(raw)
            new = [a for a in requirement.attributes if a not in seen]
            started = time.perf_counter()
            unlearner.transform(requirement)
            rows.append(
                {
                    "requirement": list(requirement.attributes),
                    "new_attributes": new,
                    "seconds": time.perf_counter() - started,
                }
            )
            seen.update(requirement.attributes)
    return CellOutput(
        metrics={"method": params["method"], "options": options, "requests": rows},
        protocol={"table": f"{params['n_users']} x {params['dim']} synthetic, ML-1M balance"},
        wall={"requests": float(sum(r["seconds"] for r in rows))},
    )
