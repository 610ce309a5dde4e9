"""Issue 6: wall time of the whole pipeline on the shipped ``smoke`` config (target < 3 min).

Runs ``recunlearn bench benchmarks/configs/smoke.yaml`` into a temporary folder, then
``recunlearn report`` on it, and appends one record (seconds of each step, cells, load average
before the run, commit) to ``benchmarks/results/bench_smoke.jsonl``.

Usage::

    python benchmarks/bench_smoke.py            # one run
    python benchmarks/bench_smoke.py --report   # markdown table of the records
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "configs" / "smoke.yaml"
OUT = HERE / "results" / "bench_smoke.jsonl"

sys.path.insert(0, str(HERE))
from base_models import git_commit  # noqa: E402


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def run_once() -> dict:
    """Bench + report of the smoke config in a fresh folder; the record of the run."""
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "smoke"
        bench = _timed(
            [sys.executable, "-m", "recunlearn", "bench", str(CONFIG), "--out", str(out)]
        )
        report = _timed([sys.executable, "-m", "recunlearn", "report", str(out)])
        cells = len(list((out / "records").glob("*.json")))
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "load_average_before": [round(x, 2) for x in load],
        "bench_seconds": bench,
        "report_seconds": report,
        "cells": cells,
    }


def report(path: Path = OUT) -> str:
    """Markdown table, one row per recorded run."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    lines = [
        "| date | commit | cells | bench s | report s | total s | load before (1/5/15 min) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in records:
        total = r["bench_seconds"] + r["report_seconds"]
        load = " / ".join(f"{x:.2f}" for x in r["load_average_before"])
        lines.append(
            f"| {r['date'][:10]} | {r['commit']} | {r['cells']} | {r['bench_seconds']:.1f} | "
            f"{r['report_seconds']:.1f} | {total:.1f} | {load} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.report:
        print(report())
        return
    record = run_once()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("a") as handle:
        handle.write(json.dumps(record) + "\n")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
