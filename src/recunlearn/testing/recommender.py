"""The contract every recommender honours, as a test mixin.

A model is tested by one line in the test suite::

    class TestMF(RecommenderContract):
        name = "mf"

``name`` is the model's name in :data:`recunlearn.models.registry.MODELS`; ``learn_options``
may be overridden when the defaults of the "does it learn" check do not suit the model.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pydantic
import pytest
import torch

from recunlearn.core.errors import ConfigError
from recunlearn.data.split_types import Split
from recunlearn.evaluation import evaluate
from recunlearn.models.base import Recommender
from recunlearn.models.registry import MODELS, make_model, model_class
from recunlearn.testing.data import make_tiny_dataset, make_tiny_split

QUICK: dict[str, Any] = {"epochs": 3, "patience": 100, "batch_size": 128, "seed": 0}
"""Options of the short fits (every model must accept the shared training options)."""


def random_hr10(split: Split) -> float:
    """Expected HR@10 of a uniformly random ranking of each test user's candidates."""
    known = np.diff(split.test.known.indptr)[split.test.users]
    candidates = split.n_items - known
    return float(np.mean(np.minimum(1.0, 10.0 / candidates)))


class RecommenderContract:
    """Checks of :class:`~recunlearn.models.base.Recommender`: metadata, the shape and use of
    ``user_embeddings()`` and ``score(users, user_embeddings=...)``, the training log, weights
    round trip, seeding, option validation, the training hook and that training learns."""

    name: ClassVar[str] = ""
    learn_options: ClassVar[dict[str, Any]] = {
        "epochs": 25,
        "patience": 100,
        "batch_size": 64,
        "lr": 0.01,
        "seed": 0,
    }
    """Options of the 'does it learn' fit (< 3 s on the tiny split)."""

    @pytest.fixture(scope="class")
    @classmethod
    def split(cls) -> Split:
        """The tiny leave-one-out split (60 users, planted gender signal)."""
        return make_tiny_split(make_tiny_dataset())

    @classmethod
    def fit(cls, split: Split, **options: Any) -> Recommender:
        """A quick fit of the model with :data:`QUICK` options and ``options``."""
        return make_model(cls.name, **{**QUICK, **options}).fit(split, progress=False)

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, split: Split) -> Recommender:
        """One quick fit, shared by the read-only checks."""
        return cls.fit(split)

    def test_registered_with_metadata(self, fitted: Recommender) -> None:
        cls = type(fitted)
        assert self.name in MODELS and model_class(self.name) is cls and cls.name == self.name
        assert issubclass(cls.Config, pydantic.BaseModel)
        assert cls.__doc__ and "user_embeddings()" in cls.__doc__

    def test_user_embeddings_shape_and_finite(self, fitted: Recommender, split: Split) -> None:
        emb = fitted.user_embeddings()
        assert emb.ndim == 2 and emb.shape[0] == split.n_users and emb.shape[1] >= 1
        assert emb.dtype == torch.float32
        assert torch.isfinite(emb).all()
        assert not emb.requires_grad

    def test_score_shape(self, fitted: Recommender, split: Split) -> None:
        users = np.array([0, 5, 7, 59])
        scores = fitted.score(users)
        assert scores.shape == (4, split.n_items)
        assert torch.isfinite(scores).all()
        assert fitted.score(torch.tensor([3])).shape == (1, split.n_items)

    def test_score_with_own_embeddings_is_identical(self, fitted: Recommender) -> None:
        users = np.arange(20)
        assert torch.equal(
            fitted.score(users, user_embeddings=fitted.user_embeddings().clone()),
            fitted.score(users),
        )

    def test_score_uses_replacement_embeddings(self, fitted: Recommender) -> None:
        users = np.arange(20)
        emb = fitted.user_embeddings()
        noise = torch.randn(emb.shape, generator=torch.Generator().manual_seed(0))
        replaced = emb + noise * (emb.std() + 1e-3)
        assert not torch.allclose(
            fitted.score(users, user_embeddings=replaced), fitted.score(users)
        )

    def test_pair_scores_equal_the_full_scores(self, fitted: Recommender, split: Split) -> None:
        """The pair path used for training through the frozen model (BPR) scores exactly the
        entries of the full score matrix, gradients included, for a replaced table."""
        emb = fitted.user_embeddings()
        generator = torch.Generator().manual_seed(1)
        users = torch.tensor([2, 9, 4, 30])
        table = (emb + 0.1 * torch.randn(emb.shape, generator=generator)).requires_grad_(True)
        rows = torch.tensor([0, 0, 3, 1, 2, 2, 3])
        items = torch.randint(0, split.n_items, (7,), generator=generator)
        fitted.module.eval()
        pairs = fitted._score_table_pairs(users, table, rows, items)
        (grad_pairs,) = torch.autograd.grad(pairs.sum(), table)
        full = fitted._score_table(users, table)[rows, items]
        (grad_full,) = torch.autograd.grad(full.sum(), table)
        torch.testing.assert_close(pairs, full, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(grad_pairs, grad_full, rtol=1e-5, atol=1e-5)

    def test_wrong_shape_replacement_raises(self, fitted: Recommender) -> None:
        emb = fitted.user_embeddings()
        with pytest.raises(ValueError):
            fitted.score(np.arange(3), user_embeddings=emb[:, :-1])
        with pytest.raises(ValueError):
            fitted.score(np.arange(3), user_embeddings=emb[:-1])

    def test_loss_log_has_one_record_per_epoch(self, fitted: Recommender) -> None:
        assert len(fitted.loss_log_) == QUICK["epochs"]
        assert [r["epoch"] for r in fitted.loss_log_] == [1, 2, 3]
        assert all(np.isfinite(r["loss"]) for r in fitted.loss_log_)
        assert len(fitted.epoch_seconds_) == QUICK["epochs"]

    def test_state_roundtrip_reproduces_scores(self, fitted: Recommender, split: Split) -> None:
        tensors = fitted.state_tensors()
        assert tensors and all(isinstance(t, torch.Tensor) for t in tensors.values())
        fresh = make_model(self.name, **QUICK).load_state(split, tensors)
        users = np.arange(split.n_users)
        assert torch.equal(fresh.user_embeddings(), fitted.user_embeddings())
        assert torch.allclose(fresh.score(users), fitted.score(users), atol=1e-6, rtol=0)

    def test_same_seed_same_embeddings(self, split: Split) -> None:
        a = self.fit(split, seed=3).user_embeddings()
        b = self.fit(split, seed=3).user_embeddings()
        c = self.fit(split, seed=4).user_embeddings()
        assert torch.equal(a, b)
        assert not torch.equal(a, c)

    def test_same_seed_same_model_on_one_or_two_threads(self, split: Split) -> None:
        """Training is seeded: a second fit with the same options gives the same embeddings, on
        two threads too (some multi-threaded CPU kernels add in a thread-dependent order)."""
        one, two = (self.fit(split, threads=n, batch_size=512) for n in (1, 2))
        again = self.fit(split, threads=2, batch_size=512)
        torch.testing.assert_close(again.user_embeddings(), two.user_embeddings(), rtol=0, atol=0)
        torch.testing.assert_close(two.user_embeddings(), one.user_embeddings())
        other = self.fit(split, threads=2, batch_size=512, seed=1)
        assert not torch.allclose(other.user_embeddings(), two.user_embeddings())

    def test_unknown_option_is_rejected(self) -> None:
        cls = model_class(self.name)
        with pytest.raises(pydantic.ValidationError):
            cls(no_such_option=1)
        with pytest.raises(ConfigError, match="no_such_option"):
            make_model(self.name, no_such_option=1)
        with pytest.raises(ConfigError):
            make_model(self.name, epochs=0)

    def test_unfitted_model_refuses_to_score(self) -> None:
        with pytest.raises(RuntimeError):
            model_class(self.name)().user_embeddings()

    def test_step_exposes_differentiable_user_repr(self, split: Split) -> None:
        """The hook contract: a hook sees the batch users' representation and its loss trains it."""
        seen: list[tuple[int, ...]] = []

        def shrink(user_repr: torch.Tensor, users: torch.Tensor) -> torch.Tensor:
            assert user_repr.requires_grad
            assert user_repr.shape[0] == users.shape[0] and users.dtype == torch.long
            seen.append(tuple(user_repr.shape))
            return 50.0 * user_repr.pow(2).sum(1).mean()

        plain = self.fit(split, lr=0.01)
        hooked = make_model(self.name, **{**QUICK, "lr": 0.01})
        hooked.hooks.append(shrink)
        hooked.fit(split, progress=False)
        d = plain.user_embeddings().shape[1]
        assert seen and all(width == d for _, width in seen)

        def norm(model: Recommender) -> float:
            return float(model.user_embeddings().norm(dim=1).mean())

        assert norm(hooked) < 0.5 * norm(plain)

    def test_training_beats_random(self, split: Split) -> None:
        model = make_model(self.name, **self.learn_options).fit(split, progress=False)
        hr = evaluate(model, split.test, ks=(10,), metrics=("HR",)).summary["HR@10"]
        untrained = make_model(self.name, **{**self.learn_options, "epochs": 1, "lr": 1e-9})
        untrained.fit(split, progress=False)
        hr0 = evaluate(untrained, split.test, ks=(10,), metrics=("HR",)).summary["HR@10"]
        chance = random_hr10(split)
        assert hr > chance + 0.3, (hr, chance)
        assert hr > hr0 + 0.1, (hr, hr0)
