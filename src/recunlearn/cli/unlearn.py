"""``recunlearn unlearn``: remove attributes from a run's user embeddings, write a new run.

The new run is audited before it is written (the leakage guard): the table shows, per attribute,
the worst attacker's distance from chance before and after, in the held-out and the transfer
views; a warning goes to stderr when leakage rose, stayed or flipped, and ``--max-leakage``
turns a distance above the bound into exit code 3 (the run is still written, marked so).

``--requirements reqs.csv`` (columns ``user_id,requirement``, e.g. ``gender+age``; empty or
absent = nothing) protects each user's row under that user's own requirement instead of one
``--forget`` for everyone; the guard then attacks each attribute over the users who asked.

The per-user methods (AFRL, SM, FFVAE; fits of minutes to hours) show a progress bar over
their epochs and save their training state in ``.OUT.partial/`` beside ``OUT`` (removed once
``OUT`` is written): a killed run continues where it stopped when the same command is run
again (``--no-resume`` starts over and saves nothing).

``--search`` tries the default method's stronger settings (principal projection, list
re-encoding, both) and writes the one with the best validation NDCG@10 among those whose worst
attacker is within ``--max-leakage`` (5 points without it); see
:mod:`recunlearn.experiments.unlearn_search`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from recunlearn.audit.guard import TARGET_POINTS
from recunlearn.cli.console import console, fail, parse_assignments, print_table, warn
from recunlearn.cli.dataopts import DATA_ATTRIBUTES_HELP, DATA_DIR_HELP
from recunlearn.cli.guard import show_leakage
from recunlearn.core.errors import RecunlearnError
from recunlearn.report.format import value as fmt


def unlearn(
    run: Annotated[Path, typer.Argument(help="trained run directory")],
    out: Annotated[Path, typer.Option(help="new run directory to create")],
    forget: Annotated[
        str | None, typer.Option(help="attributes to forget for every user, e.g. gender,age")
    ] = None,
    requirements: Annotated[
        Path | None,
        typer.Option(
            help="per-user requirements: a CSV with columns user_id,requirement (e.g. "
            "gender+age; empty = none), instead of --forget"
        ),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            help="a registered method (default: the split eraser with --set unlabelled=all)"
        ),
    ] = None,
    option: Annotated[
        list[str] | None, typer.Option("--set", help="method option key=value (repeatable)")
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(help="brick store folder (methods that keep per-attribute bricks)"),
    ] = None,
    attackers: Annotated[
        str, typer.Option(help="guard attackers: 'all' or a comma-separated list")
    ] = "all",
    heldout: Annotated[
        bool, typer.Option(help="also audit a second fit without 20 % of the labels")
    ] = True,
    heldout_masks: Annotated[
        int,
        typer.Option(
            min=1,
            help="held-out fits on disjoint 20 % masks, pooled: 5 tests every user once (a "
            "steadier reading at 5x the held-out cost; with --forget)",
        ),
    ] = 1,
    max_leakage: Annotated[
        float | None,
        typer.Option(
            help="exit with code 3 when the worst attacker is farther than this many points "
            "from chance in any protected view"
        ),
    ] = None,
    search: Annotated[
        bool,
        typer.Option(
            "--search",
            help="try the split eraser's stronger settings (principal projection, top-10 list "
            "re-encoding, both) and keep the one with the best validation NDCG@10 whose worst "
            "attacker is within --max-leakage (default 5 points); with --forget",
        ),
    ] = False,
    no_guard: Annotated[
        bool, typer.Option("--no-guard", help="write without auditing (not recommended)")
    ] = False,
    data_dir: Annotated[Path | None, typer.Option(help=DATA_DIR_HELP)] = None,
    data_attributes: Annotated[Path | None, typer.Option(help=DATA_ATTRIBUTES_HELP)] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing run directory")] = False,
    resume: Annotated[
        bool,
        typer.Option(
            help="per-user methods (AFRL, SM, FFVAE) save their training state beside OUT "
            "(.OUT.partial/, removed once OUT is written); a killed run continues from it "
            "when the same command is run again"
        ),
    ] = True,
) -> None:
    """Remove attributes from a run's user embeddings; evaluate and audit before and after."""
    from recunlearn.audit import DEFAULT_ATTACKERS
    from recunlearn.audit.guard import GuardSettings
    from recunlearn.experiments.unlearn import unlearn_run
    from recunlearn.experiments.unlearn_search import search_removal
    from recunlearn.protect.posthoc.registry import DEFAULT_UNLEARNER, resolve_method
    from recunlearn.protect.requirement import Requirement

    method, defaults = resolve_method(method)
    if no_guard and max_leakage is not None:
        fail("--max-leakage needs the guard: drop --no-guard")
    if (forget is None) == (requirements is None):
        fail("give exactly one of --forget (everyone) and --requirements (a per-user table)")
    if search and (
        requirements is not None or no_guard or store is not None or method != DEFAULT_UNLEARNER
    ):
        fail(
            "--search chooses among the split eraser's settings for --forget by the guard's "
            "audit: drop --requirements, --no-guard, --store and any other --method"
        )
    if heldout_masks > 1 and (requirements is not None or not heldout or no_guard):
        fail("--heldout-masks needs --forget and the held-out view (drop --no-heldout/--no-guard)")
    try:
        options = {**defaults, **parse_assignments(option, "--set")}
        requirement = None if forget is None else Requirement.parse(forget)
        chosen = DEFAULT_ATTACKERS if attackers == "all" else tuple(attackers.split(","))
        guard = (
            None
            if no_guard
            else GuardSettings(
                chosen, heldout_fraction=0.2 if heldout else 0, heldout_repeats=heldout_masks
            )
        )
        if search:
            assert requirement is not None and guard is not None
            outcome = search_removal(
                run,
                requirement,
                out,
                bound=TARGET_POINTS if max_leakage is None else max_leakage,
                options=options,
                guard=guard,
                overwrite=overwrite,
                data_dir=data_dir,
                attributes_path=data_attributes,
                progress=lambda c: console.print(
                    f"  tried {c.label}: validation NDCG@10 {100 * c.valid_ratio:.1f} % of the "
                    f"original, worst attacker {c.worst:.1f} points from chance"
                ),
            )
            result = outcome.chosen.result
            console.print(
                f"chosen: {outcome.chosen.label}"
                + (
                    ""
                    if outcome.met
                    else f" (none within {outcome.bound:g} points: the least leaking)"
                )
            )
        else:
            partial = saved_fits_folder(out) if resume else None
            if partial is not None and partial.is_dir():
                console.print(f"resuming the saved training state in {partial}")
            with epoch_bars():
                result = unlearn_run(
                    run,
                    method,
                    requirement,
                    out,
                    options=options,
                    store=store,
                    overwrite=overwrite,
                    guard=guard,
                    data_dir=data_dir,
                    attributes_path=data_attributes,
                    requirements=requirements,
                    checkpoint=partial,
                )
            if partial is not None:
                shutil.rmtree(partial, ignore_errors=True)
    except (RecunlearnError, OSError, ValueError) as exc:
        fail(exc)
    dataset = result.source.dataset
    if requirement is not None:
        what = f"forget {requirement.label}"
    else:
        groups = result.metrics["requirements"]
        what = "per-user requirements: " + ", ".join(f"{k} ({v})" for k, v in groups.items())
    print_table(
        f"{dataset.label} · {result.source.spec.model} · {method} · {what}",
        ["test", "before", "after"],
        [
            [m, fmt(result.before.summary[m], True), fmt(result.after.summary[m], True)]
            for m in ("HR@10", "NDCG@10")
        ],
    )
    if result.leakage is None:
        warn("written without a leakage audit (--no-guard): nobody knows what it still reveals")
        console.print(f"unlearned run written to {out}")
        return
    console.print(f"unlearned run written to {out} (guard: {out / 'leakage.md'})")
    hint = None if search else _stronger_setting(method, options)
    show_leakage(result.leakage, max_leakage, hint=hint)


def saved_fits_folder(out: Path) -> Path:
    """Where ``unlearn`` keeps the training state of the fits writing ``out`` until it is
    written: a hidden folder beside it."""
    return out.parent / f".{out.name}.partial"


@contextmanager
def epoch_bars() -> Iterator[None]:
    """Inside the block, the per-user methods (AFRL, SM, FFVAE: fits of minutes to hours) show
    a progress bar over their training epochs."""
    from recunlearn.protect.personal.base import PersonalUnlearner

    previous = PersonalUnlearner.progress
    PersonalUnlearner.progress = True
    try:
        yield
    finally:
        PersonalUnlearner.progress = previous


def _stronger_setting(method: str, options: dict[str, object]) -> str | None:
    """What to try when the method left too much: the split eraser's list re-encoding and its
    principal projection (each suggested while unset)."""
    if method != "split-eraser":
        return None
    unset = {
        key: str(options.get(key, 0)) in ("0", "") for key in ("reencode_top", "principal_rank")
    }
    hints = []
    if unset["reencode_top"]:
        hints.append(
            "--set reencode_top=10 re-encodes each row from its own top-10 list: on ML-1M users "
            "1-2999 and ML-100K it roughly halves what the split eraser leaves, for 2-5 points of "
            "NDCG@10 there and 6-15 on ML-100K"
        )
    if unset["principal_rank"]:
        hints.append(
            "--set principal_rank=K (about half the table's dimensions) first projects the rows "
            "on their top K principal components: with few labels per dimension (ML-100K, "
            "32-dimensional MF, K = 16) it lowered what is left at no NDCG@10 cost; it did not "
            "help on the ML-1M half"
        )
    if not hints:
        return None
    hints.append("--search tries each and both, and keeps the best validation NDCG@10 within bound")
    return "; ".join(hints) + " (benchmarks/notes/removal.md)"
