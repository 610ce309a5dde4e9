"""The train / evaluate pipeline behind ``recunlearn train`` and ``recunlearn evaluate``."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file

from recunlearn.audit.guard import GuardSettings, LeakageCheck, check_leakage
from recunlearn.core.atomic import check_writable
from recunlearn.core.errors import ConfigError, DataError
from recunlearn.data.loading import load_data
from recunlearn.data.split_types import Split
from recunlearn.data.splits import make_split
from recunlearn.data.types import Dataset
from recunlearn.evaluation.evaluator import EvalResult, evaluate
from recunlearn.evaluation.spec import EvalSpec
from recunlearn.experiments import rundir
from recunlearn.experiments.spec import RunSpec
from recunlearn.models.base import Recommender
from recunlearn.models.diagnostics import dead_dimensions, dead_dimensions_warning
from recunlearn.models.registry import make_model
from recunlearn.report.guard import leakage_markdown

logger = logging.getLogger(__name__)


@dataclass
class TrainedRun:
    """A fitted model with everything it was trained and evaluated on.

    Attributes:
        spec: the run specification.
        dataset: the filtered dataset.
        split: the split the model was trained on.
        model: the fitted recommender.
        metrics: the content of ``metrics.json``.
        test: the test evaluation (per-user frame, summary, top-K lists).
        path: the run directory, when one was written or read.
        leakage: the guard's audit of a model trained with adversaries (transductive view).
    """

    spec: RunSpec
    dataset: Dataset
    split: Split
    model: Recommender
    metrics: dict[str, Any] = field(default_factory=dict)
    test: EvalResult | None = None
    path: Path | None = None
    leakage: LeakageCheck | None = None


def evaluate_test(
    model: Recommender,
    split: Split,
    spec: EvalSpec,
    *,
    return_topk: int = 0,
    user_embeddings: torch.Tensor | None = None,
) -> EvalResult:
    """Evaluate ``model`` on the test part of ``split`` as ``spec`` says (optionally with a
    replacement user-embedding matrix)."""
    return evaluate(
        model,
        split.test,
        user_embeddings=user_embeddings,
        ks=spec.ks,
        metrics=spec.metrics,
        mode=spec.mode,
        n_negatives=spec.n_negatives,
        seed=spec.seed,
        return_topk=return_topk if spec.mode == "full" else 0,
    )


def _metrics(model: Recommender, split: Split, test: EvalResult, spec: RunSpec) -> dict[str, Any]:
    valid = None
    if split.valid is not None:
        valid = evaluate(model, split.valid, ks=spec.evaluation.ks).summary
    seconds = model.epoch_seconds_
    per_epoch = float(np.mean(seconds)) if seconds else float("nan")
    n_train = int(split.train.nnz)
    users = model.user_embeddings()
    return {
        "dataset": split.dataset.label,
        "protocol": f"{split.protocol}_{test.mode}",
        "split_params": split.params,
        "model": spec.model,
        "test": test.summary,
        "valid": valid,
        "test_users": int(test.details.get("n_users", len(test.per_user))),
        "train_interactions": n_train,
        "best_epoch": model.best_epoch_,
        "epochs_run": len(model.loss_log_),
        "train_seconds": model.train_seconds_,
        "seconds_per_epoch": per_epoch,
        "interactions_per_second": n_train / per_epoch if seconds else float("nan"),
        "loss_log": model.loss_log_,
        "valid_log": model.valid_log_,
        "user_dims": int(users.shape[1]),
        "dead_user_dims": dead_dimensions(users),
    }


def train_run(
    spec: RunSpec,
    out: str | Path | None = None,
    *,
    progress: bool = True,
    overwrite: bool = False,
    dataset: Dataset | None = None,
    guard: GuardSettings | None = None,
) -> TrainedRun:
    """Load data, split, train, evaluate and (when ``out`` is given) write a run directory.

    Args:
        spec: the run specification.
        out: run directory to create; nothing is written when None.
        progress: show a progress bar.
        overwrite: replace an existing run directory.
        dataset: an already loaded dataset (must be what ``spec.data`` describes).
        guard: with adversaries, audit the trained representation before it is written
            (every attacker of the settings, k-fold over the labelled users) and keep the
            audit in the run directory.

    Raises:
        ConfigError: unknown model / option / protocol, or ``out`` exists without overwrite.
        DataError: problems in the data.
    """
    if out is not None:
        check_writable(out, overwrite=overwrite)
    model = make_model(spec.model, **spec.model_options)  # fail fast on bad options
    if dataset is None:
        dataset = load_data(spec.data)
    split = make_split(dataset, spec.split.protocol, **spec.split.params)
    started = time.perf_counter()
    adversary = None
    if spec.adversary is None:
        model.fit(split, progress=progress)
    else:
        from recunlearn.protect.adversarial.trainer import AdversarialTrainer

        adversary = AdversarialTrainer(spec.adversary).fit(model, split, progress=progress)
    test = evaluate_test(model, split, spec.evaluation, return_topk=spec.evaluation.topk)
    metrics = _metrics(model, split, test, spec)
    if adversary is not None:
        metrics["adversary"] = adversary.report()
    metrics["wall_seconds"] = time.perf_counter() - started
    warning = dead_dimensions_warning(metrics["dead_user_dims"], metrics["user_dims"])
    if warning:
        logger.warning("%s: %s", spec.model, warning)
    run = TrainedRun(spec, dataset, split, model, metrics, test)
    if spec.adversary is not None and guard is not None:
        run.leakage = check_leakage(
            model.user_embeddings(),
            dataset,
            list(spec.adversary.attributes),
            attackers=guard.attackers,
            n_folds=guard.n_folds,
            seed=guard.seed,
            n_jobs=guard.n_jobs,
        )
        metrics["leakage"] = {
            "table": run.leakage.to_dict()["table"],
            "worst_distance": run.leakage.worst_distance(),
        }
    if out is not None:
        write_run(run, out, overwrite=overwrite)
    return run


def recommendations_frame(dataset: Dataset, users: np.ndarray, result: EvalResult) -> pd.DataFrame:
    """Top-K lists of an evaluation as ``user_id, rank, item_id, score`` (raw ids).

    A user with fewer than K items left to rank gets a shorter list: the masked (known) items,
    ranked last at -inf, are never written as recommendations.
    """
    items = result.details.get("topk_items")
    if items is None or len(items) == 0:
        return pd.DataFrame(columns=["user_id", "rank", "item_id", "score"])
    k = items.shape[1]
    frame = pd.DataFrame(
        {
            "user_id": np.repeat(dataset.user_ids[users], k),
            "rank": np.tile(np.arange(1, k + 1), len(users)),
            "item_id": dataset.item_ids[items.ravel()],
            "score": result.details["topk_scores"].ravel().astype(np.float32),
        }
    )
    return frame[np.isfinite(frame["score"].to_numpy())].reset_index(drop=True)


def per_user_frame(dataset: Dataset, result: EvalResult) -> pd.DataFrame:
    """Per-user metrics keyed by raw ``user_id``."""
    frame = result.per_user.copy()
    frame.insert(0, "user_id", dataset.user_ids[frame["user"].to_numpy()])
    return frame.drop(columns="user")


def write_run(run: TrainedRun, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``run`` as a run directory, atomically (temporary folder, then rename)."""
    files: dict[str, Any] = {
        rundir.CONFIG: rundir.config_payload(run.spec, run.dataset, resolved_config(run.model)),
        rundir.WEIGHTS: run.model.state_tensors(),
        rundir.USER_EMBEDDINGS: rundir.embedding_frame(
            run.dataset.user_ids, run.model.user_embeddings(), "user_id"
        ),
    }
    try:
        files[rundir.ITEM_EMBEDDINGS] = rundir.embedding_frame(
            run.dataset.item_ids, run.model.item_embeddings(), "item_id"
        )
    except NotImplementedError:
        logger.info("%s has no item table: %s not written", run.spec.model, rundir.ITEM_EMBEDDINGS)
    files[rundir.METRICS] = run.metrics
    if run.leakage is not None:
        files[rundir.LEAKAGE_JSON] = run.leakage.to_dict()
        files[rundir.LEAKAGE_MD] = leakage_markdown(run.leakage) + "\n"
    if run.test is not None:
        files[rundir.PER_USER] = per_user_frame(run.dataset, run.test)
        files[rundir.RECOMMENDATIONS] = recommendations_frame(
            run.dataset, run.split.test.users, run.test
        )
    run.path = rundir.write_run_directory(out, files, overwrite=overwrite)
    return run.path


def resolved_config(model: Recommender) -> dict[str, Any]:
    """Every option of ``model``'s config, defaults included (what ``config.json`` pins)."""
    return model.config.model_dump(mode="json")


def _model_as_trained(spec: RunSpec, payload: dict[str, Any], path: Path) -> Recommender:
    """The model of a run directory with the configuration it was trained with.

    Uses the resolved ``model_config`` when the run has one (written since 2026-12-02), so a
    default changed since then does not change the model; older runs fall back to the spec's
    options on today's defaults.
    """
    resolved = payload.get("model_config")
    if resolved is None:
        return make_model(spec.model, **spec.model_options)
    if not isinstance(resolved, dict):
        raise DataError("must be an object of model options", path=path, field="model_config")
    try:
        return make_model(spec.model, **resolved)
    except ConfigError as exc:
        raise DataError(str(exc), path=path, field="model_config") from exc


def load_trained(
    path: str | Path,
    *,
    dataset: Dataset | None = None,
    data_dir: str | Path | None = None,
    attributes_path: str | Path | None = None,
) -> TrainedRun:
    """Rebuild a fitted model from a run directory (no training).

    Args:
        path: the run directory.
        dataset: the run's data, already loaded (checked against its fingerprint).
        data_dir: read the data from here instead of the recorded place (a data folder that
            moved); for csv/parquet data, the interactions file.
        attributes_path: the same for the user-attribute table of csv/parquet data.

    Raises:
        DataError: missing or invalid files, data that cannot be loaded, or data whose
            fingerprint differs from the run's.
    """
    path = Path(path)
    if not path.is_dir():
        raise DataError("not a run directory", path=path)
    spec, payload = rundir.read_config(path)
    spec = rundir.relocate_data(spec, data_dir, attributes_path)
    if dataset is None:
        dataset = rundir.load_run_data(spec, path)
    rundir.check_fingerprint(payload, dataset, path)
    split = make_split(dataset, spec.split.protocol, **spec.split.params)
    weights = path / rundir.WEIGHTS
    if not weights.exists():
        raise DataError("missing weights", path=weights)
    model = _model_as_trained(spec, payload, path / rundir.CONFIG)
    try:
        model.load_state(split, load_file(str(weights)))
    except RuntimeError as exc:
        raise DataError(f"weights do not fit the model: {exc}", path=weights) from exc
    metrics = rundir.read_json(path / rundir.METRICS) if (path / rundir.METRICS).exists() else {}
    return TrainedRun(spec, dataset, split, model, metrics, None, path)
