"""The repository's own BENCHMARKS.md description is valid: every table it names is one a
report can carry, and every config, notes file it names exists."""

from __future__ import annotations

from pathlib import Path

from recunlearn.report.render import TABLE_KEYS
from recunlearn.report.summary import load_summary

SUMMARY = Path(__file__).resolve().parents[2] / "benchmarks" / "benchmarks.yaml"


def test_the_repository_summary_names_known_tables_and_existing_files():
    spec = load_summary(SUMMARY)
    for section in spec.sections:
        if section.notes:
            assert (SUMMARY.parent / section.notes).is_file(), section.notes
        for source in section.sources:
            assert (SUMMARY.parent / source.config).is_file(), source.config
            assert set(source.tables) <= TABLE_KEYS, (source.config, source.tables)
