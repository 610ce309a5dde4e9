"""Inductive unlearners protect users whose labels they never saw."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score

from recunlearn.core.errors import ConfigError
from recunlearn.protect.posthoc.inductive import InductiveMap
from recunlearn.protect.posthoc.linear_erasure import LinearErasure
from recunlearn.testing.data import LinearScorer


def hide(labels, held_out):
    """Labels with the held-out users' values set to unknown."""
    out = {}
    for name, entry in labels.items():
        values = entry.values.copy()
        values[held_out] = -1 if entry.attribute.kind == "categorical" else np.nan
        out[name] = dataclasses.replace(entry, values=values)
    return out


def held_out_bacc(matrix, labels, name, held_out) -> float:
    """Attacker trained on the other labelled users, tested on the held-out users."""
    x = np.asarray(matrix)
    y = labels[name].values
    train = labels[name].known & ~held_out
    test = labels[name].known & held_out
    model = LogisticRegression(max_iter=2000).fit(x[train], y[train])
    return balanced_accuracy_score(y[test], model.predict(x[test]))


def split(n: int) -> np.ndarray:
    held_out = np.zeros(n, dtype=bool)
    held_out[np.random.default_rng(1).permutation(n)[: n // 3]] = True
    return held_out


def test_linear_erasure_zeroes_the_cross_covariance(planted_data):
    matrix, labels = planted_data
    out = LinearErasure().fit(matrix, labels).transform("gender").numpy().astype(np.float64)
    known = labels["gender"].known
    z = np.eye(2)[labels["gender"].values[known]]
    x = out[known] - out[known].mean(0)
    np.testing.assert_allclose(x.T @ (z - z.mean(0)) / len(x), 0, atol=1e-4)


def test_linear_erasure_generalises_to_unlabelled_users(planted_data):
    matrix, labels = planted_data
    held_out = split(len(matrix))
    assert held_out_bacc(matrix, labels, "gender", held_out) > 0.9
    out = LinearErasure().fit(matrix, hide(labels, held_out)).transform("gender")
    assert abs(held_out_bacc(out, labels, "gender", held_out) - 0.5) < 0.15  # both sides


def test_inductive_map_generalises_to_unlabelled_users(planted_data):
    matrix, labels = planted_data
    held_out = split(len(matrix))
    method = InductiveMap(steps=500, lr_map=3e-3, fidelity=0.1)
    out = method.fit(matrix, hide(labels, held_out)).transform("gender")
    assert abs(held_out_bacc(out, labels, "gender", held_out) - 0.5) < 0.1  # both sides
    # the other planted attribute is kept
    assert held_out_bacc(out, labels, "age", held_out) > 0.4
    assert method.log_["objective_last"] < method.log_["objective_first"]


def test_score_fidelity_lets_the_map_move_what_the_recommender_ignores(planted_data):
    """Gender planted on a coordinate no item reads: moving it costs no score, so a map with a
    heavy score-space fidelity removes it, while the same weight in embedding space holds the
    rows in place."""
    matrix, labels = planted_data
    held_out = split(len(matrix))
    scorer = LinearScorer(matrix)
    scorer.items[:, 0] = 0.0
    hidden = hide(labels, held_out)
    options = {"steps": 1000, "hidden": 16, "fidelity": 100.0}
    free = InductiveMap(**options, fidelity_space="scores").fit(matrix, hidden, scorer=scorer)
    held = InductiveMap(**options).fit(matrix, hidden, scorer=scorer)
    # from 0.98: the free map generalises its move to most unseen users, the held one stays
    assert held_out_bacc(free.transform("gender"), labels, "gender", held_out) < 0.65
    assert held_out_bacc(held.transform("gender"), labels, "gender", held_out) > 0.9
    with pytest.raises(ConfigError, match="scorer"):
        InductiveMap(fidelity_space="scores").fit(matrix, hidden).transform("gender")


def test_fit_share_trains_on_a_seeded_subset(planted_data):
    matrix, labels = planted_data
    known = int(labels["gender"].known.sum())
    logs = []
    for seed in (0, 0, 1):
        method = InductiveMap(steps=2, fit_share=0.5, seed=seed).fit(matrix, labels)
        out = method.transform("gender")
        logs.append((method.log_["trained_users"], out))
    assert logs[0][0] == {"gender": round(known / 2)}
    assert torch.equal(logs[0][1], logs[1][1]) and not torch.equal(logs[0][1], logs[2][1])
    full = InductiveMap(steps=2).fit(matrix, labels)
    full.transform("gender")
    assert full.log_["trained_users"] == {"gender": known}
