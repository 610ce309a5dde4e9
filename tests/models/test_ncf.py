"""NCF (NeuMF) specific behaviour: user representations, vectorised scoring, BCE training."""

from __future__ import annotations

import numpy as np
import pydantic
import pytest
import torch
import torch.nn.functional as F

import recunlearn.models.ncf as ncf_module
from recunlearn.data.split_types import Split
from recunlearn.models.ncf import NCF, NCFConfig

QUICK = {"epochs": 3, "patience": 100, "batch_size": 128, "gmf_dim": 8, "mlp_dim": 6}


@pytest.fixture(scope="module")
def all_model(tiny_split: Split) -> NCF:
    return NCF(layers=(12, 5), **QUICK).fit(tiny_split, progress=False)


@pytest.fixture(scope="module")
def gmf_model(tiny_split: Split) -> NCF:
    return NCF(user_representation="gmf", layers=(12, 5), **QUICK).fit(tiny_split, progress=False)


def _pairwise_scores(model: NCF, gmf_u: torch.Tensor, mlp_u: torch.Tensor) -> torch.Tensor:
    """Reference: every (user, item) pair through the training path, one by one in a batch."""
    net = model.module
    n_users, n_items = gmf_u.shape[0], net.gmf_item.num_embeddings
    rows = torch.arange(n_users).repeat_interleave(n_items)
    items = torch.arange(n_items).repeat(n_users)
    with torch.no_grad():
        return net.pair_logits(gmf_u[rows], mlp_u[rows], items).reshape(n_users, n_items)


def test_defaults() -> None:
    cfg = NCFConfig()
    assert (cfg.gmf_dim, cfg.mlp_dim, cfg.layers) == (32, 32, (64, 32, 16))
    assert cfg.n_negatives == 4 and cfg.user_representation == "all"
    assert cfg.lr == 3e-3 and cfg.dropout == 0.0
    assert cfg.decoupled_weight_decay and cfg.weight_decay == 1.0 and cfg.gmf_weight_decay is None
    assert cfg.decay_reference_steps == 48
    assert cfg.threads == 1  # one thread, as MF and LightGCN (see the field's description)


def test_training_restores_the_process_threads(tiny_split: Split) -> None:
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen: list[int] = []
        model = NCF(layers=(12, 5), **{**QUICK, "epochs": 1})
        original_step = model._step

        def spying_step(batch):  # records the thread count the step runs with
            seen.append(torch.get_num_threads())
            return original_step(batch)

        model._step = spying_step  # type: ignore[method-assign]
        model.fit(tiny_split, progress=False)
        assert seen and set(seen) == {1}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)


def test_all_representation_is_gmf_then_mlp(all_model: NCF, tiny_split: Split) -> None:
    emb = all_model.user_embeddings()
    net = all_model.module
    assert emb.shape == (tiny_split.n_users, 8 + 6)
    assert torch.equal(emb[:, :8], net.gmf_user.weight.detach())
    assert torch.equal(emb[:, 8:], net.mlp_user.weight.detach())
    assert all_model.item_embeddings().shape == (tiny_split.n_items, 14)


def test_gmf_representation(gmf_model: NCF, tiny_split: Split) -> None:
    emb = gmf_model.user_embeddings()
    assert emb.shape == (tiny_split.n_users, 8)
    assert torch.equal(emb, gmf_model.module.gmf_user.weight.detach())
    assert gmf_model.item_embeddings().shape == (tiny_split.n_items, 8)


def test_vectorised_scores_match_pairwise(all_model: NCF, monkeypatch: pytest.MonkeyPatch) -> None:
    users = np.arange(7)
    net = all_model.module
    ref = _pairwise_scores(all_model, net.gmf_user.weight[:7], net.mlp_user.weight[:7])
    assert torch.allclose(all_model.score(users), ref, atol=1e-5)
    monkeypatch.setattr(ncf_module, "_MAX_ELEMENTS", 40 * 12 * 2)  # 2 users per chunk
    assert torch.allclose(all_model.score(users), ref, atol=1e-5)


def test_all_replacement_splits_columns(all_model: NCF) -> None:
    users = np.arange(10)
    emb = all_model.user_embeddings().clone()
    emb[:, :8] = torch.randn(emb.shape[0], 8, generator=torch.Generator().manual_seed(0))
    emb[:, 8:] *= 3.0
    ref = _pairwise_scores(all_model, emb[:10, :8], emb[:10, 8:])
    assert torch.allclose(all_model.score(users, user_embeddings=emb), ref, atol=1e-5)
    # editing only the MLP part changes the scores too (it is part of the representation)
    mlp_only = all_model.user_embeddings().clone()
    mlp_only[:, 8:] = 0.0
    assert not torch.allclose(
        all_model.score(users, user_embeddings=mlp_only), all_model.score(users)
    )
    other = all_model.user_embeddings().clone()
    other[10:] = 0.0  # a user's scores depend on its own row only
    assert torch.equal(all_model.score(users, user_embeddings=other), all_model.score(users))


def test_gmf_replacement_keeps_own_mlp_table(gmf_model: NCF) -> None:
    users = np.arange(10)
    net = gmf_model.module
    new_gmf = torch.randn(
        gmf_model.user_embeddings().shape, generator=torch.Generator().manual_seed(1)
    )
    ref = _pairwise_scores(gmf_model, new_gmf[:10], net.mlp_user.weight[:10].detach())
    got = gmf_model.score(users, user_embeddings=new_gmf)
    assert torch.allclose(got, ref, atol=1e-5)
    assert not torch.allclose(got, gmf_model.score(users))
    with pytest.raises(ValueError):
        gmf_model.score(users, user_embeddings=torch.zeros(new_gmf.shape[0], 14))


def test_step_is_bce_and_repr_matches_representation(all_model: NCF, gmf_model: NCF) -> None:
    for model, width in ((all_model, 14), (gmf_model, 8)):
        model.module.train()
        batch = next(iter(model._batches(torch.Generator().manual_seed(0))))
        users, items, negatives = batch
        assert negatives.shape == (len(users), 4)
        out = model._step(batch)
        model.module.eval()
        assert torch.equal(out.users, torch.unique(users))
        assert out.user_repr.shape == (len(out.users), width) and out.user_repr.requires_grad
        with torch.no_grad():
            table = model._user_embeddings()
            assert torch.equal(out.user_repr.detach(), table[out.users])
            net = model.module
            pos = net.pair_logits(net.gmf_user(users), net.mlp_user(users), items)
            k_users = users.repeat_interleave(4)
            neg = net.pair_logits(
                net.gmf_user(k_users), net.mlp_user(k_users), negatives.reshape(-1)
            )
            logits = torch.cat([pos, neg])
            labels = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
            expected = F.binary_cross_entropy_with_logits(logits, labels)
        assert torch.allclose(out.loss.detach(), expected, atol=1e-6)  # dropout is 0


def test_loss_decreases_and_dropout_runs(tiny_split: Split) -> None:
    opts = {**QUICK, "epochs": 15, "batch_size": 64, "lr": 0.01}
    model = NCF(**opts).fit(tiny_split, progress=False)
    losses = [r["loss"] for r in model.loss_log_]
    assert losses[0] < np.log(2) + 0.05  # small init: logits start near 0
    assert losses[-1] < 0.7 * losses[0]
    dropped = NCF(**{**opts, "epochs": 2, "dropout": 0.5}).fit(tiny_split, progress=False)
    users = np.arange(5)
    assert torch.equal(dropped.score(users), dropped.score(users))  # eval mode: deterministic


def test_config_validation() -> None:
    with pytest.raises(pydantic.ValidationError):
        NCF(layers=())
    with pytest.raises(pydantic.ValidationError):
        NCF(dropout=1.0)
    with pytest.raises(pydantic.ValidationError):
        NCF(user_representation="mlp")
    with pytest.raises(pydantic.ValidationError):
        NCF(gmf_weight_decay=-1e-5)


def test_factored_training_logits_match_pair_logits(all_model: NCF) -> None:
    """The factored first tower layer gives the per-pair path's logits and gradients."""
    net = all_model.module
    gen = torch.Generator().manual_seed(0)
    pair_users = torch.randint(0, 5, (40,), generator=gen)
    pair_items = torch.randint(0, net.gmf_item.num_embeddings, (40,), generator=gen)
    gmf_u, mlp_u = net.gmf_user.weight[:5], net.mlp_user.weight[:5]
    factored = net.indexed_pair_logits(gmf_u, mlp_u, pair_users, pair_items)
    direct = net.pair_logits(gmf_u[pair_users], mlp_u[pair_users], pair_items)
    torch.testing.assert_close(factored, direct, atol=1e-6, rtol=1e-5)
    grads = [torch.autograd.grad(out.sum(), net.tower[0].weight)[0] for out in (factored, direct)]
    torch.testing.assert_close(grads[0], grads[1], atol=1e-6, rtol=1e-5)


def test_gmf_tables_get_their_own_decay(tiny_split: Split) -> None:
    """With ``gmf_weight_decay`` the GMF tables form their own optimiser group (how the Adam-L2
    NCF of 2026-12-02 kept its GMF branch; its runs must reload the same)."""
    model = NCF(gmf_weight_decay=1e-5, decoupled_weight_decay=False, layers=(12, 5), **QUICK)
    model.fit(tiny_split, progress=False)
    net = model.module
    groups = model._parameter_groups()
    gmf_group, rest = groups
    assert gmf_group["weight_decay"] == model.config.gmf_weight_decay == 1e-5
    assert gmf_group["params"][0] is net.gmf_user.weight
    assert gmf_group["params"][1] is net.gmf_item.weight
    assert "weight_decay" not in rest  # the model's weight_decay applies
    every = {id(p) for p in net.parameters()}
    assert {id(p) for g in groups for p in g["params"]} == every
    assert len(gmf_group["params"]) + len(rest["params"]) == len(every)


def test_one_decay_for_all_at_the_reference_step_count(tiny_split: Split) -> None:
    """Where the training set has at most ``decay_reference_steps`` steps per epoch (ML-100K's
    48 by default), the optimiser gets the plain parameter list: the decay is exactly
    weight_decay."""
    probe = NCF(layers=(12, 5), **{**QUICK, "epochs": 1}).fit(tiny_split, progress=False)
    steps = probe.steps_per_epoch()
    assert steps == -(-tiny_split.train.nnz // QUICK["batch_size"])
    for reference in (steps, steps + 5, None):
        model = NCF(layers=(12, 5), decay_reference_steps=reference, **{**QUICK, "epochs": 1})
        model.fit(tiny_split, progress=False)
        assert model.decay_scale() == 1.0
        groups = model._parameter_groups()
        assert all(isinstance(p, torch.nn.Parameter) for p in groups)
        assert len(groups) == len(list(model.module.parameters()))


def test_decay_is_scaled_to_the_same_amount_per_epoch(tiny_split: Split) -> None:
    """With more steps per epoch than the reference the decoupled decay is weight_decay x
    reference / steps, so the shrinkage per epoch does not grow with the size of the data;
    Adam's L2 is never scaled."""
    probe = NCF(layers=(12, 5), **{**QUICK, "epochs": 1}).fit(tiny_split, progress=False)
    steps = probe.steps_per_epoch()
    assert steps >= 3
    reference = steps - 2
    model = NCF(layers=(12, 5), decay_reference_steps=reference, **{**QUICK, "epochs": 1})
    model.fit(tiny_split, progress=False)
    assert model.decay_scale() == pytest.approx(reference / steps)
    (group,) = model._parameter_groups()
    assert group["weight_decay"] == pytest.approx(model.config.weight_decay * reference / steps)
    assert len(group["params"]) == len(list(model.module.parameters()))
    split_decay = NCF(
        layers=(12, 5), decay_reference_steps=reference, gmf_weight_decay=0.5, **QUICK
    )
    split_decay.fit(tiny_split, progress=False)
    gmf, rest = split_decay._parameter_groups()
    assert gmf["weight_decay"] == pytest.approx(0.5 * reference / steps)
    assert rest["weight_decay"] == pytest.approx(1.0 * reference / steps)
    coupled = NCF(
        layers=(12, 5),
        decoupled_weight_decay=False,
        decay_reference_steps=1,
        weight_decay=1e-4,
        **QUICK,
    )
    assert coupled.fit(tiny_split, progress=False).decay_scale() == 1.0
