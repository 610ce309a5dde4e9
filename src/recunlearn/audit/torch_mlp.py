"""A wider torch MLP attacker with early stopping on a validation share of the training users.

Both estimators follow the scikit-learn conventions (``fit`` / ``predict`` / ``predict_proba``,
fitted state ending in ``_``) so the audit treats them like any other attacker. The validation
share is carved out of the users passed to ``fit`` (the attacker's training users) and never
touches the audit's test users.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from torch import nn

from recunlearn.audit.early_stopping import train_early_stopped, validation_split
from recunlearn.core.threads import torch_threads


def _network(n_in: int, hidden: tuple[int, ...], n_out: int, dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = n_in
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
        width = size
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


class _TorchMLPBase(BaseEstimator):
    """Shared training loop of the classifier and the regressor."""

    _classification = True

    def __init__(
        self,
        hidden: tuple[int, ...] = (256, 256),
        dropout: float = 0.3,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 128,
        max_epochs: int = 200,
        patience: int = 10,
        validation_fraction: float = 0.15,
        random_state: int = 0,
        threads: int | None = 1,
    ) -> None:
        self.hidden = tuple(hidden)
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.threads = threads

    # the subclasses define these three
    def _targets(self, y: np.ndarray) -> tuple[torch.Tensor, int]:
        raise NotImplementedError

    def _loss(self, y: torch.Tensor) -> nn.Module:
        raise NotImplementedError

    def _fit_loop(self, X: np.ndarray, y: np.ndarray) -> None:
        X = np.asarray(X, dtype=np.float32)
        rng = np.random.default_rng(self.random_state)
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0)
        self.scale_[self.scale_ < 1e-12] = 1.0
        inputs = torch.from_numpy((X - self.mean_) / self.scale_)
        targets, n_out = self._targets(y)
        train_idx, valid_idx = validation_split(
            np.asarray(y), self.validation_fraction, rng, self._classification
        )
        with torch_threads(self.threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            net = _network(X.shape[1], self.hidden, n_out, self.dropout)
            loss_fn = self._loss(targets[train_idx])
            optimiser = torch.optim.Adam(
                net.parameters(), lr=self.lr, weight_decay=self.weight_decay
            )
            valid = torch.from_numpy(valid_idx)
            self.n_epochs_, self.best_epoch_ = train_early_stopped(
                net,
                optimiser,
                lambda batch: loss_fn(self._squeeze(net(inputs[batch])), targets[batch]),
                lambda: -float(loss_fn(self._squeeze(net(inputs[valid])), targets[valid])),
                train_idx,
                valid_idx,
                rng,
                batch_size=self.batch_size,
                max_epochs=self.max_epochs,
                patience=self.patience,
                min_delta=1e-6,
                initial_is_candidate=True,
            )
        self.net_ = net

    def _squeeze(self, out: torch.Tensor) -> torch.Tensor:
        return out

    def _forward(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        inputs = torch.from_numpy((X - self.mean_) / self.scale_)
        with torch_threads(self.threads), torch.no_grad():
            return self._squeeze(self.net_(inputs)).numpy()


class TorchMLPClassifier(ClassifierMixin, _TorchMLPBase):
    """Two hidden layers of 256 (ReLU, dropout), class-weighted cross entropy, Adam.

    Early stopping on the weighted cross entropy of a stratified validation share of the
    training users (``validation_fraction``); the best epoch's weights are kept. Inputs are
    standardised with the training users' mean and scale. Seeded: equal ``random_state`` gives
    equal predictions on CPU.
    """

    _classification = True

    def _targets(self, y: np.ndarray) -> tuple[torch.Tensor, int]:
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        return torch.from_numpy(codes.astype(np.int64)), len(self.classes_)

    def _loss(self, y: torch.Tensor) -> nn.Module:
        counts = torch.bincount(y, minlength=len(self.classes_)).double()
        weights = torch.where(
            counts > 0, counts.sum() / (len(self.classes_) * counts.clamp(min=1)), 0.0
        )
        return nn.CrossEntropyLoss(weight=weights.float())

    def fit(self, X: np.ndarray, y: np.ndarray) -> TorchMLPClassifier:
        """Train on users ``X`` with class codes ``y``."""
        self._fit_loop(X, y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        logits = self._forward(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class per user."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class TorchMLPRegressor(RegressorMixin, _TorchMLPBase):
    """The same network with one output and the mean squared error on standardised targets."""

    _classification = False

    def _targets(self, y: np.ndarray) -> tuple[torch.Tensor, int]:
        y = np.asarray(y, dtype=np.float64)
        self.y_mean_ = float(y.mean())
        self.y_scale_ = float(y.std()) or 1.0
        return torch.from_numpy(((y - self.y_mean_) / self.y_scale_).astype(np.float32)), 1

    def _loss(self, y: torch.Tensor) -> nn.Module:
        return nn.MSELoss()

    def _squeeze(self, out: torch.Tensor) -> torch.Tensor:
        return out.squeeze(-1)

    def fit(self, X: np.ndarray, y: np.ndarray) -> TorchMLPRegressor:
        """Train on users ``X`` with values ``y``."""
        self._fit_loop(X, y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted values in the original units."""
        return self._forward(X).astype(np.float64) * self.y_scale_ + self.y_mean_
