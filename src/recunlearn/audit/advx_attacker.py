"""The attacker of the AdvX-MultVAE protocol, as scikit-learn style estimators.

After adversarial training, AdvX trains a fresh attacker per attribute on the *frozen* encoder
mean of the training users and scores it on the test users (methods.md section 4): the head
shape of the adversaries but one head, input dropout 0.5, class-weighted cross entropy (MSE on
the scaled target for continuous attributes), Adam lr 1e-3 with weight decay 1e-4, batch 64,
50 epochs, **no model selection** (the last epoch is kept), BAcc by argmax / MAE.

Differences from the official code: BAcc and MAE are computed over all test users at once (the
code averages per-batch scores weighted by batch size); run inside the audit, the regressor
sees standardised targets (the audit standardises every regressor's target) instead of
value / 60 -- use :func:`advx_attack` for the exact scaled-target protocol.

:data:`ADVX_ATTACKER` is an :class:`~recunlearn.audit.AttackerSpec` (registered as ``advx_mlp``) to pass to
``audit(..., attackers=[..., "advx_mlp"])``; it is not among the default attackers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from recunlearn.audit.attackers import AttackerSpec
from recunlearn.audit.nets import ParallelMLP, inverse_frequency_weights
from recunlearn.audit.scoring import categorical_scores, continuous_scores
from recunlearn.core.threads import torch_threads
from recunlearn.data.types import Dataset


class _HeadAttacker(BaseEstimator):
    """Training loop shared by the classifier and the regressor."""

    _activation = "relu"

    def __init__(
        self,
        hidden: tuple[int, ...] = (5,),
        dropout: float = 0.5,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 64,
        epochs: int = 50,
        random_state: int = 0,
        threads: int | None = 1,
    ) -> None:
        self.hidden = tuple(hidden)
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.random_state = random_state
        self.threads = threads

    def _batch_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _train(self, X: np.ndarray, y: torch.Tensor, n_out: int) -> None:
        x = torch.as_tensor(np.asarray(X, dtype=np.float32))
        generator = torch.Generator().manual_seed(int(self.random_state))
        with torch_threads(self.threads):
            self.net_ = ParallelMLP(
                1,
                x.shape[1],
                tuple(self.hidden),
                n_out,
                activation=self._activation,
                dropout=self.dropout,
                generator=generator,
            )
            optimizer = torch.optim.Adam(
                self.net_.parameters(), lr=self.lr, weight_decay=self.weight_decay
            )
            for _ in range(self.epochs):
                order = torch.randperm(len(x), generator=generator)
                for batch in torch.split(order, self.batch_size):
                    loss = self._batch_loss(self.net_(x[batch], generator=generator)[0], y[batch])
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()

    def _outputs(self, X: np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(X, dtype=np.float32))
        with torch_threads(self.threads), torch.no_grad():
            return self.net_(x)[0]


class AdvXAttackerClassifier(ClassifierMixin, _HeadAttacker):
    """AdvX's gender attacker: MLP ``d -> 5 -> classes`` (ReLU), input dropout 0.5,
    inverse-frequency class-weighted cross entropy, 50 epochs of Adam, last epoch kept."""

    _activation = "relu"

    def _batch_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(out, y, weight=self.weights_)

    def fit(self, X: np.ndarray, y: np.ndarray) -> AdvXAttackerClassifier:
        """Train on embeddings ``X`` with labels ``y``."""
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        self.weights_ = torch.tensor(
            inverse_frequency_weights(codes, len(self.classes_)), dtype=torch.float32
        )
        self._train(X, torch.from_numpy(codes.astype(np.int64)), len(self.classes_))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        return torch.softmax(self._outputs(X), dim=1).numpy().astype(np.float64)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable class."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class AdvXAttackerRegressor(RegressorMixin, _HeadAttacker):
    """AdvX's age attacker: MLP ``d -> 5 -> 1`` (sigmoid hidden unit), input dropout 0.5, MSE,
    50 epochs of Adam, last epoch kept. Fit it on the scaled target (age / 60)."""

    _activation = "sigmoid"

    def _batch_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(out[:, 0], y)

    def fit(self, X: np.ndarray, y: np.ndarray) -> AdvXAttackerRegressor:
        """Train on embeddings ``X`` with targets ``y``."""
        self._train(X, torch.as_tensor(np.asarray(y, dtype=np.float32)), 1)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted values."""
        return self._outputs(X)[:, 0].numpy().astype(np.float64)


def _classifier(seed: int) -> AdvXAttackerClassifier:
    return AdvXAttackerClassifier(random_state=seed)


def _regressor(seed: int) -> AdvXAttackerRegressor:
    return AdvXAttackerRegressor(random_state=seed)


ADVX_ATTACKER = AttackerSpec(
    "advx_mlp",
    "AdvX attacker: MLP d-5-out, input dropout 0.5, weighted CE / MSE, Adam 1e-3, 50 epochs",
    _classifier,
    _regressor,
    cost=1.0,
)
"""The AdvX attacker as an audit attacker (registered as ``advx_mlp``; not a default attacker)."""


def advx_attack(
    embeddings: np.ndarray | torch.Tensor,
    dataset: Dataset,
    attribute: str,
    train_users: np.ndarray,
    test_users: np.ndarray,
    *,
    scale: float | None = None,
    seed: int = 0,
    **options: Any,
) -> dict[str, float]:
    """The AdvX attack on one attribute: train on ``train_users``, score ``test_users``.

    Users without a label are left out on both sides. Continuous attributes are fitted on
    ``value / scale`` (default: the largest absolute training value; AdvX ML-1M: 60) and scored
    in units and scaled (``mae_scaled``, AdvX's ``MAE_A`` / 100).

    Args:
        embeddings: the frozen representation of every user (n_users x d).
        dataset: labels per user index.
        attribute: attribute name.
        train_users: user indices the attacker learns from.
        test_users: user indices it is scored on.
        scale: divisor of continuous targets.
        seed: seed of the attacker.
        options: other :class:`AdvXAttackerClassifier` / ``Regressor`` parameters.

    Returns:
        ``bacc``, ``acc``, ``chance_bacc``, ``n`` (categorical) or ``mae``, ``mae_scaled``,
        ``chance_mae`` (MAE of the training median), ``n`` (continuous), plus ``n_train``.
    """
    X = np.asarray(
        embeddings.detach().cpu().numpy() if isinstance(embeddings, torch.Tensor) else embeddings,
        dtype=np.float32,
    )
    known = dataset.known(attribute)
    train = np.asarray(train_users, dtype=np.int64)
    test = np.asarray(test_users, dtype=np.int64)
    train, test = train[known[train]], test[known[test]]
    values = dataset.labels(attribute)
    if dataset.attribute(attribute).kind == "categorical":
        clf = AdvXAttackerClassifier(random_state=seed, **options).fit(X[train], values[train])
        proba = np.zeros((len(test), dataset.attribute(attribute).n_classes))
        proba[:, clf.classes_] = clf.predict_proba(X[test])
        out = categorical_scores(values[test], proba)
    else:
        divisor = scale if scale is not None else float(np.abs(values[train]).max())
        reg = AdvXAttackerRegressor(random_state=seed, **options)
        reg.fit(X[train], values[train] / divisor)
        predicted = reg.predict(X[test]) * divisor
        out = continuous_scores(values[test], predicted, divisor, float(np.median(values[train])))
    out["n_train"] = int(len(train))
    return out
