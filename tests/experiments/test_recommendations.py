"""Saved recommendations never contain an item the user already has: neither a training item
nor the validation item (both are known at test time)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recunlearn.data.spec import DataSpec
from recunlearn.experiments import rundir
from recunlearn.experiments.spec import RunSpec
from recunlearn.experiments.train import train_run


def test_recommendations_exclude_training_and_validation_items(tmp_path):
    spec = RunSpec(
        data=DataSpec(name="synthetic", options={"n_users": 120, "n_items": 60}),
        model="mf",
        model_options={"epochs": 3},
    )
    run = train_run(spec, tmp_path / "run", progress=False)
    recommendations = pd.read_parquet(tmp_path / "run" / rundir.RECOMMENDATIONS)
    split, dataset = run.split, run.dataset
    index_of_user = {u: i for i, u in enumerate(dataset.user_ids)}
    index_of_item = {v: j for j, v in enumerate(dataset.item_ids)}
    seen = (split.train + split.valid.target).tocsr()
    clashes = 0
    for user_id, part in recommendations.groupby("user_id"):
        u = index_of_user[user_id]
        known = set(seen[u].indices)
        recommended = {index_of_item[i] for i in part["item_id"]}
        clashes += len(known & recommended)
        # a full list, or every item the user does not have yet
        assert len(part) == min(spec.evaluation.topk, dataset.n_items - len(known))
    assert clashes == 0
    # the validation items are real candidates the model would otherwise rank high
    assert split.valid.target.nnz > 0 and np.unique(recommendations["user_id"]).size > 100
