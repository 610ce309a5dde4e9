"""Post-hoc unlearning of a trained run: protected embeddings, evaluation, a new run directory.

The new run directory has the layout of a trained run (see :mod:`recunlearn.experiments.rundir`):
the source model's weights are copied unchanged, ``user_embeddings.parquet`` holds the
protected matrix, and ``recommendations.parquet`` / ``per_user_metrics.parquet`` come from
scoring with it (``score(users, user_embeddings=U*)``). ``config.json`` carries the source
run's spec plus an ``unlearning`` section (method, options, requirement, source run).

Nothing protected is written unaudited: unless disabled, the leakage guard
(:func:`recunlearn.audit.guard.check_leakage`) attacks the protected matrix with the full
attacker suite in the transductive, held-out and transfer views, and its verdicts are written
beside the matrix (``leakage.json``, ``leakage.md``).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from recunlearn.audit.guard import GuardSettings, LeakageCheck, check_leakage
from recunlearn.core.atomic import check_writable
from recunlearn.data.types import Dataset
from recunlearn.evaluation.evaluator import EvalResult
from recunlearn.experiments import rundir
from recunlearn.experiments.train import (
    TrainedRun,
    evaluate_test,
    load_trained,
    per_user_frame,
    recommendations_frame,
    resolved_config,
)
from recunlearn.protect.posthoc.base import (
    AttributeLabels,
    Unlearner,
    heldout_users,
    hide_labels,
    labels_from_dataset,
    model_scorer,
)
from recunlearn.protect.posthoc.registry import make_unlearner
from recunlearn.protect.requirement import Requirement
from recunlearn.report.guard import leakage_markdown


@dataclass
class UnlearnedRun:
    """The outcome of :func:`unlearn_run`."""

    source: TrainedRun
    unlearner: Unlearner
    requirement: Requirement
    protected: torch.Tensor
    before: EvalResult
    after: EvalResult
    metrics: dict[str, Any]
    leakage: LeakageCheck | None = None
    path: Path | None = None


def _evaluate(run: TrainedRun, matrix: torch.Tensor | None) -> EvalResult:
    spec = run.spec.evaluation
    return evaluate_test(run.model, run.split, spec, return_topk=spec.topk, user_embeddings=matrix)


def _unlearner_log(unlearner: Unlearner) -> dict[str, Any]:
    logs = getattr(unlearner, "calibration_logs_", {})
    out: dict[str, Any] = {
        "calibration": {
            name: {
                "steps": log.steps,
                "eps": log.eps,
                "projection_rate": log.projection_rate,
                "distance": log.distance,
                "distance_over_eps": log.distance_ratio,
                "seconds": log.seconds,
                "vclub_first": log.vclub[0] if log.vclub else None,
                "vclub_last": log.vclub[-1] if log.vclub else None,
            }
            for name, log in logs.items()
        }
    }
    if hasattr(unlearner, "logs_"):
        out["sequential"] = unlearner.logs_
    weights = getattr(unlearner, "weights_", None)
    if weights is not None:
        out["combination_weights"] = [float(w) for w in weights]
    return out


def unlearn_run(
    source: str | Path,
    method: str,
    forget: Requirement | str | list[str],
    out: str | Path | None = None,
    *,
    options: dict[str, Any] | None = None,
    store: str | Path | None = None,
    overwrite: bool = False,
    dataset: Dataset | None = None,
    guard: GuardSettings | None = GuardSettings(),
    data_dir: str | Path | None = None,
    attributes_path: str | Path | None = None,
) -> UnlearnedRun:
    """Protect a trained run's user embeddings and write the result as a new run directory.

    Args:
        source: a trained run directory.
        method: a name of :data:`recunlearn.protect.posthoc.registry.UNLEARNERS`.
        forget: the attributes to forget (``"gender,age"``).
        out: the new run directory (nothing written when None).
        options: the unlearner's options.
        store: a brick-store folder (methods with ``uses_store``): per-attribute state is
            reused and saved.
        overwrite: replace an existing ``out``.
        dataset: the source run's data, already loaded (checked against its fingerprint).
        guard: how the protected matrix is audited before it is written; None skips the
            audit (the run directory then says so).
        data_dir, attributes_path: where the source run's data is now, when it moved since
            the run was trained (see :func:`recunlearn.experiments.train.load_trained`).
    """
    if out is not None:
        check_writable(out, overwrite=overwrite)
    requirement = Requirement.parse(forget)
    unlearner = make_unlearner(method, **(options or {}))
    run = load_trained(source, dataset=dataset, data_dir=data_dir, attributes_path=attributes_path)
    original = run.model.user_embeddings()
    started = time.perf_counter()
    scorer = model_scorer(run.model, run.split.test.known)
    labels = labels_from_dataset(run.dataset)
    unlearner.fit(original, labels, scorer=scorer, store=store)
    protected = unlearner.transform(requirement)
    seconds = time.perf_counter() - started
    leakage = None
    if guard is not None:
        leakage = guard_check(
            run, method, options or {}, requirement, original, protected, labels, guard, store
        )
    before, after = _evaluate(run, None), _evaluate(run, protected)
    metrics = {
        "dataset": run.dataset.label,
        "model": run.spec.model,
        "method": method,
        "requirement": list(requirement.attributes),
        "options": unlearner.config.model_dump(mode="json"),
        "before": before.summary,
        "after": after.summary,
        "unlearn_seconds": seconds,
        "timings": getattr(unlearner, "timings_", {}),
        "distance": float(torch.linalg.vector_norm(protected - original)),
        **_unlearner_log(unlearner),
        "leakage": None
        if leakage is None
        else {
            "table": leakage.to_dict()["table"],
            "worst_distance": leakage.worst_distance(),
            "guard": asdict(guard),
        },
    }
    result = UnlearnedRun(run, unlearner, requirement, protected, before, after, metrics, leakage)
    if out is not None:
        write_unlearned(result, Path(out), overwrite=overwrite)
    return result


def guard_check(
    run: TrainedRun,
    method: str,
    options: dict[str, Any],
    requirement: Requirement,
    original: torch.Tensor,
    protected: torch.Tensor,
    labels: dict[str, AttributeLabels],
    guard: GuardSettings,
    store: str | Path | None = None,
    *,
    transfer: bool = True,
    audit_original: bool = True,
) -> LeakageCheck:
    """The leakage guard of one protection: transductive, transfer and (when the settings ask
    for it) held-out views, the last one from a second fit without the hidden users' labels.

    ``transfer=False`` leaves out the original matrix (no before and no transfer view);
    ``audit_original=False`` keeps the transfer view but not the original's own audit."""
    heldout = None
    if guard.heldout_fraction > 0:
        hidden = heldout_users(len(original), guard.heldout_fraction, guard.seed)
        second = make_unlearner(method, **options)
        scorer = model_scorer(run.model, run.split.test.known)
        second.fit(original, hide_labels(labels, hidden), scorer=scorer, store=store)
        heldout = (second.transform(requirement), hidden)
    return check_leakage(
        protected,
        run.dataset,
        requirement.attributes,
        original=original if transfer else None,
        heldout=heldout,
        attackers=guard.attackers,
        n_folds=guard.n_folds,
        seed=guard.seed,
        n_jobs=guard.n_jobs,
        audit_original=audit_original,
    )


def _source_hash(run: TrainedRun) -> str:
    """The config hash the source run recorded (its spec's, unless its data was relocated)."""
    assert run.path is not None
    recorded = rundir.read_json(run.path / rundir.CONFIG).get("config_hash")
    return str(recorded) if recorded else run.spec.fingerprint()


def write_unlearned(result: UnlearnedRun, out: Path, *, overwrite: bool = False) -> Path:
    """Write an unlearned run directory atomically."""
    run = result.source
    assert run.path is not None
    payload = rundir.config_payload(run.spec, run.dataset, resolved_config(run.model))
    payload["unlearning"] = {
        "method": result.metrics["method"],
        "options": result.metrics["options"],
        "requirement": result.metrics["requirement"],
        "source_run": str(Path(run.path).resolve()),
        "source_config_hash": _source_hash(run),
    }
    files: dict[str, Any] = {
        rundir.CONFIG: payload,
        rundir.WEIGHTS: run.path / rundir.WEIGHTS,
        rundir.USER_EMBEDDINGS: rundir.embedding_frame(
            run.dataset.user_ids, result.protected, "user_id"
        ),
        rundir.METRICS: result.metrics,
        rundir.PER_USER: per_user_frame(run.dataset, result.after),
        rundir.RECOMMENDATIONS: recommendations_frame(
            run.dataset, run.split.test.users, result.after
        ),
    }
    if (run.path / rundir.ITEM_EMBEDDINGS).exists():
        files[rundir.ITEM_EMBEDDINGS] = run.path / rundir.ITEM_EMBEDDINGS
    if result.leakage is not None:
        files[rundir.LEAKAGE_JSON] = result.leakage.to_dict()
        files[rundir.LEAKAGE_MD] = leakage_markdown(result.leakage) + "\n"
    result.path = rundir.write_run_directory(out, files, kind="unlearned", overwrite=overwrite)
    return result.path
