"""Choose the split eraser's setting for one run, by the leakage guard and validation NDCG@10.

The split eraser has two stronger settings beside its default (benchmarks/notes/removal.md):
a projection on the user table's top principal components before erasing
(``principal_rank``, half the dimensions here) and the re-encoding of each row from its own
top-10 list (``reencode_top``). Which one a model and requirement need, and what it costs,
differs per model and data. :func:`search_removal` tries the default, each stronger setting
and both, audits every candidate with the leakage guard, and keeps the candidate with the best
**validation** NDCG@10 whose worst attacker is within ``bound`` points of chance -- or, when
none is, the least leaking one (the outcome says so). The test split is never looked at to
choose.

The chosen candidate's leakage is the smallest of up to four readings that passed the bound,
so it is slightly optimistic; the run directory records every candidate's numbers
(``metrics.json``, ``search``) so that a reader sees what was chosen from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recunlearn.audit.guard import TARGET_POINTS, GuardSettings
from recunlearn.core.atomic import check_writable
from recunlearn.core.errors import ConfigError
from recunlearn.experiments.train import TrainedRun, load_trained
from recunlearn.experiments.unlearn import (
    UnlearnedRun,
    run_scorer,
    unlearn_run,
    write_unlearned,
)
from recunlearn.protect.personal.training import validation_ndcg
from recunlearn.protect.posthoc.registry import DEFAULT_OPTIONS, DEFAULT_UNLEARNER
from recunlearn.protect.requirement import Requirement

SEARCHED_OPTIONS = ("principal_rank", "reencode_top")
"""The split eraser's options that the search sets itself."""

REENCODE_TOP = 10
"""The list length of the re-encoding candidates (the removal grids' K)."""


@dataclass(frozen=True)
class Candidate:
    """One audited setting of the search."""

    label: str
    options: dict[str, Any]
    valid_ratio: float
    """Validation NDCG@10 of the protected rows over the original's."""
    worst: float
    """The guard's worst attacker distance from chance over the attributes and views, points."""
    result: UnlearnedRun = field(repr=False)

    def summary(self) -> dict[str, Any]:
        """The JSON-able numbers of the candidate."""
        return {
            "setting": self.label,
            "options": self.options,
            "valid_ndcg_ratio": self.valid_ratio,
            "worst_points": self.worst,
        }


@dataclass(frozen=True)
class SearchOutcome:
    """Every candidate, in the order tried, and the chosen one."""

    candidates: list[Candidate]
    chosen: Candidate
    bound: float

    @property
    def met(self) -> bool:
        """Whether the chosen candidate is within the bound."""
        return self.chosen.worst <= self.bound


def split_eraser_settings(dims: int) -> list[tuple[str, dict[str, Any]]]:
    """The candidates for a ``dims``-dimensional user table, lightest first: the default, the
    principal projection on half the dimensions, the top-10 list re-encoding, both."""
    rank = max(1, dims // 2)
    projection = {"principal_rank": rank}
    reencoding = {"reencode_top": REENCODE_TOP}
    return [
        ("default", {}),
        (f"principal_rank={rank}", projection),
        (f"reencode_top={REENCODE_TOP}", reencoding),
        (f"principal_rank={rank}, reencode_top={REENCODE_TOP}", {**projection, **reencoding}),
    ]


def valid_ndcg(run: TrainedRun, rows: Any | None) -> float:
    """NDCG@10 on the run's validation split, with ``rows`` as the user table (None: the
    model's own).

    Raises:
        ConfigError: the run's split has no validation part.
    """
    if run.split.valid is None:
        raise ConfigError(
            "the search chooses on validation NDCG@10 and this run's split has no validation "
            "part: train with a split that keeps one (e.g. the default leave-one-out)"
        )
    table = run.model.user_embeddings() if rows is None else rows
    return validation_ndcg(run_scorer(run), table)


def search_removal(
    source: str | Path,
    forget: Requirement | str | list[str],
    out: str | Path | None = None,
    *,
    bound: float = TARGET_POINTS,
    options: dict[str, Any] | None = None,
    guard: GuardSettings | None = GuardSettings(),
    overwrite: bool = False,
    data_dir: str | Path | None = None,
    attributes_path: str | Path | None = None,
    progress: Callable[[Candidate], None] | None = None,
) -> SearchOutcome:
    """Try the split eraser's settings on a trained run and write the chosen one to ``out``
    (see the module docstring).

    Args:
        source: a trained run directory.
        forget: the attributes to forget for every user.
        out: the new run directory (nothing written when None).
        bound: the largest acceptable worst-attacker distance from chance, points.
        options: further split-eraser options (not those of :data:`SEARCHED_OPTIONS`).
        guard: the audit every candidate gets (required).
        overwrite: replace an existing ``out``.
        data_dir, attributes_path: where the source run's data is now (see
            :func:`recunlearn.experiments.train.load_trained`).
        progress: called with each candidate once it is audited.

    Raises:
        ConfigError: no guard, searched options given, or a run without a validation split.
    """
    if guard is None:
        raise ConfigError("the search chooses by the leakage guard's audit: it cannot run without")
    fixed = sorted(set(options or {}) & set(SEARCHED_OPTIONS))
    if fixed:
        raise ConfigError(f"the search sets {', '.join(fixed)} itself: leave them out of --set")
    if out is not None:
        check_writable(out, overwrite=overwrite)
    run = load_trained(source, data_dir=data_dir, attributes_path=attributes_path)
    reference = valid_ndcg(run, None)
    dims = int(run.model.user_embeddings().shape[1])
    candidates = []
    for label, extra in split_eraser_settings(dims):
        chosen_options = {**DEFAULT_OPTIONS, **(options or {}), **extra}
        result = unlearn_run(
            source,
            DEFAULT_UNLEARNER,
            forget,
            options=chosen_options,
            dataset=run.dataset,
            guard=guard,
            data_dir=data_dir,
            attributes_path=attributes_path,
        )
        assert result.leakage is not None
        ratio = valid_ndcg(run, result.protected) / reference if reference > 0 else float("nan")
        candidate = Candidate(label, extra, ratio, result.leakage.worst_distance(), result)
        candidates.append(candidate)
        if progress is not None:
            progress(candidate)
    passing = [c for c in candidates if c.worst <= bound]
    if passing:
        chosen = max(passing, key=lambda c: c.valid_ratio)
    else:
        chosen = min(candidates, key=lambda c: c.worst)
    outcome = SearchOutcome(candidates, chosen, bound)
    chosen.result.metrics["search"] = {
        "bound_points": bound,
        "chosen": chosen.label,
        "met": outcome.met,
        "candidates": [c.summary() for c in candidates],
    }
    if out is not None:
        write_unlearned(chosen.result, Path(out), overwrite=overwrite)
    return outcome
