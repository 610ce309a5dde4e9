"""Choosing the split eraser's setting by the guard and validation NDCG@10."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from recunlearn.audit.guard import GuardSettings
from recunlearn.core.errors import ConfigError
from recunlearn.experiments import rundir
from recunlearn.experiments.unlearn_search import (
    search_removal,
    split_eraser_settings,
    valid_ndcg,
)

GUARD = GuardSettings(("logreg",), n_folds=3, heldout_fraction=0.0)


def test_the_settings_go_from_the_default_to_both_stronger_ones():
    settings = split_eraser_settings(32)
    assert [options for _, options in settings] == [
        {},
        {"principal_rank": 16},
        {"reencode_top": 10},
        {"principal_rank": 16, "reencode_top": 10},
    ]
    assert split_eraser_settings(1)[1][1] == {"principal_rank": 1}


def test_a_loose_bound_keeps_the_best_validation_ndcg_and_records_every_candidate(source, tmp_path):
    seen = []
    out = tmp_path / "chosen"
    outcome = search_removal(source, "gender", out, bound=100.0, guard=GUARD, progress=seen.append)
    assert [c.label for c in seen] == [c.label for c in outcome.candidates]
    assert len(outcome.candidates) == 4 and outcome.met
    assert outcome.chosen.valid_ratio == max(c.valid_ratio for c in outcome.candidates)
    metrics = json.loads((out / rundir.METRICS).read_text())
    assert metrics["search"]["chosen"] == outcome.chosen.label
    assert [c["setting"] for c in metrics["search"]["candidates"]] == [
        c.label for c in outcome.candidates
    ]
    written = json.loads((out / rundir.CONFIG).read_text())["unlearning"]["options"]
    assert written["unlabelled"] == "all"  # the default method's preset
    for key, value in outcome.chosen.options.items():
        assert written[key] == value
    assert (out / rundir.LEAKAGE_JSON).exists()


def test_an_unreachable_bound_keeps_the_least_leaking_and_says_so(source):
    outcome = search_removal(source, "gender", None, bound=-1.0, guard=GUARD)
    assert not outcome.met
    assert outcome.chosen.worst == min(c.worst for c in outcome.candidates)


def test_the_search_refuses_its_own_options_and_a_missing_guard(source, tmp_path):
    with pytest.raises(ConfigError, match="reencode_top"):
        search_removal(source, "gender", None, options={"reencode_top": 5}, guard=GUARD)
    with pytest.raises(ConfigError, match="guard"):
        search_removal(source, "gender", tmp_path / "x", guard=None)
    assert not (tmp_path / "x").exists()


def test_a_run_without_a_validation_split_cannot_be_searched():
    run = SimpleNamespace(split=SimpleNamespace(valid=None))
    with pytest.raises(ConfigError, match="validation"):
        valid_ndcg(run, None)  # type: ignore[arg-type]
