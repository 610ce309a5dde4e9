"""The ``personal`` kind: per-user requirements served by every kind of method on the grid's
base runs, with the AFRL attacker's AUC, the audit attackers' worst case, the held-out view
and per-user sidecars; its Table 2 report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recunlearn.bench import parse_config, read_records, run_bench
from recunlearn.bench.cells import expand
from recunlearn.core.errors import ConfigError

CONFIG = {
    "name": "personal-smoke",
    "jobs": 1,
    "datasets": [
        {
            "name": "synthetic",
            "options": {"n_users": 120, "n_items": 60, "n_interactions_per_user": [10, 20]},
        },
    ],  # fmt: skip
    "models": [{"name": "mf", "options": {"epochs": 2}}],
    "seeds": [0],
    "personal": {
        "attributes": ["gender", "age"],
        "methods": [
            "original",
            {"label": "sm", "options": {"epochs": 1, "d_steps": 1, "validation": "none"}},
            {"label": "afrl", "options": {"epochs": 1, "validation": "none"}},
            {
                "label": "afrl-confusion",
                "method": "afrl",
                "options": {"epochs": 1, "validation": "none", "adversary_objective": "confusion"},
            },
            {"label": "split-eraser", "options": {"permutations": 5}},
        ],
        "attackers": ["knn"],
        "n_folds": 2,
        "heldout_fraction": 0.25,
        "afrl_attacker": {"max_epochs": 10, "min_epochs": 2},
    },
}
COLUMNS = ["gender", "age", "gender+age", "none", "mixed"]


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("personal")
    result = run_bench(parse_config(CONFIG), out, progress=False)
    assert result.ok, [p.read_text() for p in (out / "failures").glob("*.txt")]
    return out


def test_cells_share_the_base_run():
    cells = expand(parse_config(CONFIG))
    kinds = [c.kind for c in cells]
    assert kinds.count("train") == 1 and kinds.count("personal") == 5
    personal = [c for c in cells if c.kind == "personal"]
    assert all(c.deps == (cells[0].hash,) for c in personal)
    assert personal[0].params["personal"]["requirements"] == [
        ["gender"],
        ["age"],
        ["gender", "age"],
    ]
    assert personal[0].params["personal"]["attackers"] == ["afrl_mlp", "knn"]
    entries = {"label": "sm", "models": ["mf"]}, {"label": "afrl", "models": ["ncf"]}
    two = {**CONFIG, "models": ["mf", "ncf"]}
    two["personal"] = {**CONFIG["personal"], "methods": list(entries)}
    labels = [c.label for c in expand(parse_config(two)) if c.kind == "personal"]
    assert [label.split(" · ")[1::3] for label in labels] == [["mf", "sm"], ["ncf", "afrl"]]


def test_records_hold_every_column_and_view(bench_dir: Path):
    records = [r for r in read_records(bench_dir) if r["kind"] == "personal"]
    assert {r["params"]["method"] for r in records} == {
        "original", "sm", "afrl", "afrl-confusion", "split-eraser",
    }  # fmt: skip
    by_method = {r["params"]["method"]: r for r in records}
    for record in records:
        columns = record["metrics"]["columns"]
        assert list(columns) == COLUMNS
        for label, entry in columns.items():
            assert 0.5 <= entry["auc"]["gender"] <= 1.0, (record["label"], label)
            assert "NDCG@10" in entry["test"] and "heldout" in entry
            assert entry["worst_attacker"]["gender"] == "knn"
        assert 0.5 <= columns["gender+age"]["auc_mean"] <= 1.0
        assert sum(columns["mixed"]["groups"].values()) == record["metrics"]["users"]
        arrays = np.load(bench_dir / "records" / record["per_user"]["file"])
        assert {f"NDCG@10|{c}" for c in COLUMNS} <= set(arrays.files)
    base = by_method["original"]["metrics"]["columns"]
    assert base["gender"]["test"] == base["age"]["test"] == base["none"]["test"]
    assert base["gender"]["auc"] == base["age"]["auc"]  # one matrix, one audit
    assert by_method["sm"]["metrics"]["columns"]["none"]["test"] == base["none"]["test"]
    assert by_method["afrl"]["metrics"]["fit_seconds"] > 0


def test_bad_personal_sections_are_refused():
    bad = {**CONFIG, "personal": {**CONFIG["personal"], "requirements": [["religion"]]}}
    with pytest.raises(ConfigError, match="religion"):
        parse_config(bad)
    bad = {**CONFIG, "personal": {**CONFIG["personal"], "methods": ["nope"]}}
    with pytest.raises(ConfigError, match="personal.methods"):
        parse_config(bad)
    bad = {
        **CONFIG,
        "personal": {**CONFIG["personal"], "methods": [{"label": "afrl", "options": {"bogus": 1}}]},
    }
    with pytest.raises(ConfigError, match="bogus"):
        parse_config(bad)
    bad = {
        **CONFIG,
        "personal": {**CONFIG["personal"], "methods": [{"label": "sm", "models": ["ncf"]}]},
    }
    with pytest.raises(ConfigError, match="personal.methods"):
        parse_config(bad)
    bad = {**CONFIG, "personal": {**CONFIG["personal"], "afrl_attacker": {"epochs": 3}}}
    with pytest.raises(ConfigError, match="AFRL attacker"):
        parse_config(bad)


def test_report_has_table2_checks_and_costs(bench_dir: Path):
    from recunlearn.report import build_report
    from recunlearn.report.build import build_document

    document, _ = build_document(bench_dir)
    (table2,) = document.tables("afrl_table2")
    assert table2.header == ["Model", "Method", "G", "A", "G+A", "none", "mixed"]
    # each of our rows, then the paper's row of the same method when the paper has one
    assert [(r[0].text, r[1].text) for r in table2.rows[:8]] == [
        ("MF", "Base"),
        ("MF · paper, full ML-1M", "Base"),
        ("MF", "SM"),
        ("MF · paper, full ML-1M", "SM"),
        ("MF", "AFRL"),
        ("MF · paper, full ML-1M", "AFRL"),
        ("MF", "afrl-confusion"),  # a variant: no paper row
        ("MF", "split-eraser"),  # the paper has no split-eraser row
    ]
    assert table2.rows[5][2].text.startswith(".5310 / ")  # AFRL+PMF, gender, the paper's
    assert table2.rows[4][2].links and not table2.rows[5][2].links
    assert [r[1].text for r in table2.rows[8:]] == ["Base", "AFRL", "PFRec"]  # SASRec, paper only
    assert table2.rows[-1][0].text == "SASRec · paper, full ML-1M only"
    assert table2.rows[-1][2].text == ".5179 / .4784 / .7418"
    assert table2.rows[-1][5].text == "–"  # no paper number for the empty requirement
    checks, variant_checks = document.tables("afrl_checks")  # one per AFRL row
    assert "afrl-confusion" in variant_checks.title and "afrl-confusion" not in checks.title
    assert [r[0].text for r in checks.rows] == ["G", "A", "G+A", "none", "mixed"]
    assert checks.rows[0][-1].text.startswith("Δ")  # the Wilcoxon test ran
    assert any("of 3 requirements" in note for note in checks.notes)
    assert any("identical across requirements: yes" in note for note in checks.notes)
    (kept,) = document.tables("afrl_kept")
    assert kept.header == ["Model", "Method", "forget G", "forget A", "Seeds"]
    assert [r[1].text for r in kept.rows] == ["SM", "AFRL", "afrl-confusion", "split-eraser"]
    gap = float(kept.rows[1][2].text.split()[0])  # AFRL forgetting gender: age's AUC moved by
    assert 0 <= gap <= 1 and kept.rows[1][2].text.endswith(("✓", "✗"))
    (cost,) = document.tables("afrl_cost")
    assert [r[1].text for r in cost.rows] == ["SM", "AFRL", "afrl-confusion", "split-eraser"]
    assert len(cost.header) == len(cost.rows[0]) and cost.rows[0][-1].text == "120"
    markdown = Path(build_report(bench_dir).markdown).read_text()
    assert "AFRL Table 2 layout" in markdown and "Other cells" not in markdown


def test_an_interrupted_cell_resumes_its_fits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from recunlearn.protect.personal.checkpoint import FitCheckpoint

    sm = {"label": "sm", "options": {"epochs": 2, "d_steps": 1, "validation": "none"}}
    config = parse_config({**CONFIG, "personal": {**CONFIG["personal"], "methods": [sm]}})
    save = FitCheckpoint.save

    def stop_in_the_heldout_fit(checkpoint: FitCheckpoint, state: dict) -> None:
        save(checkpoint, state)
        if checkpoint.path.name == "heldout.pt" and state["epoch"] == 0:
            raise KeyboardInterrupt

    monkeypatch.setattr(FitCheckpoint, "due", lambda checkpoint, final: True)  # every epoch
    with monkeypatch.context() as patch:
        patch.setattr(FitCheckpoint, "save", stop_in_the_heldout_fit)
        with pytest.raises(KeyboardInterrupt):
            run_bench(config, tmp_path, progress=False)
    saved = sorted(p.name for p in (tmp_path / "partial").glob("*/*.pt"))
    assert saved == ["heldout.pt", "transductive.pt"] and not read_records(tmp_path)[1:]
    assert run_bench(config, tmp_path, progress=False).ok
    (record,) = [r for r in read_records(tmp_path) if r["kind"] == "personal"]
    log = record["metrics"]["unlearning"]
    assert log["resumed"]["epoch"] == 2 and log["heldout_resumed"]["epoch"] == 1
    assert record["metrics"]["fit_seconds"] >= log["resumed"]["seconds_before"]
    assert not any((tmp_path / "partial").iterdir())  # removed once the record is written
