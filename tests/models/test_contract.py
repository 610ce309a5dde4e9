"""Every registered recommender meets :class:`recunlearn.testing.RecommenderContract`."""

from __future__ import annotations

from recunlearn.models.registry import MODELS
from recunlearn.testing import RecommenderContract


class TestMF(RecommenderContract):
    name = "mf"


class TestNCF(RecommenderContract):
    name = "ncf"


class TestLightGCN(RecommenderContract):
    name = "lightgcn"


class TestMultVAE(RecommenderContract):
    name = "multvae"


def test_every_registered_model_has_a_contract_test() -> None:
    tested = {
        c.name
        for c in globals().values()
        if isinstance(c, type) and issubclass(c, RecommenderContract)
    }
    assert set(MODELS) <= tested, sorted(set(MODELS) - tested)
