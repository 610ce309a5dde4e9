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


@register_kind("personal_speed", protocol="synthetic ML-1M-sized dataset", exclusive=True)
def personal_speed_cell(params: dict[str, Any], ctx: CellContext) -> CellOutput:
    """Seconds to answer per-user requirement tables for every user of an ML-1M-sized synthetic
    dataset (or of the real ``dataset`` named in the params) with one method: fitted once on a
    briefly trained base model (its fit seconds are recorded with the options used; the real
    fit costs are in the ``personal`` grids), then
    ``tables`` fresh random tables (each user draws one non-empty combination of the
    attributes), each answered for every user. For brick methods the first table computes
    every attribute, the later ones only combine cached bricks."""
    import tempfile

    import torch

    from recunlearn.data.loading import load_data
    from recunlearn.data.spec import DataSpec
    from recunlearn.data.splits import leave_one_out
    from recunlearn.data.synthetic import make_synthetic
    from recunlearn.models.registry import make_model
    from recunlearn.protect.personal import PersonalRequirement, assemble
    from recunlearn.protect.posthoc.base import labels_from_dataset, model_scorer
    from recunlearn.protect.posthoc.registry import make_unlearner

    threads = int(params.get("threads", ctx.threads))
    torch.set_num_threads(threads)
    attributes = list(params.get("attributes", ["gender", "age", "occupation"]))
    if params.get("dataset"):
        dataset = load_data(DataSpec(name=params["dataset"], data_dir=ctx.runtime.get("data_dir")))
        source = dataset.label
    else:
        dataset = make_synthetic(
            n_users=int(params["n_users"]),
            n_items=int(params["n_items"]),
            n_interactions_per_user=tuple(params.get("interactions", (20, 60))),
            seed=0,
        )
        source = "synthetic"
    split = leave_one_out(dataset)
    model_options = {"epochs": 2, "seed": 0, "threads": threads}
    model_options.update(params.get("model_options") or {})
    model = make_model(params["model"], **model_options).fit(split, progress=False)
    scorer = model_scorer(model, split.test.known, train=split.train, valid=split.valid)
    labels = {
        name: entry for name, entry in labels_from_dataset(dataset).items() if name in attributes
    }
    original = model.user_embeddings()
    options = dict(params.get("options") or {})
    requests: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix=".speed-store.tmp-", dir=ctx.out) as folder:
        method = make_unlearner(params["method"], **options)
        started = time.perf_counter()
        method.fit(original, labels, scorer=scorer, store=folder if method.uses_store else None)
        fit_seconds = time.perf_counter() - started
        for seed in range(int(params.get("tables", 3))):
            table = PersonalRequirement.random(dataset.n_users, attributes, seed)
            log: dict[str, Any] = {}
            assemble(method, original, table, log=log)
            requests.append(
                {
                    "table_seed": seed,
                    "groups": len(log.get("groups", {})),
                    "seconds": log["seconds"],
                    "requirement_seconds": {
                        name: group["seconds"] for name, group in log.get("groups", {}).items()
                    },
                }
            )
    return CellOutput(
        metrics={
            "method": params["method"],
            "setting": params.get("setting", ""),
            "options": options,
            "model": params["model"],
            "data": source,
            "users": int(dataset.n_users),
            "dim": int(original.shape[1]),
            "fit_seconds": fit_seconds,
            "requests": requests,
        },
        protocol={
            "table": f"{source} {dataset.n_users} users x {dataset.n_items} items, "
            f"{params['model']} trained {model_options['epochs']} epochs; random per-user "
            f"requirements over {'/'.join(attributes)}"
        },
        wall={"fit": fit_seconds, "requests": float(sum(r["seconds"] for r in requests))},
    )
