"""The lambda grid of AdvX-MultVAE: one record per (lambdas, fold or seed) cell.

Each cell trains a model with adversaries at one lambda per attribute (or without adversaries:
the *base* cell), evaluates it on the test split and measures, on the frozen
``user_embeddings()`` after training, what an attacker still infers:

* ``user_kfold`` (Adv/AdvX protocol): attackers train on the training users and are tested on
  the fold's test users (``leakage.heldout``), with the AdvX attacker protocol run exactly
  (scaled target, :func:`~recunlearn.audit.advx_attacker.advx_attack`: ``advx``), the audit's
  attackers plus the AdvX attacker, and the worst case over them;
* ``loo`` (LEGO protocol): LEGO's transductive 5-fold cross-validation over all labelled users
  (``leakage.cv``); with ``label_holdout > 0`` a random share of the users' labels is hidden
  from the adversaries and the attackers trained on the others are tested on them
  (``leakage.heldout``). Note that MF / NCF / LightGCN rows of users whose labels the
  adversary never saw are not protected at all.

Records are plain JSON (one line each) with the run spec's hash, so a killed grid resumes
(:func:`run_grid` skips cells already in the output file).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from recunlearn.audit import AttackerSpec
from recunlearn.audit.advx_attacker import advx_attack
from recunlearn.core.errors import ConfigError
from recunlearn.core.provenance import versions
from recunlearn.core.serialize import json_safe
from recunlearn.data.fingerprint import dataset_fingerprint
from recunlearn.data.spec import DataSpec, SplitSpec
from recunlearn.data.split_types import Split
from recunlearn.data.splits import make_split
from recunlearn.data.types import Dataset
from recunlearn.evaluation.evaluator import evaluate
from recunlearn.experiments.adversarial_leakage import measure_leakage
from recunlearn.experiments.spec import RunSpec
from recunlearn.models.base import Recommender
from recunlearn.models.registry import make_model
from recunlearn.protect.adversarial.config import AdversaryConfig
from recunlearn.protect.adversarial.trainer import AdversarialTrainer

logger = logging.getLogger(__name__)

ADVX_LAMBDAS: tuple[float, ...] = (0.0, 1.0, 200.0, 400.0, 600.0, 800.0)
"""The lambda values AdvX-MultVAE searches per attribute (36 pairs for two attributes)."""

RANKING_METRICS = ("HR", "NDCG", "Recall", "RecallCapped")
"""Recall = hits / |T| (AdvX, rmet); RecallCapped = hits / min(k, |T|) (Adv-MultVAE, Liang)."""


def lambda_grid(values: Mapping[str, Sequence[float]]) -> list[dict[str, float]]:
    """Every combination of per-attribute lambdas, the first attribute varying slowest.

    >>> lambda_grid({"gender": [0, 400], "age_raw": [0, 200]})[1]
    {'gender': 0.0, 'age_raw': 200.0}
    """
    names = list(values)
    return [
        dict(zip(names, (float(v) for v in combo), strict=True))
        for combo in itertools.product(*(values[n] for n in names))
    ]


@dataclass(frozen=True)
class GridSetup:
    """What stays fixed across the cells of a grid.

    Attributes:
        model: registered model name.
        protocol: ``user_kfold`` (MultVAE, AdvX) or ``loo`` (LEGO).
        adversary: template config (attributes and options); each cell replaces the lambdas.
        model_options: model config overrides (``seed`` is set per replicate on ``loo``).
        split_params: extra split parameters (``fold`` / ``seed`` are set per replicate).
        attackers: audit attackers besides the AdvX attacker (names or specs).
        label_holdout: ``loo`` only: share of users whose labels the adversaries never see.
        ks: ranking cut-offs.
        audit_folds: folds of the cross-validated audit (``loo``).
        scales: continuous attribute -> divisor used to report scaled MAE (default: the
            adversary's ``scale``, else the largest absolute label).
    """

    model: str
    protocol: Literal["user_kfold", "loo"]
    adversary: AdversaryConfig
    model_options: Mapping[str, Any] = field(default_factory=dict)
    split_params: Mapping[str, Any] = field(default_factory=dict)
    attackers: tuple[str | AttackerSpec, ...] = ("logreg",)
    label_holdout: float = 0.0
    ks: tuple[int, ...] = (10, 20)
    audit_folds: int = 5
    scales: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.protocol not in ("user_kfold", "loo"):
            raise ConfigError(f"protocol must be 'user_kfold' or 'loo', got {self.protocol!r}")
        if not 0.0 <= self.label_holdout < 1.0:
            raise ConfigError(f"label_holdout must be in [0, 1), got {self.label_holdout}")
        if self.label_holdout and self.protocol != "loo":
            raise ConfigError("label_holdout applies to 'loo' (user_kfold holds out users)")

    @property
    def attacker_names(self) -> list[str]:
        """The audit attackers' names, as records store them (and their keys hash them)."""
        return [a if isinstance(a, str) else a.name for a in self.attackers]

    @property
    def attributes(self) -> list[str]:
        """The attributes the adversaries target (and the audit measures)."""
        return list(self.adversary.attributes)

    def split(self, dataset: Dataset, replicate: int) -> Split:
        """The split of one replicate: fold ``replicate`` (user_kfold) or the loo split."""
        params = dict(self.split_params)
        if self.protocol == "user_kfold":
            params["fold"] = replicate
        return make_split(dataset, self.protocol, **params)

    def options(self, replicate: int) -> dict[str, Any]:
        """Model options of one replicate (``loo``: the replicate is the model seed)."""
        options = dict(self.model_options)
        if self.protocol == "loo":
            options["seed"] = replicate
        return options

    def scale(self, dataset: Dataset, name: str) -> float:
        """Divisor of a continuous attribute's MAE in the scaled report."""
        if name in self.scales:
            return float(self.scales[name])
        spec = self.adversary.attributes.get(name)
        if spec is not None and spec.scale is not None:
            return float(spec.scale)
        values = dataset.labels(name)
        return float(np.nanmax(np.abs(values)))


def _hidden_users(dataset: Dataset, fraction: float, replicate: int) -> np.ndarray:
    """Boolean mask of the users whose labels are hidden (seeded independently of the data)."""
    if fraction <= 0:
        return np.zeros(dataset.n_users, dtype=bool)
    rng = np.random.default_rng([replicate, 0xAD7E])
    return rng.random(dataset.n_users) < fraction


def _record_key(record: Mapping[str, Any]) -> str:
    payload = {
        "config_hash": record["config_hash"],
        "dataset_fingerprint": record["dataset_fingerprint"],
        "label_holdout": record["label_holdout"],
        "attackers": record["attackers"],
    }
    if record.get("lambdas") is None:
        # a base cell has no adversary config to name the attributes it audits: a grid over
        # other attributes must audit it again rather than reuse a record without them
        payload["audited"] = sorted(record["audited"])
    text = json.dumps(payload, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_cell(
    dataset: Dataset,
    setup: GridSetup,
    lambdas: Mapping[str, float] | None,
    replicate: int,
    *,
    split: Split | None = None,
    data_spec: DataSpec | None = None,
    progress: bool = False,
    on_model: Callable[[Recommender, Split], None] | None = None,
) -> dict[str, Any]:
    """Train, evaluate and attack one cell; ``lambdas=None`` is the base model (no heads).

    ``on_model`` (optional) is called with the trained model and its split, e.g. to keep
    per-user metrics (the benchmark runner stores them for significance tests).

    Returns:
        The record (JSON-able): keys, test metrics (also with known items scored 0 on
        ``user_kfold``, as the Adv/AdvX code does), leakage, the jointly trained heads' test
        scores, timings.
    """
    split = split if split is not None else setup.split(dataset, replicate)
    spec = _cell_spec(dataset, setup, lambdas, replicate, split, data_spec)
    options, config = spec.model_options, spec.adversary
    model: Recommender = make_model(setup.model, **options)
    hidden = _hidden_users(dataset, setup.label_holdout, replicate)
    if setup.protocol == "user_kfold":
        label_users = np.asarray(split.train_users)
        test_users = np.asarray(split.test.users)
    else:
        label_users = np.flatnonzero(~hidden)
        test_users = np.flatnonzero(hidden)
    started = time.perf_counter()
    trainer = None
    if config is None:
        model.fit(split, progress=progress)
    else:
        trainer = AdversarialTrainer(config).fit(
            model, split, label_users=label_users, progress=progress
        )
    train_seconds = time.perf_counter() - started
    if on_model is not None:
        on_model(model, split)
    test = evaluate(model, split.test, ks=setup.ks, metrics=RANKING_METRICS).summary
    record: dict[str, Any] = {
        "kind": "adversarial_grid",
        "dataset": dataset.label,
        "dataset_fingerprint": dataset_fingerprint(dataset),
        "protocol": f"{split.protocol}_full",
        "model": setup.model,
        "model_options": options,
        "model_config": model.config.model_dump(mode="json"),  # defaults included
        "replicate": replicate,
        "fold": split.params.get("fold"),
        "seed": options.get("seed", model.config.seed),
        "lambdas": None if config is None else dict(config.lambdas),
        "adversary": None if config is None else config.model_dump(mode="json"),
        "config_hash": spec.fingerprint(),
        "label_holdout": setup.label_holdout,
        "attackers": setup.attacker_names,
        "audited": list(setup.attributes),
        "test": test,
    }
    if setup.protocol == "user_kfold":
        record["test_mask0"] = evaluate(
            model, split.test, ks=setup.ks, metrics=RANKING_METRICS, mask_value=0.0
        ).summary
    embeddings = model.user_embeddings().numpy()
    attributes = setup.attributes
    leakage: dict[str, Any] = {}
    advx: dict[str, Any] = {}
    started_audit = time.perf_counter()
    if len(test_users):
        train_users = label_users
        leakage["heldout"] = measure_leakage(
            embeddings,
            dataset,
            attributes,
            train_users=train_users,
            test_users=test_users,
            attackers=setup.attackers,
            seed=replicate,
        )
        for name in attributes:
            advx[name] = advx_attack(
                embeddings,
                dataset,
                name,
                train_users,
                test_users,
                scale=setup.scale(dataset, name) if _continuous(dataset, name) else None,
                seed=replicate,
            )
    if setup.protocol == "loo":
        leakage["cv"] = measure_leakage(
            embeddings,
            dataset,
            attributes,
            attackers=setup.attackers,
            n_folds=setup.audit_folds,
            seed=replicate,
        )
    record.update(
        {
            "leakage": leakage,
            "advx": advx,
            "scales": {a: setup.scale(dataset, a) for a in attributes if _continuous(dataset, a)},
            "heads_test": None
            if trainer is None or not len(test_users)
            else trainer.score(test_users),
            "heads_best_valid": None if trainer is None else trainer.report()["best_valid"],
            "best_epoch": model.best_epoch_,
            "epochs_run": len(model.loss_log_),
            "seconds_per_epoch": float(np.mean(model.epoch_seconds_)),
            "train_seconds": train_seconds,
            "audit_seconds": time.perf_counter() - started_audit,
            "n_label_users": int(len(label_users)),
            "n_test_users": int(len(test_users)),
            "versions": versions(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    record["key"] = _record_key(record)
    return json_safe(record)


def _continuous(dataset: Dataset, name: str) -> bool:
    return dataset.attribute(name).kind == "continuous"


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Records of a JSON-lines file (missing file: none; unreadable lines are skipped)."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            logger.warning("skipping an unreadable line of %s", path)
    return records


def run_grid(
    dataset: Dataset,
    setup: GridSetup,
    lambdas: Sequence[Mapping[str, float]],
    replicates: Sequence[int],
    *,
    out: str | Path | None = None,
    include_base: bool = True,
    data_spec: DataSpec | None = None,
    progress: bool = False,
    on_record: Callable[[dict[str, Any]], None] | None = None,
    provenance: Mapping[str, Any] | None = None,
    superseded: Callable[[dict[str, Any]], bool] | None = None,
) -> list[dict[str, Any]]:
    """Run every (lambdas, replicate) cell, plus a base cell per replicate.

    Args:
        dataset: the (filtered) dataset.
        setup: what stays fixed.
        lambdas: the grid (e.g. :func:`lambda_grid` of :data:`ADVX_LAMBDAS`).
        replicates: folds (user_kfold) or model seeds (loo).
        out: JSON-lines file; each finished record is appended, cells already there are
            skipped (resume).
        include_base: also train each replicate without adversaries (timing reference).
        data_spec: how ``dataset`` was loaded (recorded in the config hash).
        progress: progress bars of the training loops.
        on_record: called with each new record (e.g. to print a line).
        provenance: fields added to every record (e.g. the code's commit and the machine);
            not part of the cell's key.
        superseded: records for which this returns True do not count as done (e.g. cells
            of a model whose code changed since, told apart by the stored ``model_config``);
            they stay in ``out`` and the new record is appended after them.

    Returns:
        The new records.
    """
    records = read_records(out) if out is not None else []
    done = {r.get("key") for r in records if superseded is None or not superseded(r)}
    cells: list[Mapping[str, float] | None] = [None] if include_base else []
    cells += list(lambdas)
    new = []
    for replicate in replicates:
        split = setup.split(dataset, replicate)
        for cell in cells:
            key = _planned_key(dataset, setup, cell, replicate, split, data_spec)
            if key in done:
                logger.info("skipping cell %s replicate %s (already recorded)", cell, replicate)
                continue
            record = run_cell(
                dataset,
                setup,
                cell,
                replicate,
                split=split,
                data_spec=data_spec,
                progress=progress,
            )
            record.update(provenance or {})
            if out is not None:
                with Path(out).open("a") as handle:
                    handle.write(json.dumps(record, sort_keys=True) + "\n")
            new.append(record)
            if on_record is not None:
                on_record(record)
    return new


def _cell_spec(
    dataset: Dataset,
    setup: GridSetup,
    lambdas: Mapping[str, float] | None,
    replicate: int,
    split: Split,
    data_spec: DataSpec | None,
) -> RunSpec:
    """The run spec of one cell (its hash identifies the cell)."""
    return RunSpec(
        data=data_spec or DataSpec(name=dataset.name),
        split=SplitSpec(protocol=split.protocol, params=split.params),
        model=setup.model,
        model_options=setup.options(replicate),
        adversary=None if lambdas is None else setup.adversary.with_lambdas(lambdas),
    )


def _planned_key(
    dataset: Dataset,
    setup: GridSetup,
    lambdas: Mapping[str, float] | None,
    replicate: int,
    split: Split,
    data_spec: DataSpec | None,
) -> str:
    spec = _cell_spec(dataset, setup, lambdas, replicate, split, data_spec)
    return _record_key(
        {
            "config_hash": spec.fingerprint(),
            "dataset_fingerprint": dataset_fingerprint(dataset),
            "label_holdout": setup.label_holdout,
            "attackers": setup.attacker_names,
            "lambdas": None if lambdas is None else dict(lambdas),
            "audited": list(setup.attributes),
        }
    )
