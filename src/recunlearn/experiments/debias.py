"""One experiment cell: load data, split by seed, train a method, evaluate on T.

``run_debias(config) -> dict`` is what the CLI and the benchmark runner call; the record holds
the complete config, dataset facts, training facts, validation and test metrics under every
convention (:mod:`.metrics`), and wall time.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from recunlearn.core.errors import ConfigError
from recunlearn.data.feedback import DebiasData, DebiasSplit, load_debias_data, split_unbiased
from recunlearn.debias.metrics import DEFAULT_CONVENTION, evaluate_all, headline
from recunlearn.debias.registry import TOP_K, default_options, make_trainer
from recunlearn.debias.trainer import DebiasTrainer
from recunlearn.experiments.rundir import write_run_directory

PROTOCOL = "family_A_split_5_5_90"


@dataclass
class DebiasConfig:
    """One cell of a debiasing experiment.

    Attributes:
        dataset: ``coat``, ``yahoo``, ``kuairec`` or ``synthetic``.
        method: a name from :data:`recunlearn.debias.registry.METHODS`.
        data_dir: folder with the publisher's files (not for ``synthetic``).
        seed: seeds both the unbiased split and the model.
        threshold: binarisation threshold (None: the dataset default, 3 or 2 for KuaiRec).
        uniform_fraction, valid_fraction: shares of the unbiased data in A and V.
        k: top-K cut-off (None: 5 for Coat/Yahoo, 50 for KuaiRec).
        options: method options (override the dataset defaults and tuned values).
        threads: torch CPU threads.
    """

    dataset: str
    method: str
    data_dir: str | None = None
    seed: int = 0
    threshold: float | None = None
    uniform_fraction: float = 0.05
    valid_fraction: float = 0.05
    k: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    threads: int = 1

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DebiasConfig:
        """Build from a dict, rejecting unknown keys."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"DebiasConfig: unknown key(s) {unknown}; known: {sorted(known)}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class DebiasOutcome:
    """Everything one cell produces: the record, per-user test metrics, the trainer."""

    record: dict[str, Any]
    per_user: pd.DataFrame
    trainer: DebiasTrainer
    split: DebiasSplit


def config_hash(config: dict[str, Any]) -> str:
    """Short stable hash of a config dict."""
    return hashlib.sha1(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]


def execute(config: DebiasConfig | dict[str, Any], data: DebiasData | None = None) -> DebiasOutcome:
    """Run one cell; ``data`` may be passed to reuse a loaded dataset."""
    if isinstance(config, dict):
        config = DebiasConfig.from_dict(config)
    start = time.perf_counter()
    torch.set_num_threads(max(1, int(config.threads)))
    name = config.dataset.lower()
    if data is None:
        data = load_debias_data(name, config.data_dir, threshold=config.threshold)
    key = data.name
    split = split_unbiased(
        data, config.seed, uniform=config.uniform_fraction, valid=config.valid_fraction
    )
    options = {**default_options(config.method, key), **config.options, "seed": config.seed}
    trainer = make_trainer(config.method, **options)
    trainer.fit(split)
    k = config.k or TOP_K.get(key, 5)
    test_metrics, per_user = evaluate_all(
        split.test.user, split.test.label, trainer.predict(split.test.user, split.test.item), k
    )
    valid_metrics, _ = evaluate_all(
        split.valid.user, split.valid.label, trainer.predict(split.valid.user, split.valid.item), k
    )
    resolved = {**config.to_dict(), "options": options}
    record = {
        "dataset": key,
        "method": config.method,
        "seed": config.seed,
        "protocol": PROTOCOL,
        "config": resolved,
        "config_hash": config_hash(resolved),
        "trainer_config": trainer.config.to_dict(),
        "data": data.describe(),
        "split_sizes": {
            "O": len(split.train),
            "A": len(split.uniform),
            "V": len(split.valid),
            "T": len(split.test),
        },
        "test": test_metrics,
        "valid": valid_metrics,
        "headline": headline(test_metrics, DEFAULT_CONVENTION),
        "training": trainer.summary(),
        "wall_seconds": time.perf_counter() - start,
    }
    return DebiasOutcome(record=record, per_user=per_user, trainer=trainer, split=split)


def run_debias(config: DebiasConfig | dict[str, Any], data: DebiasData | None = None) -> dict:
    """Run one cell and return its JSON-able record (see :func:`execute`)."""
    return execute(config, data).record


def write_debias_run(
    out: str | Path, outcomes: list[DebiasOutcome], *, overwrite: bool = False
) -> Path:
    """Write ``config.json``, ``metrics.json`` and ``per_user_metrics.csv`` (one block per
    seed) as a run directory (see :func:`recunlearn.experiments.rundir.write_run_directory`)."""
    configs = [o.record["config"] for o in outcomes]
    frames = []
    for outcome in outcomes:
        frame = outcome.per_user.copy()
        frame.insert(0, "seed", outcome.record["seed"])
        frames.append(frame)
    files = {
        "config.json": configs if len(configs) > 1 else configs[0],
        "metrics.json": [{k: v for k, v in o.record.items() if k != "config"} for o in outcomes],
        "per_user_metrics.csv": pd.concat(frames),
    }
    return write_run_directory(out, files, kind="debias", overwrite=overwrite)
