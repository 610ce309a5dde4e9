"""Adversary configuration: typed, strict, readable errors, command-line parsing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from recunlearn.core.errors import ConfigError
from recunlearn.protect.adversarial.config import (
    AdversaryConfig,
    AttributeAdversary,
    parse_adversary,
    validate_config,
)


def test_reversal_follows_the_advx_code():
    config = AdversaryConfig.from_lambdas({"gender": 400}, objective="reversal")
    spec = config.attributes["gender"]
    assert (spec.n_heads, config.hidden_of("gender"), spec.dropout) == (10, (5,), 0.3)
    assert (config.lr, config.weight_decay, config.loss_weight) == (1e-3, 1e-4, 1.0)
    assert config.selection == "ndcg" and config.lambdas == {"gender": 400.0}
    assert config.resolved_head_steps == 0 and config.resolved_representation == "step"


def test_default_is_bounded_with_refitted_linear_heads_on_the_embedding():
    config = AdversaryConfig.from_lambdas({"gender": 400})
    assert config.objective == "confusion" and config.bounded
    assert config.resolved_head_steps == 5 and config.head_lr == 1e-2
    assert config.resolved_representation == "embedding"
    assert config.hidden_of("gender") == ()
    explicit = AdversaryConfig.from_lambdas(
        {"gender": 1}, attribute_options={"gender": {"hidden": [5]}}, head_steps=0
    )
    assert explicit.hidden_of("gender") == (5,) and explicit.resolved_head_steps == 0


def test_lambda_alias_and_json_round_trip():
    spec = AttributeAdversary.model_validate({"lambda": 3})
    assert spec.lam == 3.0
    config = AdversaryConfig(attributes={"gender": spec})
    assert AdversaryConfig.model_validate_json(config.model_dump_json()) == config


def test_unknown_keys_and_negative_lambda_are_rejected():
    with pytest.raises(ValidationError, match="bogus"):
        AdversaryConfig(attributes={"gender": {"lam": 1}}, bogus=1)
    with pytest.raises(ConfigError, match="bogus"):
        validate_config({"attributes": {"gender": {"lam": 1, "bogus": 2}}})
    with pytest.raises(ConfigError, match=">= 0"):
        AdversaryConfig.from_lambdas({"gender": -1})
    with pytest.raises(ConfigError, match="at least 1"):
        validate_config({"attributes": {}})


def test_options_for_an_attribute_without_lambda_are_an_error():
    with pytest.raises(ConfigError, match="no lambda"):
        AdversaryConfig.from_lambdas({"gender": 1}, attribute_options={"age": {"n_heads": 2}})


def test_with_lambdas_replaces_only_lambdas():
    config = AdversaryConfig.from_lambdas(
        {"gender": 0, "age_raw": 0}, attribute_options={"age_raw": {"scale": 60}}
    )
    other = config.with_lambdas({"gender": 400})
    assert other.lambdas == {"gender": 400.0, "age_raw": 0.0}
    assert other.attributes["age_raw"].scale == 60
    with pytest.raises(ConfigError, match="no adversary configured"):
        config.with_lambdas({"occupation": 1})
    with pytest.raises(ConfigError, match=">= 0"):
        config.with_lambdas({"gender": -5})


def test_parse_comma_separated_and_repeated_entries():
    config = parse_adversary(
        ["gender=400,age_raw=200:continuous", "occupation=1"],
        ["age_raw.scale=60", "selection=adversary", "gender.hidden=[8, 4]"],
    )
    assert config is not None
    assert config.lambdas == {"gender": 400.0, "age_raw": 200.0, "occupation": 1.0}
    assert config.attributes["age_raw"].kind == "continuous"
    assert config.attributes["age_raw"].scale == 60
    assert config.attributes["gender"].hidden == (8, 4)
    assert config.selection == "adversary"
    assert parse_adversary(None) is None and parse_adversary([]) is None


@pytest.mark.parametrize(
    ("items", "settings", "message"),
    [
        (["gender"], None, "attribute=lambda"),
        (["gender=abc"], None, "must be a number"),
        (["gender=-3"], None, ">= 0"),
        (["gender=1,gender=2"], None, "twice"),
        (["gender=1:ordinal"], None, "kind"),
        ([], ["lr=0.1"], "needs at least one"),
        (["gender=1"], ["nonsense=1"], "nonsense"),
        (["gender=1"], ["age.scale=3"], "no lambda"),
    ],
)
def test_parse_errors_are_config_errors(items, settings, message):
    with pytest.raises(ConfigError, match=message):
        parse_adversary(items, settings)
