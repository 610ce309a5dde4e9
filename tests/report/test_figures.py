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


def _sweep_rows() -> pd.DataFrame:
    rows = [
        {
            "model": model,
            "seed": seed,
            "method": method,
            "radius": radius,
            "step": "-" if method == "original" else "absolute",
            "keep": 1.0 if method == "original" else 0.9,
            "paper_bacc": 0.6,
            "worst_bacc": 0.7,
            "chance_bacc": 0.5,
        }
        for model in ("ncf", "lightgcn")
        for seed in (0, 1)
        for method, radius in (("original", np.nan), ("lego", np.nan), ("lego-ball0.1", 0.1))
    ]
    return pd.DataFrame(rows)


def test_ball_sweep_draws_one_panel_per_model_and_needs_swept_rows():
    frame = _sweep_rows()
    assert figures.ball_sweep(frame)[:4] == PNG
    assert figures.ball_sweep(frame[frame["method"] == "original"]) is None
    one_model = figures.ball_sweep(frame[frame["model"] == "ncf"])
    assert one_model[:4] == PNG and one_model != figures.ball_sweep(frame)
