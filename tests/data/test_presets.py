"""The AFRL protocol preset: positives, the >= 10 positives filter, the split on positives and
the seeded 1 + 99 evaluation; usable from a RunSpec."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recunlearn.core.errors import ConfigError
from recunlearn.data.filters import binarize, k_core
from recunlearn.data.spec import DataSpec
from recunlearn.data.splits import make_split, protocol_preset
from recunlearn.data.types import Attribute, Dataset, Interactions
from recunlearn.evaluation.evaluator import evaluate_scores
from recunlearn.evaluation.spec import EvalSpec
from recunlearn.experiments.spec import RunSpec

PRESET = "afrl_loo_sampled99"


def rated_dataset(n_users: int = 6, n_items: int = 150, seed: int = 0) -> Dataset:
    """User u rates 8 + 2u items; odd events are rated 5, even ones 2 (so user u has 4 + u
    positives); timestamps grow with the event index."""
    rng = np.random.default_rng(seed)
    users, items, ratings, stamps = [], [], [], []
    for u in range(n_users):
        n = 8 + 4 * u
        chosen = rng.choice(n_items, n, replace=False)
        users += [u] * n
        items += chosen.tolist()
        ratings += [5.0 if k % 2 else 2.0 for k in range(n)]
        stamps += list(range(n))
    inter = Interactions(
        np.array(users), np.array(items), np.array(ratings, np.float32), np.array(stamps)
    )
    return Dataset(
        name="rated",
        interactions=inter,
        user_ids=np.arange(n_users) + 1,
        item_ids=np.arange(n_items) + 1,
        attributes=(Attribute("gender", "categorical", ("F", "M")),),
        user_values={"gender": np.arange(n_users) % 2},
    )


def test_preset_filters_split_and_evaluation():
    preset = protocol_preset(PRESET)
    assert preset.data_filters() == {
        "binarize_threshold": 4.0,
        "min_user_interactions": 10,
        "min_item_interactions": 0,
    }
    raw = rated_dataset()
    dataset = k_core(binarize(raw, preset.binarize_threshold), preset.min_user_interactions)
    # user u has 4 + 2u positives: users 3, 4, 5 (10, 12, 14 positives) remain
    assert list(dataset.user_ids) == [4, 5, 6]
    split = make_split(dataset, preset.split, **preset.split_params)
    inter = dataset.interactions
    for user in range(dataset.n_users):
        rows = np.flatnonzero(inter.user == user)
        latest = rows[np.argsort(inter.timestamp[rows])]
        assert split.test.target[user].indices.tolist() == [inter.item[latest[-1]]]
        assert split.valid.target[user].indices.tolist() == [inter.item[latest[-2]]]
    spec = EvalSpec.from_preset(PRESET)
    assert (spec.mode, spec.n_negatives, spec.seed) == ("sampled", 99, 0)


def test_sampled_negatives_are_fixed_by_the_seed():
    dataset = rated_dataset(n_users=6, n_items=400)
    split = make_split(dataset, "loo", valid=True)
    scores = torch.arange(dataset.n_items, dtype=torch.float32)

    def score_fn(users: np.ndarray) -> torch.Tensor:
        return scores.expand(len(users), -1)

    def ndcg(seed: int) -> np.ndarray:
        # at a cut-off of 100 every target counts, so NDCG is a function of its rank among
        # its 99 negatives
        result = evaluate_scores(
            score_fn, split.test, ks=(100,), metrics=("NDCG",), mode="sampled", seed=seed
        )
        return result.per_user["NDCG@100"].to_numpy()

    np.testing.assert_array_equal(ndcg(0), ndcg(0))
    assert any(not np.array_equal(ndcg(0), ndcg(s)) for s in (1, 2, 3))


def test_run_spec_from_preset_replaces_filters_split_and_evaluation():
    spec = RunSpec.from_preset(
        PRESET, DataSpec(name="ml-100k", min_user_interactions=5), "ncf", {"seed": 2}
    )
    assert spec.data.binarize_threshold == 4.0 and spec.data.min_user_interactions == 10
    assert spec.split.protocol == "loo" and spec.split.params["valid"] is True
    assert spec.evaluation.mode == "sampled" and spec.evaluation.n_negatives == 99
    assert spec.model == "ncf" and spec.model_options == {"seed": 2}


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ConfigError, match="afrl_loo_sampled99"):
        protocol_preset("afrl")


def test_cli_train_preset_builds_the_preset_spec():
    from recunlearn.cli.train import _build_spec

    spec = _build_spec(
        "ml-100k", "/x", None, "mf", "user_kfold", "file_order", 0, True, 5, None, None, 0,
        None, "full", preset=PRESET,
    )  # fmt: skip
    assert spec == RunSpec.from_preset(
        PRESET, spec.data.model_copy(update={"min_user_interactions": 5}), "mf", {"seed": 0}
    )
    assert spec.evaluation.mode == "sampled" and spec.split.protocol == "loo"
