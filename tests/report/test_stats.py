"""Paired statistics of per-user metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from recunlearn.report.stats import bootstrap_ratio_interval


def test_the_interval_averages_replicates_and_pairs_by_user() -> None:
    users = np.arange(50)
    reference = {0: pd.Series(np.ones(50), index=users), 1: pd.Series(np.ones(50), index=users)}
    # replicate 0 keeps 80 %, replicate 1 keeps 100 %; user order shuffled on our side
    ours = {
        0: pd.Series(np.full(50, 0.8), index=users[::-1]),
        1: pd.Series(np.ones(50), index=users),
    }
    assert bootstrap_ratio_interval(ours, reference) == pytest.approx((0.9, 0.9))


def test_the_interval_narrows_with_more_users() -> None:
    rng = np.random.default_rng(1)

    def width(n: int) -> float:
        base = rng.random(n)
        ours = np.where(rng.random(n) < 0.3, 0.0, base)
        low, high = bootstrap_ratio_interval({0: pd.Series(ours)}, {0: pd.Series(base)}, draws=500)
        assert low < ours.sum() / base.sum() < high
        return high - low

    assert width(4000) < width(250) / 2


def test_nothing_paired_gives_nan() -> None:
    low, high = bootstrap_ratio_interval({0: pd.Series([1.0])}, {1: pd.Series([1.0])})
    assert math.isnan(low) and math.isnan(high)


def test_the_interval_does_not_depend_on_the_order_of_replicates() -> None:
    rng = np.random.default_rng(2)
    base = {k: pd.Series(rng.random(100)) for k in (0, 1, 2)}
    ours = {k: v * rng.random(100) for k, v in base.items()}
    reordered = {k: ours[k] for k in (2, 0, 1)}
    assert bootstrap_ratio_interval(ours, base) == bootstrap_ratio_interval(reordered, base)
