"""Every per-user method trains through every base model's frozen scorer (the replacement rows
are the model's ``user_embeddings()`` representation) and leaves the model unchanged."""

from __future__ import annotations

import pytest
import torch

from recunlearn.models.registry import make_model
from recunlearn.protect.posthoc.base import labels_from_dataset, model_scorer
from recunlearn.protect.posthoc.registry import make_unlearner
from recunlearn.testing.data import make_tiny_dataset, make_tiny_split

METHODS = {
    "afrl": {"epochs": 1, "batch_size": 128, "validate_every": 1, "validation": "every"},
    "sm": {"epochs": 1, "batch_size": 128, "d_steps": 1},
    "ffvae": {"epochs": 1, "bpr_weight": 1.0, "validate_every": 1},
}


@pytest.fixture(scope="module")
def data():
    dataset = make_tiny_dataset()
    return dataset, make_tiny_split(dataset)


@pytest.mark.parametrize("model_name", ["mf", "ncf", "lightgcn", "multvae"])
def test_every_method_on_every_base_model(data, model_name):
    dataset, split = data
    model = make_model(model_name, epochs=2, patience=100, batch_size=128, seed=0)
    model.fit(split, progress=False)
    original = model.user_embeddings().clone()
    state = {k: v.clone() for k, v in model.module.state_dict().items()}
    scorer = model_scorer(model, split.test.known, train=split.train, valid=split.valid)
    for name, options in METHODS.items():
        method = make_unlearner(name, **options).fit(
            original, labels_from_dataset(dataset), scorer=scorer
        )
        assert method.attributes_ == ("gender",)  # the continuous age_raw is not served
        assert "valid_ndcg" in method.logs_["epochs"][0], name
        protected = method.transform("gender")
        assert protected.shape == original.shape and torch.isfinite(protected).all(), name
        scores = model.score(torch.arange(5), user_embeddings=protected)
        assert torch.isfinite(scores[scores > float("-inf")]).all(), name
    torch.testing.assert_close(model.user_embeddings(), original)
    for key, value in model.module.state_dict().items():
        torch.testing.assert_close(value, state[key])
