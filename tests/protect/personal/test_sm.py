"""SM: defaults as stated, one filter per combination (or per attribute), the empty requirement
keeps the original rows, and on planted data a filter removes its attribute."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from recunlearn.protect.personal import PersonalRequirement
from recunlearn.protect.personal.sm import SM, SMConfig
from recunlearn.testing.data import LinearScorer, planted_matrix
from tests.protect.personal.conftest import TOLERANCE, distance

FAST = {"epochs": 1, "batch_size": 256, "d_steps": 1, "validation": "none"}


def test_defaults():
    cfg = SMConfig()
    assert (cfg.filters, cfg.lam, cfg.d_steps, cfg.dropout) == ("combination", 20, 10, 0.3)
    assert (cfg.lr, cfg.weight_decay, cfg.adversary_objective) == (1e-3, 1e-4, "reversal")


def test_filters_and_discriminators():
    matrix, labels = planted_matrix(n=200)
    scorer = LinearScorer(matrix)
    nets = SM(**FAST, attributes=["gender", "age", "noise"]).fit(matrix, labels, scorer=scorer)
    assert len(nets.nets_.filters) == 7  # G, A, N, G+A, G+N, A+N, G+A+N
    layers = list(nets.nets_.filters[0])
    assert [type(m) for m in layers] == [
        nn.Linear, nn.LeakyReLU, nn.Linear, nn.LeakyReLU, nn.BatchNorm1d,
    ]  # fmt: skip
    assert layers[0].out_features == 2 * matrix.shape[1]
    linear = [m for m in nets.nets_.discriminators[1] if isinstance(m, nn.Linear)]
    assert len(linear) == 7 and linear[-1].out_features == 3
    per_attribute = SM(**FAST, filters="attribute").fit(matrix, labels, scorer=scorer)
    assert len(per_attribute.nets_.filters) == len(per_attribute.attributes_)
    assert torch.isfinite(per_attribute.transform("gender,age")).all()


def test_nothing_asked_keeps_the_original_rows():
    matrix, labels = planted_matrix(n=200)
    method = SM(**FAST).fit(matrix, labels, scorer=LinearScorer(matrix))
    table = PersonalRequirement.uniform(len(matrix), method.attributes_, None)
    np.testing.assert_array_equal(method.transform_personal(table).numpy(), matrix)


def test_planted_filter_removes_its_attribute(planted):
    matrix, labels, scorer = planted
    method = SM(
        attributes=["gender"], epochs=30, d_steps=3, adversary_objective="confusion",
        validation="none",
    ).fit(matrix, labels, scorer=scorer)  # fmt: skip
    removed = method.transform("gender").numpy()
    assert abs(distance(removed, labels, "gender", ("logreg", "svm_rbf"), n_folds=3)) <= TOLERANCE
    assert distance(removed, labels, "age", ("logreg",), n_folds=3) > 5  # kept: readable


def test_warm_start_fits_every_filter_to_the_base_rows():
    matrix, labels = planted_matrix(n=200)
    scorer = LinearScorer(matrix)
    u = torch.as_tensor(matrix, dtype=torch.float32)

    def error(method: SM) -> float:
        served = method.transform("gender,age,noise")
        return float(((served - u) ** 2).mean() / (u**2).mean())

    calm = {**FAST, "lam": 0.0}  # one epoch of BPR alone after the start
    cold = SM(**calm, warm_start=0).fit(matrix, labels, scorer=scorer)
    warm = SM(**calm, warm_start=500).fit(matrix, labels, scorer=scorer)
    assert error(warm) < 0.1 < error(cold)
