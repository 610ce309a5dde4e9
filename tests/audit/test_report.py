"""LeakageReport: summaries, worst case, requirement average, JSON round trip, markdown."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recunlearn.audit.leakage_report import FORMAT, LeakageReport
from recunlearn.core.errors import DataError
from recunlearn.report.audit import render_markdown


def _records() -> pd.DataFrame:
    rows = []
    # gender: a at 0.70 / 0.80, b at 0.30 / 0.30 (below chance 0.5: leakage by flipping)
    for attacker, baccs in (("a", (0.7, 0.8)), ("b", (0.3, 0.3))):
        for fold, bacc in enumerate(baccs):
            rows.append(
                dict(
                    attribute="gender",
                    kind="categorical",
                    attacker=attacker,
                    seed=0,
                    fold=fold,
                    n_train=8,
                    n_test=2,
                    bacc=bacc,
                    chance_bacc=0.5,
                    bacc_gap=abs(bacc - 0.5),
                    micro_f1=bacc,
                    macro_f1=bacc,
                    auc=0.6,
                    fit_seconds=1.0,
                    predict_seconds=0.5,
                )
            )
    for attacker, accs in (("a", (0.4, 0.5)), ("b", (0.35, 0.35))):
        for fold, bacc in enumerate(accs):
            rows.append(
                dict(
                    attribute="age",
                    kind="categorical",
                    attacker=attacker,
                    seed=0,
                    fold=fold,
                    n_train=8,
                    n_test=2,
                    bacc=bacc,
                    chance_bacc=1 / 3,
                    bacc_gap=abs(bacc - 1 / 3),
                    micro_f1=bacc,
                    macro_f1=bacc,
                    auc=0.5,
                    fit_seconds=1.0,
                    predict_seconds=0.5,
                )
            )
    for attacker, maes in (("a", (5.0, 7.0)), ("b", (4.0, 4.0))):
        for fold, mae in enumerate(maes):
            rows.append(
                dict(
                    attribute="age_raw",
                    kind="continuous",
                    attacker=attacker,
                    seed=0,
                    fold=fold,
                    n_train=8,
                    n_test=2,
                    mae=mae,
                    chance_mae=8.0,
                    r2=0.1,
                    fit_seconds=1.0,
                    predict_seconds=0.5,
                )
            )
    return pd.DataFrame(rows)


def _report() -> LeakageReport:
    meta = {
        "protocol": "kfold",
        "n_folds": 2,
        "seeds": [0],
        "per_attribute": {
            "gender": {"kind": "categorical", "bacc_null_sd": 0.05, "n_used": 10},
            "age": {"kind": "categorical", "bacc_null_sd": 0.05, "n_used": 10},
            "age_raw": {"kind": "continuous", "chance_mae": 8.0, "n_used": 10},
        },
        "path": np.float64(1.5),
    }
    return LeakageReport(_records(), meta)


def test_summary_means_stds_and_worst_case():
    summary = _report().summary().set_index(["attribute", "attacker"])
    a = summary.loc[("gender", "a")]
    assert a["bacc_mean"] == pytest.approx(0.75)
    assert a["bacc_std"] == pytest.approx(np.std([0.7, 0.8], ddof=1))
    assert a["bacc_gap"] == pytest.approx(0.25)
    assert a["bacc_z"] == pytest.approx(0.25 / 0.05)
    assert a["seconds"] == pytest.approx(3.0)
    worst = _report().worst_case().set_index("attribute")["attacker"].to_dict()
    # gender: |0.30 - 0.5| = 0.20 < 0.25 -> a; age: |0.45 - 1/3| > |0.35 - 1/3| -> a; MAE 4 -> b
    assert worst == {"gender": "a", "age": "a", "age_raw": "b"}


def test_below_chance_can_be_the_worst_case():
    records = _records()
    records.loc[(records["attribute"] == "gender") & (records["attacker"] == "b"), "bacc"] = 0.1
    worst = LeakageReport(records).worst_case().set_index("attribute")["attacker"]
    assert worst["gender"] == "b"


def test_average_over_the_attributes_of_a_requirement():
    average = _report().average(["gender", "age", "age_raw"]).set_index("attacker")
    # per fold: a -> (0.7+0.4)/2, (0.8+0.5)/2 = 0.55, 0.65; continuous age_raw is left out
    assert average.loc["a", "bacc_mean"] == pytest.approx(0.6)
    assert average.loc["a", "bacc_std"] == pytest.approx(np.std([0.55, 0.65], ddof=1))
    assert average.loc["a", "attributes"] == "gender+age"
    assert average.loc["worst case", "bacc_mean"] == pytest.approx(0.6)
    assert average.loc["b", "chance_bacc_mean"] == pytest.approx((0.5 + 1 / 3) / 2)


def test_json_round_trip(tmp_path):
    report = _report()
    path = report.to_json(tmp_path / "records.json")
    payload = json.loads(path.read_text())
    assert payload["format"] == FORMAT and len(payload["records"]) == 12
    assert payload["records"][-1]["bacc"] is None  # NaN written as null
    back = LeakageReport.from_json(path)
    pd.testing.assert_frame_equal(back.records, report.records)
    assert back.meta["path"] == 1.5
    pd.testing.assert_frame_equal(back.summary(), report.summary())
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(DataError, match="not a leakage report"):
        LeakageReport.from_json(tmp_path / "other.json")


def test_markdown_lists_every_attribute_attacker_and_the_worst_case():
    text = render_markdown(_report())
    assert "| gender | a | 75.00 ± 7.07 / 50.00 | 25.00 (z +5.0)" in text
    assert "| age_raw | b | MAE 4.000 ± 0.000 / 8.000" in text
    assert text.count("◀ worst") == 3
    assert "## Average over the categorical attributes (gender+age)" in text
