"""The adversarial trainer on every base model: plumbing, masking, selection, leakage."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
import torch

from recunlearn.audit import audit
from recunlearn.core.errors import ConfigError
from recunlearn.data.split_types import Split
from recunlearn.data.splits import make_split
from recunlearn.data.synthetic import make_synthetic
from recunlearn.models.registry import MODELS, make_model
from recunlearn.protect.adversarial import (
    AdversarialTrainer,
    AdversaryConfig,
    attach_adversaries,
    representation_dim,
)

NAMES = sorted(MODELS)
QUICK: dict[str, Any] = {"epochs": 2, "batch_size": 64, "patience": 100, "seed": 0}
BOTH = AdversaryConfig.from_lambdas({"gender": 5.0, "age_raw": 2.0})


def _fit(name: str, split: Split, config: AdversaryConfig | None, **options: Any):
    model = make_model(name, **{**QUICK, **options})
    if config is None:
        return model.fit(split, progress=False), None
    trainer = AdversarialTrainer(config).fit(model, split, progress=False)
    return model, trainer


@pytest.mark.parametrize("name", NAMES)
def test_every_model_trains_with_adversaries_and_is_ordinary_afterwards(name, tiny_split):
    model, trainer = _fit(name, tiny_split, BOTH)
    assert model.hooks == [] and model.extra_parameters == [] and model.selection_hooks == []
    emb = model.user_embeddings()
    assert emb.shape == (tiny_split.n_users, representation_dim(model, tiny_split))
    assert torch.isfinite(emb).all()
    log = trainer.log_
    assert [r["epoch"] for r in log] == [1, 2]
    for record in log:
        assert np.isfinite(record["gender/loss"]) and np.isfinite(record["age_raw/loss"])
        assert 0 <= record["gender/train_bacc"] <= 1 and record["age_raw/train_mae"] >= 0
    assert [r["epoch"] for r in model.valid_log_] == [1, 2]
    assert {"NDCG@10", "gender/valid_bacc", "age_raw/valid_mae"} <= set(model.valid_log_[-1])
    report = trainer.report()
    assert report["attributes"]["gender"]["n_labelled"] == tiny_split.n_users
    assert report["best_epoch"] == model.best_epoch_
    # the protected model loads from its weights alone (no heads)
    fresh = make_model(name, **QUICK).load_state(tiny_split, model.state_tensors())
    assert torch.equal(fresh.user_embeddings(), emb)


@pytest.mark.parametrize("name", NAMES)
def test_lambda_zero_trains_exactly_the_base_model(name, tiny_split):
    base, _ = _fit(name, tiny_split, None)
    zero, trainer = _fit(name, tiny_split, BOTH.with_lambdas({"gender": 0, "age_raw": 0}))
    assert torch.equal(base.user_embeddings(), zero.user_embeddings())
    assert trainer.log_[-1]["gender/n"] > 0  # the heads did train


def test_unlabelled_users_are_masked_out_of_the_adversary_loss(tiny_dataset, tiny_split):
    gender = tiny_dataset.labels("gender").copy()
    gender[:20] = -1
    dataset = dataclasses.replace(
        tiny_dataset, user_values={**tiny_dataset.user_values, "gender": gender}
    )
    split = dataclasses.replace(tiny_split, dataset=dataset)
    config = AdversaryConfig.from_lambdas({"gender": 3.0}, weight_decay=0.0)
    model = make_model("mf", **QUICK)
    trainer = attach_adversaries(model, split, config, label_users=np.arange(50))
    hook = model.hooks[0]
    users = torch.arange(60)
    repr_ = torch.randn(60, trainer.representation_dim_, generator=torch.Generator().manual_seed(0))
    repr_.requires_grad_(True)
    loss = hook(repr_, users)
    loss.backward()
    grad = repr_.grad.abs().sum(1)
    unlabelled = np.r_[np.arange(20), np.arange(50, 60)]  # unknown label or not a label user
    assert torch.all(grad[unlabelled] == 0)  # nothing but their recommendation loss moves them
    assert torch.all(grad[20:50] > 0)
    # a batch of unlabelled users only: zero adversary loss
    assert hook(repr_.detach()[unlabelled], users[unlabelled]).item() == 0.0
    trainer.detach()
    assert model.hooks == [] and model.extra_parameters == []


def test_reversed_gradient_reaches_the_representation_scaled_by_lambda(tiny_split):
    grads = []
    for lam in (1.0, 4.0):
        model = make_model("mf", **QUICK)
        config = AdversaryConfig.from_lambdas({"gender": lam}, weight_decay=0.0, seed=0)
        attach_adversaries(model, tiny_split, config)
        x = torch.randn(60, 32, generator=torch.Generator().manual_seed(0), requires_grad=True)
        model.hooks[0](x, torch.arange(60)).backward()
        grads.append(x.grad)
    assert torch.allclose(grads[1], 4.0 * grads[0], atol=1e-7)


def test_heads_step_at_the_adversary_learning_rate(tiny_split):
    """The heads are their own parameter group: the model steps at 1e-2, the heads at 1e-3.
    Adam's first step moves a weight by lr * |g| / (|g| + eps), i.e. by lr wherever the
    gradient is not tiny, and never by more."""
    model = make_model("mf", epochs=1, batch_size=100_000, lr=1e-2, seed=0)
    config = AdversaryConfig.from_lambdas(
        {"gender": 1.0}, lr=1e-3, weight_decay=0.0, objective="reversal"
    )
    trainer = attach_adversaries(model, tiny_split, config)
    head = trainer.heads_["gender"].mlp
    before = [p.detach().clone() for p in head.weights]
    model.fit(tiny_split, progress=False)
    after = [p.detach() for p in head.weights]
    steps = torch.cat([(a - b).abs().ravel() for a, b in zip(after, before, strict=True)])
    assert steps.max().item() == pytest.approx(1e-3, rel=1e-4)
    assert steps.median().item() == pytest.approx(1e-3, rel=1e-2)


def test_heads_weight_decay_is_their_own(tiny_split):
    """With a zero gradient the heads' only force is their weight decay: Adam's first step then
    moves every weight by lr against its sign (the model's own weight decay plays no part)."""
    model = make_model("mf", epochs=1, batch_size=100_000, lr=1e-2, weight_decay=0.0, seed=0)
    config = AdversaryConfig.from_lambdas(
        {"gender": 1.0}, lr=1e-3, weight_decay=0.5, loss_weight=0.0, objective="reversal"
    )
    trainer = attach_adversaries(model, tiny_split, config)
    head = trainer.heads_["gender"].mlp
    before = [p.detach().clone() for p in head.weights]
    model.fit(tiny_split, progress=False)
    for b, a in zip(before, head.weights, strict=True):
        assert torch.allclose(a.detach(), b - 1e-3 * torch.sign(b), atol=1e-6)


def test_selection_by_adversary_keeps_a_late_epoch_and_logs_the_real_ndcg(tiny_split):
    config = AdversaryConfig.from_lambdas(
        {"gender": 5.0}, selection="adversary", selection_min_epoch=3
    )
    model, trainer = _fit("mf", tiny_split, config, epochs=5)
    assert model.best_epoch_ is not None and model.best_epoch_ >= 3
    entries = {r["epoch"]: r for r in model.valid_log_}
    assert all(0 <= entries[e]["NDCG@10"] <= 1 for e in entries)
    assert entries[1]["selection_value"] == -np.inf
    best = entries[model.best_epoch_]
    eligible = [entries[e]["adversary_leakage"] for e in entries if e >= 3]
    assert best["adversary_leakage"] == pytest.approx(min(eligible))
    assert trainer.report()["best_valid"]["epoch"] == model.best_epoch_


def test_selection_by_adversary_needs_validation_and_patience(tiny_split):
    config = AdversaryConfig.from_lambdas({"gender": 1.0}, selection="adversary")
    no_valid = dataclasses.replace(tiny_split, valid=None)
    with pytest.raises(ConfigError, match="validation users"):
        AdversarialTrainer(config).attach(make_model("mf", **QUICK), no_valid)
    impatient = make_model("mf", **{**QUICK, "patience": 5})
    with pytest.raises(ConfigError, match="patience"):
        AdversarialTrainer(config).attach(impatient, tiny_split)


def test_bad_attribute_requests_fail_before_training(tiny_split):
    model = make_model("mf", **QUICK)
    with pytest.raises(ConfigError, match="no such attribute"):
        attach_adversaries(model, tiny_split, AdversaryConfig.from_lambdas({"occupation": 1}))
    wrong = {"attributes": {"age_raw": {"lam": 1, "kind": "categorical"}}}
    with pytest.raises(ConfigError, match="requested as categorical"):
        attach_adversaries(model, tiny_split, wrong)
    assert model.hooks == [] and model.module is None


def test_attaching_twice_is_refused(tiny_split):
    model = make_model("mf", **QUICK)
    trainer = attach_adversaries(model, tiny_split, BOTH)
    with pytest.raises(ConfigError, match="already attached"):
        trainer.attach(model, tiny_split)
    trainer.detach()
    trainer.detach()  # idempotent


def _planted_gender_leakage(
    model_name: str, lam: float, seed: int, **options: Any
) -> tuple[float, float]:
    """The project's audit of a model trained on synthetic data whose items depend strongly on
    gender (signal 1.0): logistic regression and 20-NN fitted on half of the users, tested on
    the other half. Returns gender's worst signed ``BAcc - chance`` (fraction) and the null
    z-score of the independent ``noise`` label's worst attacker."""
    dataset = make_synthetic(
        n_users=200, n_items=80, n_interactions_per_user=(10, 25), signal=1.0, seed=0
    )
    split = make_split(dataset, "loo", valid=False)
    test_users = np.zeros(dataset.n_users, dtype=bool)
    test_users[np.random.default_rng(123).permutation(dataset.n_users)[100:]] = True
    model = make_model(model_name, epochs=15, batch_size=256, seed=seed)
    config = AdversaryConfig.from_lambdas({"gender": lam}, lr=1e-2, **options)
    AdversarialTrainer(config).fit(model, split, progress=False)
    worst = (
        audit(
            model.user_embeddings().numpy(),
            dataset,
            attackers=["logreg", "knn"],
            select=["gender", "noise"],
            test_users=test_users,
            n_jobs=1,
            progress=False,
        )
        .worst_case()
        .set_index("attribute")
    )
    gender, noise = worst.loc["gender"], worst.loc["noise"]
    return float(gender["bacc_mean"] - gender["chance_bacc_mean"]), float(noise["bacc_z"])


def test_strong_lambda_reduces_gender_leakage_on_planted_data():
    """MF: gender ~0.37 above chance without adversary; gradient reversal at lambda = 10 brings
    it closer to chance, on both sides; the independent noise label stays at chance."""
    plain = [_planted_gender_leakage("mf", 0.0, seed) for seed in (0, 1)]
    protected = [_planted_gender_leakage("mf", 10.0, seed) for seed in (0, 1)]
    plain_gap = np.mean([gap for gap, _ in plain])
    protected_gap = np.mean([gap for gap, _ in protected])
    assert plain_gap > 0.3
    # the distance from chance shrinks (far below chance would be leakage too)
    assert abs(protected_gap) < abs(plain_gap) - 0.1
    assert all(abs(z) < 4.0 for _, z in plain + protected)


def test_confusion_objective_trains_heads_alone_and_scales_the_encoder_gradient(tiny_split):
    """Heads' gradients do not depend on lambda (their loss sees a detached input); the
    representation's gradient is lambda times the confusion gradient."""
    head_grads, x_grads = [], []
    for lam in (1.0, 4.0):
        model = make_model("mf", **QUICK)
        config = AdversaryConfig.from_lambdas(
            {"gender": lam}, weight_decay=0.0, seed=0, objective="confusion"
        )
        trainer = attach_adversaries(model, tiny_split, config)
        x = torch.randn(60, 32, generator=torch.Generator().manual_seed(0), requires_grad=True)
        trainer._generator.manual_seed(0)  # the same dropout masks for both lambdas
        model.hooks[0](x, torch.arange(60)).backward()
        head_grads.append([p.grad.clone() for p in trainer.heads_["gender"].parameters()])
        x_grads.append(x.grad)
    for a, b in zip(*head_grads, strict=True):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(x_grads[1], 4.0 * x_grads[0])


def test_confusion_is_bounded_by_a_know_nothing_prediction(tiny_split):
    model = make_model("mf", **QUICK)
    config = AdversaryConfig.from_lambdas({"gender": 1.0}, objective="confusion")
    head = attach_adversaries(model, tiny_split, config).heads_["gender"]
    with torch.no_grad():
        for p in head.parameters():
            p.zero_()  # every head outputs equal logits: uniform probabilities
    x = torch.randn(20, 32)
    assert head.confusion(x).item() == pytest.approx(np.log(2))


def test_confusion_removes_gender_from_ncf_on_planted_data():
    """NCF's free embeddings: ~0.93 BAcc without adversary, ~0.58 with the confusion objective
    at lambda = 100. (Gradient reversal at the same lambda leaves ~0.9: the embeddings make the
    heads confidently wrong instead of uninformed.)"""
    options = {"objective": "confusion"}
    plain = [_planted_gender_leakage("ncf", 0.0, s, **options) for s in (0, 1)]
    protected = [_planted_gender_leakage("ncf", 100.0, s, **options) for s in (0, 1)]
    plain_gap = np.mean([gap for gap, _ in plain])
    protected_gap = np.mean([gap for gap, _ in protected])
    assert plain_gap > 0.35
    assert abs(protected_gap) < abs(plain_gap) - 0.2
    assert all(abs(z) < 4.0 for _, z in plain + protected)


def test_default_refits_heads_on_the_bank_outside_the_model_loop(tiny_split):
    """Bounded default: the heads have their own Adam (not a group of the model's loop), take
    ``head_steps`` steps per model step on every labelled user seen so far, and the hook's
    loss is lambda x the confusion of the refitted heads (>= lambda * log C)."""
    model = make_model("mf", epochs=1, batch_size=100_000, seed=0)
    config = AdversaryConfig.from_lambdas({"gender": 2.0}, head_steps=3)
    trainer = attach_adversaries(model, tiny_split, config)
    assert model.extra_parameters == []
    head = trainer.heads_["gender"]
    before = [p.detach().clone() for p in head.parameters()]
    x = torch.randn(60, 32, generator=torch.Generator().manual_seed(0), requires_grad=True)
    loss = model.hooks[0](x, torch.arange(60))
    assert loss.item() >= 2.0 * math.log(2) - 1e-6
    assert any(not torch.equal(b, a) for b, a in zip(before, head.parameters(), strict=True))
    assert int(trainer._seen["gender"].sum()) == int(head.targets.labelled.sum())
    loss.backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    trainer.detach()


def test_fisher_spread_is_smallest_when_classes_overlap():
    """A flip (classes moved past each other) raises the bounded objective instead of lowering
    it, unlike a reversed cross-entropy."""
    from recunlearn.protect.adversarial.objectives import fisher_spread

    torch.manual_seed(0)
    codes = torch.tensor([0] * 30 + [1] * 30)
    same = torch.randn(60, 4, dtype=torch.float64)
    apart = same.clone()
    apart[codes == 1] += 2.0
    flipped = same.clone()
    flipped[codes == 1] -= 2.0
    seen = torch.ones(60, dtype=torch.bool)
    rows = torch.arange(0)
    spread = [
        float(fisher_spread(t[:0], rows, t, seen, codes, 2, 0.1)) for t in (same, apart, flipped)
    ]
    assert spread[0] < 0.5 and min(spread[1], spread[2]) > 2.0


def test_multvae_embedding_rows_are_the_user_embeddings(tiny_split):
    model = make_model("multvae", epochs=1, seed=0, latent_dim=8, hidden_dims=(16,))
    model.fit(tiny_split, progress=False)
    users = torch.arange(10)
    rows = model.embedding_rows(users, torch.zeros(10, 8))
    assert torch.allclose(rows.detach(), model.user_embeddings()[:10], atol=1e-6)
