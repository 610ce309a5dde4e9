"""Coat and Yahoo! R3 from ../shared/data (skipped when absent): counts and a smoke run."""

from __future__ import annotations

import pytest

from recunlearn.data.feedback import read_coat, read_yahoo, split_unbiased
from recunlearn.experiments.debias import run_debias
from tests.conftest import shared_data

pytestmark = pytest.mark.realdata


def test_coat_counts_and_smoke():
    folder = shared_data("coat")
    data = read_coat(folder)
    assert (len(data.biased), len(data.unbiased)) == (6960, 4640)
    assert data.unbiased.positive_rate == pytest.approx(0.401, abs=1e-3)
    split = split_unbiased(data, 0)
    assert (len(split.uniform), len(split.valid), len(split.test)) == (232, 232, 4176)
    record = run_debias(
        {"dataset": "coat", "method": "mf", "data_dir": str(folder), "options": {"epochs": 30}},
        data,
    )
    assert record["test"]["AUC"] > 0.65


def test_yahoo_counts():
    data = read_yahoo(shared_data("yahoo-r3"))
    assert (data.n_users, data.n_items) == (15400, 1000)
    assert (len(data.biased), len(data.unbiased)) == (311704, 54000)
    assert data.unbiased.positive_rate == pytest.approx(0.232, abs=1e-3)
