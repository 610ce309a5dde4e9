"""Late options: out of the hash at their default; older records keep their cells and are
never counted twice by the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from recunlearn.bench import read_records, run_bench
from recunlearn.bench.adopt import adopt_records
from recunlearn.bench.cells import resolved_options
from recunlearn.core.options import is_late_option
from recunlearn.core.records import record_path, sidecar_path
from recunlearn.protect.posthoc.registry import UNLEARNERS
from recunlearn.report.build import build_document
from tests.bench.conftest import SMOKE


def test_a_late_option_enters_the_hash_only_when_set():
    default = resolved_options("split-eraser", {})
    assert "reencode_top" not in default
    assert resolved_options("split-eraser", {"reencode_top": 200})["reencode_top"] == 200
    assert "max_rank" in default  # ordinary options are hashed with their defaults


def test_late_options_are_marked_on_the_methods_that_gained_them():
    fields = UNLEARNERS.get("split-eraser").Config.model_fields
    assert is_late_option(fields["reencode_top"]) and not is_late_option(fields["max_rank"])
    assert is_late_option(UNLEARNERS.get("inductive-map").Config.model_fields["fit_share"])


def _rekey(out: Path, record: dict, options: dict, new_hash: str) -> None:
    """Rewrite a record as if it had been made with other (equivalent) options."""
    old = record["config_hash"]
    payload = {k: v for k, v in record.items() if k != "_path"}
    payload["params"] = {**record["params"], "options": options}
    payload["config_hash"] = new_hash
    payload["per_user"] = {**record["per_user"], "file": f"{new_hash}.npz"}
    record_path(out, new_hash).write_text(json.dumps(payload))
    sidecar_path(out, old).rename(sidecar_path(out, new_hash))
    record_path(out, old).unlink()


@pytest.fixture
def stale(smoke_dir: Path, tmp_path: Path) -> tuple[Path, str]:
    """A copy of the smoke bench whose split-eraser record carries the late options at their
    defaults under an older hash (as records made while they were hashed do)."""
    out = tmp_path / "copy"
    shutil.copytree(smoke_dir, out)
    record = next(r for r in read_records(out) if r["params"].get("unlearner") == "split-eraser")
    options = {**record["params"]["options"], "reencode_top": 0, "reencode_alpha": 0.1}
    _rekey(out, record, options, "0123456789abcdef")
    return out, record["config_hash"]


def test_a_resumed_grid_adopts_the_older_record_instead_of_recomputing(stale):
    out, planned = stale
    result = run_bench(SMOKE, out, jobs=1, progress=False)
    assert result.ok and result.computed == []
    adopted = json.loads(record_path(out, planned).read_text())
    assert adopted["adopted_from"] == "0123456789abcdef"
    assert adopted["per_user"]["file"] == f"{planned}.npz" and sidecar_path(out, planned).exists()
    assert not record_path(out, "0123456789abcdef").exists()
    assert not sidecar_path(out, "0123456789abcdef").exists()


def test_a_record_of_another_cell_is_not_adopted(stale, smoke_dir: Path):
    out, planned = stale
    path = record_path(out, "0123456789abcdef")
    payload = json.loads(path.read_text())
    payload["params"]["options"]["max_rank"] = 99  # really a different cell
    path.write_text(json.dumps(payload))
    from recunlearn.bench.cells import expand
    from recunlearn.bench.loading import load_config

    assert adopt_records(out, expand(load_config(SMOKE), SMOKE.parent)) == 0
    assert path.exists() and not record_path(out, planned).exists()


def test_the_report_counts_a_cell_recorded_twice_once(smoke_dir: Path, tmp_path: Path):
    out = tmp_path / "copy"
    shutil.copytree(smoke_dir, out)
    record = next(r for r in read_records(out) if r["params"].get("unlearner") == "split-eraser")
    twin = {k: v for k, v in record.items() if k != "_path"}
    twin["config_hash"] = "fedcba9876543210"
    record_path(out, "fedcba9876543210").write_text(json.dumps(twin))
    document, records = build_document(out)
    assert sum(r["label"] == record["label"] for r in records) == 1
