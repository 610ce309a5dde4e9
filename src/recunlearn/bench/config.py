"""The YAML grid of ``recunlearn bench``: its validated pydantic model (loading and the name
and option checks are in :mod:`recunlearn.bench.loading`).

A config names datasets, base models, requirements, unlearning methods (with their
hyperparameters) and seeds; the runner expands their product into cells (see
:mod:`recunlearn.bench.cells`). Optional sections add the in-training adversarial lambda grid
(``adversarial``), the dynamic-requirement timing of LEGO Fig. 3 (``timing``) and cells of
kinds registered by other modules (``extra``, with ``plugins`` to import them).

Every model rejects unknown keys; :func:`~recunlearn.bench.loading.load_config` re-words validation errors so that each
names the file and the field (``methods[2].method``), checks names (models, methods,
attackers, cell kinds) against the registries and every option mapping against the config of
what it configures (``methods[3].options.calibration_steps``), so a bad value fails before any
cell runs.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from recunlearn.audit import DEFAULT_ATTACKERS
from recunlearn.data.spec import DataSpec, SplitSpec
from recunlearn.data.splits import PROTOCOL_PRESETS, protocol_preset
from recunlearn.evaluation.spec import EvalSpec

RequirementInput = str | list[str]
"""A requirement in YAML: ``"gender,age"`` or ``[gender, age]``."""

LEGO_FIG3_SEQUENCE: tuple[tuple[str, ...], ...] = (
    ("gender",),
    ("gender", "age"),
    ("gender", "age", "occupation"),
    ("age", "occupation"),
    ("occupation",),
)
"""The dynamic-requirement sequence of LEGO Fig. 3 (G -> G+A -> G+A+O -> A+O -> O)."""


def parse_requirement(value: RequirementInput) -> tuple[str, ...]:
    """A requirement as a sorted tuple of attribute names (the canonical, hashed form).

    >>> parse_requirement("gender, age")
    ('age', 'gender')
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    names = sorted({str(item).strip() for item in items if str(item).strip()})
    if not names:
        raise ValueError("a requirement names at least one attribute")
    return tuple(names)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SplitEntry(_Section):
    """A split protocol (see :mod:`recunlearn.data.splits`): ``loo`` or ``user_kfold``."""

    protocol: str = "loo"
    params: dict[str, Any] = Field(default_factory=dict)


class DatasetEntry(_Section):
    """One dataset of the grid.

    Attributes:
        name: a name accepted by :func:`recunlearn.data.loading.load_dataset`.
        id: how other sections refer to it (default: ``name``).
        data_dir: folder of the files; relative paths are taken from the config file's folder;
            omitted: ``$RECUNLEARN_DATA/<name>``, else the user cache. Not part of the cell
            hash (the dataset fingerprint recorded with every cell identifies the data).
        attributes_path: user-attribute table (csv / parquet datasets).
        options: loader options (e.g. synthetic ``n_users``).
        min_user_interactions / min_item_interactions / binarize_threshold: filters.
        split: the split protocol of the base runs (LEGO: ``loo``).
        preset: a named paper protocol (:data:`recunlearn.data.splits.PROTOCOL_PRESETS`, e.g.
            ``afrl_loo_sampled99``) that sets the filters, the split and the evaluation of the
            base runs; the entry must then not set those fields itself.
    """

    name: str
    id: str | None = None
    data_dir: str | None = None
    attributes_path: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    min_user_interactions: int = Field(5, ge=0)
    min_item_interactions: int = Field(0, ge=0)
    binarize_threshold: float | None = None
    split: SplitEntry = Field(default_factory=SplitEntry)
    preset: str | None = None

    @model_validator(mode="after")
    def _preset_alone(self) -> DatasetEntry:
        if self.preset is None:
            return self
        if self.preset not in PROTOCOL_PRESETS:
            known = ", ".join(sorted(PROTOCOL_PRESETS))
            raise ValueError(f"unknown protocol preset '{self.preset}'; known: {known}")
        clash = sorted(self.model_fields_set & {*PRESET_FIELDS})
        if clash:
            raise ValueError(
                f"preset '{self.preset}' sets {', '.join(clash)}: remove them from this entry"
            )
        return self

    @property
    def key(self) -> str:
        """The id other sections use."""
        return self.id or self.name

    def data_spec(self, base_dir: Path | None = None) -> DataSpec:
        """The :class:`DataSpec` (with ``data_dir`` resolved against ``base_dir``)."""
        filters = {
            "min_user_interactions": self.min_user_interactions,
            "min_item_interactions": self.min_item_interactions,
            "binarize_threshold": self.binarize_threshold,
        }
        if self.preset is not None:
            filters = protocol_preset(self.preset).data_filters()
        return DataSpec(
            name=self.name,
            data_dir=_resolve(self.data_dir, base_dir),
            attributes_path=_resolve(self.attributes_path, base_dir),
            options=self.options,
            **filters,
        )

    def split_spec(self) -> SplitSpec:
        """The split of the base runs."""
        if self.preset is not None:
            preset = protocol_preset(self.preset)
            return SplitSpec(protocol=preset.split, params=dict(preset.split_params))
        return SplitSpec(protocol=self.split.protocol, params=self.split.params)

    def eval_spec(self) -> EvalSpec:
        """The evaluation of the base runs: the preset's, else the default full ranking."""
        return EvalSpec() if self.preset is None else EvalSpec.from_preset(self.preset)


PRESET_FIELDS = ("min_user_interactions", "min_item_interactions", "binarize_threshold", "split")
"""The fields of a :class:`DatasetEntry` that a preset sets."""


def _resolve(path: str | None, base_dir: Path | None) -> str | None:
    if path is None or base_dir is None or Path(path).expanduser().is_absolute():
        return path
    return str((base_dir / path).resolve())


class ModelEntry(_Section):
    """A base model: a registered model name and its config overrides (``seed`` is set per
    cell). A bare string is accepted: ``ncf``."""

    name: str
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


class MethodEntry(_Section):
    """An unlearning method of the grid.

    Attributes:
        label: the row name in tables (unique), e.g. ``lego`` or ``lego-scaled``.
        method: ``original`` (no unlearning) or a name of
            :data:`recunlearn.protect.posthoc.registry.UNLEARNERS` (default: ``label``).
        options: the unlearner's options (``seed`` defaults to the cell's seed).
        models: run it on these base models only (default: every model of the grid), e.g.
            to leave out a method whose cost on one model the grid cannot afford.

    A bare string is accepted: ``lego``.
    """

    label: str
    method: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    models: list[str] | None = None

    def applies_to(self, model: str) -> bool:
        """Whether the grid runs this method on base model ``model``."""
        return self.models is None or model.lower() in {m.lower() for m in self.models}

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"label": value} if isinstance(value, str) else value

    @property
    def name(self) -> str:
        """The registered unlearner name (``original`` for none)."""
        return (self.method or self.label).lower()


class AuditSettings(_Section):
    """How protected embeddings are attacked (LEGO's protocol: 5-fold CV over the labelled
    users, audit seed = the cell's seed).

    Attributes:
        attackers: ``all`` (every registered attacker) or a list; the papers' ``paper_mlp``
            is always run (added when missing), so both the papers' number and the worst
            case over attackers are recorded.
        n_folds: folds of the stratified cross-validation.
        heldout_fraction: share of users whose labels a second fit of the method does not see;
            attackers train on the others and are tested on them (0: no held-out view).
        heldout_repeats: disjoint held-out masks of that share, one fit of the method each,
            pooled into the held-out view (5 x 20 %: every user tested once, so the view is as
            precise as the k-fold one); 1, the default, is the single mask of earlier records.
        transfer: also attack with a logistic attacker fitted on the original rows (the flip
            check).
        floor_permutations: ``original`` cells also audit the original matrix this many times
            against permuted labels: the noise floor of the worst-case metric.
        kept: attributes audited in every cell besides the requirement's (those a requirement
            keeps, e.g. a control attribute that must stay at chance, or one that must stay
            readable).
    """

    attackers: Literal["all"] | list[str] = "all"
    n_folds: int = Field(5, ge=2)
    heldout_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    heldout_repeats: int = Field(1, ge=1)
    transfer: bool = True
    floor_permutations: int = Field(0, ge=0)
    kept: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _masks_fit(self) -> AuditSettings:
        if self.heldout_repeats * self.heldout_fraction > 1.0 + 1e-9:
            raise ValueError(
                f"heldout_repeats ({self.heldout_repeats}) x heldout_fraction "
                f"({self.heldout_fraction:g}) is above 1: the masks are disjoint"
            )
        return self

    def cell_params(self) -> dict[str, Any]:
        """What an ``unlearn`` cell records of these settings (hashed)."""
        return {
            "attackers": self.attacker_names(),
            "n_folds": self.n_folds,
            "heldout_fraction": self.heldout_fraction,
            "transfer": self.transfer,
            "floor_permutations": self.floor_permutations,
            **({"kept": list(self.kept)} if self.kept else {}),
            # hashed only when set, so the records of single-mask grids keep their keys
            **({"heldout_repeats": self.heldout_repeats} if self.heldout_repeats > 1 else {}),
        }

    def attacker_names(self) -> list[str]:
        """The attackers to run, ``paper_mlp`` first."""

        names = list(DEFAULT_ATTACKERS) if self.attackers == "all" else list(self.attackers)
        return ["paper_mlp", *[n for n in names if n != "paper_mlp"]]


class AdversarialSettings(_Section):
    """The in-training adversarial lambda grid (AdvX Table 2 / Fig. 2).

    Attributes:
        datasets: dataset ids (default: every dataset).
        model: base model trained with the adversaries.
        protocol: ``user_kfold`` (AdvX) or ``loo`` (LEGO's AdvX rows).
        preset: ``advx`` = the linear MultVAE of the AdvX code (``MultVAE.advx_config``).
        model_options: model overrides (after the preset).
        lambdas: per attribute, the lambda values; cells are their product.
        lambda_cells: further cells given one by one (``[{gender: 400, age_raw: 0}, ...]``),
            for grids that are not a product (e.g. the picks of a full grid rerun on other
            folds); every cell names every attribute of ``lambdas``.
        attribute_options: per attribute, adversary options (e.g. ``age_raw: {scale: 60}``).
        adversary_options: options of the whole adversary (``lr``, ``selection``...).
        replicates: folds (``user_kfold``) or model seeds (``loo``).
        include_base: also train each replicate without adversary heads.
        attackers: audit attackers besides the AdvX attacker (``all`` = every one).
        label_holdout: ``loo`` only: share of users whose labels the adversaries never see.
    """

    datasets: list[str] | None = None
    model: str = "multvae"
    protocol: Literal["user_kfold", "loo"] = "user_kfold"
    preset: Literal["advx"] | None = None
    model_options: dict[str, Any] = Field(default_factory=dict)
    lambdas: dict[str, list[float]] = Field(..., min_length=1)
    lambda_cells: list[dict[str, float]] = Field(default_factory=list)
    attribute_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    adversary_options: dict[str, Any] = Field(default_factory=dict)
    replicates: list[int] = Field(default_factory=lambda: [0], min_length=1)
    include_base: bool = True
    attackers: Literal["all"] | list[str] = "all"
    label_holdout: float = Field(0.0, ge=0.0, lt=1.0)

    @field_validator("lambdas")
    @classmethod
    def _nonnegative(cls, value: dict[str, list[float]]) -> dict[str, list[float]]:
        for name, values in value.items():
            if not values:
                raise ValueError(f"no lambda value for '{name}'")
            if any(v < 0 for v in values):
                raise ValueError(f"lambdas of '{name}' must be >= 0")
        return value

    @model_validator(mode="after")
    def _cells_name_every_attribute(self) -> AdversarialSettings:
        for i, cell in enumerate(self.lambda_cells):
            if set(cell) != set(self.lambdas):
                raise ValueError(
                    f"lambda_cells[{i}] names {sorted(cell)}; every cell must name exactly the "
                    f"attributes of lambdas: {sorted(self.lambdas)}"
                )
            if any(v < 0 for v in cell.values()):
                raise ValueError(f"lambda_cells[{i}]: lambdas must be >= 0")
        return self

    def attacker_names(self) -> list[str]:
        """The audit attackers of every cell."""

        return list(DEFAULT_ATTACKERS) if self.attackers == "all" else list(self.attackers)


class TimingSettings(_Section):
    """Dynamic requirements (LEGO Fig. 3): seconds per request of a sequence of requirements.

    Timing cells run alone (no other cell in parallel) on a base run of ``model``.

    Attributes:
        dataset: dataset id (default: the first dataset).
        model / model_options / seed: the base run (shared with the grid when equal).
        sequence: the requirements, in order.
        lego / d2dfr: options of the timed unlearners.
    """

    dataset: str | None = None
    model: str = "ncf"
    model_options: dict[str, Any] = Field(default_factory=dict)
    seed: int = 0
    sequence: list[RequirementInput] = Field(
        default_factory=lambda: [list(r) for r in LEGO_FIG3_SEQUENCE], min_length=1
    )
    lego: dict[str, Any] = Field(default_factory=dict)
    d2dfr: dict[str, Any] = Field(default_factory=dict)

    @field_validator("sequence")
    @classmethod
    def _requirements(cls, value: list[RequirementInput]) -> list[RequirementInput]:
        for item in value:
            parse_requirement(item)
        return value


class PersonalSettings(_Section):
    """Per-user requirements (the AFRL paper's Table 2): ``personal`` cells.

    One cell per base run (dataset x model x seed of the grid) and method: the method is
    fitted once, then serves every column -- each requirement given to every user, the empty
    requirement, and a mixed table where each user draws one of the requirements at random --
    evaluated under the base run's protocol and attacked with the AFRL paper's attacker
    (``afrl_mlp``, AUC folded and averaged over the requirement's attributes) beside the audit
    attackers (their worst case), transductively and in the held-out view.

    Attributes:
        datasets: dataset ids (default: every dataset).
        models: base models of the grid's ``models`` (default: every one).
        attributes: the attributes users choose from (the paper: gender, age, occupation).
        requirements: the columns (default: every non-empty combination of ``attributes``,
            by size: G, A, O, G+A, G+O, A+O, G+A+O).
        empty: also a column where nobody asks for anything.
        mixed: also a column where each user draws one of ``requirements`` (seeded by the
            cell's seed).
        methods: the rows (``original`` = the base model; any registered unlearner, served
            per user: a per-user method in one pass, any other one per distinct requirement).
        attackers: the audit attackers besides ``afrl_mlp`` (``all`` = every default one).
        n_folds: folds of the transductive view.
        heldout_fraction: share of users whose labels a second fit of the method does not see;
            attackers train on the other users and are tested on them (0: no held-out view).
        afrl_attacker: settings of the AFRL attacker that differ from the paper's (e.g.
            ``{max_epochs: 20, min_epochs: 5}`` for a smoke grid; default: none).
    """

    datasets: list[str] | None = None
    models: list[str] | None = None
    attributes: list[str] = Field(
        default_factory=lambda: ["gender", "age", "occupation"], min_length=1
    )
    requirements: list[RequirementInput] | None = None
    empty: bool = True
    mixed: bool = True
    methods: list[MethodEntry] = Field(..., min_length=1)
    attackers: Literal["all"] | list[str] = "all"
    n_folds: int = Field(5, ge=2)
    heldout_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    afrl_attacker: dict[str, Any] = Field(default_factory=dict)

    @field_validator("afrl_attacker")
    @classmethod
    def _attacker_options(cls, value: dict[str, Any]) -> dict[str, Any]:
        from recunlearn.audit.afrl_attacker import afrl_attacker_spec

        afrl_attacker_spec(**value)
        return value

    @field_validator("requirements")
    @classmethod
    def _requirements(cls, value: list[RequirementInput] | None) -> list[RequirementInput] | None:
        for item in value or []:
            parse_requirement(item)
        return value

    @model_validator(mode="after")
    def _requirements_among_attributes(self) -> PersonalSettings:
        for i, item in enumerate(self.requirements or []):
            outside = [a for a in parse_requirement(item) if a not in self.attributes]
            if outside:
                raise ValueError(
                    f"requirements[{i}] names {outside}, not among attributes {self.attributes}"
                )
        return self

    def columns(self) -> list[list[str]]:
        """The requirement columns, each in the order of :attr:`attributes`."""
        if self.requirements is None:
            chosen = [
                list(c)
                for size in range(1, len(self.attributes) + 1)
                for c in itertools.combinations(self.attributes, size)
            ]
        else:
            rank = {a: i for i, a in enumerate(self.attributes)}
            chosen = [
                sorted(parse_requirement(r), key=lambda a: (rank.get(a, len(rank)), a))
                for r in self.requirements
            ]
        return chosen

    def attacker_names(self) -> list[str]:
        """``afrl_mlp`` first, then the audit attackers."""
        names = list(DEFAULT_ATTACKERS) if self.attackers == "all" else list(self.attackers)
        return ["afrl_mlp", *[n for n in names if n != "afrl_mlp"]]

    def cell_params(self) -> dict[str, Any]:
        """What a ``personal`` cell records of these settings (hashed)."""
        return {
            "attributes": list(self.attributes),
            "requirements": self.columns(),
            "empty": self.empty,
            "mixed": self.mixed,
            "attackers": self.attacker_names(),
            "n_folds": self.n_folds,
            "heldout_fraction": self.heldout_fraction,
            **({"afrl_attacker": dict(self.afrl_attacker)} if self.afrl_attacker else {}),
        }


class ExtraGrid(_Section):
    """Cells of a kind registered elsewhere (see :func:`recunlearn.bench.register_kind`).

    The cells are the product of the ``grid`` lists, each merged into ``params``:
    ``{kind: debias, grid: {dataset: [coat, yahoo], seed: [0, 1]}, params: {method: ips}}``
    gives four cells.
    """

    kind: str
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)


class BenchConfig(_Section):
    """A benchmark grid (the YAML file of ``recunlearn bench``).

    Attributes:
        name: a short name (shown in the report).
        description: free text (shown in the report).
        jobs: cells run in parallel processes (``--jobs`` overrides).
        threads: torch / BLAS threads per cell.
        plugins: modules to import before expanding (they register extra cell kinds).
        datasets: the datasets.
        models: base models (``train`` cells, one per dataset x model x seed).
        seeds: model seeds (also the unlearners' and the audit's seeds).
        requirements: attribute sets to forget.
        methods: unlearning methods (``unlearn`` cells: dataset x model x seed x requirement
            x method); ``original`` audits the unprotected embeddings.
        audit: attacker settings of the ``unlearn`` cells.
        adversarial: the lambda grid (``adversarial`` cells).
        timing: the dynamic-requirement timing (``timing`` cells).
        personal: per-user requirements (``personal`` cells on the grid's base runs).
        extra: cells of other registered kinds.
        peers: name -> folder of another tool's results on the same protocol (e.g. the JSON
            records of ``benchmarks/recbole_side_by_side.py``), relative to the benchmark
            folder (``--out``); the report compares with them.
    """

    name: str
    description: str = ""
    jobs: int = Field(2, ge=1)
    threads: int = Field(1, ge=1)
    plugins: list[str] = Field(default_factory=list)
    datasets: list[DatasetEntry] = Field(default_factory=list)
    models: list[ModelEntry] = Field(default_factory=list)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    requirements: list[RequirementInput] = Field(default_factory=list)
    methods: list[MethodEntry] = Field(default_factory=list)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    adversarial: list[AdversarialSettings] = Field(default_factory=list)
    timing: TimingSettings | None = None
    personal: PersonalSettings | None = None
    extra: list[ExtraGrid] = Field(default_factory=list)
    peers: dict[str, str] = Field(default_factory=dict)

    @field_validator("adversarial", mode="before")
    @classmethod
    def _adversarial_list(cls, value: Any) -> Any:
        """One grid (a mapping) or several (a list: e.g. one per model)."""
        if value is None:
            return []
        return [value] if isinstance(value, dict) else value

    @field_validator("requirements")
    @classmethod
    def _requirements(cls, value: list[RequirementInput]) -> list[RequirementInput]:
        for item in value:
            parse_requirement(item)
        return value

    @model_validator(mode="after")
    def _datasets_needed(self) -> BenchConfig:
        needs = self.models or self.methods or self.adversarial or self.timing or self.personal
        if needs and not self.datasets:
            raise ValueError(
                "datasets: at least one is needed for models, methods, adversarial, timing or "
                "personal"
            )
        if self.personal is not None and not self.models:
            raise ValueError("personal: its cells run on the base models of 'models' (none given)")
        return self

    def adversarial_field(self, index: int) -> str:
        """``adversarial`` (one grid) or ``adversarial[i]`` (several), for error messages."""
        return "adversarial" if len(self.adversarial) == 1 else f"adversarial[{index}]"

    def dataset(self, key: str) -> DatasetEntry:
        """The dataset entry with id ``key``."""
        for entry in self.datasets:
            if entry.key == key:
                return entry
        raise KeyError(key)
