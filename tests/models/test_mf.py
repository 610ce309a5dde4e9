"""MF (BPR) specific behaviour."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from recunlearn.data.split_types import Split
from recunlearn.models.mf import MF, MFConfig

QUICK = {"epochs": 3, "patience": 100, "batch_size": 128}


def test_defaults() -> None:
    cfg = MFConfig()
    assert cfg.embedding_dim == 32 and cfg.n_negatives == 1 and cfg.batch_size == 2048
    assert cfg.lr == 3e-3 and cfg.init == "xavier" and cfg.reg == 0.0
    assert cfg.epochs == 200 and cfg.patience == 30 and cfg.early_stopping_metric == "NDCG@10"


def test_scores_are_dot_products(tiny_split: Split) -> None:
    model = MF(embedding_dim=8, **QUICK).fit(tiny_split, progress=False)
    users = np.array([1, 4, 9])
    expected = model.user_embeddings()[users] @ model.item_embeddings().T
    assert model.user_embeddings().shape == (tiny_split.n_users, 8)
    assert model.item_embeddings().shape == (tiny_split.n_items, 8)
    assert torch.allclose(model.score(users), expected)
    assert torch.equal(model.user_embeddings(), model.module.user.weight.detach())
    other = model.user_embeddings().clone()
    other[10:] = 0.0  # a user's scores depend on its own row only
    assert torch.equal(model.score(users, user_embeddings=other), model.score(users))


def test_bpr_loss_decreases(tiny_split: Split) -> None:
    model = MF(epochs=30, patience=100, batch_size=64, lr=0.01).fit(tiny_split, progress=False)
    losses = [r["loss"] for r in model.loss_log_]
    assert losses[0] == pytest.approx(np.log(2), abs=0.02)  # small init: scores ~ 0
    assert losses[-1] < 0.5 * losses[0]
    assert np.mean(losses[-5:]) < np.mean(losses[:5])


def test_step_loss_is_bpr_and_repr_is_user_table(tiny_split: Split) -> None:
    model = MF(n_negatives=3, **QUICK).fit(tiny_split, progress=False)
    model.module.train()
    users, items, negatives = next(iter(model._batches(torch.Generator().manual_seed(0))))
    assert negatives.shape == (len(users), 3)
    out = model._step((users, items, negatives))
    p, q = model.module.user.weight, model.module.item.weight
    pos = (p[users] * q[items]).sum(-1, keepdim=True)
    neg = (p[users][:, None, :] * q[negatives]).sum(-1)
    expected = -torch.log(torch.sigmoid(pos - neg)).mean()
    assert torch.allclose(out.loss, expected, atol=1e-6)
    assert torch.equal(out.users, torch.unique(users))  # distinct users, sorted
    assert torch.equal(out.user_repr, p[out.users])
    assert out.user_repr.requires_grad


def test_negatives_resampled_each_epoch_and_never_positive(tiny_split: Split) -> None:
    model = MF(n_negatives=2, **QUICK).fit(tiny_split, progress=False)
    gen = torch.Generator().manual_seed(0)
    first = list(model._batches(gen))
    second = list(model._batches(gen))
    u1 = torch.cat([b[0] for b in first])
    i1 = torch.cat([b[1] for b in first])
    n1 = torch.cat([b[2] for b in first])
    assert len(u1) == tiny_split.train.nnz  # every positive once per epoch
    pairs = sorted(zip(u1.tolist(), i1.tolist(), strict=True))
    coo = tiny_split.train.tocoo()
    assert pairs == sorted(zip(coo.row.tolist(), coo.col.tolist(), strict=True))
    dense = tiny_split.train.toarray()
    assert not dense[u1.numpy()[:, None], n1.numpy()].any()
    assert not torch.equal(u1, torch.cat([b[0] for b in second]))
    assert max(len(b[0]) for b in first) == 128


def test_reg_term_and_shrinkage(tiny_split: Split) -> None:
    split = dataclasses.replace(tiny_split, valid=None)  # compare last epochs, no restore
    opts = {"epochs": 20, "patience": 100, "batch_size": 64, "lr": 0.01}
    plain = MF(**opts).fit(split, progress=False)
    reg = MF(reg=0.05, **opts).fit(split, progress=False)
    assert reg.user_embeddings().norm() < 0.7 * plain.user_embeddings().norm()
    batch = next(iter(reg._batches(torch.Generator().manual_seed(0))))
    users, items, negatives = batch
    with torch.no_grad():
        with_reg = reg._step(batch).loss
        reg.config = reg.config.model_copy(update={"reg": 0.0})
        without = reg._step(batch).loss
    p, q = reg.module.user.weight, reg.module.item.weight
    sq = p[users].pow(2).sum() + q[items].pow(2).sum() + q[negatives].pow(2).sum()
    assert torch.allclose(with_reg - without, 0.05 * sq / len(users), rtol=1e-5)


def test_init_options(tiny_split: Split) -> None:
    normal = MF(init="normal", init_std=0.5, **{**QUICK, "epochs": 1, "lr": 1e-9})
    normal.fit(tiny_split, progress=False)
    assert float(normal.user_embeddings().std()) == pytest.approx(0.5, rel=0.15)
    xavier = MF(init="xavier", **{**QUICK, "epochs": 1, "lr": 1e-9}).fit(tiny_split, progress=False)
    expected = np.sqrt(2.0 / (tiny_split.n_users + 32))
    assert float(xavier.user_embeddings().std()) == pytest.approx(expected, rel=0.15)
    with pytest.raises(ValueError):
        MF(init="uniform")


def test_without_validation_trains_all_epochs(tiny_split: Split) -> None:
    split = dataclasses.replace(tiny_split, valid=None)
    model = MF(**QUICK).fit(split, progress=False)
    assert model.best_epoch_ == 3 and model.valid_log_ == []
