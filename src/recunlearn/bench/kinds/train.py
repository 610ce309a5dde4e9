"""``train`` cells: one base model (dataset x model x seed), trained once and reused.

The run directory ``OUT/runs/<cell hash>`` is written atomically by the run pipeline; when it
already exists (a killed benchmark that trained the model but did not write the record) it is
loaded instead of trained again.
"""

from __future__ import annotations

import shutil
from typing import Any

import pandas as pd

from recunlearn.bench.data import data_spec
from recunlearn.bench.registry import CellContext, CellOutput, register_kind

KEPT_METRICS = (
    "dataset",
    "protocol",
    "split_params",
    "model",
    "test",
    "valid",
    "test_users",
    "train_interactions",
    "best_epoch",
    "epochs_run",
    "train_seconds",
    "seconds_per_epoch",
    "interactions_per_second",
    "wall_seconds",
)


def run_spec(params: dict[str, Any], ctx: CellContext):  # -> RunSpec
    """The run spec of a train cell, with the data files located."""
    from recunlearn.experiments.spec import RunSpec

    payload = dict(params["spec"])
    spec = data_spec(
        payload["data"], ctx.runtime.get("data_dir"), ctx.runtime.get("attributes_path")
    )
    payload["data"] = spec.model_dump(mode="json")
    return RunSpec.model_validate(payload)


def per_user_arrays(frame: pd.DataFrame, columns: tuple[str, ...] = ("HR@10", "NDCG@10")) -> dict:
    """``user_id`` and the given metric columns of a per-user frame, as arrays."""
    out = {"user_id": frame["user_id"].to_numpy()}
    for name in columns:
        if name in frame.columns:
            out[name] = frame[name].to_numpy(dtype=float)
    return out


@register_kind("train", protocol="loo_full")
def train_cell(params: dict[str, Any], ctx: CellContext) -> CellOutput:
    """Train (or reuse) a base model and evaluate it on the test split."""
    from recunlearn.core.errors import DataError
    from recunlearn.data.fingerprint import dataset_fingerprint
    from recunlearn.experiments import rundir
    from recunlearn.experiments.train import load_trained, train_run

    spec = run_spec(params, ctx)
    dataset = ctx.dataset(params["spec"]["data"])
    path = ctx.run_dir(ctx.cell_hash)
    reused = path.exists()
    if reused:
        try:
            load_trained(path, dataset=dataset)
        except DataError:
            shutil.rmtree(path)
            reused = False
    if not reused:
        train_run(spec, path, progress=False, dataset=dataset)
    metrics = rundir.read_json(path / rundir.METRICS)
    kept = {k: metrics[k] for k in KEPT_METRICS if k in metrics}
    kept["run_dir"] = str(path.relative_to(ctx.out))
    kept["run_config_hash"] = spec.fingerprint()
    kept["reused_run_dir"] = reused
    kept["model_config"] = rundir.read_json(path / rundir.CONFIG).get("model_config")
    kept["threads"] = (kept["model_config"] or {}).get("threads") or ctx.threads
    frame = pd.read_parquet(path / rundir.PER_USER)
    return CellOutput(
        metrics=kept,
        protocol={
            "split": metrics.get("protocol"),
            "split_params": metrics.get("split_params"),
            "evaluation": spec.evaluation.model_dump(mode="json"),
        },
        dataset={"label": dataset.label, "fingerprint": dataset_fingerprint(dataset)},
        per_user=per_user_arrays(frame),
        wall={"train": float(metrics.get("train_seconds") or 0.0)},
    )
