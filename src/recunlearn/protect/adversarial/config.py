"""Typed configuration of in-training adversaries (Adv-MultVAE / AdvX-MultVAE).

Defaults follow the official AdvX-MultVAE code (``../shared/reference/methods.md`` section 4):
per attribute 10 parallel heads, each an MLP ``d -> 5 -> out`` with input dropout 0.3 (ReLU
hidden unit for categorical attributes, sigmoid for continuous ones), class-weighted cross
entropy or MSE on a [0, 1]-scaled target, group loss = mean over the heads, total loss =
recommendation loss + sum over attributes (loss weight 1); the heads have their own Adam
(lr 1e-3, weight decay 1e-4).

Only this module knows the option names; it imports nothing heavy, so run specifications can
embed :class:`AdversaryConfig`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from recunlearn.core.errors import ConfigError

KindRequest = Literal["auto", "categorical", "continuous"]
"""What kind an adversary expects its attribute to be (``auto`` = the dataset's kind)."""


class AttributeAdversary(BaseModel):
    """The adversary of one protected attribute.

    Attributes:
        lam: gradient reversal scale lambda (>= 0; 0 trains the heads but sends no gradient
            to the recommender). Also accepted as ``lambda``.
        kind: ``auto`` (the dataset's kind) or the kind the attribute must have; a mismatch
            is a :class:`~recunlearn.core.errors.ConfigError` (e.g. ML's binned ``age`` requested
            as continuous: use ``age_raw``).
        n_heads: parallel heads whose losses are averaged (AdvX / Adv code: 10).
        hidden: hidden layer sizes of each head; ``None`` (default) = one layer of 5 with the
            ``reversal`` objective (AdvX) and ``()`` (linear heads, the shape of the strongest
            audit attacker, logistic regression) with the bounded objectives.
        activation: hidden activation; ``auto`` = ReLU for categorical and sigmoid for
            continuous attributes, as in the AdvX code.
        dropout: dropout on each head's input (AdvX 0.3; Adv-MultVAE 0.7), drawn
            independently per head.
        class_weights: categorical only: ``inverse_frequency`` (weights proportional to
            1 / class count among the labelled training users, normalised to sum 1 -- AdvX's
            [0.72, 0.28] for ML-1M gender), ``none``, or explicit weights in class-code order.
        scale: continuous only: the target is ``value / scale`` (AdvX: age / 60 on ML-1M,
            whose age codes run 1-56; / 120 on LFM). ``None`` = the largest absolute value among
            the labelled training users (ML-100K: 73 years).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    lam: float = Field(
        ..., ge=0, allow_inf_nan=False, validation_alias=AliasChoices("lam", "lambda")
    )
    kind: KindRequest = "auto"
    n_heads: int = Field(10, ge=1)
    hidden: tuple[int, ...] | None = Field(
        None, description="hidden sizes; () = linear head; None = by objective"
    )
    activation: Literal["auto", "relu", "sigmoid", "tanh"] = "auto"
    dropout: float = Field(0.3, ge=0.0, lt=1.0)
    class_weights: Literal["inverse_frequency", "none"] | tuple[float, ...] = "inverse_frequency"
    scale: float | None = Field(None, gt=0, allow_inf_nan=False)


class AdversaryConfig(BaseModel):
    """Adversaries of one training run.

    Attributes:
        attributes: attribute name -> its adversary (at least one).
        lr: Adam learning rate of the heads (AdvX: 1e-3), independent of the model's.
        weight_decay: Adam weight decay (L2) of the heads (AdvX: 1e-4).
        loss_weight: weight of the summed adversary losses in the total loss (AdvX: 1).
        selection: which epoch the model keeps: ``ndcg`` (the default: the model's own
            early-stopping metric, validation NDCG@10 unless configured otherwise -- AdvX's
            ``best_model_utility``) or ``adversary`` (lowest leakage of the jointly trained
            heads on the validation users, see :func:`recunlearn.audit.scoring.leakage`
            -- Adv-MultVAE's choice, which tends to pick late epochs). Early stopping uses the
            same quantity. On ``loo`` the validation users are the training users, so
            ``adversary`` then selects on users whose labels the heads trained on.
        selection_min_epoch: with ``selection="adversary"``, epochs before this one are never
            kept (Adv-MultVAE: 10).
        seed: seed of the heads' initialisation and dropout (None = the model's seed).
        objective: what the representation is trained against. ``confusion`` (the
            default): the heads learn on a detached representation and the representation
            descends ``lambda`` times the heads' distance from a know-nothing prediction
            (:meth:`AttributeHead.confusion`), which is bounded below. ``fisher``: no heads
            for the representation, it descends ``lambda`` times the between-class
            Mahalanobis spread of the labelled users (what a linear attacker reads,
            :func:`recunlearn.protect.adversarial.objectives.fisher_spread`); ``fisher+confusion``:
            both. ``reversal`` (the papers'): gradient reversal, the representation ascends
            the heads' loss -- unbounded, so it wins by making the heads confidently *wrong*,
            which keeps the attribute readable (ML-100K MultVAE, gender 400: the best audit
            attacker goes from 70 to 84 BAcc; NCF / LightGCN: 99).
        head_steps: Adam steps the heads take per model step on the detached representation
            of every labelled user seen so far (a memory bank), before the representation's
            step, so the heads are never one step behind. ``None`` = 0 for ``reversal`` (the
            papers' single joint step through the model loop) and 5 otherwise.
        head_lr: learning rate of those steps (``lr`` is the joint step's).
        head_batch: at most this many bank rows per head step (0 = every row).
        reset_every: re-initialise the heads every this many epochs (0 = never).
        representation: what the heads and the objective see: ``embedding`` -- the batch
            users' rows of ``user_embeddings()`` (:meth:`Recommender.embedding_rows`; MultVAE:
            ``mu`` of the whole history), or ``step`` -- the step's ``user_repr`` (MultVAE:
            ``z`` of a dropped-out history, the papers'). ``None`` = ``step`` for ``reversal``
            and ``embedding`` otherwise.
        fisher_shrinkage: ``fisher`` only: the within-class correlation is shrunk toward the
            identity by this share.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    attributes: dict[str, AttributeAdversary] = Field(..., min_length=1)
    objective: Literal["reversal", "confusion", "fisher", "fisher+confusion"] = "confusion"
    head_steps: int | None = Field(None, ge=0)
    head_lr: float = Field(1e-2, gt=0, allow_inf_nan=False)
    head_batch: int = Field(0, ge=0)
    reset_every: int = Field(0, ge=0)
    representation: Literal["embedding", "step"] | None = None
    fisher_shrinkage: float = Field(0.1, ge=0.0, le=1.0)
    lr: float = Field(1e-3, gt=0, allow_inf_nan=False)
    weight_decay: float = Field(1e-4, ge=0, allow_inf_nan=False)
    loss_weight: float = Field(1.0, ge=0, allow_inf_nan=False)
    selection: Literal["ndcg", "adversary"] = "ndcg"
    selection_min_epoch: int = Field(10, ge=1)
    seed: int | None = None

    @property
    def bounded(self) -> bool:
        """Whether the objective is bounded below (every objective but ``reversal``)."""
        return self.objective != "reversal"

    @property
    def resolved_head_steps(self) -> int:
        """``head_steps`` with ``None`` resolved (0 for reversal, 5 otherwise)."""
        if self.head_steps is not None:
            return self.head_steps
        return 5 if self.bounded else 0

    @property
    def resolved_representation(self) -> str:
        """``representation`` with ``None`` resolved (``step`` for reversal)."""
        if self.representation is not None:
            return self.representation
        return "embedding" if self.bounded else "step"

    def hidden_of(self, name: str) -> tuple[int, ...]:
        """Hidden sizes of attribute ``name``'s heads with ``None`` resolved."""
        hidden = self.attributes[name].hidden
        if hidden is not None:
            return tuple(hidden)
        return () if self.bounded else (5,)

    def cell_payload(self) -> dict[str, Any]:
        """The config as a benchmark cell records and hashes it, open values resolved.

        The refit options (``head_steps``, ``head_lr``, ``head_batch``, ``representation``,
        ``reset_every``, ``fisher_shrinkage``) came after cells were first keyed; at the values
        that reproduce the earlier behaviour (no refit, the step's representation, no reset, no
        Fisher term) they are left out, so those cells keep their keys.
        :meth:`from_cell_payload` reads the payload back to the same config.
        """
        payload = self.model_dump(mode="json")
        for name, spec in payload["attributes"].items():
            spec["hidden"] = list(self.hidden_of(name))
        steps, representation = self.resolved_head_steps, self.resolved_representation
        payload["head_steps"], payload["representation"] = steps, representation
        if steps == 0:
            for key in ("head_steps", "head_lr", "head_batch"):
                payload.pop(key)
        if representation == "step":
            payload.pop("representation")
        if self.reset_every == 0:
            payload.pop("reset_every")
        if "fisher" not in self.objective:
            payload.pop("fisher_shrinkage")
        return payload

    @classmethod
    def from_cell_payload(cls, payload: Mapping[str, Any]) -> AdversaryConfig:
        """The config of :meth:`cell_payload` (left-out options take their earlier values)."""
        values = {"head_steps": 0, "representation": "step", **payload}
        return validate_config(values)

    @property
    def lambdas(self) -> dict[str, float]:
        """Attribute -> gradient reversal scale."""
        return {name: spec.lam for name, spec in self.attributes.items()}

    @classmethod
    def from_lambdas(
        cls,
        lambdas: Mapping[str, float],
        *,
        attribute_options: Mapping[str, Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> AdversaryConfig:
        """Build a config from ``{attribute: lambda}`` plus options, with readable errors.

        Args:
            lambdas: gradient reversal scale per attribute.
            attribute_options: per attribute, fields of :class:`AttributeAdversary`.
            options: fields of :class:`AdversaryConfig` (``lr``, ``selection``...).

        Raises:
            ConfigError: negative lambda, unknown option, options for an attribute without a
                lambda, no attribute.
        """
        attribute_options = dict(attribute_options or {})
        orphans = sorted(set(attribute_options) - set(lambdas))
        if orphans:
            raise ConfigError(
                f"adversary options given for {orphans} but no lambda for them "
                f"(attributes with a lambda: {sorted(lambdas) or 'none'})"
            )
        for name, lam in lambdas.items():
            _check_lambda(name, lam)
        payload = {
            "attributes": {
                name: {"lam": lam, **attribute_options.get(name, {})}
                for name, lam in lambdas.items()
            },
            **options,
        }
        return validate_config(payload)

    def with_lambdas(self, lambdas: Mapping[str, float]) -> AdversaryConfig:
        """A copy with other lambdas (same attributes; the lambda grid uses this).

        Raises:
            ConfigError: an attribute not in this config, or a negative lambda.
        """
        unknown = sorted(set(lambdas) - set(self.attributes))
        if unknown:
            raise ConfigError(
                f"no adversary configured for {unknown} (configured: {sorted(self.attributes)})"
            )
        attributes = {}
        for name, spec in self.attributes.items():
            lam = lambdas.get(name, spec.lam)
            _check_lambda(name, lam)
            attributes[name] = spec.model_copy(update={"lam": float(lam)})
        return self.model_copy(update={"attributes": attributes})


def _check_lambda(name: str, lam: Any) -> None:
    try:
        value = float(lam)
    except (TypeError, ValueError):
        raise ConfigError(f"adversary lambda for '{name}' must be a number, got {lam!r}") from None
    if not value >= 0.0 or value == float("inf"):
        raise ConfigError(
            f"adversary lambda for '{name}' must be a finite number >= 0, got {lam!r} "
            "(lambda scales the reversed gradient; 0 = no removal)"
        )


def validate_config(payload: Mapping[str, Any] | AdversaryConfig) -> AdversaryConfig:
    """An :class:`AdversaryConfig` from a mapping, with pydantic errors as ``ConfigError``."""
    if isinstance(payload, AdversaryConfig):
        return payload
    try:
        return AdversaryConfig.model_validate(dict(payload))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'config'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"invalid adversary config: {problems}") from None


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _split_items(items: Iterable[str] | None) -> list[str]:
    """Entries of repeated options, each split on the commas outside brackets / quotes."""
    parts: list[str] = []
    for item in items or []:
        depth, quoted, current = 0, False, []
        for char in item:
            if char == '"':
                quoted = not quoted
            elif not quoted and char in "[{(":
                depth += 1
            elif not quoted and char in "]})":
                depth -= 1
            if char == "," and depth == 0 and not quoted:
                parts.append("".join(current))
                current = []
            else:
                current.append(char)
        parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def parse_adversary(
    items: Iterable[str] | None, settings: Iterable[str] | None = None
) -> AdversaryConfig | None:
    """The config of ``--adversary`` / ``--adversary-set`` command-line values.

    Args:
        items: ``name=lambda`` or ``name=lambda:kind`` entries, comma separated and/or
            repeated, e.g. ``["gender=400,age_raw=200:continuous"]``.
        settings: ``key=value`` entries, comma separated (outside brackets) and/or repeated,
            values parsed as JSON when possible: a field of
            :class:`AdversaryConfig` (``lr=0.001``, ``selection=adversary``) or
            ``attribute.field`` for one attribute (``age_raw.scale=60``, ``gender.n_heads=5``).

    Returns:
        The config, or ``None`` when ``items`` is empty (and ``settings`` too).

    Raises:
        ConfigError: malformed entries, an attribute given twice, a negative lambda, settings
            without any adversary, unknown options.
    """
    lambdas: dict[str, float] = {}
    attribute_options: dict[str, dict[str, Any]] = {}
    for entry in _split_items(items):
        if "=" not in entry:
            raise ConfigError(f"--adversary expects attribute=lambda, got '{entry}'")
        name, value = (part.strip() for part in entry.split("=", 1))
        kind = None
        if ":" in value:
            value, kind = (part.strip() for part in value.split(":", 1))
        if not name:
            raise ConfigError(f"--adversary entry '{entry}' has no attribute name")
        if name in lambdas:
            raise ConfigError(f"--adversary lists attribute '{name}' twice")
        try:
            lambdas[name] = float(value)
        except ValueError:
            raise ConfigError(
                f"--adversary {name}: lambda must be a number, got '{value}'"
            ) from None
        if kind is not None:
            attribute_options.setdefault(name, {})["kind"] = kind
    options: dict[str, Any] = {}
    for entry in _split_items(settings):
        if "=" not in entry:
            raise ConfigError(f"--adversary-set expects key=value, got '{entry}'")
        key, value = (part.strip() for part in entry.split("=", 1))
        if "." in key:
            name, field = key.split(".", 1)
            attribute_options.setdefault(name, {})[field] = _parse_value(value)
        else:
            options[key] = _parse_value(value)
    if not lambdas:
        if options or attribute_options:
            raise ConfigError("--adversary-set needs at least one --adversary attribute=lambda")
        return None
    return AdversaryConfig.from_lambdas(lambdas, attribute_options=attribute_options, **options)
