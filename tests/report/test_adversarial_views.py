"""The leave-one-out adversary table: NDCG against the same seed's base, both views, verdict."""

from __future__ import annotations

from typing import Any

import pytest

from recunlearn.report.adversarial_views import adversarial_views_table, views_frame


def _gender(bacc: float, attacker: str = "svm_rbf") -> dict[str, Any]:
    return {
        "gender": {
            "kind": "categorical",
            "worst": {
                "bacc": bacc,
                "bacc_gap": abs(bacc - 0.5),
                "attacker": attacker,
                "chance_bacc": 0.5,
            },
        }
    }


def _record(
    seed: int, lam: float | None, ndcg: float, cv: float, held: float, objective: str = "confusion"
) -> dict[str, Any]:
    return {
        "dataset": "toy",
        "protocol": "loo_full",
        "model": "mf",
        "lambdas": None if lam is None else {"gender": lam},
        "adversary": {"objective": objective},
        "_path": f"r{seed}-{lam}-{objective}.json",
        "replicate": seed,
        "test": {"NDCG@10": ndcg},
        "attackers": ["logreg", "svm_rbf"],
        "leakage": {"cv": _gender(cv), "heldout": _gender(held, "logreg")},
    }


def _records() -> list[dict[str, Any]]:
    return [
        _record(0, None, 0.10, 0.70, 0.68),
        _record(1, None, 0.08, 0.72, 0.70),
        _record(0, 10.0, 0.097, 0.53, 0.46),  # 3 / 4 points, 97 %
        _record(1, 10.0, 0.078, 0.54, 0.55),  # 4 / 5 points, 97.5 %
        _record(0, 10.0, 0.09, 0.20, 0.30, objective="reversal"),  # far below chance
        _record(1, 10.0, 0.07, 0.25, 0.30, objective="reversal"),
    ]


def test_ndcg_is_relative_to_the_same_seed_and_distances_are_absolute() -> None:
    frame = views_frame(_records()).set_index(["objective", "replicate"])
    assert frame.loc[("confusion", 0), "ndcg_ratio"] == pytest.approx(0.97)
    assert frame.loc[("confusion", 1), "ndcg_ratio"] == pytest.approx(0.975)
    assert frame.loc[("confusion", 0), "held-out"] == pytest.approx(4.0)  # below chance counts
    assert frame.loc[("reversal", 0), "transductive"] == pytest.approx(30.0)


def test_table_verdict_and_user_kfold_records_are_left_out() -> None:
    kfold = dict(_records()[0], protocol="user_kfold_full", _path="kfold.json")
    (table,) = adversarial_views_table([*_records(), kfold])
    rows = {(r[1].text, r[2].text): [c.text for c in r] for r in table.rows}
    assert set(rows) == {
        ("base (no adversary)", "–"),
        ("confusion", "gender=10"),
        ("reversal", "gender=10"),
    }
    assert rows[("base (no adversary)", "–")][-1] == "–"
    assert rows[("confusion", "gender=10")][-1] == "yes"
    assert rows[("confusion", "gender=10")][5] == "3.5 ± 0.7"
    assert rows[("reversal", "gender=10")][-1] == "no"
    assert all("kfold.json" not in link for row in table.rows for link in row[4].links)


def test_no_loo_record_no_table() -> None:
    assert adversarial_views_table([dict(_records()[0], protocol="user_kfold_full")]) == []
