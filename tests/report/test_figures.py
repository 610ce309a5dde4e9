"""Report figures: the trade-off scatter's x column and 95 % line, the timing chart's log axis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recunlearn.report import figures

PNG = b"\x89PNG"


def _unlearn_rows(with_original: bool = True) -> pd.DataFrame:
    methods = ["original", "lego"] if with_original else ["lego"]
    rows = [
        {
            "dataset": "D",
            "model": "ncf",
            "seed": seed,
            "method": method,
            "requirement": ("gender",),
            "NDCG@10": 0.06 + 0.01 * seed,
            "paper_bacc": 0.6,
            "chance_bacc": 0.5,
        }
        for method in methods
        for seed in (0, 1)
    ]
    return pd.DataFrame(rows)


def test_tradeoff_plots_the_chosen_bacc_column():
    frame = _unlearn_rows()
    assert figures.tradeoff(frame, "D", bacc="paper_bacc", keep_fraction=0.95)[:4] == PNG
    with pytest.raises(KeyError):
        figures.tradeoff(frame, "D")  # no worst_bacc column in this frame


def test_tradeoff_without_original_skips_the_keep_line():
    frame = _unlearn_rows(with_original=False)
    assert figures.tradeoff(frame, "D", bacc="paper_bacc", keep_fraction=0.95)[:4] == PNG
    assert figures.tradeoff(frame, "other dataset", bacc="paper_bacc") is None


def test_timing_chart_log_scale_draws_a_different_figure():
    frame = pd.DataFrame(
        {
            "dataset": "D",
            "model": "ncf",
            "step": [0, 1, 0, 1],
            "method": ["store", "store", "recompute", "recompute"],
            "requirement": ["Gender", "Gender, Age"] * 2,
            "seconds": [0.001, 2.0, 10.0, 300.0],
            "base_train_seconds": np.nan,
        }
    )
    linear = figures.timing_chart(frame)
    log = figures.timing_chart(frame, log_scale=True)
    assert linear[:4] == PNG and log[:4] == PNG
    assert linear != log
