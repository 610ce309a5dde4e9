"""``build_report(DIR)``: the HTML page and the markdown file of a benchmark folder.

Everything comes from the records in ``DIR/records`` (and ``DIR/bench.json`` for the grid's
name): nothing is typed by hand, and every number links to the records it was computed from.
Sections appear when their records exist: provenance (protocols, attacker protocol,
machines, versions, commits), base models, LEGO Table 1 (+ detail), the trade-off plot,
significance tests, per-user requirements (AFRL Table 2, its checks and costs),
dynamic-requirement timings (LEGO Fig. 3), AdvX Table 2 and its figures.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from recunlearn.core.atomic import atomic_write_text
from recunlearn.core.errors import DataError
from recunlearn.core.records import PLAN, read_records
from recunlearn.report import (
    adversarial_views,
    base_models,
    figures,
    personal,
    reference,
    removal,
    speed,
    stats,
    tables,
)
from recunlearn.report.adversarial import (
    cell_label,
    figure_parts,
    objective_of,
    records_frame,
)
from recunlearn.report.frames import (
    adversarial_records,
    advx_unlearn_frame,
    debias_frame,
    model_name,
    timing_frame,
    unlearn_frame,
)
from recunlearn.report.render import Document, Figure, to_html, to_markdown

logger = logging.getLogger(__name__)


@dataclass
class ReportFiles:
    """What :func:`build_report` wrote."""

    html: Path
    markdown: Path
    figures: Path


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(json.dumps(v, sort_keys=True) for v in values if v is not None))


def creation_span(records: list[dict[str, Any]]) -> str:
    """``2026-12-06 to 2026-12-07``: the first and last creation dates of the records."""
    dates = sorted(r["created"][:10] for r in records if r.get("created"))
    return f"{dates[0]} to {dates[-1]}" if dates else "undated"


def record_commits(records: list[dict[str, Any]]) -> list[str]:
    """The distinct commits the records were made at, sorted."""
    return sorted({str(r.get("commit", "?")) for r in records})


def provenance(document: Document, records: list[dict[str, Any]], bench_dir: Path) -> None:
    """Protocols, attacker protocols, data, machines, versions and commits of the records."""
    kinds = Counter(r["kind"] for r in records)
    document.add("h2", "Provenance")
    document.add(
        "list",
        [
            f"Records: {len(records)} ("
            + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
            + f") in `{bench_dir / 'records'}`, created {creation_span(records)}.",
            "Commits: " + ", ".join(f"`{c}`" for c in record_commits(records)),
        ],
    )
    datasets = {}
    for r in records:
        data = r.get("dataset") or {}
        if data.get("label"):
            datasets[(data["label"], data.get("fingerprint"))] = r["params"].get("dataset")
    document.add("h3", "Data")
    document.add(
        "list",
        [f"{label} (id `{key}`), fingerprint `{fp}`" for (label, fp), key in datasets.items()],
    )
    document.add("h3", "Protocols")
    items = []
    for kind in sorted(kinds):
        protocols = [r.get("protocol", {}) for r in records if r["kind"] == kind]
        splits = sorted({str(p["split"]) for p in protocols if p.get("split")})
        if splits:
            items.append(f"`{kind}`: split / evaluation {', '.join(splits)}")
        for other in sorted({p[k] for p in protocols for k in p if k in ("timing", "name")}):
            items.append(f"`{kind}`: {other}")
        attacks = sorted({p["attack"] for p in protocols if p.get("attack")})
        for attack in attacks:
            items.append(f"`{kind}` attacker protocol: {attack}")
        attackers = sorted({", ".join(p["attackers"]) for p in protocols if p.get("attackers")})
        for names in attackers:
            items.append(f"`{kind}` attackers: {names}")
    items.append(
        "Train cells: early stopping on validation NDCG@10; test metrics by full ranking with "
        "training and validation items masked. Nothing is tuned on the test split except "
        "where a table says so (AdvX's λ picks, as in the paper)."
    )
    document.add("list", items)
    document.add("h3", "Machine and software")
    machines = Counter()
    for r in records:
        m = r.get("machine", {})
        machines[
            f"{m.get('node', '?')}: {m.get('processor', '?')}, {m.get('cpu_count', '?')} cores, "
            f"{m.get('memory_gib', '?')} GiB, {m.get('system', '?')}; jobs {m.get('jobs', '?')}, "
            f"threads per cell {m.get('threads', '?')}"
        ] += 1
    lines = [f"{text} ({n} records)" for text, n in machines.items()]
    for versions in _unique([r.get("versions") for r in records]):
        lines.append("Versions: " + ", ".join(f"{k} {v}" for k, v in json.loads(versions).items()))
    loads = [
        max(r["machine"]["load_average"][:1])
        for r in records
        if r.get("machine", {}).get("load_average")
    ]
    if loads:
        lines.append(
            f"1-minute load average when cells started: {min(loads):.2f} to {max(loads):.2f} "
            "(wall times are upper bounds on a shared machine)."
        )
    document.add("list", lines)


def _failures(document: Document, bench_dir: Path) -> None:
    folder = bench_dir / "failures"
    notes = sorted(folder.glob("*.txt")) if folder.is_dir() else []
    if notes:
        document.add("h2", "Failed cells")
        document.add(
            "list",
            [f"{p.read_text().splitlines()[0]} — `{p}`" for p in notes],
        )


def _unlearning(document: Document, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    document.add("h2", "Post-hoc unlearning (LEGO Table 1)")
    document.add("p", "Paper: " + reference.citation("lego_table1") + ".")
    for table in tables.lego_table1(frame):
        document.add("table", table, key="lego_table1")
    for dataset in dict.fromkeys(frame["dataset"]):
        data = figures.tradeoff(frame, dataset)
        if data is not None:
            slug = "tradeoff_" + "".join(c if c.isalnum() else "_" for c in dataset)
            document.add(
                "figure",
                Figure(
                    slug,
                    f"{dataset}: NDCG@10 against the worst-case attacker's BAcc, one point per "
                    "method and requirement; dashed: chance BAcc of each requirement.",
                    data,
                ),
            )
    for table in tables.lego_detail(frame):
        document.add("table", table, key="lego_detail")
    tests = stats.unlearning_tests(frame)
    if tests:
        document.add("h3", "Significance between methods")
        for table in tests:
            document.add("table", table, key="significance")


def _removal(document: Document, records: list[dict[str, Any]]) -> None:
    frame = removal.removal_frame(records)
    if not removal.has_views(frame):
        return
    document.add("h2", "What the original models leak")
    for table in removal.original_leakage_table(frame):
        document.add("table", table, key="leakage_original")
    document.add("h2", "Does the removal hold? (every view, against the targets)")
    for table in removal.removal_tables(frame):
        document.add("table", table, key="removal")
    for table in removal.frontier_table(frame):
        document.add("table", table, key="removal_frontier")
    for dataset in dict.fromkeys(frame["dataset"]):
        data = removal.frontier_figure(frame, dataset)
        if data is not None:
            slug = "frontier_" + "".join(c if c.isalnum() else "_" for c in dataset)
            document.add(
                "figure",
                Figure(
                    slug,
                    f"{dataset}: NDCG@10 (% of the original) against the worst attacker's "
                    "distance from chance over attributes and views; one panel per model and "
                    "requirement, one line per method through its settings (mean over seeds).",
                    data,
                ),
            )
    for table in removal.attribute_detail(frame):
        document.add("table", table, key="removal_detail")


def _personal(document: Document, records: list[dict[str, Any]]) -> None:
    frame = personal.personal_frame(records)
    if frame.empty:
        return
    document.add("h2", "Per-user requirements (AFRL Table 2)")
    document.add("p", "Paper: " + reference.citation("afrl_table2") + ".")
    for key, tables_of in (
        ("afrl_table2", personal.table2),
        ("afrl_checks", personal.checks),
        ("afrl_kept", personal.kept),
        ("afrl_cost", personal.costs),
    ):
        for table in tables_of(frame):
            document.add("table", table, key=key)


def _timing(document: Document, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    document.add("h2", "Dynamic requirements (LEGO Fig. 3)")
    table = tables.timing_table(frame)
    if table is not None:
        document.add("table", table, key="timing")
    data = figures.timing_chart(frame)
    if data is not None:
        document.add(
            "figure",
            Figure("timing", "Seconds per request; dashed: training the base model.", data),
        )


def _adversarial(document: Document, records: list[dict[str, Any]]) -> None:
    views = adversarial_views.adversarial_views_table(records)
    if views:
        document.add("h2", "In-training adversaries against the audit (leave-one-out)")
        for table in views:
            document.add("table", table, key="adversarial_views")
    records = [r for r in records if str(r.get("protocol", "")).startswith("user_kfold")]
    if not records:
        return

    document.add("h2", "In-training adversarial removal (AdvX Table 2)")
    document.add("p", "Paper: " + reference.citation("advx_table2") + ".")
    paths: dict[tuple, list[str]] = {}
    for r in records:
        key = (
            r["dataset"],
            r["protocol"],
            r["model"],
            objective_of(r),
            cell_label(r.get("lambdas")),
        )
        paths.setdefault(key, []).append(r["_path"])

    def link_for(row: pd.Series) -> tuple[str, ...]:
        key = (row["dataset"], row["protocol"], row["model"], row["objective"], row["cell"])
        return tuple(paths.get(key, ()))

    for table in tables.advx_table2(records, link_for):
        document.add("table", table, key="advx_table2")
    frame = records_frame(records)
    kinds = tables._attribute_kinds(records)
    categorical = next((a for a, k in kinds.items() if k == "categorical"), None)
    continuous = next((a for a, k in kinds.items() if k == "continuous"), None)
    for (dataset, protocol, model, objective), grid, note in figure_parts(frame):
        cells = grid[~grid["base"].astype(bool)]
        if categorical is None or continuous is None or cells.empty:
            document.add(
                "p",
                f"{dataset} · {model}: the λ-grid figures need one categorical and one continuous attribute.",
            )
            continue
        column = "advx" if f"{categorical}:advx" in grid.columns else "worst"
        title = f"{dataset} · {model_name(model)} · {protocol} · {objective}{note}"
        for name, data in figures.advx_figures(grid, categorical, continuous, title):
            slug = "advx_" + "".join(c if c.isalnum() else "_" for c in f"{title} {name}")
            document.add("figure", Figure(slug, f"{title}: {name} ({column} attacker)", data))


def _without_superseded(
    records: list[dict[str, Any]], planned: dict[str, int]
) -> list[dict[str, Any]]:
    """Drop records outside the plan whose cell label a planned record also has (the same
    cell recorded under an older hash), so no seed is counted twice; each one dropped is
    logged. Records of cells the plan no longer has are kept."""
    labels = {r.get("label") for r in records if r.get("config_hash") in planned}
    kept = []
    for record in records:
        if record.get("config_hash") not in planned and record.get("label") in labels:
            logger.warning(
                "report: %s superseded by a planned record of the same cell (%s); not counted",
                record.get("_path"),
                record.get("label"),
            )
            continue
        kept.append(record)
    return kept


def build_document(bench_dir: str | Path) -> tuple[Document, list[dict[str, Any]]]:
    """The report document of a benchmark folder and its records.

    Raises:
        DataError: no readable record in ``bench_dir/records``.
    """
    bench_dir = Path(bench_dir)
    records = read_records(bench_dir)
    if not records:
        raise DataError(
            "no benchmark records (run `recunlearn bench` first)", path=bench_dir / "records"
        )
    name, description, plan = bench_dir.name, "", {}
    plan_path = bench_dir / PLAN
    if plan_path.exists():
        plan = json.loads(plan_path.read_text())
        name = plan.get("config", {}).get("name", name)
        description = plan.get("config", {}).get("description", "")
        # tables list rows in the config's order, not in the order of the record files
        position = {cell["hash"]: i for i, cell in enumerate(plan.get("cells", []))}
        records.sort(key=lambda r: position.get(r.get("config_hash"), len(position)))
        records = _without_superseded(records, position)
    document = Document(f"Benchmark report — {name}")
    if description:
        document.add("p", description)
    document.add(
        "p",
        "Generated by `recunlearn report` from the records of `recunlearn bench` (do not edit). "
        "Percentages, mean ± sample std over seeds; the papers' numbers in grey under ours; "
        "cells where we are worse than the paper in red (▼ in markdown); the small numbers "
        "after a value link to the records it was computed from.",
    )
    provenance(document, records, bench_dir)
    _failures(document, bench_dir)
    peers = [bench_dir / folder for folder in plan.get("config", {}).get("peers", {}).values()]
    base = base_models.base_model_tables(records, peers)
    if base:
        document.add("h2", "Base models")
        document.add("table", base[0], key="base_models")
        for table in base[1:]:
            document.add("table", table, key="base_models_other")
    _removal(document, records)
    frames = [f for f in (unlearn_frame(records), advx_unlearn_frame(records)) if not f.empty]
    _unlearning(document, pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())
    _personal(document, records)
    _timing(document, timing_frame(records))
    speed_tables = [
        (key, table)
        for key, table in (
            ("train_speed", speed.train_speed_table(records)),
            ("audit_speed", speed.audit_speed_table(records)),
            ("removal_speed", speed.removal_speed_table(records)),
            ("personal_speed", speed.personal_speed_table(records)),
            ("protocol_gap", speed.protocol_gap_table(records)),
        )
        if table is not None
    ]
    if speed_tables:
        document.add("h2", "Speed and diagnostics")
        for key, table in speed_tables:
            document.add("table", table, key=key)
    _adversarial(document, adversarial_records(records))
    debias = tables.ultd_table1(debias_frame(records))
    if debias:
        document.add("h2", "Debiasing selection bias (ULTD Table 1)")
        for table in debias:
            document.add("table", table, key="ultd_table1")
    known = {
        "train",
        "unlearn",
        "timing",
        "adversarial",
        "debias",
        "train_speed",
        "audit_speed",
        "removal_speed",
        "personal_speed",
        "protocol_gap",
        "personal",
    }
    other = sorted({r["kind"] for r in records} - known)
    if other:
        document.add("h2", "Other cells")
        for kind in other:
            document.add(
                "p",
                f"`{kind}`: {sum(r['kind'] == kind for r in records)} records (no report section "
                "is registered for this kind; read the records directly).",
            )
    return document, records


def build_report(bench_dir: str | Path, out: str | Path | None = None) -> ReportFiles:
    """Write ``report.html`` (self-contained) and ``report.md`` (+ ``report_files/*.png``).

    Args:
        bench_dir: the folder ``recunlearn bench`` wrote.
        out: the HTML file (default ``bench_dir/report.html``); the markdown file and the
            figures folder are written beside it with the same stem.
    """
    bench_dir = Path(bench_dir)
    document, _ = build_document(bench_dir)
    html_path = Path(out) if out is not None else bench_dir / "report.html"
    if html_path.suffix.lower() not in (".html", ".htm"):
        html_path = html_path.with_suffix(".html")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path = html_path.with_suffix(".md")
    figures_dir = html_path.parent / f"{html_path.stem}_files"
    base = html_path.parent.resolve()

    def link(path: str) -> str:
        return Path(os.path.relpath(Path(path).resolve(), base)).as_posix()

    atomic_write_text(markdown_path, to_markdown(document, figures_dir, link))
    atomic_write_text(html_path, to_html(document, link))
    return ReportFiles(html_path, markdown_path, figures_dir)
