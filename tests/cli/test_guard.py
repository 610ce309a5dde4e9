"""The guard's printout: the caller's hint appears only beyond the target or --max-leakage."""

from __future__ import annotations

import pandas as pd
import pytest
import typer

from recunlearn.cli import guard


class _Check:
    """The parts of a LeakageCheck that show_leakage reads."""

    skipped: dict[str, str] = {}

    def __init__(self, worst: float) -> None:
        self.worst = worst

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"attribute": ["gender"], "verdict": ["reduced"]})

    def worst_distance(self) -> float:
        return self.worst


@pytest.fixture
def warnings(monkeypatch) -> list[str]:
    said: list[str] = []
    monkeypatch.setattr(guard, "print_table", lambda *a, **k: None)
    monkeypatch.setattr(guard, "leakage_rows", lambda check: [])
    monkeypatch.setattr(guard, "warn", said.append)
    return said


@pytest.mark.parametrize(
    ("worst", "max_leakage", "hinted"),
    [(3.0, None, False), (7.0, None, True), (3.0, 2.0, True), (7.0, 8.0, False)],
)
def test_the_hint_appears_beyond_the_target_or_the_limit(warnings, worst, max_leakage, hinted):
    try:
        guard.show_leakage(_Check(worst), max_leakage, hint="try harder")
    except typer.Exit as stop:
        assert stop.exit_code == guard.LEAKAGE_EXIT and worst > max_leakage
    assert any("hint: try harder" in w for w in warnings) == hinted


def test_no_hint_without_one(warnings):
    guard.show_leakage(_Check(9.0), None)
    assert not any(w.startswith("hint") for w in warnings)
