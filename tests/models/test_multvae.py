"""MultVAE-specific behaviour: train users only, encoder-mean embeddings, beta, AdvX preset."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from recunlearn.data.split_types import Split
from recunlearn.models.multvae import MultVAE, MultVAEConfig, _aligned_linear
from recunlearn.models.registry import make_model

USERS = np.arange(12)
SMALL = {"hidden_dims": (16,), "latent_dim": 8, "epochs": 3, "batch_size": 16, "seed": 2}


@pytest.fixture(scope="module")
def model(tiny_split: Split) -> MultVAE:
    return MultVAE(**SMALL).fit(tiny_split, progress=False)


def _partial_split(split: Split, shuffle_others: bool) -> Split:
    """Train on the first 40 users only; optionally scramble the other users' rows."""
    train = split.train
    if shuffle_others:
        dense = train.toarray()
        rng = np.random.default_rng(0)
        dense[40:] = dense[40:, rng.permutation(dense.shape[1])]
        train = sp.csr_matrix(dense)
    return dataclasses.replace(split, train=train, train_users=np.arange(40), valid=None)


def test_trains_only_on_train_users(tiny_split: Split) -> None:
    seen: list[torch.Tensor] = []

    def spy(user_repr: torch.Tensor, users: torch.Tensor) -> torch.Tensor:
        seen.append(users.clone())
        return user_repr.sum() * 0.0

    fits = []
    for shuffle in (False, True):
        vae = MultVAE(**SMALL)
        vae.hooks.append(spy)
        fits.append(vae.fit(_partial_split(tiny_split, shuffle), progress=False))
    assert torch.cat(seen).max() < 40
    # the excluded users' rows have no influence on the weights ...
    first, second = (f.state_tensors() for f in fits)
    for key, value in first.items():
        assert torch.equal(value, second[key])
    # ... but every user is folded in, from its own row
    embeddings = [f.user_embeddings() for f in fits]
    assert embeddings[0].shape == (tiny_split.n_users, 8)
    assert torch.equal(embeddings[0][:40], embeddings[1][:40])
    assert not torch.allclose(embeddings[0][40:], embeddings[1][40:])


def test_user_embeddings_are_the_encoder_mean(model: MultVAE, tiny_split: Split) -> None:
    module = model.module
    assert module is not None
    x = torch.from_numpy(tiny_split.train.toarray()).float()
    x = x / x.norm(dim=1, keepdim=True).clamp(min=1e-12)
    h = x @ module.input_weight + module.input_bias
    h = module.encoder[0](torch.tanh(h))
    torch.testing.assert_close(model.user_embeddings(), h[:, :8].detach())
    # deterministic: no sampling, no dropout
    first = model.user_embeddings()
    model._cache = None
    assert torch.equal(model.user_embeddings(), first)


def test_score_decodes_the_given_rows(model: MultVAE) -> None:
    module = model.module
    assert module is not None
    embeddings = model.user_embeddings()
    assert torch.equal(model.score(USERS, user_embeddings=embeddings.clone()), model.score(USERS))
    replacement = torch.zeros_like(embeddings)
    replacement[USERS] = torch.randn(len(USERS), 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = module.decoder[1](torch.tanh(module.decoder[0](replacement[USERS])))
    torch.testing.assert_close(model.score(USERS, user_embeddings=replacement), expected)


def test_step_returns_sampled_z(model: MultVAE, tiny_split: Split) -> None:
    generator = torch.Generator().manual_seed(0)
    vae = MultVAE(**SMALL)
    vae._build(tiny_split, generator)
    batch = next(iter(vae._batches(generator)))
    out = vae._step(batch)
    assert out.user_repr.requires_grad and out.user_repr.shape == (len(batch), 8)
    assert torch.equal(out.users, batch)
    vae.module.eval()
    with torch.no_grad():
        mu = vae._user_embeddings()[batch]
    assert not torch.allclose(out.user_repr.detach(), mu)  # sampled, not the mean


def test_beta_is_annealed_per_update(tiny_split: Split) -> None:
    vae = MultVAE(**{**SMALL, "total_anneal_steps": 10, "anneal_cap": 0.2})
    assert vae.beta == 0.0
    vae.fit(tiny_split, progress=False)
    updates = 3 * int(np.ceil(tiny_split.n_users / 16))
    assert vae.anneal_step_ == updates == 12
    assert vae.beta == pytest.approx(0.2)
    vae.anneal_step_ = 1
    assert vae.beta == pytest.approx(0.1)
    constant = MultVAE(total_anneal_steps=0, anneal_cap=0.8)
    assert constant.beta == 0.8


def test_kl_term_uses_beta(tiny_split: Split) -> None:
    losses = []
    for cap in (0.0, 5.0):
        vae = MultVAE(**{**SMALL, "total_anneal_steps": 0, "anneal_cap": cap})
        generator = torch.Generator().manual_seed(0)
        vae._build(tiny_split, generator)
        losses.append(float(vae._step(next(iter(vae._batches(generator)))).loss.detach()))
    assert losses[1] > losses[0]


def test_advx_preset_is_the_linear_vae(tiny_split: Split) -> None:
    cfg = MultVAE.advx_config()
    assert isinstance(cfg, MultVAEConfig)
    assert cfg.hidden_dims == () and cfg.latent_dim == 100
    assert (cfg.dropout, cfg.anneal_cap, cfg.total_anneal_steps) == (0.1, 0.8, 0)
    assert (cfg.lr, cfg.weight_decay, cfg.batch_size) == (1e-3, 1e-4, 64)
    assert MultVAE.advx_config(seed=7, epochs=2).seed == 7
    vae = MultVAE(MultVAE.advx_config(epochs=2)).fit(tiny_split, progress=False)
    assert vae.beta == 0.8
    module = vae.module
    assert module is not None
    assert module.input_weight.shape == (tiny_split.n_items, 200)
    assert len(module.encoder) == 0 and len(module.decoder) == 1
    assert vae.user_embeddings().shape == (tiny_split.n_users, 100)


def test_registry_and_reproducibility(tiny_split: Split, model: MultVAE) -> None:
    again = make_model("multvae", **SMALL).fit(tiny_split, progress=False)
    for key, value in model.state_tensors().items():
        assert torch.equal(value, again.state_tensors()[key])
    assert torch.equal(again.user_embeddings(), model.user_embeddings())


def test_users_without_interactions_are_embedded(tiny_split: Split) -> None:
    dense = tiny_split.train.toarray()
    dense[5] = 0
    split = dataclasses.replace(
        tiny_split,
        train=sp.csr_matrix(dense),
        train_users=np.setdiff1d(np.arange(tiny_split.n_users), [5]),
        valid=None,
    )
    vae = MultVAE(**SMALL).fit(split, progress=False)
    embeddings = vae.user_embeddings()
    assert torch.isfinite(embeddings).all() and embeddings.shape[0] == tiny_split.n_users


@pytest.mark.parametrize("width", [13, 16])
def test_aligned_decoder_gemm_equals_the_plain_layer(width: int) -> None:
    """Padding the item GEMM changes neither the logits nor any gradient."""
    layer = torch.nn.Linear(5, width)
    h = torch.randn(7, 5, requires_grad=True)
    upstream = torch.randn(7, width)
    padded = _aligned_linear(h, layer)
    assert padded.shape == (7, width)
    grads = torch.autograd.grad((padded * upstream).sum(), [h, layer.weight, layer.bias])
    plain = layer(h)
    expected = torch.autograd.grad((plain * upstream).sum(), [h, layer.weight, layer.bias])
    torch.testing.assert_close(padded, plain)
    for got, want in zip(grads, expected, strict=True):
        torch.testing.assert_close(got, want)
