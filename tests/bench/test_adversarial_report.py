"""The AdvX grid report never lets a one-fold cell or another recipe pass for a five-fold mean."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def grid_script():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import adversarial_grid

        yield adversarial_grid
    finally:
        sys.path.remove(str(BENCHMARKS))


def _record(fold: int, gender_lambda: float | None, bacc: float, **extra: Any) -> dict:
    """A user_kfold grid record with one categorical and one continuous attribute."""
    lambdas = None if gender_lambda is None else {"gender": gender_lambda, "age_raw": 0.0}
    return {
        "dataset": "toy",
        "protocol": "user_kfold_full",
        "model": "multvae",
        "lambdas": lambdas,
        "adversary": {},
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


def test_five_fold_cells_win_the_headline_pick(grid_script) -> None:
    text = grid_script.report_markdown(_records(), ["gender", "age_raw"])
    headline, single = text.split("fold 0 only", 1)
    adv_row = next(line for line in headline.splitlines() if line.startswith("| Adv-gender"))
    assert "gender 400" in adv_row and adv_row.rstrip(" |").endswith("5")
    # the single-fold section makes the paper's pick among all of fold 0's cells
    adv_row = next(line for line in single.splitlines() if line.startswith("| Adv-gender"))
    assert "gender 800" in adv_row and "55.00" in adv_row
    assert "Wall time of the grid's 3 cells" in single


def test_balanced_folds_have_no_single_fold_section(grid_script) -> None:
    records = [r for r in _records() if (r["lambdas"] or {}).get("gender") != 800.0]
    assert "only" not in grid_script.report_markdown(records, ["gender", "age_raw"])


def test_figures_never_mix_objectives(grid_script) -> None:
    advsel = {"objective": "reversal", "selection": "adversary"}
    records = _records() + [_record(f, 400.0, 0.69, adversary=advsel) for f in range(5)]
    frame = grid_script.records_frame(records)
    parts = {key[-1]: (table, note) for key, table, note in grid_script.figure_parts(frame)}
    assert set(parts) == {"reversal", "reversal-advsel"}
    table, note = parts["reversal"]
    assert note == " · fold 0 only" and set(table["n"]) == {1}
    cells = table[~table["base"].astype(bool)]
    assert not cells.duplicated(["lambda:gender", "lambda:age_raw"]).any()
