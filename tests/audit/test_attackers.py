"""The attacker registry and the Attacker wrapper on tiny data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor

from recunlearn.audit.attackers import (
    ATTACKERS,
    DEFAULT_ATTACKERS,
    QUICK_ATTACKERS,
    Attacker,
    AttackerSpec,
    get_attacker,
    register_attacker,
)
from recunlearn.core.errors import ConfigError
from recunlearn.testing import AttackerContract


def _data(n=90, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    X = rng.normal(size=(n, d))
    X[:, 0] += 2.0 * y
    return X, y


def test_registry_holds_the_six_attackers():
    assert DEFAULT_ATTACKERS == ("paper_mlp", "logreg", "svm_rbf", "gbt", "knn", "torch_mlp")
    assert set(QUICK_ATTACKERS) <= set(ATTACKERS)
    with pytest.raises(ConfigError, match="unknown attacker 'nope'.*paper_mlp"):
        get_attacker("nope")
    with pytest.raises(ConfigError, match="already registered"):
        register_attacker(ATTACKERS["knn"])


def test_paper_mlp_is_exactly_the_papers_protocol():
    spec = get_attacker("paper_mlp")
    clf = spec.classifier(7)
    assert isinstance(clf, MLPClassifier)
    params = clf.get_params()
    defaults = MLPClassifier().get_params()
    expected = {
        "hidden_layer_sizes": (100,),
        "alpha": 1.0,
        "learning_rate_init": 1e-2,
        "max_iter": 500,
        "random_state": 7,
    }
    for key, value in params.items():
        assert value == expected.get(key, defaults[key]), key
    reg = spec.regressor(7)
    assert isinstance(reg, MLPRegressor)
    assert reg.get_params()["alpha"] == 1.0 and reg.get_params()["max_iter"] == 500


def test_probability_columns_follow_class_codes_when_a_class_is_missing():
    X, y = _data(k=3)
    train = y != 1  # class 1 never seen in training
    attacker = Attacker("logreg", "categorical", n_classes=4, seed=0).fit(X[train], y[train])
    proba = attacker.predict_proba(X)
    assert proba.shape == (len(X), 4)
    assert np.all(proba[:, 1] == 0) and np.all(proba[:, 3] == 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_knn_and_gbt_adapt_to_tiny_training_sets():
    X, y = _data(n=12, k=2)
    Attacker("knn", "categorical", 2).fit(X[:6], y[:6]).predict(X[6:])  # k > n_train
    Attacker("gbt", "categorical", 2).fit(X[:5], y[:5]).predict(X[6:])  # no validation share


def test_custom_attacker_registration():
    from sklearn.dummy import DummyClassifier, DummyRegressor

    spec = AttackerSpec(
        "dummy_test", "majority class", lambda s: DummyClassifier(), lambda s: DummyRegressor()
    )
    register_attacker(spec)
    try:
        X, y = _data(k=2)
        assert Attacker("dummy_test", "categorical", 2).fit(X, y).predict_proba(X).shape == (90, 2)
    finally:
        ATTACKERS.unregister("dummy_test")


def test_bad_kind_or_classes():
    with pytest.raises(ConfigError):
        Attacker("logreg", "ordinal", 2)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        Attacker("logreg", "categorical", 1)


class TestPaperMLP(AttackerContract):
    name = "paper_mlp"


class TestLogreg(AttackerContract):
    name = "logreg"


class TestSVM(AttackerContract):
    name = "svm_rbf"


class TestGBT(AttackerContract):
    name = "gbt"


class TestKNN(AttackerContract):
    name = "knn"


class TestTorchMLP(AttackerContract):
    name = "torch_mlp"


class TestAdvXMLP(AttackerContract):
    name = "advx_mlp"


class TestAFRLMLP(AttackerContract):
    name = "afrl_mlp"


def test_every_registered_attacker_has_a_contract_test() -> None:
    tested = {
        c.name
        for c in globals().values()
        if isinstance(c, type) and issubclass(c, AttackerContract)
    }
    assert set(ATTACKERS) <= tested, sorted(set(ATTACKERS) - tested)
