"""LightGCN-specific behaviour: adjacency, propagation, the two user representations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from recunlearn.data.split_types import Split
from recunlearn.models.lightgcn import LightGCN, normalized_adjacency
from recunlearn.models.registry import make_model

USERS = np.arange(12)


@pytest.fixture(scope="module")
def propagated(tiny_split: Split) -> LightGCN:
    return LightGCN(epochs=4, seed=1).fit(tiny_split, progress=False)


@pytest.fixture(scope="module")
def ego(tiny_split: Split) -> LightGCN:
    return LightGCN(epochs=4, seed=1, user_representation="ego").fit(tiny_split, progress=False)


def test_adjacency_is_symmetric_normalised_on_a_toy_graph() -> None:
    # user 0 -> items 0, 1; user 1 -> item 1; item 2 isolated
    train = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 0]], dtype=np.float32))
    adjacency = normalized_adjacency(train).toarray()
    # node order: u0, u1, i0, i1, i2; degrees 2, 1, 1, 2, 0
    expected = np.zeros((5, 5), dtype=np.float32)
    expected[0, 2] = expected[2, 0] = 1 / np.sqrt(2 * 1)
    expected[0, 3] = expected[3, 0] = 1 / np.sqrt(2 * 2)
    expected[1, 3] = expected[3, 1] = 1 / np.sqrt(1 * 2)
    np.testing.assert_allclose(adjacency, expected, rtol=1e-6)


def test_adjacency_binarises_and_merges_duplicates() -> None:
    train = sp.coo_matrix(([3.0, 1.0, 1.0], ([0, 0, 1], [0, 0, 1])), shape=(2, 2)).tocsr()
    adjacency = normalized_adjacency(train).toarray()
    np.testing.assert_allclose(adjacency, normalized_adjacency(sp.identity(2)).toarray())
    weighted = sp.csr_matrix(np.array([[2.0, 0.0], [0.0, 3.0]], dtype=np.float32))
    normalized_adjacency(weighted)
    np.testing.assert_array_equal(weighted.data, [2.0, 3.0])  # input left untouched


def test_propagation_is_the_mean_of_the_layers(propagated: LightGCN) -> None:
    module = propagated.module
    assert module is not None
    ego_all = torch.cat([module.user.weight, module.item.weight]).detach().double()
    split = propagated.split_
    assert split is not None
    a = torch.from_numpy(normalized_adjacency(split.train).toarray()).double()
    layers = [ego_all]
    for _ in range(3):
        layers.append(a @ layers[-1])
    final = torch.stack(layers).mean(0).float()
    torch.testing.assert_close(propagated.user_embeddings(), final[: split.n_users])
    torch.testing.assert_close(propagated.item_embeddings(), final[split.n_users :])


def test_propagated_scores_use_the_given_rows(propagated: LightGCN) -> None:
    users_emb = propagated.user_embeddings()
    items_emb = propagated.item_embeddings()
    torch.testing.assert_close(propagated.score(USERS), users_emb[USERS] @ items_emb.T)
    replacement = users_emb + 0.1 * torch.randn(
        users_emb.shape, generator=torch.Generator().manual_seed(0)
    )
    scores = propagated.score(USERS, user_embeddings=replacement)
    torch.testing.assert_close(scores, replacement[USERS] @ items_emb.T)
    # a user's scores depend on its own row only
    other = replacement.clone()
    other[USERS[-1] + 1 :] = 0.0
    assert torch.equal(propagated.score(USERS, user_embeddings=other), scores)


def test_representation_choice_does_not_change_training(
    propagated: LightGCN, ego: LightGCN
) -> None:
    for key, value in propagated.state_tensors().items():
        assert torch.equal(value, ego.state_tensors()[key])
    assert torch.equal(ego.score(USERS), propagated.score(USERS))


def test_ego_embeddings_are_the_layer0_table(ego: LightGCN) -> None:
    assert ego.module is not None
    assert torch.equal(ego.user_embeddings(), ego.module.user.weight.detach())
    assert ego.user_embeddings().shape == (ego.split_.n_users, 32)


def test_ego_replacement_is_repropagated(ego: LightGCN, propagated: LightGCN) -> None:
    table = ego.user_embeddings()
    assert torch.equal(ego.score(USERS, user_embeddings=table.clone()), ego.score(USERS))
    replacement = table.clone()
    replacement[0] += 0.5  # edit one user's ego vector only
    scores = ego.score(USERS, user_embeddings=replacement)
    assert ego.module is not None
    final_users, final_items = ego.propagate(replacement, ego.module.item.weight.detach())
    torch.testing.assert_close(scores, final_users[USERS] @ final_items.T)
    # other users' scores change too (two hops through shared items): this is a graph model
    base = propagated.score(USERS)
    assert not torch.allclose(scores[1:], base[1:])
    # the model's own tables are untouched
    assert torch.equal(ego.score(USERS), base)


def test_step_representation_is_differentiable_and_distinct(tiny_split: Split) -> None:
    for representation in ("propagated", "ego"):
        model = LightGCN(seed=0, user_representation=representation)
        generator = torch.Generator().manual_seed(0)
        model._build(tiny_split, generator)
        batch = next(iter(model._batches(generator)))
        out = model._step(batch)
        assert out.user_repr.requires_grad
        assert torch.equal(out.users, torch.unique(batch[0]))
        assert out.user_repr.shape == (len(out.users), 32)
        with torch.no_grad():
            assert model.module is not None
            user_ego = model.module.user.weight
            expected = (
                model.propagate(user_ego, model.module.item.weight)[0]
                if representation == "propagated"
                else user_ego
            )[out.users]
        torch.testing.assert_close(out.user_repr.detach(), expected)


def test_negatives_are_not_training_items(tiny_split: Split) -> None:
    model = LightGCN(seed=0)
    generator = torch.Generator().manual_seed(0)
    model._build(tiny_split, generator)
    train = tiny_split.train.toarray()
    for users, items, negatives in model._batches(generator):
        assert train[users.numpy(), items.numpy()].all()
        assert not train[users.numpy(), negatives.numpy()].any()


def test_seeded_fit_is_reproducible_and_learns(tiny_split: Split, propagated: LightGCN) -> None:
    again = make_model("lightgcn", epochs=4, seed=1).fit(tiny_split, progress=False)
    for key, value in propagated.state_tensors().items():
        assert torch.equal(value, again.state_tensors()[key])
    losses = [r["loss"] for r in again.loss_log_]
    assert losses[-1] < losses[0]
