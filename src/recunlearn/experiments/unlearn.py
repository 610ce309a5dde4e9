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

Per-user requirements (``requirements=``, a ``user_id,requirement`` table): each user's row is
protected under that user's own requirement (:func:`recunlearn.protect.personal.assemble`; the
per-user methods answer in one pass). The guard then attacks each attribute over the users
who asked for it (the others' labels are not used), in the same views; the table is copied to
``requirements.csv`` in the new run directory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from recunlearn.audit.guard import GuardSettings, LeakageCheck, check_leakage
from recunlearn.core.atomic import check_writable
from recunlearn.core.errors import ConfigError, DataError
from recunlearn.data.types import MISSING_CODE, Dataset
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
from recunlearn.protect.personal import PersonalRequirement, assemble
from recunlearn.protect.personal.base import PersonalUnlearner
from recunlearn.protect.posthoc.base import (
    AttributeLabels,
    Unlearner,
    heldout_masks,
    heldout_users,
    hide_labels,
    labels_from_dataset,
    model_scorer,
)
from recunlearn.protect.posthoc.registry import make_unlearner
from recunlearn.protect.requirement import Requirement
from recunlearn.report.guard import leakage_markdown

REQUIREMENTS_CSV = "requirements.csv"


@dataclass
class UnlearnedRun:
    """The outcome of :func:`unlearn_run`."""

    source: TrainedRun
    unlearner: Unlearner
    requirement: Requirement | None
    protected: torch.Tensor
    before: EvalResult
    after: EvalResult
    metrics: dict[str, Any]
    leakage: LeakageCheck | None = None
    path: Path | None = None
    personal: PersonalRequirement | None = None


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
    if hasattr(unlearner, "logs_"):  # the per-user methods' training trace
        out["training"] = unlearner.logs_
    weights = getattr(unlearner, "weights_", None)
    if weights is not None:
        out["combination_weights"] = [float(w) for w in weights]
    return out


def unlearn_run(
    source: str | Path,
    method: str,
    forget: Requirement | str | list[str] | None,
    out: str | Path | None = None,
    *,
    options: dict[str, Any] | None = None,
    store: str | Path | None = None,
    overwrite: bool = False,
    dataset: Dataset | None = None,
    guard: GuardSettings | None = GuardSettings(),
    data_dir: str | Path | None = None,
    attributes_path: str | Path | None = None,
    requirements: PersonalRequirement | str | Path | None = None,
    checkpoint: str | Path | None = None,
) -> UnlearnedRun:
    """Protect a trained run's user embeddings and write the result as a new run directory.

    Args:
        source: a trained run directory.
        method: a name of :data:`recunlearn.protect.posthoc.registry.UNLEARNERS`.
        forget: the attributes to forget for every user (``"gender,age"``); None with
            ``requirements``.
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
        requirements: per-user requirements instead of ``forget``: a
            :class:`~recunlearn.protect.personal.PersonalRequirement` or a ``user_id,
            requirement`` CSV file (users not in it ask for nothing).
        checkpoint: a folder where the per-user methods' fits (and the guard's held-out
            refits) save their training state and resume from it (see
            :meth:`~recunlearn.protect.personal.base.PersonalUnlearner.checkpoint_to`).

    Raises:
        ConfigError: both or neither of ``forget`` and ``requirements``.
        DataError: a requirements file naming unknown users or attributes (file and row).
    """
    if (forget is None) == (requirements is None):
        raise ConfigError("give either the attributes to forget or a per-user requirements table")
    if out is not None:
        check_writable(out, overwrite=overwrite)
    requirement = None if forget is None else Requirement.parse(forget)
    unlearner = _make(method, options or {}, checkpoint)
    run = load_trained(source, dataset=dataset, data_dir=data_dir, attributes_path=attributes_path)
    personal = None if requirements is None else personal_requirement(requirements, run.dataset)
    original = run.model.user_embeddings()
    started = time.perf_counter()
    scorer = run_scorer(run)
    labels = labels_from_dataset(run.dataset)
    unlearner.fit(original, labels, scorer=scorer, store=store)
    served: dict[str, Any] = {}
    if personal is None:
        assert requirement is not None
        protected = unlearner.transform(requirement)
    else:
        protected = assemble(unlearner, original, personal, log=served)
    seconds = time.perf_counter() - started
    leakage = None
    if guard is not None:
        check: Callable[..., LeakageCheck]
        asked: Requirement | PersonalRequirement
        if personal is None:
            assert requirement is not None
            check, asked = guard_check, requirement
        else:
            check, asked = personal_guard_check, personal
        common = (original, protected, labels, guard, store)
        leakage = check(run, method, options or {}, asked, *common, checkpoint=checkpoint)
    before, after = _evaluate(run, None), _evaluate(run, protected)
    metrics = {
        "dataset": run.dataset.label,
        "model": run.spec.model,
        "method": method,
        "requirement": None if requirement is None else list(requirement.attributes),
        **(
            {}
            if personal is None
            else {
                "requirements": {
                    "+".join(names) or "(none)": int(len(rows)) for names, rows in personal.groups()
                },
                "serve_seconds": served.get("seconds"),
            }
        ),
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
    result = UnlearnedRun(
        run, unlearner, requirement, protected, before, after, metrics, leakage, None, personal
    )
    if out is not None:
        write_unlearned(result, Path(out), overwrite=overwrite)
    return result


def run_scorer(run: TrainedRun) -> Any:
    """The differentiable scorer of a run's model for unlearners: known (training and
    validation) items at -inf, and the training interactions for methods trained by BPR
    through the frozen model (AFRL, SM)."""
    return model_scorer(
        run.model, run.split.test.known, train=run.split.train, valid=run.split.valid
    )


def personal_requirement(
    requirements: PersonalRequirement | str | Path, dataset: Dataset
) -> PersonalRequirement:
    """A per-user requirement over ``dataset``'s users and attributes (a CSV path is read).

    Raises:
        DataError: the file's problems (naming the file, the row and the field).
        ConfigError: a table built for another number of users.
    """
    names = [a.name for a in dataset.attributes]
    if isinstance(requirements, PersonalRequirement):
        if requirements.n_users != dataset.n_users:
            raise ConfigError(
                f"the requirement table has {requirements.n_users} users, the run {dataset.n_users}"
            )
        return requirements
    return PersonalRequirement.read_csv(requirements, dataset.user_ids, names)


def asking_attributes(
    dataset: Dataset,
    personal: PersonalRequirement,
    *,
    n_folds: int = 5,
    hidden: np.ndarray | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The attributes the guard can attack over the users who asked for them.

    Returns:
        ``{attribute: (Attribute, values)}`` with the labels of the users who did not ask set
        to unknown, and ``{attribute: reason}`` for attributes someone asked for that cannot
        be attacked (fewer than two classes with ``n_folds`` labelled askers, or, with the
        held-out users ``hidden``, a side without two classes).
    """
    out: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for name in personal.attributes:
        asking = personal.asking(name)
        if not asking.any():
            continue
        attribute = dataset.attribute(name)
        values = np.array(dataset.labels(name), copy=True)
        values[~asking] = MISSING_CODE if attribute.kind == "categorical" else np.nan
        reason = _unauditable(values, attribute.kind, n_folds, hidden)
        if reason is None:
            out[name] = (attribute, values)
        else:
            skipped[name] = f"{int(asking.sum())} users asked for it; {reason}"
    return out, skipped


def _unauditable(
    values: np.ndarray, kind: str, n_folds: int, hidden: np.ndarray | None
) -> str | None:
    """Why an attribute cannot be attacked over its askers (None when it can)."""
    known = values >= 0 if kind == "categorical" else ~np.isnan(values)
    if kind != "categorical":
        return None if known.sum() >= max(n_folds, 2) else f"{int(known.sum())} have a label"
    counts = np.bincount(values[known].astype(np.int64)) if known.any() else np.zeros(0)
    if int((counts >= n_folds).sum()) < 2:
        return f"fewer than two classes have {n_folds} labelled askers (the folds)"
    if hidden is not None:
        for side, mask in (("held-out", hidden), ("other", ~hidden)):
            if len(np.unique(values[known & mask])) < (2 if side == "other" else 1):
                return f"the {side} users have too few labelled askers"
    return None


def personal_guard_check(
    run: TrainedRun,
    method: str,
    options: dict[str, Any],
    personal: PersonalRequirement,
    original: torch.Tensor,
    protected: torch.Tensor,
    labels: dict[str, AttributeLabels],
    guard: GuardSettings,
    store: str | Path | None = None,
    *,
    transfer: bool = True,
    audit_original: bool = True,
    checkpoint: str | Path | None = None,
) -> LeakageCheck:
    """The leakage guard of a per-user protection: each attribute attacked over the users who
    asked for it (transductive, transfer and held-out views, the last one from a second fit
    without the hidden users' labels, served with the same requirements). Classes with fewer
    askers than folds are dropped from the k-fold views (counted in the reports' meta).

    Attributes that too few users asked for to be attacked are left out and listed in the
    check's ``skipped``. ``checkpoint``: the folder where a per-user method's held-out refit
    saves its training state (see :func:`unlearn_run`).

    Raises:
        DataError: no attribute can be attacked (nobody, or too few users, asked).
    """
    hidden = None
    if guard.heldout_fraction > 0:
        hidden = heldout_users(len(original), guard.heldout_fraction, guard.seed)
    attributes, skipped = asking_attributes(
        run.dataset, personal, n_folds=guard.n_folds, hidden=hidden
    )
    if not attributes:
        reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items()) or "nobody asked"
        raise DataError(
            f"the leakage guard cannot attack any attribute over the users who asked for it "
            f"({reasons}); ask for it with more users, or write without the guard"
        )
    heldout = None
    if hidden is not None:
        second = _refit_without(run, method, options, original, labels, hidden, store, checkpoint)
        heldout = (assemble(second, original, personal), hidden)
    return check_leakage(
        protected,
        attributes,
        list(attributes),
        heldout=heldout,
        rare_classes="drop",
        skipped=skipped,
        **_guard_options(guard, original if transfer else None, audit_original),
    )


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
    checkpoint: str | Path | None = None,
) -> LeakageCheck:
    """The leakage guard of one protection: transductive, transfer and (when the settings ask
    for it) held-out views, the last one from a second fit without the hidden users' labels
    (one fit per disjoint mask with ``guard.heldout_repeats`` > 1, pooled).

    ``transfer=False`` leaves out the original matrix (no before and no transfer view);
    ``audit_original=False`` keeps the transfer view but not the original's own audit;
    ``checkpoint``: the folder where a per-user method's refits save their training state."""
    heldout = None
    if guard.heldout_fraction > 0:
        heldout = []
        for hidden in heldout_masks(
            len(original), guard.heldout_fraction, guard.seed, guard.heldout_repeats
        ):
            second = _refit_without(
                run, method, options, original, labels, hidden, store, checkpoint
            )
            heldout.append((second.transform(requirement), hidden))
    return check_leakage(
        protected,
        run.dataset,
        requirement.attributes,
        heldout=heldout,
        **_guard_options(guard, original if transfer else None, audit_original),
    )


def _make(method: str, options: dict[str, Any], checkpoint: str | Path | None) -> Unlearner:
    """The method with its options; a per-user method saves its fits under ``checkpoint``."""
    unlearner = make_unlearner(method, **options)
    if checkpoint is not None and isinstance(unlearner, PersonalUnlearner):
        unlearner.checkpoint_to(Path(checkpoint))
    return unlearner


def _refit_without(
    run: TrainedRun,
    method: str,
    options: dict[str, Any],
    original: torch.Tensor,
    labels: dict[str, AttributeLabels],
    hidden: np.ndarray,
    store: str | Path | None,
    checkpoint: str | Path | None = None,
) -> Any:
    """The held-out view's second fit: the same method without the ``hidden`` users' labels."""
    second = _make(method, options, checkpoint)
    second.fit(original, hide_labels(labels, hidden), scorer=run_scorer(run), store=store)
    return second


def _guard_options(
    guard: GuardSettings, original: torch.Tensor | None, audit_original: bool
) -> dict[str, Any]:
    """The :func:`check_leakage` arguments both guards take from the settings."""
    return {
        "original": original,
        "attackers": guard.attackers,
        "n_folds": guard.n_folds,
        "seed": guard.seed,
        "n_jobs": guard.n_jobs,
        "audit_original": audit_original,
    }


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
        **(
            {}
            if result.personal is None
            else {"requirements": REQUIREMENTS_CSV, "groups": result.metrics["requirements"]}
        ),
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
    if result.personal is not None:
        files[REQUIREMENTS_CSV] = pd.DataFrame(
            {"user_id": run.dataset.user_ids, "requirement": result.personal.labels()}
        )
    if result.leakage is not None:
        files[rundir.LEAKAGE_JSON] = result.leakage.to_dict()
        files[rundir.LEAKAGE_MD] = leakage_markdown(result.leakage) + "\n"
    result.path = rundir.write_run_directory(out, files, kind="unlearned", overwrite=overwrite)
    return result.path
