"""The removal report: distances from chance per view, the target verdict, the frontier."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from recunlearn.report import removal


def _attack(distances: dict[str, float], chance: float = 0.5) -> dict[str, Any]:
    """An audit summary whose worst attacker sits ``distance`` points from chance."""
    rows = []
    for attribute, distance in distances.items():
        rows.append(
            {
                "attribute": attribute,
                "kind": "categorical",
                "worst": True,
                "bacc_mean": chance + distance / 100.0,
                "chance_bacc_mean": chance,
            }
        )
        # a weaker attacker of the same attribute never counts
        rows.append(
            {
                "attribute": attribute,
                "kind": "categorical",
                "worst": False,
                "bacc_mean": chance + 0.9,
                "chance_bacc_mean": chance,
            }
        )
    return {"per_attribute": rows}


def _record(
    method: str,
    seed: int,
    ndcg: float,
    transductive: dict[str, float],
    heldout: dict[str, float] | None = None,
    transfer: dict[str, float] | None = None,
    model: str = "mf",
) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "test": {"NDCG@10": ndcg},
        "test_original": {"NDCG@10": 0.1},
        "attack": _attack(transductive),
    }
    if heldout is not None:
        metrics["attack_heldout"] = _attack(heldout)
    if transfer is not None:
        metrics["attack_transfer"] = _attack(transfer)
    return {
        "kind": "unlearn",
        "_path": f"records/{method}-{seed}.json",
        "dataset": {"label": "Toy"},
        "params": {
            "dataset": "toy",
            "model": model,
            "seed": seed,
            "requirement": sorted(transductive),
            "method": method,
        },
        "metrics": metrics,
    }


def test_distances_are_signed_and_the_cell_takes_the_worst_attribute_and_seed() -> None:
    records = [
        _record("eraser", 0, 0.097, {"gender": 2.0, "age": -6.0}, {"gender": 1.0, "age": 3.0}),
        _record("eraser", 1, 0.099, {"gender": 4.0, "age": 1.0}, {"gender": -2.0, "age": 0.5}),
    ]
    frame = removal.removal_frame(records)
    assert sorted(frame["transductive"]) == pytest.approx([-6.0, 1.0, 2.0, 4.0])
    summary = removal._cell_summary(frame)
    # per seed the worst |distance| over attributes: 6 and 4 -> mean 5
    assert summary["transductive"][0] == pytest.approx(5.0)
    assert summary["held-out"][0] == pytest.approx(2.5)
    assert summary["ndcg_ratio"][0] == pytest.approx(0.98)
    assert math.isnan(summary["transfer"][0])


@pytest.mark.parametrize(
    ("ndcg", "distance", "verdict"),
    [(0.096, 4.9, "yes"), (0.094, 4.9, "no"), (0.096, 5.1, "no"), (0.096, -5.1, "no")],
)
def test_target_verdict_needs_every_view_and_the_ndcg(
    ndcg: float, distance: float, verdict: str
) -> None:
    view = {"gender": distance}
    frame = removal.removal_frame([_record("eraser", 0, ndcg, view, view, view)])
    assert removal._meets(removal._cell_summary(frame)) == verdict


@pytest.mark.parametrize(
    ("ndcg", "distance", "interval", "verdict"),
    [
        (0.096, 4.9, (0.90, 1.02), "yes (NDCG bar inside the interval)"),
        (0.094, 4.9, (0.90, 1.02), "no (NDCG bar inside the interval)"),
        (0.096, 4.9, (0.955, 1.02), "yes"),
        (0.094, 4.9, (0.90, 0.949), "no"),
        (0.096, 5.1, (0.90, 1.02), "no"),  # the leakage side decides first
        (0.096, 4.9, (math.nan, math.nan), "yes"),
    ],
)
def test_the_verdict_says_when_the_test_users_do_not_decide_the_ndcg_bar(
    ndcg: float, distance: float, interval: tuple[float, float], verdict: str
) -> None:
    view = {"gender": distance}
    frame = removal.removal_frame([_record("eraser", 0, ndcg, view, view, view)])
    assert removal._meets(removal._cell_summary(frame), interval) == verdict


def test_a_missing_view_gives_no_verdict() -> None:
    frame = removal.removal_frame([_record("eraser", 0, 0.1, {"gender": 0.0})])
    assert removal._meets(removal._cell_summary(frame)) == "–"


def test_the_table_says_how_the_heldout_view_was_made() -> None:
    single = _record("eraser", 0, 0.1, {"gender": 1.0}, {"gender": 1.0})
    pooled = _record("eraser", 1, 0.1, {"gender": 1.0}, {"gender": 1.0})
    pooled["params"]["audit"] = {"heldout_fraction": 0.2, "heldout_repeats": 5}
    (table,) = removal.removal_tables(removal.removal_frame([single]))
    assert "held-out: a fit without 20 % of the labels, tested on those users;" in table.notes[0]
    (table,) = removal.removal_tables(removal.removal_frame([single, pooled]))
    assert "(5 disjoint masks, one fit each, pooled)" in table.notes[0]
    assert table.title.endswith("; held-out view pooled over 5 masks)")


def test_method_family_is_the_label_before_the_separator() -> None:
    assert removal.method_family("dp@0.5") == "dp"
    assert removal.method_family("split-eraser") == "split-eraser"


def test_pareto_front_drops_dominated_points() -> None:
    points = pd.DataFrame(
        {
            "worst": [2.0, 3.0, 4.0, 6.0, 1.0],
            "ndcg": [80.0, 70.0, 90.0, 99.0, 60.0],
        }
    )
    front = removal.pareto_front(points)
    assert list(zip(front["worst"], front["ndcg"], strict=True)) == [
        (1.0, 60.0),
        (2.0, 80.0),
        (4.0, 90.0),
        (6.0, 99.0),
    ]


def test_frontier_table_reports_what_each_family_reaches() -> None:
    def cell(label: str, ndcg: float, distance: float) -> dict[str, Any]:
        view = {"gender": distance}
        return _record(label, 0, ndcg, view, view, view)

    records = [
        _record("original", 0, 0.1, {"gender": 20.0}, {"gender": 20.0}),
        cell("dp@0.25", 0.099, 15.0),
        cell("dp@1", 0.080, 4.0),
        cell("dp@2", 0.050, 4.5),  # dominated by dp@1
        cell("eraser", 0.097, 7.0),
    ]
    (table,) = removal.frontier_table(removal.removal_frame(records))
    rows = {row[2].text: [c.text for c in row] for row in table.rows}
    assert set(rows) == {"dp", "eraser"}  # the original is not a method
    assert rows["dp"][3] == "3"
    assert rows["dp"][4] == "80.0 (dp@1)"
    assert rows["dp"][5] == "15.0 (dp@0.25)"
    assert rows["dp"][6] == "80 / 4.0, 99 / 15.0"
    assert rows["eraser"][4] == "none"
    assert rows["eraser"][5] == "7.0 (eraser)"


def test_frontier_figure_draws_one_panel_per_model_and_requirement() -> None:
    view = {"gender": 3.0}
    records = [
        _record(f"dp@{s}", 0, 0.09, view, view, view, model=model)
        for model in ("mf", "multvae")
        for s in (1, 2)
    ]
    data = removal.frontier_figure(removal.removal_frame(records), "Toy")
    assert data is not None and data[:8] == b"\x89PNG\r\n\x1a\n"
    assert removal.frontier_figure(removal.removal_frame(records), "Other") is None


def _sidecar(tmp_path: Any, name: str, values: list[float]) -> dict[str, Any]:
    import numpy as np

    path = tmp_path / "records" / f"{name}.npz"
    path.parent.mkdir(exist_ok=True)
    np.savez(path, user_id=np.arange(len(values)), **{"NDCG@10": np.asarray(values)})
    return {"file": path.name, "arrays": ["user_id", "NDCG@10"], "n": len(values)}


def test_the_ndcg_interval_pairs_users_with_the_original(tmp_path: Any) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    base = rng.random(400)
    records = []
    for method, values in (("original", base), ("scaled", 0.9 * base), ("noisy", base)):
        record = _record(method, 0, 0.1, {"gender": 1.0}, {"gender": 1.0}, {"gender": 1.0})
        record["_path"] = str(tmp_path / "records" / f"{method}.json")
        if method == "noisy":
            values = np.where(rng.random(400) < 0.2, 0.0, base)  # a fifth of users lose
        record["per_user"] = _sidecar(tmp_path, method, list(values))
        records.append(record)
    (table,) = removal.removal_tables(removal.removal_frame(records))
    column = table.header.index("95 % interval (test users)")
    cells = {row[2].text: row[column].text for row in table.rows}
    assert cells["original"] == "–"
    assert cells["scaled"] == "90.0–90.0"  # the same users every draw: no spread
    low, high = (float(x) for x in cells["noisy"].split("–"))
    kept = 100 * values.sum() / base.sum()
    assert low < kept < high and high - low < 15


def test_the_ndcg_interval_is_a_dash_without_sidecars() -> None:
    records = [
        _record(m, 0, 0.1, {"gender": 1.0}, {"gender": 1.0}, {"gender": 1.0})
        for m in ("original", "eraser")
    ]
    (table,) = removal.removal_tables(removal.removal_frame(records))
    column = table.header.index("95 % interval (test users)")
    assert [row[column].text for row in table.rows] == ["–", "–"]
