"""Attribute-inference attackers, registered by name.

An attacker sees user embeddings and the labels of some users and predicts the labels of
others. Each registered attacker has a classifier (categorical attributes) and a regressor
(continuous attributes); :class:`Attacker` wraps either behind one ``fit`` / ``predict`` /
``predict_proba`` interface with probability columns in the attribute's class-code order.
Nothing here knows how the embeddings were produced.

Registered attackers (see :data:`ATTACKERS`):

* ``paper_mlp`` — the papers' protocol (LEGO appendix A, D2D): scikit-learn
  ``MLPClassifier(hidden_layer_sizes=(100,), alpha=1.0, learning_rate_init=1e-2,
  max_iter=500)``, other defaults (no input scaling, no class weights); ``MLPRegressor`` with the
  same settings. The papers leave ``random_state`` unset; here it is the audit's seed.
* ``logreg`` — standardised inputs, class-balanced logistic regression with ``C`` chosen by a
  3-fold inner CV on balanced accuracy; continuous: ``RidgeCV``.
* ``svm_rbf`` — standardised inputs, class-balanced RBF SVC; probabilities are a softmax of the
  one-vs-rest decision values (ranking-faithful, enough for AUC, and 5x cheaper than Platt
  scaling); continuous: RBF ``SVR``.
* ``gbt`` — ``HistGradientBoosting`` with early stopping on a 15 % validation share, at most 100
  rounds of 15-leaf trees on 63 bins (3x faster than 255 bins at the same accuracy on a
  6,040 x 64 table), class-balanced.
* ``knn`` — standardised inputs, 20 distance-weighted neighbours.
* ``torch_mlp`` — 2 x 256 ReLU layers with dropout 0.3, class-weighted cross entropy (MSE for
  continuous), Adam, early stopping on a validation share of the training users, 1 thread.

Every regressor is fitted on standardised targets (``TransformedTargetRegressor``) and predicts
in the original units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR

from recunlearn.audit.torch_mlp import TorchMLPClassifier, TorchMLPRegressor
from recunlearn.core.errors import ConfigError
from recunlearn.core.registry import Registry
from recunlearn.core.threads import limit_threads
from recunlearn.data.types import AttributeKind

EstimatorFactory = Callable[[int], Any]
"""Builds an unfitted scikit-learn-style estimator from a seed."""

PrepareHook = Callable[[Any, np.ndarray, np.ndarray], None]
"""Adapts an unfitted estimator to its training data (e.g. fewer neighbours than users)."""


@dataclass(frozen=True)
class AttackerSpec:
    """A named attacker: how to build its classifier and regressor.

    Attributes:
        name: registry key.
        description: one line for reports.
        classifier: seed -> unfitted classifier (``fit``, ``predict`` and ``predict_proba`` or
            ``decision_function``).
        regressor: seed -> unfitted regressor (``fit``, ``predict``).
        proba: where class scores come from: ``"predict_proba"`` or ``"decision_function"``
            (turned into probabilities by a softmax / sigmoid).
        cost: relative cost of one fit (scheduling only: expensive jobs start first).
        prepare: optional hook called with (estimator, X, y) before fitting.
    """

    name: str
    description: str
    classifier: EstimatorFactory
    regressor: EstimatorFactory
    proba: Literal["predict_proba", "decision_function"] = "predict_proba"
    cost: float = 1.0
    prepare: PrepareHook | None = None


# ------------------------------------------------------------------------------- factories
PAPER_MLP_SETTINGS: dict[str, Any] = {
    "hidden_layer_sizes": (100,),
    "alpha": 1.0,
    "learning_rate_init": 1e-2,
    "max_iter": 500,
}
"""The attacker of LEGO appendix A / D2D ``attack.py``; every other option at its default."""

LOGREG_CS = (0.01, 0.1, 1.0, 10.0)
KNN_NEIGHBOURS = 20


def _paper_mlp_classifier(seed: int) -> MLPClassifier:
    return MLPClassifier(**PAPER_MLP_SETTINGS, random_state=seed)


def _paper_mlp_regressor(seed: int) -> MLPRegressor:
    return MLPRegressor(**PAPER_MLP_SETTINGS, random_state=seed)


def _logreg_classifier(seed: int) -> Pipeline:
    search = GridSearchCV(
        LogisticRegression(class_weight="balanced", max_iter=1000),
        {"C": list(LOGREG_CS)},
        cv=3,
        scoring="balanced_accuracy",
    )
    return make_pipeline(StandardScaler(), search)


def _logreg_regressor(seed: int) -> Pipeline:
    return make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 3, 6)))


def _svm_classifier(seed: int) -> Pipeline:
    svc = SVC(kernel="rbf", C=1.0, gamma="scale", class_weight="balanced", cache_size=500)
    return make_pipeline(StandardScaler(), svc)


def _svm_regressor(seed: int) -> Pipeline:
    return make_pipeline(StandardScaler(), SVR(kernel="rbf", C=1.0, gamma="scale", cache_size=500))


_GBT_SETTINGS: dict[str, Any] = {
    "learning_rate": 0.1,
    "max_iter": 100,
    "max_bins": 63,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
    "early_stopping": True,
    "validation_fraction": 0.15,
    "n_iter_no_change": 10,
}


def _gbt_classifier(seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        **_GBT_SETTINGS, class_weight="balanced", random_state=seed
    )


def _gbt_regressor(seed: int) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(**_GBT_SETTINGS, random_state=seed)


def _gbt_prepare(estimator: Any, X: np.ndarray, y: np.ndarray) -> None:
    """No early stopping when the stratified validation share cannot be drawn."""
    inner = estimator.regressor if isinstance(estimator, TransformedTargetRegressor) else estimator
    if isinstance(inner, HistGradientBoostingClassifier):
        _, counts = np.unique(y, return_counts=True)
        n_valid = int(np.ceil(inner.validation_fraction * len(y)))
        if counts.min() < 2 or n_valid < len(counts):
            inner.set_params(early_stopping=False)
    elif len(y) < 50:
        inner.set_params(early_stopping=False)


def _knn_classifier(seed: int) -> Pipeline:
    return make_pipeline(
        StandardScaler(), KNeighborsClassifier(n_neighbors=KNN_NEIGHBOURS, weights="distance")
    )


def _knn_regressor(seed: int) -> Pipeline:
    return make_pipeline(
        StandardScaler(), KNeighborsRegressor(n_neighbors=KNN_NEIGHBOURS, weights="distance")
    )


def _knn_prepare(estimator: Any, X: np.ndarray, y: np.ndarray) -> None:
    """Never more neighbours than training users."""
    inner = estimator.regressor if isinstance(estimator, TransformedTargetRegressor) else estimator
    knn = inner.steps[-1][1]
    knn.set_params(n_neighbors=max(1, min(KNN_NEIGHBOURS, len(y))))


def _torch_classifier(seed: int) -> TorchMLPClassifier:
    return TorchMLPClassifier(random_state=seed)


def _torch_regressor(seed: int) -> TorchMLPRegressor:
    return TorchMLPRegressor(random_state=seed)


# -------------------------------------------------------------------------------- registry
ATTACKERS: Registry[AttackerSpec] = Registry("attacker")
"""Every registered attacker by name, in registration order."""


def register_attacker(spec: AttackerSpec, *, replace: bool = False) -> AttackerSpec:
    """Add an attacker to the registry.

    Factories must be picklable (module-level functions or cloudpickle-able closures) to run
    in the audit's worker processes.

    Raises:
        ConfigError: the name is taken and ``replace`` is false.
    """
    return ATTACKERS.register(spec.name, spec, replace=replace)


for _spec in (
    AttackerSpec(
        "paper_mlp",
        "sklearn MLP (100), alpha 1, lr 1e-2, 500 iterations: LEGO / D2D protocol",
        _paper_mlp_classifier,
        _paper_mlp_regressor,
        cost=2.0,
    ),
    AttackerSpec(
        "logreg",
        "standardised logistic regression, balanced, C by 3-fold inner CV; RidgeCV",
        _logreg_classifier,
        _logreg_regressor,
        cost=1.0,
    ),
    AttackerSpec(
        "svm_rbf",
        "standardised RBF SVM, balanced, softmax of decision values; RBF SVR",
        _svm_classifier,
        _svm_regressor,
        proba="decision_function",
        cost=3.0,
    ),
    AttackerSpec(
        "gbt",
        "histogram gradient boosting, <= 100 rounds x 15 leaves, early stopping, balanced",
        _gbt_classifier,
        _gbt_regressor,
        cost=4.0,
        prepare=_gbt_prepare,
    ),
    AttackerSpec(
        "knn",
        f"standardised {KNN_NEIGHBOURS}-nearest neighbours, distance-weighted",
        _knn_classifier,
        _knn_regressor,
        cost=0.3,
        prepare=_knn_prepare,
    ),
    AttackerSpec(
        "torch_mlp",
        "torch MLP 2x256, dropout 0.3, weighted CE / MSE, Adam, early stopping on 15 % of "
        "the training users",
        _torch_classifier,
        _torch_regressor,
        cost=3.0,
    ),
):
    register_attacker(_spec)

DEFAULT_ATTACKERS: tuple[str, ...] = tuple(ATTACKERS)
"""Every built-in general-purpose attacker (the default of :func:`recunlearn.audit.audit`)."""

ATTACKERS.register_lazy("advx_mlp", "recunlearn.audit.advx_attacker:ADVX_ATTACKER")
ATTACKERS.register_lazy("afrl_mlp", "recunlearn.audit.afrl_attacker:AFRL_ATTACKER")

QUICK_ATTACKERS: tuple[str, ...] = ("paper_mlp", "logreg")
"""The papers' attacker plus the cheapest strong one (``--quick``)."""


def get_attacker(name: str) -> AttackerSpec:
    """The registered attacker called ``name``.

    Raises:
        ConfigError: unknown name (the message lists the known ones).
    """
    return ATTACKERS.get(name)


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(scores)
    return p / p.sum(axis=1, keepdims=True)


class Attacker:
    """One attacker for one attribute: fit on some users, predict the others.

    Args:
        spec: the attacker (or its registered name).
        kind: the attribute's kind.
        n_classes: number of classes (categorical); probability columns follow codes
            ``0..n_classes-1`` even when some classes are missing from the training users.
        seed: seed of the estimator.
        threads: BLAS / OpenMP / torch threads while fitting and predicting (default 1: the
            audit parallelises over jobs, and OpenMP estimators such as gradient boosting slow
            down by an order of magnitude when their threads compete for busy cores); ``None``
            leaves the process settings alone.
    """

    def __init__(
        self,
        spec: AttackerSpec | str,
        kind: AttributeKind,
        n_classes: int = 0,
        seed: int = 0,
        threads: int | None = 1,
    ) -> None:
        self.spec = get_attacker(spec) if isinstance(spec, str) else spec
        if kind not in ("categorical", "continuous"):
            raise ConfigError(f"unknown attribute kind {kind!r}")
        if kind == "categorical" and n_classes < 2:
            raise ConfigError("a categorical attacker needs n_classes >= 2")
        self.kind = kind
        self.n_classes = n_classes
        self.seed = seed
        self.threads = threads

    def _build(self) -> Any:
        if self.kind == "categorical":
            return self.spec.classifier(self.seed)
        return TransformedTargetRegressor(
            regressor=self.spec.regressor(self.seed), transformer=StandardScaler()
        )

    def fit(self, X: np.ndarray, y: np.ndarray) -> Attacker:
        """Train on embeddings ``X`` (n, d) with labels ``y`` (class codes or floats)."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        y = y.astype(np.int64) if self.kind == "categorical" else y.astype(np.float64)
        estimator = self._build()
        if self.spec.prepare is not None:
            self.spec.prepare(estimator, X, y)
        with limit_threads(self.threads):
            self.estimator_ = estimator.fit(X, y)
        if self.kind == "categorical":
            self.classes_ = np.unique(y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class codes (categorical) or values (continuous)."""
        with limit_threads(self.threads):
            out = self.estimator_.predict(np.asarray(X, dtype=np.float64))
        return out.astype(np.int64) if self.kind == "categorical" else out.astype(np.float64)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class scores (n, n_classes) summing to 1, columns in class-code order.

        Classes absent from the training users get probability 0.

        Raises:
            ConfigError: the attribute is continuous.
        """
        if self.kind != "categorical":
            raise ConfigError("predict_proba is only defined for categorical attributes")
        X = np.asarray(X, dtype=np.float64)
        classes = np.asarray(self.estimator_.classes_).astype(np.int64)
        if len(classes) == 1:
            partial = np.ones((len(X), 1))
        elif self.spec.proba == "decision_function":
            with limit_threads(self.threads):
                scores = np.asarray(self.estimator_.decision_function(X), dtype=np.float64)
            if scores.ndim == 1:
                scores = np.column_stack([-scores / 2, scores / 2])
            partial = _softmax(scores)
        else:
            with limit_threads(self.threads):
                partial = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        full = np.zeros((len(X), self.n_classes))
        full[:, classes] = partial
        return full
