"""AFRL: defaults are the official code's, the paper's variants run, the frozen base and the
scorer are only read, validation keeps the best epoch, and on planted data a requirement
removes its attribute to chance (transductive) and far below the original (held-out) while
the attributes it keeps stay readable."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from recunlearn.protect.personal.afrl import AFRL, AFRLConfig
from recunlearn.protect.personal.training import ValidationSchedule
from recunlearn.protect.posthoc.base import heldout_users, hide_labels
from recunlearn.testing.data import LinearScorer, planted_matrix
from tests.protect.personal.conftest import TOLERANCE, distance

FAST = {"epochs": 2, "batch_size": 128, "validation": "none"}


def test_defaults_are_the_official_codes():
    cfg = AFRLConfig()
    assert (cfg.beta, cfg.lam, cfg.lr, cfg.weight_decay, cfg.batch_size) == (1, 1, 5e-5, 1e-8, 256)
    assert (cfg.encoder, cfg.attribute_objective, cfg.reconstruction) == ("code", "code", "mean")
    assert (cfg.mask_sampling, cfg.init, cfg.validation) == ("batch", "code", "code")
    assert cfg.adversary_objective == "reversal"


def test_architecture_code_and_paper():
    matrix, labels = planted_matrix(n=200)
    scorer = LinearScorer(matrix)
    code = AFRL(**FAST, attributes=["gender", "age"]).fit(matrix, labels, scorer=scorer).nets_
    widths = [m.out_features for m in code.encoders[0] if isinstance(m, nn.Linear)]
    assert widths == [32, 64, 128, 64, 32, 16]  # d -> 2d -> 4d -> 8d -> 4d -> 2d -> d
    assert isinstance(code.encoders[0][0], nn.LayerNorm)
    assert code.aggregator[0].in_features == 3 * 16  # [z0, z_gender, z_age]
    assert [m.out_features for m in code.classifiers[1] if isinstance(m, nn.Linear)] == [16, 3]
    paper = AFRL(**FAST, encoder="paper").fit(matrix, labels, scorer=scorer).nets_
    assert not any(isinstance(m, nn.LayerNorm) for m in paper.encoders[0])


@pytest.mark.parametrize(
    "variant",
    [
        {"attribute_objective": "paper", "reconstruction": "sum", "mask_sampling": "user"},
        {"adversary_objective": "confusion", "init": "torch"},
    ],
)
def test_variants_fit_and_only_read_the_base(variant):
    matrix, labels = planted_matrix(n=200)
    before = matrix.copy()
    scorer = LinearScorer(matrix)
    items = scorer.items.clone()
    method = AFRL(**FAST, **variant).fit(matrix, labels, scorer=scorer)
    out = method.transform("gender")
    assert torch.isfinite(out).all() and out.shape == matrix.shape
    np.testing.assert_array_equal(matrix, before)
    torch.testing.assert_close(scorer.items, items)
    assert len(method.logs_["epochs"]) == 2 and method.timings_["fit"] > 0


def test_validation_schedule_of_the_code():
    schedule = ValidationSchedule("code")
    assert [e for e in range(60) if schedule.due(e)] == [0, 10, 20, 30, 40, *range(50, 60)]
    patience = ValidationSchedule("every", patience=2, decreasing=0)
    assert [patience.update(v)[1] for v in (0.5, 0.4, 0.45, 0.3)] == [False, False, False, True]
    falling = ValidationSchedule("every", patience=99, decreasing=3)
    assert [falling.update(v)[1] for v in (0.2, 0.5, 0.4, 0.3, 0.2)] == [False] * 4 + [True]


def test_the_best_validation_epoch_is_kept_and_bpr_trains_the_aggregator():
    matrix, labels = planted_matrix(n=300)
    method = AFRL(
        epochs=12, batch_size=128, lr=1e-3, init="torch", validation="every", validate_every=3,
        patience=99,
    ).fit(matrix, labels, scorer=LinearScorer(matrix))  # fmt: skip
    trace = [e for e in method.logs_["epochs"] if "valid_ndcg" in e]
    assert [e["epoch"] for e in trace] == [2, 5, 8, 11]
    best = max(trace, key=lambda e: e["valid_ndcg"])
    assert method.logs_["kept_epoch"] == best["epoch"]
    losses = [e["g"] for e in method.logs_["epochs"]]
    assert losses[-1] < losses[0]


# 16-dim rows: the code's N(0, .1) initialisation of six 16..128-wide layers shrinks the
# attribute embeddings to ~0 (it is made for d = 64), hence torch's initialisation here; large
# batches and a high learning rate keep the fit at ~2 s
PLANTED = dict(
    epochs=20, lr=3e-3, batch_size=512, beta=0.3, lam=3.0, init="torch",
    adversary_objective="confusion", validation="every", validate_every=5,
)  # fmt: skip


def test_planted_requirement_removes_its_attribute_and_keeps_the_other(planted):
    matrix, labels, scorer = planted
    assert distance(matrix, labels, "gender", n_folds=3) > 25  # the signal was there
    method = AFRL(**PLANTED).fit(matrix, labels, scorer=scorer)
    gender_removed = method.transform("gender").numpy()
    paper = ("logreg", "svm_rbf", "knn", "afrl_mlp")
    assert abs(distance(gender_removed, labels, "gender", paper, n_folds=3)) <= TOLERANCE
    # kept: readable -- here above the base's 24 points (~53): the attribute encoders memorise
    # the labelled users, and the kept attribute reaches the served rows through them (users
    # whose labels the fit never saw read ~11 against the base's 21; notes/personal.md)
    assert distance(gender_removed, labels, "age", n_folds=3) > 25
    age_removed = method.transform("age").numpy()
    assert abs(distance(age_removed, labels, "age", n_folds=3)) <= TOLERANCE
    assert distance(age_removed, labels, "gender", n_folds=3) > 25


def test_planted_removal_reaches_users_whose_labels_were_not_seen(planted):
    """The held-out view: fitted without 20 % of the labels, attacked on those users (trained
    on the others). Gender falls far below the original (measured ~7 points from chance, 34
    before) without flipping; age, also removed, is near chance."""
    matrix, labels, scorer = planted
    hidden = heldout_users(len(matrix), 0.2, 0)
    original = distance(matrix, labels, "gender", test_users=hidden)
    second = AFRL(**PLANTED).fit(matrix, hide_labels(labels, hidden), scorer=scorer)
    held = second.transform("gender,age").numpy()
    gender = distance(held, labels, "gender", test_users=hidden)
    assert original > 25 and -TOLERANCE <= gender <= original - 15
    assert abs(distance(held, labels, "age", test_users=hidden)) <= TOLERANCE + 2


def test_cross_fitted_attribute_encoders_do_not_imprint_the_labels(planted):
    """With ``attribute_folds`` each labelled user's z_i comes from encoders that never saw
    their label: the kept attribute no longer reads far above the base in the transductive
    view (one set: ~53 points against the base's 24, measured; two: -2 to 9), and the
    requirement still removes its attribute."""
    matrix, labels, scorer = planted
    base = distance(matrix, labels, "age", n_folds=3)
    method = AFRL(**PLANTED, attribute_folds=2).fit(matrix, labels, scorer=scorer)
    folds = method.folds_.numpy()
    assert set(np.unique(folds)) == {0, 1} and abs(np.mean(folds) - 0.5) < 0.05
    assert len(method.nets_.encoders) == 2 * 2  # two sets of (gender, age) encoders
    gender_removed = method.transform("gender").numpy()
    assert abs(distance(gender_removed, labels, "gender", n_folds=3)) <= TOLERANCE
    assert distance(gender_removed, labels, "age", n_folds=3) < base + 5


def test_cross_fitted_unlabelled_users_get_the_mean_of_the_sets():
    matrix, labels = planted_matrix(n=200)
    hidden = heldout_users(200, 0.3, 0)
    method = AFRL(**FAST, attribute_folds=2).fit(
        matrix, hide_labels(labels, hidden), scorer=LinearScorer(matrix)
    )
    assert (method.folds_.numpy()[hidden] == -1).all()
    per_set = [[torch.full((5, 2), float(j))] for j in range(2)]
    routed = method._route(per_set, torch.as_tensor(np.arange(5)))[0]
    folds = method.folds_[:5]
    expected = torch.where(folds >= 0, folds.float(), torch.tensor(0.5))
    torch.testing.assert_close(routed[:, 0], expected)
