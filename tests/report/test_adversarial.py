"""The AdvX grid report never lets a one-fold cell or another recipe pass for a five-fold mean."""

from __future__ import annotations

from typing import Any

from recunlearn.report.adversarial import figure_parts, records_frame
from recunlearn.report.tables import advx_table2


def _record(fold: int, gender_lambda: float | None, bacc: float, **extra: Any) -> dict:
    """A user_kfold grid record with one categorical and one continuous attribute."""
    lambdas = None if gender_lambda is None else {"gender": gender_lambda, "age_raw": 0.0}
    return {
        "dataset": "toy",
        "protocol": "user_kfold_full",
        "model": "multvae",
        "lambdas": lambdas,
        "adversary": {},
        "_path": f"r{fold}-{gender_lambda}.json",
        "replicate": fold,
        "fold": fold,
        "seconds_per_epoch": 0.5,
        "train_seconds": 60.0,
        "audit_seconds": 6.0,
        "test": {"NDCG@10": 0.6},
        "scales": {"age_raw": 60.0},
        "attackers": ["logreg"],
        "advx": {"gender": {"bacc": bacc}, "age_raw": {"mae_scaled": 0.15}},
        "leakage": {
            "heldout": {
                "gender": {
                    "kind": "categorical",
                    "worst": {
                        "bacc": bacc,
                        "bacc_gap": abs(bacc - 0.5),
                        "attacker": "logreg",
                        "chance_bacc": 0.5,
                    },
                },
                "age_raw": {
                    "kind": "continuous",
                    "worst": {"mae": 9.0, "attacker": "logreg", "chance_mae": 10.0},
                },
            }
        },
        **extra,
    }


def _records() -> list[dict]:
    """Five folds of the base and lambda 400; fold 0 alone also holds a lucky lambda 800."""
    records = []
    for fold in range(5):
        records.append(_record(fold, None, 0.70))
        records.append(_record(fold, 400.0, 0.62))
    records.append(_record(0, 800.0, 0.55))
    return records


def _row(table, label: str) -> list[str]:
    return next([c.text for c in row] for row in table.rows if row[0].text.startswith(label))


def test_five_fold_cells_win_the_headline_pick() -> None:
    headline, single = advx_table2(_records(), lambda row: ())
    adv = _row(headline, "Adv-gender")
    assert adv[1] == "gender 400, age_raw 0" and adv[-1] == "5"
    # the single-fold table makes the paper's pick among all of fold 0's cells
    assert "fold 0 only" in single.title
    adv = _row(single, "Adv-gender")
    assert adv[1] == "gender 800, age_raw 0" and adv[4].startswith("55.00")
    assert any("Wall time of the grid's 3 cells" in note for note in single.notes)


def test_balanced_folds_have_no_single_fold_section() -> None:
    records = [r for r in _records() if (r["lambdas"] or {}).get("gender") != 800.0]
    tables = advx_table2(records, lambda row: ())
    assert len(tables) == 1 and "only" not in tables[0].title


def test_figures_never_mix_objectives() -> None:
    advsel = {"objective": "reversal", "selection": "adversary"}
    records = _records() + [_record(f, 400.0, 0.69, adversary=advsel) for f in range(5)]
    parts = {key[-1]: (table, note) for key, table, note in figure_parts(records_frame(records))}
    assert set(parts) == {"reversal", "reversal-advsel"}
    table, note = parts["reversal"]
    assert note == " · fold 0 only" and set(table["n"]) == {1}
    cells = table[~table["base"].astype(bool)]
    assert not cells.duplicated(["lambda:gender", "lambda:age_raw"]).any()
