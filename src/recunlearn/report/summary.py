"""BENCHMARKS.md: one document organised by question, each answered by headline tables picked
from the reports of benchmark folders, the command that regenerates them, a link to the full
report, and the findings written beside them.

The document is described by a YAML file (``benchmarks/benchmarks.yaml``)::

    title: Benchmarks
    output: ../BENCHMARKS.md          # relative to the YAML file
    reports: reports                  # full reports are written here
    intro: |
      ...markdown...
    sections:
      - question: How good are the base models against RecBole?
        notes: notes/base_models.md   # findings, shown after the tables
        sources:
          - config: configs/base_models_ml100k.yaml
            results: results/base_models_ml100k
            tables: [base_models]     # keys of the report's tables

Every table is computed from records; nothing numeric is typed by hand.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from recunlearn.core.atomic import atomic_write_text
from recunlearn.core.errors import ConfigError, DataError
from recunlearn.core.records import read_records
from recunlearn.report.build import (
    build_document,
    build_report,
    creation_span,
    record_commits,
)
from recunlearn.report.render import TABLE_KEYS, table_markdown


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Strict):
    """One benchmark folder feeding a section."""

    config: str = Field(description="the YAML grid, relative to the summary file")
    results: str = Field(description="the folder `recunlearn bench` wrote")
    tables: list[str] = Field(min_length=1, description="keys of the report tables to show")


class Section(_Strict):
    """One question with its tables and findings."""

    question: str
    notes: str | None = None
    sources: list[Source] = Field(default_factory=list)


class SummarySpec(_Strict):
    """The whole document."""

    title: str = "Benchmarks"
    output: str = "../BENCHMARKS.md"
    reports: str = "reports"
    intro: str = ""
    sections: list[Section] = Field(min_length=1)


def load_summary(path: str | Path) -> SummarySpec:
    """Read and validate the summary description.

    Raises:
        ConfigError: missing file, YAML error or unknown field (naming the file).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"summary description not found: {path}")
    try:
        return SummarySpec.model_validate(yaml.safe_load(path.read_text()))
    except (yaml.YAMLError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _relative(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix()


def build_summary(path: str | Path) -> Path:
    """Write the document (and every source's full report); returns the document's path.

    Raises:
        ConfigError: bad description; DataError: a results folder without records or a table
            key its report does not have.
    """
    path = Path(path)
    spec = load_summary(path)
    base = path.parent
    output = (base / spec.output).resolve()
    reports = base / spec.reports
    lines = [f"# {spec.title}", ""]
    if spec.intro:
        lines += [spec.intro.strip(), ""]
    lines += ["## Contents", ""]
    lines += [
        f"{i}. [{s.question}](#{_anchor(s.question)})" for i, s in enumerate(spec.sections, 1)
    ]
    lines.append("")
    built: dict[str, Path] = {}
    for section in spec.sections:
        lines += [f"## {section.question}", ""]
        for source in section.sources:
            folder = base / source.results
            name = Path(source.results).name
            config = _relative(base / source.config, output.parent)
            results = _relative(folder, output.parent)
            records = read_records(folder)
            if not records:
                lines += [
                    f"*Not measured yet:* `recunlearn bench {config} --out {results}`.",
                    "",
                ]
                continue
            if name not in built:
                files = build_report(folder, reports / f"{name}.html")
                built[name] = files.markdown
            document, _ = build_document(folder)
            for key in source.tables:
                if key not in TABLE_KEYS:
                    raise DataError(
                        f"unknown table '{key}'; known: {', '.join(sorted(TABLE_KEYS))}",
                        path=path,
                        field="tables",
                    )
                tables = document.tables(key)
                if not tables:
                    lines += [f"*`{key}`: no record of this kind in `{results}` yet.*", ""]
                for table in tables:
                    lines += table_markdown(table)
            lines += [
                f"Regenerate: `recunlearn bench {config} --out {results}` then "
                f"`recunlearn report --summary {_relative(path, output.parent)}`. Full report "
                f"(every table, figure and record): [{_relative(built[name], output.parent)}]"
                f"({_relative(built[name], output.parent)}).",
                "",
                measured_line(records),
                "",
            ]
        if section.notes:
            notes = base / section.notes
            if not notes.is_file():
                raise ConfigError(f"{path}: notes file not found: {notes}")
            lines += [notes.read_text().strip(), ""]
    atomic_write_text(output, "\n".join(lines).rstrip() + "\n")
    return output


def measured_line(records: list[dict[str, Any]]) -> str:
    """When, where and at which commits a folder's records were made (the full report's
    provenance section lists every commit and machine)."""
    commits = record_commits(records)
    latest = max(records, key=lambda r: r.get("created", "")).get("commit", "?")
    machines = {
        f"{m.get('cpu_count', '?')}-core {m.get('memory_gib', '?')} GiB"
        for m in (r.get("machine") or {} for r in records)
        if m.get("cpu_count")
    }
    where = ", ".join(sorted(machines)) or "an unrecorded machine"
    return (
        f"Measured: {len(records)} record{'s' if len(records) != 1 else ''}, "
        f"created {creation_span(records)}, "
        f"on {where}, at {len(commits)} "
        f"commit{'s' if len(commits) != 1 else ''} (latest `{latest}`)."
    )


def _anchor(text: str) -> str:
    keep = "".join(c for c in text.lower() if c.isalnum() or c in " -")
    return keep.replace(" ", "-")
