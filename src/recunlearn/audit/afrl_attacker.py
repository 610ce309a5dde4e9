"""The attacker of the AFRL paper (SIGIR'24), and its requirement-level AUC.

AFRL's ``ClassAttacker`` is, per attribute, an MLP ``d -> d -> C`` (ReLU) trained on the fair
representations of the attacker's training users with class-weighted cross entropy (Adam,
lr 1e-3, weight decay 1e-4, batch 128, at most 300 epochs), early stopping on the AUC of a
validation share of its training users once epoch 100 is passed. The paper reports the AUC
folded to ``max(AUC, 1 - AUC)`` and averaged over the requirement's attributes.

Differences from the official code (``../shared/reference/afrl.md`` §3), all deliberate:

* the best validation epoch is **reloaded** (the code saves it and reports the last epoch);
* AUC is computed from class probabilities, one-vs-rest macro over the classes present (the
  code's binary AUC comes from hard labels, i.e. it is a balanced accuracy);
* the validation share is drawn from the attacker's training users only (stratified), never
  from the users it is scored on;
* inputs are standardised with the training users' mean and scale (``standardize``; the code
  feeds raw vectors -- off by default here as well, like the paper);
* a class missing from the test users is left out of the macro AUC instead of giving NaN.

:data:`AFRL_ATTACKER` is registered as ``afrl_mlp`` (not a default attacker); the audit's
records then carry its AUC (``auc``), and :func:`requirement_auc` folds and averages it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from torch import nn

from recunlearn.audit.attackers import AttackerSpec
from recunlearn.audit.early_stopping import train_early_stopped, validation_split
from recunlearn.audit.nets import inverse_frequency_weights
from recunlearn.core.threads import torch_threads


def ovr_macro_auc(codes: np.ndarray, proba: np.ndarray) -> float:
    """One-vs-rest AUC averaged over the classes that have positives and negatives among
    ``codes`` (vectorised Mann-Whitney: ties count one half); NaN when none does."""
    codes = np.asarray(codes, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    values = []
    ranks = rankdata(proba, axis=0)
    for c in np.unique(codes):
        positive = codes == c
        n_pos, n_neg = int(positive.sum()), int((~positive).sum())
        if n_pos == 0 or n_neg == 0:
            continue
        values.append((ranks[positive, c].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
    return float(np.mean(values)) if values else math.nan


def fold_auc(value: float) -> float:
    """``max(AUC, 1 - AUC)``: an attacker below 0.5 is read back by inverting it."""
    return value if math.isnan(value) else max(value, 1.0 - value)


class _AFRLNet(BaseEstimator):
    """Shared training loop of the classifier and the regressor."""

    _classification = True

    def __init__(
        self,
        hidden: int | None = None,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 128,
        max_epochs: int = 300,
        min_epochs: int = 100,
        patience: int = 20,
        validation_fraction: float = 0.2,
        standardize: bool = False,
        random_state: int = 0,
        threads: int | None = 1,
    ) -> None:
        self.hidden = hidden
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.min_epochs = min_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.standardize = standardize
        self.random_state = random_state
        self.threads = threads

    # the subclasses define these
    def _prepare_targets(self, y: np.ndarray) -> tuple[torch.Tensor, int]:
        raise NotImplementedError

    def _batch_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _score(self, out: torch.Tensor, y: torch.Tensor) -> float:
        """Validation score to maximise."""
        raise NotImplementedError

    def _inputs(self, X: np.ndarray) -> torch.Tensor:
        X = np.asarray(X, dtype=np.float32)
        return torch.from_numpy((X - self.mean_) / self.scale_)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        X = np.asarray(X, dtype=np.float32)
        rng = np.random.default_rng(self.random_state)
        self.mean_ = X.mean(axis=0) if self.standardize else np.zeros(X.shape[1], np.float32)
        scale = X.std(axis=0) if self.standardize else np.ones(X.shape[1], np.float32)
        self.scale_ = np.where(scale < 1e-12, 1.0, scale).astype(np.float32)
        inputs = self._inputs(X)
        targets, n_out = self._prepare_targets(y)
        train_idx, valid_idx = validation_split(
            np.asarray(y), self.validation_fraction, rng, self._classification
        )
        width = self.hidden or X.shape[1]
        with torch_threads(self.threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            net = nn.Sequential(nn.Linear(X.shape[1], width), nn.ReLU(), nn.Linear(width, n_out))
            optimizer = torch.optim.Adam(
                net.parameters(), lr=self.lr, weight_decay=self.weight_decay
            )
            valid = torch.from_numpy(valid_idx)
            self.n_epochs_, self.best_epoch_ = train_early_stopped(
                net,
                optimizer,
                lambda batch: self._batch_loss(net(inputs[batch]), targets[batch]),
                lambda: self._score(net(inputs[valid]), targets[valid]),
                train_idx,
                valid_idx,
                rng,
                batch_size=self.batch_size,
                max_epochs=self.max_epochs,
                patience=self.patience,
                min_epochs=self.min_epochs,
            )
        self.net_ = net

    def _outputs(self, X: np.ndarray) -> torch.Tensor:
        with torch_threads(self.threads), torch.no_grad():
            return self.net_(self._inputs(X))


class AFRLAttackerClassifier(ClassifierMixin, _AFRLNet):
    """AFRL's attacker: ``d -> d -> C`` MLP, inverse-frequency class-weighted cross entropy,
    early stopping on the validation users' one-vs-rest macro AUC after ``min_epochs``, best
    epoch reloaded."""

    _classification = True

    def _prepare_targets(self, y: np.ndarray) -> tuple[torch.Tensor, int]:
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        self.weights_ = torch.tensor(
            inverse_frequency_weights(codes, len(self.classes_)), dtype=torch.float32
        )
        return torch.from_numpy(codes.astype(np.int64)), len(self.classes_)

    def _batch_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(out, y, weight=self.weights_)

    def _score(self, out: torch.Tensor, y: torch.Tensor) -> float:
        value = ovr_macro_auc(y.numpy(), torch.softmax(out, dim=1).numpy())
        return -math.inf if math.isnan(value) else value

    def fit(self, X: np.ndarray, y: np.ndarray) -> AFRLAttackerClassifier:
        """Train on representations ``X`` with class codes ``y``."""
        self._fit(X, y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        return torch.softmax(self._outputs(X), dim=1).numpy().astype(np.float64)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class AFRLAttackerRegressor(RegressorMixin, _AFRLNet):
    """The same network with one output and the mean squared error (continuous attributes,
    which the paper does not attack); early stopping on the validation MSE."""

    _classification = False

    def _prepare_targets(self, y: np.ndarray) -> tuple[torch.Tensor, int]:
        return torch.as_tensor(np.asarray(y, dtype=np.float32)), 1

    def _batch_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(out[:, 0], y)

    def _score(self, out: torch.Tensor, y: torch.Tensor) -> float:
        return -float(F.mse_loss(out[:, 0], y))

    def fit(self, X: np.ndarray, y: np.ndarray) -> AFRLAttackerRegressor:
        """Train on representations ``X`` with values ``y``."""
        self._fit(X, y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted values."""
        return self._outputs(X)[:, 0].numpy().astype(np.float64)


def _classifier(seed: int) -> AFRLAttackerClassifier:
    return AFRLAttackerClassifier(random_state=seed)


def _regressor(seed: int) -> AFRLAttackerRegressor:
    return AFRLAttackerRegressor(random_state=seed)


AFRL_ATTACKER = AttackerSpec(
    "afrl_mlp",
    "AFRL attacker: MLP d-d-C, weighted CE, Adam 1e-3 wd 1e-4, batch 128, <= 300 epochs, "
    "early stopping on validation AUC after epoch 100, best epoch reloaded",
    _classifier,
    _regressor,
    cost=2.0,
)
"""The AFRL attacker as an audit attacker (registered as ``afrl_mlp``; not a default one)."""

AFRL_ATTACKER_OPTIONS = (
    "lr", "weight_decay", "batch_size", "max_epochs", "min_epochs", "patience",
    "validation_fraction", "standardize",
)  # fmt: skip
"""The settings of the AFRL attacker a caller may change (:func:`afrl_attacker_spec`)."""


def afrl_attacker_spec(**options: Any) -> AttackerSpec:
    """The AFRL attacker (named ``afrl_mlp``) with some settings changed, e.g.
    ``max_epochs=30, min_epochs=10`` for quick checks; no option gives :data:`AFRL_ATTACKER`.

    Raises:
        ValueError: an option that is not in :data:`AFRL_ATTACKER_OPTIONS`.
    """
    unknown = sorted(set(options) - set(AFRL_ATTACKER_OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown AFRL attacker option(s) {unknown}; known: {', '.join(AFRL_ATTACKER_OPTIONS)}"
        )
    if not options:
        return AFRL_ATTACKER

    def classifier(seed: int) -> AFRLAttackerClassifier:
        return AFRLAttackerClassifier(random_state=seed, **options)

    def regressor(seed: int) -> AFRLAttackerRegressor:
        return AFRLAttackerRegressor(random_state=seed, **options)

    text = ", ".join(f"{k}={v}" for k, v in sorted(options.items()))
    return AttackerSpec(
        "afrl_mlp", f"{AFRL_ATTACKER.description} (changed: {text})", classifier, regressor, 2.0
    )


def requirement_auc(
    report: Any, attributes: Sequence[str], attacker: str = "afrl_mlp"
) -> dict[str, float]:
    """The AFRL paper's fairness number from a :class:`~recunlearn.audit.LeakageReport`:
    each record's AUC folded to ``max(AUC, 1 - AUC)``, averaged over the requirement's
    (categorical) attributes within each (seed, fold), then mean and sample std over them.

    Returns:
        ``auc_mean``, ``auc_std`` (0 for one run, NaN when nothing was attacked) and, per
        attribute, ``auc:<name>`` (its folded AUC averaged over runs).
    """
    records: pd.DataFrame = report.records
    part = records[
        (records["attacker"] == attacker)
        & records["attribute"].isin(list(attributes))
        & (records["kind"] == "categorical")
    ].copy()
    out: dict[str, float] = {"auc_mean": math.nan, "auc_std": math.nan}
    if part.empty:
        return out
    part["folded"] = [fold_auc(float(v)) for v in part["auc"]]
    per_run = part.groupby(["seed", "fold"])["folded"].mean()
    out["auc_mean"] = float(per_run.mean())
    out["auc_std"] = float(per_run.std(ddof=1)) if len(per_run) > 1 else 0.0
    for name, group in part.groupby("attribute", sort=False):
        out[f"auc:{name}"] = float(group["folded"].mean())
    return out
