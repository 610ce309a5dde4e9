"""Training speed of the base models (issue 2): seconds per epoch and interactions per second.

Each model trains for ``--epochs`` epochs on the ML-100K leave-one-out training set with the
validation loop disabled, so only training time is counted (the same quantity the RecBole
harness, ``recbole_side_by_side.py``, records). Two settings per model:

* ``default``: our defaults (NCF draws 4 negatives per positive, MultVAE uses 512-user batches);
* ``equal_work``: the work RecBole does per epoch (NCF with 1 negative per positive, MultVAE
  with one 2048-user batch), for a like-for-like ratio.

MF and LightGCN train on one thread by default (their ``threads`` option), measured faster than
two on this machine; the record says which thread count was used. ``--report`` prints the
markdown table of BENCHMARKS.md: our best seconds per epoch (1 or 2 threads, latest day timed)
beside RecBole's best (1 or 2 threads) from ``recbole_speed*_ml100k_<Model>.json``.

Run it alone on the machine, with the same thread settings as the RecBole runs
(``OMP_WAIT_POLICY=PASSIVE``, 2 threads).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from recunlearn.data.loading import load_data
from recunlearn.data.spec import DataSpec
from recunlearn.data.splits import leave_one_out
from recunlearn.models.registry import make_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from base_models import git_commit  # noqa: E402

SETTINGS = {
    "default": {"mf": {}, "ncf": {}, "lightgcn": {}, "multvae": {}},
    "equal_work": {"ncf": {"n_negatives": 1}, "multvae": {"batch_size": 2048}},
}


RECBOLE_NAMES = {"mf": "BPR", "ncf": "NeuMF", "lightgcn": "LightGCN", "multvae": "MultiVAE"}


def fastest_of_latest_day(records: list[dict], seconds: str) -> dict:
    """The record with the smallest ``seconds`` among those of the latest day timed (a speed
    ratio is only fair within one session, so older days never compete)."""
    day = max(r.get("date", "")[:10] for r in records)
    return min((r for r in records if r.get("date", "")[:10] == day), key=lambda r: r[seconds])


def recbole_best(results: Path, model: str) -> tuple[float, int, str]:
    """RecBole's fastest median seconds per epoch of its latest day timed (any thread
    setting), with the thread count and the date of that run."""
    paths = results.glob(f"recbole_speed*_ml100k_{RECBOLE_NAMES[model]}.json")
    records = [json.loads(path.read_text()) for path in paths]
    if not records:
        return float("inf"), 0, "-"
    seconds = "train_seconds_per_epoch_excl_first_median"
    best = fastest_of_latest_day(records, seconds)
    return best[seconds], best["threads"], best.get("date", "-")[:16]


def report(path: Path) -> str:
    """Markdown table: ours vs RecBole's best seconds per epoch, and the ratio."""
    lines = [
        "| model | setting | ours s/epoch (threads) | RecBole s/epoch (threads) | speed-up | ours interactions/s | commit | ours timed | RecBole timed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    # per (model, setting): the fastest thread setting of the latest day it was timed (a
    # re-timed model replaces its older records; both tools get their best thread count)
    groups: dict[tuple[str, str], list[dict]] = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        groups.setdefault((r["model"], r["setting"]), []).append(r)
    latest = [fastest_of_latest_day(rs, "seconds_per_epoch_median") for rs in groups.values()]
    for r in latest:
        theirs, threads, when = recbole_best(path.parent, r["model"])
        ours = r["seconds_per_epoch_median"]
        lines.append(
            f"| {r['model']} | {r['setting']} {r['options'] or ''} | {ours:.3f} ({r['threads']}) | "
            f"{theirs:.3f} ({threads}) | {theirs / ours:.2f}x | {r['interactions_per_second']:,.0f} | "
            f"{r.get('commit', '-')} | {r.get('date', '-')[:16]} | {when} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/speed_ml100k.jsonl")
    parser.add_argument("--report", action="store_true", help="print the table of --out")
    parser.add_argument("--models", nargs="+", default=list(RECBOLE_NAMES), help="models to time")
    args = parser.parse_args()
    if args.report:
        print(report(Path(args.out)))
        return
    torch.set_num_threads(args.threads)
    dataset = load_data(DataSpec(name="ml-100k", data_dir=args.data_dir))
    split = dataclasses.replace(leave_one_out(dataset), valid=None)
    n_train = int(split.train.nnz)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for setting, models in SETTINGS.items():
        for name, options in models.items():
            if name not in args.models:
                continue
            model = make_model(name, epochs=args.epochs, seed=0, **options).fit(
                split, progress=False
            )
            seconds = np.asarray(model.epoch_seconds_[1:])  # the first epoch pays one-off costs
            record = {
                "model": name,
                "setting": setting,
                "options": options,
                "threads": model.config.threads or torch.get_num_threads(),
                "train_interactions": n_train,
                "seconds_per_epoch_median": float(np.median(seconds)),
                "seconds_per_epoch_mean": float(seconds.mean()),
                "interactions_per_second": float(n_train / np.median(seconds)),
                "commit": git_commit(),
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            with out.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
            print(record, flush=True)


if __name__ == "__main__":
    main()
