"""The per-user checks table: AFRL against SM is decided on the seeds both methods have."""

from __future__ import annotations

import math

import pandas as pd

from recunlearn.report.personal import checks


def _row(method: str, kind: str, seed: int, auc: float, ndcg: float) -> dict:
    return {
        "dataset": "ML-100K",
        "model": "mf",
        "seed": seed,
        "method": method,
        "kind": kind,
        "column": "gender",
        "auc": auc,
        "auc_by_attribute": {"gender": auc},
        "worst": 1.0,
        "heldout_auc": math.nan,
        "heldout_worst": math.nan,
        "ndcg": ndcg,
        "hr": ndcg,
        "base_ndcg": 0.1,
        "base_hr": 0.1,
        "per_user": None,
        "record": f"{method}-{seed}.json",
    }


def test_afrl_beats_sm_is_decided_on_the_shared_seeds():
    frame = pd.DataFrame(
        [
            _row("original", "original", 0, 0.70, 0.10),
            _row("afrl", "afrl", 0, 0.52, 0.09),  # beats SM's seed 0
            _row("afrl", "afrl", 1, 0.90, 0.01),  # a bad seed SM was not run on
            _row("sm", "sm", 0, 0.60, 0.05),
        ]
    )
    (table,) = checks(frame)
    row = {h: c.text for h, c in zip(table.header, table.rows[0], strict=True)}
    assert row["AFRL beats SM"] == "✓"
    assert row["AUC"] == ".7100"  # the AFRL columns still average every AFRL seed
    assert any("on the seeds both have (seed 0)" in note for note in table.notes)
    no_shared = frame[~((frame["method"] == "afrl") & (frame["seed"] == 0))]
    (table,) = checks(no_shared)
    assert table.rows[0][table.header.index("AFRL beats SM")].text == "–"
    assert any("not compared (the two share no seed yet)" in n for n in table.notes)
    (table,) = checks(frame[frame["method"] != "sm"])
    assert any("not compared (SM has no record here yet)" in n for n in table.notes)


def test_each_sm_variant_gets_its_own_verdict():
    frame = pd.DataFrame(
        [
            _row("original", "original", 0, 0.70, 0.10),
            _row("afrl", "afrl", 0, 0.52, 0.09),
            _row("sm", "sm", 0, 0.60, 0.05),  # AFRL wins
            _row("sm-warm", "sm", 0, 0.51, 0.08),  # AFRL loses on AUC
        ]
    )
    (table,) = checks(frame)
    row = {h: c.text for h, c in zip(table.header, table.rows[0], strict=True)}
    assert row["SM AUC"] == ".6000"  # the columns are SM's own
    assert any(n.startswith("AFRL beats SM (") and "on 1 of 1" in n for n in table.notes)
    variant = [n for n in table.notes if "sm-warm" in n]
    assert len(variant) == 1 and "on 0 of 1" in variant[0]
    assert "AUC .5100 at 80 % of N@10" in variant[0]


def test_a_variant_standing_in_for_the_papers_sm_is_named():
    frame = pd.DataFrame(
        [
            _row("original", "original", 0, 0.70, 0.10),
            _row("afrl", "afrl", 0, 0.52, 0.09),
            _row("sm-warm", "sm", 0, 0.60, 0.05),  # no record of the paper's SM
        ]
    )
    (table,) = checks(frame)
    assert "sm-warm AUC" in table.header and "AFRL beats sm-warm" in table.header
    assert "SM AUC" not in table.header and table.title.split(" — ")[0].endswith("sm-warm")
    assert any(n.startswith("AFRL beats sm-warm (") for n in table.notes)
