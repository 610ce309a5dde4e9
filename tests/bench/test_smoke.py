"""The smoke grid end to end: records, sidecars, reuse, resume, failures, extra kinds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import yaml

from recunlearn.bench import CellOutput, parse_config, read_records, register_kind, run_bench
from recunlearn.core.records import RECORD_FORMAT, record_path
from recunlearn.protect.posthoc.registry import UNLEARNERS
from tests.bench.conftest import SMOKE

FIELDS = (
    "format", "kind", "config_hash", "label", "params", "protocol", "dataset", "metrics",
    "per_user", "wall", "versions", "commit", "machine", "created",
)  # fmt: skip


def test_smoke_config_uses_every_unlearning_method():
    config = yaml.safe_load(SMOKE.read_text())
    names = {
        (m if isinstance(m, str) else m.get("method") or m["label"]) for m in config["methods"]
    }
    assert set(UNLEARNERS) <= names


def test_every_cell_has_a_complete_record(smoke_dir: Path):
    plan = json.loads((smoke_dir / "bench.json").read_text())
    records = read_records(smoke_dir)
    assert {r["config_hash"] for r in records} == {c["hash"] for c in plan["cells"]}
    assert {r["kind"] for r in records} == {"train", "unlearn", "adversarial", "timing"}
    for record in records:
        assert all(k in record for k in FIELDS), record["label"]
        assert record["format"] == RECORD_FORMAT
        assert record["dataset"]["fingerprint"]
        assert record["wall"]["total"] > 0
        if record["per_user"]:
            arrays = np.load(smoke_dir / "records" / record["per_user"]["file"])
            assert len(arrays["NDCG@10"]) == record["per_user"]["n"]
    unlearn = [r for r in records if r["kind"] == "unlearn"]
    for record in unlearn:
        attack = record["metrics"]["attack"]
        assert {"paper_mlp", "worst case"} <= set(attack["average"])
        assert len(record["protocol"]["attackers"]) == 6  # every registered attacker
        assert "NDCG@10" in record["metrics"]["test"]
    # one base run and one brick store shared by every unlearning cell
    bases = {r["params"]["base"] for r in records if "base" in r["params"]}  # + timing cell
    assert len(bases) == 1 and [p.name for p in (smoke_dir / "runs").iterdir()] == list(bases)
    lego = {len(r["params"]["requirement"]): r for r in unlearn if r["params"]["method"] == "lego"}
    assert lego[2]["metrics"]["unlearning"]["timings"]["calibrated"] == 1  # gender brick reused


def test_report_is_self_contained_and_links_records(smoke_dir: Path):
    html = (smoke_dir / "report.html").read_text()
    markdown = (smoke_dir / "report.md").read_text()
    assert "data:image/png;base64," in html and "<style>" in html
    assert 'src="http' not in html and "<link " not in html
    for title in (
        "LEGO Table 1 layout",
        "AdvX Table 2 layout",
        "Dynamic requirements",
        "Significance",
    ):
        assert title in markdown and title in html
    links = [part.split('"')[0] for part in html.split('href="')[1:]]
    assert links and all((smoke_dir / link).exists() for link in links)
    assert "not comparable" in markdown or "report no numbers" in markdown
    assert (smoke_dir / "report_files").is_dir()


def test_summary_shows_tables_commands_and_provenance(smoke_dir: Path, tmp_path: Path):
    """BENCHMARKS.md's builder on the smoke folder (and on a folder not measured yet)."""
    from recunlearn.report.summary import build_summary

    (tmp_path / "notes.md").write_text("**Findings** written by hand.")
    spec = {
        "title": "Smoke",
        "output": "SUMMARY.md",
        "reports": "reports",
        "sections": [
            {
                "question": "What removes it?",
                "notes": "notes.md",
                "sources": [
                    {"config": str(SMOKE), "results": str(smoke_dir), "tables": ["lego_table1"]},
                    {"config": str(SMOKE), "results": "nothing/yet", "tables": ["removal"]},
                ],
            }
        ],
    }
    path = tmp_path / "summary.yaml"
    path.write_text(yaml.safe_dump(spec))
    text = build_summary(path).read_text()
    records = read_records(smoke_dir)
    assert "## What removes it?" in text and "LEGO Table 1 layout" in text
    assert f"Measured: {len(records)} records, created " in text and "-core " in text
    assert "(latest `" in text and "Regenerate: `recunlearn bench " in text
    assert "*Not measured yet:*" in text and text.rstrip().endswith("written by hand.")
    assert (tmp_path / "reports" / f"{smoke_dir.name}.html").is_file()


def test_resume_recomputes_only_the_missing_cell(smoke_dir: Path, tmp_path: Path):
    out = tmp_path / "copy"
    shutil.copytree(smoke_dir, out)
    records = [r for r in read_records(out) if r["kind"] == "unlearn"]
    victim = next(r for r in records if r["params"]["method"] == "dp")
    before = {r["config_hash"]: Path(r["_path"]).stat().st_mtime_ns for r in read_records(out)}
    Path(victim["_path"]).unlink()
    (out / "records" / victim["per_user"]["file"]).unlink()
    (out / "records" / ".junk.json.tmp-x").write_text("{half")  # a killed writer's leftover
    result = run_bench(SMOKE, out, jobs=2, progress=False)  # parallel path (process pool)
    assert result.ok
    assert result.computed == [victim["config_hash"]]
    assert len(result.skipped) == len(result.cells) - 1
    assert record_path(out, victim["config_hash"]).exists()
    assert not (out / "records" / ".junk.json.tmp-x").exists()
    after = {r["config_hash"]: Path(r["_path"]).stat().st_mtime_ns for r in read_records(out)}
    unchanged = [h for h in before if h != victim["config_hash"]]
    assert all(after[h] == before[h] for h in unchanged)


def test_a_missing_run_directory_is_retrained_for_cells_that_need_it(
    smoke_dir: Path, tmp_path: Path
):
    """Records are committed, run directories are not: a fresh checkout that adds a cell on a
    recorded base model retrains that base instead of failing."""
    out = tmp_path / "fresh"
    shutil.copytree(smoke_dir, out)
    shutil.rmtree(out / "runs")
    victim = next(r for r in read_records(out) if r["params"].get("method") == "dp")
    Path(victim["_path"]).unlink()
    result = run_bench(SMOKE, out, jobs=1, progress=False)
    assert result.ok
    assert sorted(result.computed) == sorted([victim["config_hash"], victim["params"]["base"]])
    assert (out / "runs" / victim["params"]["base"]).is_dir()


@register_kind("test-echo", protocol="none")
def _echo(params, ctx):
    """Echo the parameters (an extra kind registered by a test)."""
    if params.get("fail"):
        raise RuntimeError("boom")
    return CellOutput(metrics={"value": params["x"] * 2}, dataset={"label": "none"})


def _extra_config(fail: bool) -> dict:
    return {
        "name": "extra",
        "jobs": 1,
        "datasets": [{"name": "synthetic", "options": {"n_users": 30, "n_items": 80}}],
        "extra": [{"kind": "test-echo", "grid": {"x": [1, 2, 3]}, "params": {"fail": fail}}],
    }


def test_registered_kind_runs_from_the_extra_section(tmp_path: Path):
    result = run_bench(parse_config(_extra_config(False)), tmp_path, progress=False)
    assert result.ok and len(result.computed) == 3
    values = sorted(r["metrics"]["value"] for r in read_records(tmp_path))
    assert values == [2, 4, 6]
    again = run_bench(parse_config(_extra_config(False)), tmp_path, progress=False)
    assert again.computed == [] and len(again.skipped) == 3


def test_failed_cell_writes_no_record_but_a_traceback(tmp_path: Path):
    result = run_bench(parse_config(_extra_config(True)), tmp_path, progress=False)
    assert len(result.failed) == 3 and not result.ok
    assert read_records(tmp_path) == []
    notes = list((tmp_path / "failures").glob("*.txt"))
    assert len(notes) == 3 and "boom" in notes[0].read_text()
