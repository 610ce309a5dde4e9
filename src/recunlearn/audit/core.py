"""``audit(embeddings, attributes) -> LeakageReport``: the attribute-inference attack, run well.

Protocol per attribute: keep the users whose label is known (the others are counted as left
out); optionally draw a stratified sample; then either stratified k-fold over those users
(default 5 folds = LEGO's 80/20, reshuffled per seed) or a fixed set of test users with
training on every other labelled user. Every attacker x fold x seed is one job; jobs run in a
process pool of ``n_jobs`` workers, each limited to one BLAS / OpenMP / torch thread, so the
audit uses at most ``n_jobs`` cores. Results do not depend on ``n_jobs`` or on the row order of
the inputs (users are joined by id and sorted).
"""

from __future__ import annotations

import logging
import math
import os
import time
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, parallel_config
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from recunlearn.audit.attackers import DEFAULT_ATTACKERS, Attacker, AttackerSpec, get_attacker
from recunlearn.audit.inputs import AttributeTable, EmbeddingTable, JoinedData, join
from recunlearn.audit.leakage_report import LeakageReport
from recunlearn.audit.metrics import categorical_metrics, continuous_metrics
from recunlearn.audit.splits import FoldPlan, fixed_plan, kfold_plan, stratified_sample
from recunlearn.core.errors import ConfigError, DataError
from recunlearn.core.provenance import versions
from recunlearn.core.threads import limit_threads
from recunlearn.data.types import MISSING_CODE, Attribute, Dataset, chance_mae

logger = logging.getLogger(__name__)

MIN_PARALLEL_ROWS = 20_000
"""Below this many training rows summed over all jobs the audit runs in-process: starting
worker processes (each imports torch and scikit-learn) costs more than it saves."""

AttributesInput = Dataset | AttributeTable | Mapping[str, tuple[Attribute, Any]]
"""What :func:`audit` accepts as attributes."""


@dataclass(frozen=True)
class Job:
    """One attacker trained on one fold of one attribute."""

    attribute: str
    kind: str
    n_classes: int
    attacker: AttackerSpec
    seed: int
    fold: int
    attacker_seed: int
    train: np.ndarray
    test: np.ndarray

    @property
    def cost(self) -> float:
        """Rough relative cost, to start expensive jobs first."""
        return self.attacker.cost * (1.0 + 0.1 * self.n_classes) * len(self.train)


@dataclass
class PreparedAttribute:
    """The users of one attribute that enter the audit, their labels and their folds."""

    attribute: Attribute
    y: np.ndarray
    plans: list[FoldPlan]
    info: dict[str, Any] = field(default_factory=dict)


def derive_seed(*parts: int | str) -> int:
    """A stable 31-bit seed from ints and strings (independent of PYTHONHASHSEED)."""
    words = [p if isinstance(p, int) else zlib.crc32(p.encode()) for p in parts]
    return int(np.random.SeedSequence([abs(w) for w in words]).generate_state(1)[0] % (2**31 - 1))


def null_bacc_sd(tested: np.ndarray) -> float:
    """Standard deviation of the BAcc of a guesser that ignores the embedding.

    A guesser drawing uniformly among the ``k`` classes present has recall
    ``Binomial(n_c, 1/k) / n_c`` on class ``c``; BAcc averages the ``k`` recalls, so its variance
    is ``sum_c (1/k)(1 - 1/k) / n_c / k**2`` with ``n_c`` the tested users of class ``c``
    (every user is tested once per seed). A mean BAcc within about two of these of chance is
    indistinguishable from no leakage.
    """
    _, counts = np.unique(np.asarray(tested), return_counts=True)
    k = len(counts)
    if k < 2:
        return float("nan")
    p = 1.0 / k
    return float(np.sqrt(np.sum(p * (1 - p) / counts)) / k)


def run_job(
    job: Job, X: np.ndarray, y: np.ndarray, X_train: np.ndarray | None = None
) -> dict[str, Any]:
    """Fit the job's attacker on its training users and score its test users (one thread).

    ``X_train`` (same users and rows as ``X``): the attacker is fitted on these rows instead of
    ``X``'s (a transfer attack: trained on original embeddings, tested on protected ones).
    """
    X_fit = X if X_train is None else X_train
    record: dict[str, Any] = {
        "attribute": job.attribute,
        "kind": job.kind,
        "attacker": job.attacker.name,
        "seed": job.seed,
        "fold": job.fold,
        "n_train": len(job.train),
        "n_test": len(job.test),
    }
    attacker = Attacker(job.attacker, job.kind, job.n_classes, job.attacker_seed)  # type: ignore[arg-type]
    with limit_threads(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("ignore", category=FutureWarning)
        started = time.perf_counter()
        try:
            attacker.fit(X_fit[job.train], y[job.train])
        except Exception as exc:
            exc.add_note(
                f"while fitting attacker '{job.attacker.name}' on attribute '{job.attribute}' "
                f"(seed {job.seed}, fold {job.fold})"
            )
            raise
        fitted = time.perf_counter()
        X_test, y_test = X[job.test], y[job.test]
        if job.kind == "categorical":
            proba = attacker.predict_proba(X_test)
            if job.attacker.proba == "decision_function":
                # the class with the largest one-vs-rest decision value: what predict() returns
                # with break_ties, without computing the kernel a second time
                predicted = np.argmax(proba, axis=1)
            else:
                predicted = attacker.predict(X_test)
            record.update(categorical_metrics(y_test, predicted, proba))
        else:
            record.update(continuous_metrics(y_test, attacker.predict(X_test), y[job.train]))
        record["fit_seconds"] = fitted - started
        record["predict_seconds"] = time.perf_counter() - fitted
    return record


# ------------------------------------------------------------------------------ preparation
def _embedding_table(embeddings: Any, ids: Any) -> EmbeddingTable:
    if isinstance(embeddings, EmbeddingTable):
        if ids is not None:
            raise ConfigError("pass ids inside the EmbeddingTable, not as well as ids=")
        return embeddings
    return EmbeddingTable(embeddings, ids)


def _attribute_table(attributes: AttributesInput, attribute_ids: Any) -> AttributeTable:
    if isinstance(attributes, Dataset):
        if attribute_ids is not None:
            raise ConfigError("a Dataset carries its own user ids: do not pass attribute_ids")
        return AttributeTable.from_dataset(attributes)
    if isinstance(attributes, AttributeTable):
        if attribute_ids is not None:
            raise ConfigError("pass ids inside the AttributeTable, not as well as attribute_ids=")
        return attributes
    if isinstance(attributes, Mapping):
        return AttributeTable.from_mapping(attributes, ids=attribute_ids)
    raise ConfigError(
        f"attributes must be a Dataset, an AttributeTable or a mapping, got {type(attributes)}"
    )


def _test_mask(test_users: Any, embeddings: EmbeddingTable, joined: JoinedData) -> np.ndarray:
    """Boolean mask over the joined users from a mask / row indices over the embedding rows."""
    test_users = np.asarray(test_users)
    full = np.zeros(embeddings.n_users, dtype=bool)
    if test_users.dtype == bool:
        if len(test_users) != embeddings.n_users:
            raise ConfigError(
                f"test_users mask has {len(test_users)} entries for {embeddings.n_users} "
                "embedding rows"
            )
        full = test_users
    elif test_users.dtype.kind in "iu":
        if test_users.size and (test_users.min() < 0 or test_users.max() >= embeddings.n_users):
            raise ConfigError("test_users row index out of range")
        full[test_users] = True
    else:
        raise ConfigError("test_users must be a boolean mask or integer row indices")
    return full[joined.rows]


def _prepare(
    attribute: Attribute,
    raw: np.ndarray,
    *,
    n_folds: int,
    seeds: tuple[int, ...],
    is_test: np.ndarray | None,
    sample: int | None,
    rare_classes: str,
    path: Any,
) -> PreparedAttribute:
    """The users of one attribute (indices into the joined users) and its folds, checked."""
    name = attribute.name
    categorical = attribute.kind == "categorical"
    known = raw != MISSING_CODE if categorical else ~np.isnan(raw)
    rows = np.flatnonzero(known)
    info: dict[str, Any] = {
        "kind": attribute.kind,
        "classes": list(attribute.classes),
        "n_matched": len(raw),
        "n_labelled": len(rows),
        "n_left_out_no_label": int(len(raw) - len(rows)),
        "n_dropped_rare": 0,
        "dropped_classes": [],
        "sample_size": None,
    }
    if len(rows) == 0:
        raise DataError("no matched user has a label", path=path, field=name)

    def drop_rare(rows: np.ndarray, where: str) -> np.ndarray:
        """k-fold needs every class in every test fold: >= n_folds members."""
        if not categorical:
            return rows
        counts = pd.Series(raw[rows]).value_counts().sort_index()
        rare = counts[counts < n_folds]
        if rare.empty:
            return rows
        labels = [f"'{attribute.classes[c]}' ({n})" for c, n in rare.items()]
        if rare_classes == "drop":
            keep = ~np.isin(raw[rows], rare.index.to_numpy())
            info["n_dropped_rare"] += int((~keep).sum())
            info["dropped_classes"] += [attribute.classes[c] for c in rare.index]
            return rows[keep]
        raise DataError(
            f"class(es) {', '.join(labels)} have fewer members{where} than the {n_folds} folds "
            "(use fewer folds, drop rare classes, or merge them)",
            path=path,
            field=name,
        )

    if categorical and len(np.unique(raw[rows])) < 2:
        single = attribute.classes[int(raw[rows][0])]
        raise DataError(
            f"a single class ('{single}') among the labelled users: nothing to infer",
            path=path,
            field=name,
        )
    if is_test is None:
        rows = drop_rare(rows, "")
        if sample is not None and sample < len(rows):
            rows = rows[stratified_sample(raw[rows], attribute.kind, sample, seeds[0])]
            info["sample_size"] = len(rows)
            rows = drop_rare(rows, " in the sample")
    else:
        test_rows = rows[is_test[rows]]
        train_rows = rows[~is_test[rows]]
        if sample is not None and sample < len(train_rows):
            train_rows = train_rows[
                stratified_sample(raw[train_rows], attribute.kind, sample, seeds[0])
            ]
            info["sample_size"] = len(train_rows)
        if len(test_rows) == 0:
            raise DataError("no labelled user among the test users", path=path, field=name)
        if len(train_rows) == 0:
            raise DataError("no labelled user outside the test users", path=path, field=name)
        rows = np.sort(np.concatenate([train_rows, test_rows]))
    values = raw[rows]
    if categorical:
        present = np.unique(values if is_test is None else values[~is_test[rows]])
        if len(present) < 2:
            single = attribute.classes[present[0]] if len(present) else "none"
            where = "" if is_test is None else " among the training users"
            raise DataError(
                f"a single class ('{single}'){where}: nothing to infer",
                path=path,
                field=name,
            )
        counts = np.bincount(values, minlength=attribute.n_classes)
        info["class_counts"] = dict(zip(attribute.classes, counts.tolist(), strict=True))
        info["chance_bacc"] = 1.0 / int((counts > 0).sum())
    else:
        if len(np.unique(values)) < 2:
            raise DataError("a single value: nothing to infer", path=path, field=name)
        if is_test is None and len(values) < n_folds:
            raise DataError(
                f"{len(values)} labelled users for {n_folds} folds", path=path, field=name
            )
        info["chance_mae"] = chance_mae(values)
        info["mean"] = float(values.mean())
    info["n_used"] = len(rows)
    if is_test is None:
        plans = kfold_plan(values, attribute.kind, n_folds, seeds)
        tested = values
    else:
        plans = fixed_plan(is_test[rows], seeds)
        info["n_test_users"] = int(is_test[rows].sum())
        tested = values[is_test[rows]]
    if categorical:
        info["bacc_null_sd"] = null_bacc_sd(tested)
    plans = [FoldPlan(p.seed, p.fold, rows[p.train], rows[p.test]) for p in plans]
    return PreparedAttribute(attribute, raw, plans, info)


def _check_options(
    attackers: Sequence[str | AttackerSpec],
    n_folds: int,
    seeds: Sequence[int],
    sample: int | None,
    n_jobs: int,
    rare_classes: str,
) -> tuple[list[AttackerSpec], tuple[int, ...], int]:
    specs = [get_attacker(a) if isinstance(a, str) else a for a in attackers]
    if not specs:
        raise ConfigError("no attacker given")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ConfigError(f"attacker listed twice: {names}")
    if not isinstance(n_folds, int | np.integer) or n_folds < 2:
        raise ConfigError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    seeds = tuple(int(s) for s in seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds must be distinct and non-empty, got {seeds}")
    if sample is not None and sample < 2:
        raise ConfigError(f"sample must be >= 2 users, got {sample}")
    if rare_classes not in ("error", "drop"):
        raise ConfigError("rare_classes must be 'error' or 'drop'")
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    if n_jobs < 1:
        raise ConfigError(f"n_jobs must be >= 1 or -1, got {n_jobs}")
    return specs, seeds, int(n_jobs)


# ------------------------------------------------------------------------------ execution
def _execute(
    jobs: list[Job],
    X: np.ndarray,
    ys: dict[str, np.ndarray],
    n_jobs: int,
    X_train: np.ndarray | None = None,
) -> Iterator[dict[str, Any]]:
    ordered = sorted(jobs, key=lambda j: -j.cost)
    if n_jobs == 1:
        for job in ordered:
            yield run_job(job, X, ys[job.attribute], X_train)
        return

    with parallel_config(backend="loky", inner_max_num_threads=1):
        try:
            parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        except ValueError:  # joblib < 1.4: results in submission order
            parallel = Parallel(n_jobs=n_jobs, return_as="generator")
        yield from parallel(delayed(run_job)(job, X, ys[job.attribute], X_train) for job in ordered)


def _with_progress(
    records: Iterable[dict[str, Any]], total: int, enabled: bool
) -> Iterator[dict[str, Any]]:
    if not enabled:
        yield from records
        return

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("audit", total=total)
        for record in records:
            bar.update(
                task, advance=1, description=f"audit · {record['attribute']} {record['attacker']}"
            )
            yield record


def audit(
    embeddings: Any,
    attributes: AttributesInput,
    *,
    ids: Any = None,
    attribute_ids: Any = None,
    attackers: Sequence[str | AttackerSpec] = DEFAULT_ATTACKERS,
    select: Sequence[str] | None = None,
    n_folds: int = 5,
    seeds: Sequence[int] = (0,),
    test_users: Any = None,
    sample: int | None = None,
    n_jobs: int = 2,
    progress: bool = True,
    strict_ids: bool = False,
    rare_classes: Literal["error", "drop"] = "error",
    train_embeddings: Any = None,
    permute_labels: int | None = None,
) -> LeakageReport:
    """Attack user embeddings for every attribute with every attacker.

    Args:
        embeddings: (n_users, d) array or torch tensor, or an :class:`EmbeddingTable`
            (e.g. from :func:`recunlearn.audit.io.read_embeddings`).
        attributes: a :class:`~recunlearn.data.types.Dataset` (its attributes, keyed by its
            user ids), an :class:`AttributeTable` (e.g. from
            :func:`recunlearn.audit.io.read_attributes`), or ``{name: (Attribute, values)}``.
        ids: raw user ids of the embedding rows (when ``embeddings`` is a plain matrix).
        attribute_ids: raw user ids of the mapping's values. Without ids on one side, rows are
            matched by position (e.g. a model's ``user_embeddings()`` with its Dataset).
        attackers: registered names or :class:`AttackerSpec` objects.
        select: audit only these attributes (default: all).
        n_folds: folds of the stratified k-fold (5 = LEGO's 80/20).
        seeds: repetitions; each reshuffles the folds and reseeds the attackers.
        test_users: fixed test users instead of k-fold: a boolean mask or integer indices over
            the embedding rows; attackers train on every other labelled user.
        sample: a stratified sample of this many labelled users per attribute (k-fold) or of
            the training users (fixed test users); its size is recorded.
        n_jobs: worker processes (-1 = all cores); each job uses one thread. Tiny audits
            (see :data:`MIN_PARALLEL_ROWS`) run in-process whatever ``n_jobs`` says.
        progress: show a progress bar over jobs.
        strict_ids: every id must appear in both tables (default: audit the matched users and
            report the counts).
        rare_classes: in k-fold, a class with fewer members than folds is an ``"error"``
            (default) or is ``"drop"``-ped (its users counted in ``n_dropped_rare``).
        train_embeddings: a transfer attack: attackers are fitted on these rows (the same users
            in the same row order as ``embeddings``, e.g. the original matrix) and tested on
            ``embeddings``' rows (e.g. the protected matrix). A score far below chance then
            means the protection flipped the attribute.
        permute_labels: shuffle each attribute's labels among its labelled users with this
            seed before attacking: the permutation floor, i.e. how far from chance attackers
            land on this matrix when there is nothing to find.

    Returns:
        The :class:`LeakageReport`.

    Raises:
        DataError: non-finite embeddings, duplicated or unmatched ids, a single class, a
            class smaller than the folds, text for a continuous attribute.
        ConfigError: invalid options.
    """
    started = time.perf_counter()
    specs, seeds_t, n_jobs = _check_options(attackers, n_folds, seeds, sample, n_jobs, rare_classes)
    emb = _embedding_table(embeddings, ids)
    table = _attribute_table(attributes, attribute_ids)
    if select is not None:
        table = table.select(list(select))
    if not table.attributes:
        raise DataError("no attribute to audit", path=table.path)
    joined = join(emb, table, strict=strict_ids)
    if joined.info["n_embedding_only"] or joined.info["n_attribute_only"]:
        logger.warning(
            "join by id: %d users matched, %d embedding rows without attributes, "
            "%d attribute rows without embeddings",
            joined.info["n_matched"],
            joined.info["n_embedding_only"],
            joined.info["n_attribute_only"],
        )
    is_test = None if test_users is None else _test_mask(test_users, emb, joined)
    X_train = None
    if train_embeddings is not None:
        source = _embedding_table(train_embeddings, ids if ids is not None else emb.ids)
        if source.matrix.shape[0] != emb.n_users or (
            source.ids is not None
            and emb.ids is not None
            and not np.array_equal(source.ids, emb.ids)
        ):
            raise ConfigError("train_embeddings must hold the same users, in the same rows")
        X_train = source.matrix[joined.rows]
    if permute_labels is not None:
        joined = _permuted(joined, permute_labels)

    prepared: dict[str, PreparedAttribute] = {}
    ys: dict[str, np.ndarray] = {}
    jobs: list[Job] = []
    for attribute in joined.attributes:
        raw = joined.values[attribute.name]
        prep = _prepare(
            attribute,
            raw,
            n_folds=n_folds,
            seeds=seeds_t,
            is_test=is_test,
            sample=sample,
            rare_classes=rare_classes,
            path=table.path,
        )
        prepared[attribute.name] = prep
        ys[attribute.name] = (
            raw.astype(np.int64) if attribute.kind == "categorical" else raw.astype(np.float64)
        )
        for plan in prep.plans:
            for spec in specs:
                jobs.append(
                    Job(
                        attribute=attribute.name,
                        kind=attribute.kind,
                        n_classes=attribute.n_classes,
                        attacker=spec,
                        seed=plan.seed,
                        fold=plan.fold,
                        attacker_seed=derive_seed(plan.seed, plan.fold, attribute.name, spec.name),
                        train=plan.train,
                        test=plan.test,
                    )
                )

    small = sum(len(j.train) for j in jobs) < MIN_PARALLEL_ROWS
    workers = 1 if small else max(1, min(n_jobs, len(jobs)))
    results = list(
        _with_progress(_execute(jobs, joined.matrix, ys, workers, X_train), len(jobs), progress)
    )
    order = {
        "attribute": {a.name: i for i, a in enumerate(joined.attributes)},
        "attacker": {s.name: i for i, s in enumerate(specs)},
    }
    records = pd.DataFrame(results)
    records = (
        records.assign(
            _a=records["attribute"].map(order["attribute"]),
            _k=records["attacker"].map(order["attacker"]),
        )
        .sort_values(["_a", "_k", "seed", "fold"])
        .drop(columns=["_a", "_k"])
        .reset_index(drop=True)
    )
    seconds = (
        records.assign(total=records["fit_seconds"] + records["predict_seconds"])
        .groupby("attacker", sort=False)["total"]
        .sum()
    )
    meta = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "protocol": ("kfold" if is_test is None else "fixed_test")
        + ("_transfer" if X_train is not None else "")
        + ("_permuted" if permute_labels is not None else ""),
        "transfer": X_train is not None,
        "permute_labels": permute_labels,
        "n_folds": n_folds if is_test is None else None,
        "seeds": list(seeds_t),
        "attackers": [s.name for s in specs],
        "attacker_descriptions": {s.name: s.description for s in specs},
        "embeddings": {
            "path": None if emb.path is None else str(emb.path),
            "n_rows": emb.n_users,
            "dim": emb.dim,
        },
        "attributes_source": None if table.path is None else str(table.path),
        "join": joined.info,
        "per_attribute": {name: p.info for name, p in prepared.items()},
        "sample": sample,
        "rare_classes": rare_classes,
        "n_jobs": n_jobs,
        "workers": workers,
        "n_fits": len(jobs),
        "attacker_seconds": {k: float(v) for k, v in seconds.items()},
        "wall_seconds": math.nan,
        "versions": _versions(),
    }
    meta["wall_seconds"] = time.perf_counter() - started
    return LeakageReport(records, meta)


def _permuted(joined: JoinedData, seed: int) -> JoinedData:
    """``joined`` with each attribute's known labels shuffled among its labelled users."""
    rng = np.random.default_rng(seed)
    values = {}
    for attribute in joined.attributes:
        raw = joined.values[attribute.name].copy()
        known = raw != MISSING_CODE if attribute.kind == "categorical" else ~np.isnan(raw)
        raw[known] = rng.permutation(raw[known])
        values[attribute.name] = raw
    return replace(joined, values=values)


def _versions() -> dict[str, str]:

    return versions()
