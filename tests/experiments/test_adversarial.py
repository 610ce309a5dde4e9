"""The lambda grid runner, its records, the summary tables, the AdvX attacker and the figures."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from recunlearn.audit.advx_attacker import AdvXAttackerClassifier, advx_attack
from recunlearn.core.errors import ConfigError
from recunlearn.data.synthetic import make_synthetic
from recunlearn.experiments.adversarial import GridSetup, lambda_grid, read_records, run_grid
from recunlearn.models.multvae import MultVAE
from recunlearn.protect.adversarial.config import AdversaryConfig
from recunlearn.report.adversarial import (
    best_debiasing,
    cell_table,
    objective_of,
    records_frame,
    variant,
)
from recunlearn.report.adversarial_figures import plot_lambda_heatmaps, plot_tradeoff
from recunlearn.report.frames import advx_method_label


@pytest.fixture(scope="module")
def dataset():
    return make_synthetic(n_users=150, n_items=60, n_interactions_per_user=(8, 20), signal=1.0)


def test_lambda_grid_is_the_full_product_in_order():
    grid = lambda_grid({"gender": [0, 1, 200], "age_raw": [0, 400]})
    assert len(grid) == 6
    assert grid[0] == {"gender": 0.0, "age_raw": 0.0}
    assert grid[1] == {"gender": 0.0, "age_raw": 400.0}
    assert grid[-1] == {"gender": 200.0, "age_raw": 400.0}


def test_setup_checks_its_options():
    config = AdversaryConfig.from_lambdas({"gender": 0})
    with pytest.raises(ConfigError, match="protocol"):
        GridSetup("mf", "random", config)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="label_holdout"):
        GridSetup("multvae", "user_kfold", config, label_holdout=0.2)


def test_loo_grid_records_and_resume(dataset, tmp_path):
    setup = GridSetup(
        "mf",
        "loo",
        AdversaryConfig.from_lambdas({"gender": 0}),
        model_options={"epochs": 2, "batch_size": 256},
        label_holdout=0.25,
    )
    out = tmp_path / "grid.jsonl"
    records = run_grid(dataset, setup, lambda_grid({"gender": [0, 5]}), [0], out=out)
    assert [r["lambdas"] for r in records] == [None, {"gender": 0.0}, {"gender": 5.0}]
    record = records[-1]
    assert record["protocol"] == "loo_full" and record["seed"] == 0
    assert {"heldout", "cv"} <= set(record["leakage"])
    gender = record["leakage"]["cv"]["gender"]
    assert {"logreg", "advx_mlp", "worst"} <= set(gender)
    assert 0 <= gender["worst"]["bacc"] <= 1
    assert 0 < record["n_test_users"] < dataset.n_users
    assert record["n_label_users"] + record["n_test_users"] == dataset.n_users
    assert record["advx"]["gender"]["n"] == record["n_test_users"]
    assert {"NDCG@10", "Recall@10", "RecallCapped@10", "HR@10"} <= set(record["test"])
    assert record["seconds_per_epoch"] > 0
    # base and all-zero cells train the same recommender
    assert records[0]["test"] == records[1]["test"]
    # resume: nothing left to do
    assert run_grid(dataset, setup, lambda_grid({"gender": [0, 5]}), [0], out=out) == []
    assert len(read_records(out)) == 3
    # a grid over more attributes audits its base again: the recorded one lacks occupation
    wider = dataclasses.replace(
        setup, adversary=AdversaryConfig.from_lambdas({"gender": 0, "occupation": 0})
    )
    again = run_grid(dataset, wider, [], [0], out=out, provenance={"commit": "abc1234"})
    assert [r["lambdas"] for r in again] == [None]
    assert read_records(out)[-1]["commit"] == "abc1234"  # recorded, yet not part of the key
    assert run_grid(dataset, wider, [], [0], out=out, provenance={"commit": "other"}) == []
    assert set(again[0]["leakage"]["cv"]) == {"gender", "occupation"}
    # records stored with their resolved model config; superseded ones are computed again
    assert again[0]["model_config"]["epochs"] == 2 and "lr" in again[0]["model_config"]
    redone = run_grid(dataset, wider, [], [0], out=out, superseded=lambda r: True)
    assert [r["lambdas"] for r in redone] == [None]
    assert len(read_records(out)) == 5  # appended after the superseded record, none lost


def test_a_rerun_with_more_attackers_is_its_own_cell():
    """A full-audit rerun's worst case is over more attackers: never averaged with the default."""
    leakage = {"kind": "categorical", "worst": {"bacc": 0.6, "bacc_gap": 0.1}}
    leakage["worst"] |= {"attacker": "logreg", "chance_bacc": 0.5}
    record = {
        "dataset": "d",
        "protocol": "loo",
        "model": "ncf",
        "lambdas": {"gender": 400.0},
        "adversary": {},
        "replicate": 0,
        "test": {"NDCG@10": 0.05},
        "leakage": {"heldout": {"gender": leakage}},
        "attackers": ["paper_mlp", "logreg"],
    }
    full = record | {"attackers": ["logreg", "paper_mlp", "rf"], "replicate": 1}
    table = cell_table(records_frame([record, full]))
    assert sorted(table["attackers"]) == ["logreg,paper_mlp", "logreg,paper_mlp,rf"]
    assert table["n"].tolist() == [1, 1]


def test_user_kfold_grid_tables_and_figures(dataset, tmp_path):
    options = MultVAE.advx_config(epochs=2, batch_size=32).model_dump(mode="json")
    template = AdversaryConfig.from_lambdas(
        {"gender": 0, "age_raw": 0},
        attribute_options={"age_raw": {"scale": 60, "n_heads": 2}},
        objective="reversal",
    )
    setup = GridSetup("multvae", "user_kfold", template, model_options=options)
    grid = lambda_grid({"gender": [0, 50], "age_raw": [0, 50]})
    records = run_grid(dataset, setup, grid, [0], out=tmp_path / "g.jsonl")
    assert len(records) == 5
    record = records[-1]
    assert record["fold"] == 0 and "test_mask0" in record
    assert record["advx"]["age_raw"]["mae_scaled"] == pytest.approx(
        record["advx"]["age_raw"]["mae"] / 60
    )
    assert record["heads_test"]["gender"]["n"] == record["n_test_users"]
    frame = records_frame(records)
    assert {"gender:advx", "gender:worst", "age_raw:advx", "age_raw:worst"} <= set(frame.columns)
    table = cell_table(frame)
    kinds = table.apply(lambda row: variant(row, ["gender", "age_raw"]), axis=1).tolist()
    assert kinds == ["base", "zero", "adv:age_raw", "adv:gender", "advx"]
    pick = best_debiasing(table, "gender", kind="categorical")
    # the pick is the row closest to chance for the AdvX attacker
    distance = (table["gender:advx"] - table["gender:chance"]).abs()
    assert pick["gender:advx"] == table.loc[distance.idxmin(), "gender:advx"]
    first = plot_tradeoff(table, "gender", "age_raw", tmp_path / "figs" / "tradeoff.png")
    second = plot_lambda_heatmaps(table, "gender", "age_raw", tmp_path / "figs" / "lambdas.png")
    for path in (first, second):
        assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_advx_attacker_reads_planted_signal_and_not_noise(dataset):
    rng = np.random.default_rng(0)
    gender = dataset.labels("gender")
    planted = np.c_[gender + 0.3 * rng.normal(size=len(gender)), rng.normal(size=(len(gender), 3))]
    noise = rng.normal(size=(len(gender), 4))
    train, test = np.arange(100), np.arange(100, 150)
    # 100 training users are 2 batches an epoch: more epochs than AdvX's 50 to converge
    strong = advx_attack(planted, dataset, "gender", train, test, epochs=300)
    weak = advx_attack(noise, dataset, "gender", train, test, epochs=300)
    assert strong["bacc"] > 0.85 and strong["n"] == 50 and strong["n_train"] == 100
    assert weak["bacc"] < 0.7
    age = advx_attack(planted, dataset, "age_raw", train, test, scale=60)
    assert age["mae_scaled"] == pytest.approx(age["mae"] / 60)
    clf = AdvXAttackerClassifier(epochs=5).fit(planted[train], gender[train])
    assert clf.predict_proba(planted[test]).shape == (50, 2)


@pytest.mark.parametrize(
    ("adversary", "objective", "label"),
    [
        ({}, "reversal", "advx (λ=400)"),
        ({"selection": "ndcg"}, "reversal", "advx (λ=400)"),
        ({"selection": "adversary"}, "reversal-advsel", "advx-advsel (λ=400)"),
        ({"objective": "confusion"}, "confusion", "advx-confusion (λ=400)"),
    ],
)
def test_cells_of_other_recipes_are_kept_apart(adversary, objective, label):
    """Adversary-selected or confusion cells never share a key with the papers' recipe."""
    record = {"lambdas": {"gender": 400.0}, "adversary": adversary}
    assert objective_of(record) == objective
    assert objective_of({"lambdas": None, "adversary": adversary}) == "none"
    assert advx_method_label(record["lambdas"], objective) == label


def test_heatmaps_refuse_two_recipes_in_one_cell(tmp_path):
    row = {"base": False, "lambda:gender": 400.0, "lambda:age_raw": 0.0, "NDCG@10": 0.6}
    row |= {"gender:advx": 0.6, "age_raw:advx": 0.15}
    table = pd.DataFrame([row, row | {"gender:advx": 0.7}])
    with pytest.raises(ValueError, match="one training recipe"):
        plot_lambda_heatmaps(table, "gender", "age_raw", tmp_path / "x.png")


def test_a_cell_recorded_twice_for_one_fold_counts_once():
    rows = [
        {"dataset": "d", "protocol": "p", "model": "m", "objective": "none", "attackers": "a"}
        | {"cell": "base", "base": True, "replicate": fold, "NDCG@10": value}
        for fold, value in ((0, 0.5), (1, 0.7), (0, 0.5))
    ]
    table = cell_table(pd.DataFrame(rows))
    assert table["n"].tolist() == [2]
    assert table["NDCG@10"].tolist() == pytest.approx([0.6])
